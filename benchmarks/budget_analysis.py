"""AUC of image read-outs against the training budget, off ``budget_study.py`` files.

For each study folder, snapshot (epoch) and read-out, prints the mean ROC AUC
over classes (each class averaged over its seeds) and the spread over seeds,
plus the mean validation loss and the cumulative training time at that epoch.

    python benchmarks/budget_analysis.py reports/budget/mnist_lr2e-4 --json out.json
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from tabular_analysis import Neighbours, _combine  # noqa: E402


def _with_bias(z_train, z_test):
    """Codes with a constant coordinate of the training codes' median length appended.

    Cosine distances between such codes see the codes' lengths: a code much
    longer or shorter than the training codes is far from all of them.
    """
    bias = np.median(np.linalg.norm(z_train, axis=1))
    return (
        np.c_[z_train, np.full(len(z_train), bias)],
        np.c_[z_test, np.full(len(z_test), bias)],
    )


def readouts(d, snap):
    z_train = d[f"{snap}/z_train"].astype(np.float64)
    z_test = d[f"{snap}/z_test"].astype(np.float64)
    out = {"latent": (d[f"{snap}/latent_train"], d[f"{snap}/latent_test"])}
    cos = Neighbours(z_train, z_test, "cosine", k_max=10)
    out["knn1_cos"], out["lof10_cos"] = cos.knn(1), cos.lof(10)
    out["knn1+lof10_cos"] = _combine(out["knn1_cos"], out["lof10_cos"])
    euc = Neighbours(z_train, z_test, "euclidean", k_max=10)
    out["knn1_euc"], out["lof10_euc"] = euc.knn(1), euc.lof(10)
    out["knn1+lof10_euc"] = _combine(out["knn1_euc"], out["lof10_euc"])
    biased = Neighbours(*_with_bias(z_train, z_test), "cosine", k_max=10)
    out["knn1+lof10_cosb"] = _combine(biased.knn(1), biased.lof(10))
    return out


def analyse(folder):
    rows = []  # (class, seed, epoch, readout, auc)
    meta = {}  # epoch -> list of (valid_loss, cumulative seconds, cumulative optimizer steps)
    for path in sorted(Path(folder).glob("*_class*_seed*.npz")):
        if path.name.endswith(".tmp.npz"):
            continue
        c = int(path.stem.split("_class")[1].split("_")[0])
        seed = int(path.stem.split("_seed")[1])
        with np.load(path) as f:
            d = {k: f[k] for k in f.files}
        history = json.loads(str(d["history"]))
        seconds = np.cumsum([row["dur"] for row in history])
        steps = np.cumsum([row["train_batch_count"] for row in history])
        for snap in sorted({int(k.split("/")[0]) for k in d if "/" in k}):
            for name, (_, test) in readouts(d, snap).items():
                rows.append((c, seed, snap, name, roc_auc_score(d["y_test"], test)))
            row = history[snap - 1]
            meta.setdefault(snap, []).append(
                (row.get("valid_loss", np.nan), seconds[snap - 1], steps[snap - 1])
            )
    return rows, meta


def summarise(rows):
    out = {}
    for epoch, name in sorted({(e, n) for _, _, e, n, _ in rows}):
        per_class, spread = {}, []
        for c in sorted({c for c, _, e, n, _ in rows if e == epoch and n == name}):
            aucs = [a for cc, _, e, n, a in rows if cc == c and e == epoch and n == name]
            per_class[c] = float(np.mean(aucs))
            spread.append(float(np.std(aucs)))
        out[(epoch, name)] = {
            "mean": float(np.mean(list(per_class.values()))),
            "max_sd": max(spread),
            "per_class": per_class,
            "n_fits": sum(1 for r in rows if r[2] == epoch and r[3] == name),
        }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    results = {}
    for folder in args.folders:
        rows, meta = analyse(folder)
        if not rows:
            continue
        summary = summarise(rows)
        epochs = sorted({e for e, _ in summary})
        names = sorted({n for _, n in summary})
        print(f"## {folder} ({summary[(epochs[0], names[0])]['n_fits']} fits)")
        print("| read-out | " + " | ".join(f"epoch {e}" for e in epochs) + " |")
        for name in names:
            cells = [f"{summary[(e, name)]['mean']:.3f}" for e in epochs]
            print(f"| {name} | " + " | ".join(cells) + " |")
        losses = [f"{np.nanmean([m[0] for m in meta[e]]):.4g}" for e in epochs]
        seconds = [f"{np.median([m[1] for m in meta[e]]):.0f}" for e in epochs]
        steps = [f"{np.median([m[2] for m in meta[e]]):.0f}" for e in epochs]
        print("| valid_loss | " + " | ".join(losses) + " |")
        print("| seconds | " + " | ".join(seconds) + " |")
        print("| optimizer steps | " + " | ".join(steps) + " |")
        print()
        results[Path(folder).name] = {
            "summary": {f"{e}|{n}": v for (e, n), v in summary.items()},
            "valid_loss": {e: float(np.nanmean([m[0] for m in meta[e]])) for e in epochs},
            "seconds": {e: float(np.median([m[1] for m in meta[e]])) for e in epochs},
            "steps": {e: float(np.median([m[2] for m in meta[e]])) for e in epochs},
        }
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
