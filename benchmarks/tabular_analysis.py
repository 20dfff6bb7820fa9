"""Read many table scores off the fits stored by ``tabular_study.py``.

For every stored (table, seed) and every snapshot (a training budget in
optimizer steps, ``best`` for the weights the detector keeps, ``untrained``
for the control), each read-out is computed from the same codes: the latent
distance, the reconstruction error, neighbour distances and local outlier
factors of the codes (Euclidean or cosine; leave-one-out on the training
codes), and sums of robust z-scores of these. The same neighbour read-outs on
the standardised inputs, and scikit-learn's LOF, KNN, IsolationForest and
OneClassSVM on the same rows, are the references. Prints mean ROC AUC over
tables (each averaged over its seeds) per read-out and snapshot.

    python benchmarks/tabular_analysis.py reports/tables/A_default --data DIR
"""

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.svm import OneClassSVM

from sklearn_ganomaly.datasets import load_adbench_table, semi_supervised_split

_MAD_TO_SD = 1.4826


def robust(train, test):
    center = np.median(train)
    scale = np.median(np.abs(train - center)) * _MAD_TO_SD
    if not scale > 0:
        scale = np.std(train) or 1.0
    return (train - center) / scale, (test - center) / scale


class Neighbours:
    """Leave-one-out neighbour graph of reference rows, and of query rows against them."""

    def __init__(self, ref, query, metric, k_max=20):
        ref = np.asarray(ref, np.float64)
        query = np.asarray(query, np.float64)
        k = min(k_max, len(ref) - 1)
        index = NearestNeighbors(n_neighbors=k, metric=metric, algorithm="brute").fit(ref)
        self.train_d, self.train_i = index.kneighbors()
        self.test_d, self.test_i = index.kneighbors(query, n_neighbors=k)
        self.k_max = k

    def knn(self, k):
        k = min(k, self.k_max)
        return self.train_d[:, k - 1], self.test_d[:, k - 1]

    def lof(self, k):
        k = min(k, self.k_max)
        k_dist = self.train_d[:, k - 1]

        def lrd(d, i):
            reach = np.maximum(d[:, :k], k_dist[i[:, :k]])
            return 1.0 / (reach.mean(axis=1) + 1e-10)

        lrd_train = lrd(self.train_d, self.train_i)
        lrd_test = lrd(self.test_d, self.test_i)
        train = lrd_train[self.train_i[:, :k]].mean(axis=1) / lrd_train
        test = lrd_train[self.test_i[:, :k]].mean(axis=1) / lrd_test
        return train, test


def _combine(*parts):
    train_total, test_total = 0.0, 0.0
    for train, test in parts:
        a, b = robust(train, test)
        train_total, test_total = train_total + a, test_total + b
    return train_total, test_total


def _standardised(z_train, z_test):
    mean, std = z_train.mean(axis=0), z_train.std(axis=0)
    std[std == 0] = 1.0
    return (z_train - mean) / std, (z_test - mean) / std


def readouts(z_train, z_test, latent=None, recon=None):
    """``{name: (train_scores, test_scores)}`` of every read-out of one set of codes."""
    out = {}
    zs_train, zs_test = _standardised(z_train, z_test)
    std = Neighbours(zs_train, zs_test, "euclidean")
    out["knn1_zstd"], out["knn5_zstd"] = std.knn(1), std.knn(5)
    out["knn1+lof10_zstd"] = _combine(std.knn(1), std.lof(10))

    euc = Neighbours(z_train, z_test, "euclidean")
    out["knn1_euc"], out["knn5_euc"] = euc.knn(1), euc.knn(5)
    out["kmean5_euc"] = (euc.train_d[:, :5].mean(axis=1), euc.test_d[:, :5].mean(axis=1))
    out["lof10_euc"], out["lof20_euc"] = euc.lof(10), euc.lof(20)
    if z_train.shape[1] >= 2:
        cos = Neighbours(z_train, z_test, "cosine")
        out["knn1_cos"], out["lof10_cos"] = cos.knn(1), cos.lof(10)
        out["knn1+lof10_cos"] = _combine(out["knn1_cos"], out["lof10_cos"])
    out["knn1+lof10_euc"] = _combine(out["knn1_euc"], out["lof10_euc"])
    out["knn5+lof20_euc"] = _combine(out["knn5_euc"], out["lof20_euc"])
    if latent is not None:
        out["latent"], out["recon"] = latent, recon
        out["knn1_euc+recon"] = _combine(out["knn1_euc"], recon)
        out["knn5_euc+recon"] = _combine(out["knn5_euc"], recon)
        out["knn5_euc+latent"] = _combine(out["knn5_euc"], latent)
        out["knn5+lof20_euc+recon"] = _combine(out["knn5_euc"], out["lof20_euc"], recon)
        out["latent+recon"] = _combine(latent, recon)
    return out


def baselines(data, table, seed, cache):
    """Input-space references on the study's split, cached per (table, seed)."""
    path = Path(cache) / f"{table}_seed{seed}.npz"
    if path.exists():
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    X, y = load_adbench_table(data, table)
    X_train, X_test, y_test = semi_supervised_split(X, y, random_state=seed)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    scores = {f"input_{k}": v[1] for k, v in readouts(X_train, X_test).items()}
    scores["KNN"] = scores["input_knn5_euc"]
    scores["LOF"] = scores["input_lof20_euc"]
    forest = IsolationForest(random_state=seed).fit(X_train)
    scores["IForest"] = -forest.score_samples(X_test)
    scores["OCSVM"] = -OneClassSVM().fit(X_train).score_samples(X_test)
    scores["y_test"] = y_test
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **scores)
    return scores


def analyse(folder, data, cache, snapshots=None):
    """Rows ``(table, seed, snapshot, readout, auc)`` for one study folder."""
    rows = []
    for path in sorted(Path(folder).glob("*_seed*.npz")):
        if path.name.endswith(".tmp.npz"):
            continue
        table, seed = path.stem.rsplit("_seed", 1)
        with np.load(path) as f:
            d = {k: f[k] for k in f.files}
        y = d["y_test"]
        base = baselines(data, table, int(seed), cache)
        for name, test in base.items():
            if name != "y_test":
                rows.append((table, int(seed), "input", name, roc_auc_score(y, test)))
        stored = sorted({k.split("/")[0] for k in d if "/" in k})
        for snap in stored if snapshots is None else [s for s in stored if s in snapshots]:
            z_train = d[f"{snap}/z_train"].astype(np.float64)
            z_test = d[f"{snap}/z_test"].astype(np.float64)
            latent = (d[f"{snap}/latent_train"], d[f"{snap}/latent_test"])
            recon = (d[f"{snap}/recon_train"], d[f"{snap}/recon_test"])
            for name, (_, test) in readouts(z_train, z_test, latent, recon).items():
                rows.append((table, int(seed), snap, name, roc_auc_score(y, test)))
    return rows


def summarise(rows):
    """Mean AUC over tables (each table averaged over seeds) per (snapshot, read-out)."""
    by = {}
    for table, _, snap, name, auc in rows:
        by.setdefault((snap, name), {}).setdefault(table, []).append(auc)
    return {
        key: {
            "mean": float(np.mean([np.mean(v) for v in tables.values()])),
            "below_half": int(sum(np.mean(v) < 0.5 for v in tables.values())),
            "n_tables": len(tables),
            "per_table": {t: float(np.mean(v)) for t, v in tables.items()},
        }
        for key, tables in by.items()
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--data", required=True)
    parser.add_argument("--cache", default="reports/tables/_baselines")
    parser.add_argument("--json", default=None)
    parser.add_argument("--show", default=None, help="comma-separated read-outs to print")
    parser.add_argument("--snapshots", default=None, help="comma-separated snapshots to read")
    args = parser.parse_args(argv)
    results = {}
    for folder in args.folders:
        snapshots = args.snapshots.split(",") if args.snapshots else None
        summary = summarise(analyse(folder, args.data, args.cache, snapshots))
        results[folder] = {f"{s}|{n}": v for (s, n), v in summary.items()}
        show = args.show.split(",") if args.show else None
        print(f"## {folder}")
        snaps = sorted({s for s, _ in summary}, key=lambda s: (not s.isdigit(), s.zfill(6)))
        names = sorted({n for _, n in summary if show is None or n in show})
        print("| read-out | " + " | ".join(snaps) + " |")
        for name in names:
            cells = []
            for snap in snaps:
                v = summary.get((snap, name))
                cells.append(f"{v['mean']:.3f} ({v['below_half']})" if v else "")
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
