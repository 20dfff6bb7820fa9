"""Read many anomaly scores off the fits stored by ``quality_study.py``.

For every stored split, each score variant is computed from the same codes
(normalised with training statistics only, neighbour scores leave-one-out on
the training codes) and its ROC AUC taken against the test labels. Prints a
Markdown table per study folder: mean AUC over classes (each class averaged
over its seeds), per-class AUC, the seed-to-seed spread, fit time and the
kept epoch.

    python benchmarks/quality_analysis.py reports/study/w32_l100_e15 [more folders]
"""

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn_ganomaly._code_scores import CodeScore, RobustScale


def _neighbour(kind, k, metric):
    return _code_score([(kind, k)], metric)


def _code_score(components, metric="cosine"):
    def score(d):
        scorer = CodeScore(components, metric).fit(d["z_train"])
        return scorer.training_scores_, scorer.score(d["z_test"])

    return score


def _stored(name):
    return lambda d: (d[f"{name}_train"], d[f"{name}_test"])


def _sum_of(*parts):
    """Sum of robust z-scores of the parts, each scaled by its training scores."""

    def score(d):
        train_total, test_total = 0.0, 0.0
        for part in parts:
            train, test = VARIANTS[part](d)
            scale = RobustScale.fit(train)
            train_total = train_total + scale(train)
            test_total = test_total + scale(test)
        return train_total, test_total

    return score


VARIANTS = {
    "latent": _stored("latent"),
    "recon": _stored("recon"),
    "knn1_cos": _neighbour("knn", 1, "cosine"),
    "knn5_cos": _neighbour("knn", 5, "cosine"),
    "knn1_euc": _neighbour("knn", 1, "euclidean"),
    "knn5_euc": _neighbour("knn", 5, "euclidean"),
    "lof20_cos": _neighbour("lof", 20, "cosine"),
    "lof20_euc": _neighbour("lof", 20, "euclidean"),
    "lof10_cos": _neighbour("lof", 10, "cosine"),
}
# The package's own read-out (CodeScore), so the study measures the shipped code.
VARIANTS["knn1+lof20_cos"] = _code_score([("knn", 1), ("lof", 20)])
VARIANTS["knn1+lof10_cos"] = _code_score([("knn", 1), ("lof", 10)])
VARIANTS["knn1+lof20+latent"] = _sum_of("knn1_cos", "lof20_cos", "latent")


def analyse(folder, variants):
    rows = []  # (variant, class, seed, auc)
    meta = []
    for path in sorted(Path(folder).glob("*_class*_seed*.npz")):
        if path.name.endswith(".tmp.npz"):
            continue
        stem = path.stem
        c = int(stem.split("_class")[1].split("_")[0])
        seed = int(stem.split("_seed")[1])
        with np.load(path) as f:
            d = {k: f[k] for k in f.files}
        y = d["y_test"]
        for name in variants:
            _, test = VARIANTS[name](d)
            rows.append((name, c, seed, roc_auc_score(y, test)))
        meta.append((c, seed, float(d["fit_s"]), int(d["best_epoch"]), int(d["n_epochs_run"])))
    return rows, meta


def table(rows, meta, variants):
    classes = sorted({c for _, c, _, _ in rows})
    seeds = sorted({s for _, _, s, _ in rows})
    header = ["score", "mean AUC", "max sd", *[str(c) for c in classes]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    summary = {}
    for name in variants:
        per_class = []
        for c in classes:
            aucs = [a for v, cc, _, a in rows if v == name and cc == c]
            per_class.append((np.mean(aucs), np.std(aucs)))
        mean = float(np.mean([m for m, _ in per_class]))
        summary[name] = {"mean": mean, "per_class": [m for m, _ in per_class]}
        lines.append(
            f"| {name} | **{mean:.3f}** | {max(s for _, s in per_class):.3f} | "
            + " | ".join(f"{m:.3f}" for m, _ in per_class)
            + " |"
        )
    fit_s = [m[2] for m in meta]
    best = [m[3] for m in meta]
    ran = [m[4] for m in meta]
    lines.append("")
    lines.append(
        f"{len(meta)} fits (classes {classes}, seeds {seeds}); fit time median "
        f"{np.median(fit_s):.0f} s (min {min(fit_s):.0f}, max {max(fit_s):.0f}); epochs run "
        f"median {np.median(ran):.0f} (min {min(ran)}, max {max(ran)}); kept epoch median "
        f"{np.median(best):.0f} (min {min(best)}, max {max(best)})"
    )
    return "\n".join(lines), summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", default=None, help="write the summary here")
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    summaries = {}
    for folder in args.folders:
        rows, meta = analyse(folder, variants)
        if not rows:
            print(f"## {folder}: no fits yet\n")
            continue
        text, summaries[folder] = table(rows, meta, variants)
        print(f"## {folder}\n\n{text}\n")
    if args.json:
        Path(args.json).write_text(json.dumps(summaries, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
