"""GANomaly's defaults on real tables that ship with scikit-learn, beside PyOD.

One class is the anomaly in turn (breast cancer: malignant; wine: each
cultivar), the paper's split (80% of the normal rows train, the rest of them
plus every anomaly test), seeds 0-2. GANomaly gets the raw rows (it scales
them itself); LOF, KNN and IForest (PyOD) get rows standardised with the
training rows' mean and deviation. Prints a Markdown table of ROC AUC (mean
± sd over seeds) and writes the records as JSON.

    python benchmarks/tabular.py --json reports/tabular.json
"""

import argparse
import json
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.benchmark import _pyod, _seeded_globals, describe_machine
from sklearn_ganomaly.datasets import one_class_split

#: (name, loader, anomalous classes)
DATASETS = (
    ("breast_cancer", load_breast_cancer, [0]),  # 0 = malignant
    ("wine", load_wine, [0, 1, 2]),
)
DETECTORS = ("GANomaly", "LOF", "KNN", "IForest")


def _fit_and_score(name, X_train, X_test, seed, params):
    if name == "GANomaly":
        with warnings.catch_warnings():
            # A short default fit on ~100 rows may warn; the AUC tells the story.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = GANomalyDetector(random_state=seed, device="cpu", **params).fit(X_train)
        return model.anomaly_score(X_test)
    scaler = StandardScaler().fit(X_train)
    with _seeded_globals(seed):
        model = _pyod(name, seed, X_train.shape[1]).fit(scaler.transform(X_train))
        return model.decision_function(scaler.transform(X_test))


def run(seeds, params):
    records = []
    for data_name, loader, classes in DATASETS:
        X, y = loader(return_X_y=True)
        for c in classes:
            for seed in seeds:
                X_train, X_test, y_test = one_class_split(X, y, c, random_state=seed)
                for name in DETECTORS:
                    start = time.perf_counter()
                    scores = _fit_and_score(name, X_train, X_test, seed, params)
                    records.append(
                        {
                            "dataset": data_name,
                            "class": int(c),
                            "seed": int(seed),
                            "detector": name,
                            "auc": float(roc_auc_score(y_test, scores)),
                            "seconds": time.perf_counter() - start,
                        }
                    )
    return records


def table(records):
    cases = sorted({(r["dataset"], r["class"]) for r in records})
    header = ["detector", *[f"{d} {c}" for d, c in cases], "mean"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name in DETECTORS:
        cells, means = [], []
        for d, c in cases:
            aucs = [
                r["auc"]
                for r in records
                if r["detector"] == name and r["dataset"] == d and r["class"] == c
            ]
            cells.append(f"{np.mean(aucs):.3f} ± {np.std(aucs):.3f}")
            means.append(np.mean(aucs))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | **{np.mean(means):.3f}** |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--params", type=json.loads, default={}, help="GANomalyDetector parameters as JSON"
    )
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    start = time.perf_counter()
    records = run(seeds, args.params)
    wall = time.perf_counter() - start
    text = table(records)
    sys.stdout.write(f"{text}\n\nwall time {wall:.0f} s; {describe_machine()}\n")
    if args.json:
        payload = {"command": " ".join(sys.argv), "machine": describe_machine(), "wall_s": wall}
        with open(args.json, "w") as f:
            json.dump({**payload, "records": records}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
