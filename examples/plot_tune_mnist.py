"""
====================================================
Tuning GANomaly without looking at the test split
====================================================

One digit is the anomaly, the other nine are normal (the paper's protocol):
the normal digits are shuffled with the seed, 80% of them go to the
development set and 20% to the test set. A search needs labelled anomalies to
score its candidates, so a share of the anomalous digit (``--dev-anomalies``,
20% by default) joins the development set; the rest join the test set. With
MNIST-5k and digit 2 that is 3,600 normal + 100 anomalous development images
and 900 normal + 400 anomalous test images.

``GridSearchCV`` then runs on the development set only:

- ``NormalOnlyKFold`` trains every candidate on normal images only and scores
  it on held-out normal images plus a share of the development anomalies;
- ``anomaly_roc_auc_scorer`` scores with the anomaly as the positive class;
- ``NormalOnlyFit`` makes the final refit drop the development anomalies.

The refit model is scored once on the test split. The default is a quick
search on MNIST-5k (small networks, 3 epochs, a few minutes on two CPU
cores); ``--full`` searches around the paper's settings (DCGAN width 64, 15
epochs: use a GPU). ``--dask N`` runs the search on a local Dask cluster of N
worker processes. This page runs ``python plot_tune_mnist.py --dataset
digits``: the same search on scikit-learn's 8x8 digits (1,296 normal + 35
anomalous development images, 324 normal + 142 anomalous test images), about
a minute on two CPU cores.

Run: ``python examples/plot_tune_mnist.py [--dataset mnist5k|digits]
[--anomaly 2] [--seed 0] [--full] [--dask 2] [--figure search.png]``
"""

import argparse
import contextlib
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from sklearn.model_selection import GridSearchCV

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.datasets import load_digits_images, load_mnist5k, one_class_split
from sklearn_ganomaly.model_selection import (
    NormalOnlyFit,
    NormalOnlyKFold,
    anomaly_roc_auc_scorer,
)

QUICK = dict(width=16, n_epochs=3)
QUICK_GRID = {"latent_dim": [16, 100], "w_con": [10.0, 50.0]}
FULL = dict(width=64, n_epochs=15)
FULL_GRID = {"latent_dim": [50, 100], "w_con": [10.0, 50.0]}
#: The 8x8 digits: 1,296 small images train fast, so more epochs fit in a minute.
DIGITS = dict(width=32, n_epochs=15)
LOADERS = {"mnist5k": load_mnist5k, "digits": load_digits_images}

# %%
# The split
# ---------
# The paper's one-class split first; then a share of the test anomalies moves
# to the development set, where the search may use their labels. The test
# split is not looked at again until the very end.


def development_test_split(anomaly, dev_anomalies, seed, dataset="mnist5k"):
    """The paper's one-class split, with a share of the anomalies moved to development."""
    X, y = LOADERS[dataset]()
    X_train, X_test, y_test = one_class_split(X, y, anomaly, random_state=seed)
    anomalies = np.flatnonzero(y_test == 1)
    anomalies = anomalies[np.random.default_rng(seed).permutation(len(anomalies))]
    moved = anomalies[: int(round(dev_anomalies * len(anomalies)))]
    kept = np.setdiff1d(np.arange(len(X_test)), moved)
    X_dev = np.concatenate([X_train, X_test[moved]])
    y_dev = np.r_[np.zeros(len(X_train), int), np.ones(len(moved), int)]
    return X_dev, y_dev, X_test[kept], y_test[kept]


# %%
# The search
# ----------
# ``NormalOnlyFit`` wraps the detector so that the refit drops the labelled
# anomalies; its parameters gain the ``estimator__`` prefix.


def search(args):
    if args.full:
        settings, grid = FULL, FULL_GRID
    else:
        settings, grid = (DIGITS if args.dataset == "digits" else QUICK), QUICK_GRID
    detector = GANomalyDetector(**settings, device=args.device, random_state=args.seed)
    return GridSearchCV(
        NormalOnlyFit(detector),
        {f"estimator__{name}": values for name, values in grid.items()},
        cv=NormalOnlyKFold(args.n_splits, shuffle=True, random_state=args.seed),
        scoring=anomaly_roc_auc_scorer,
        n_jobs=-1 if args.dask else 1,
    )


@contextlib.contextmanager
def dask_backend(n_workers):
    """A local Dask cluster as joblib's backend; one torch thread per worker."""
    import joblib
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster),
        joblib.parallel_config("dask"),
    ):
        yield


# %%
# The figure
# ----------
# Left, each candidate's cross-validated ROC AUC on the development set (what
# the search chose from); right, the refit model's ROC curve on the test split
# (what it is reported with).


def search_figure(model, y_test, scores):
    results = model.cv_results_
    labels = [
        ", ".join(f"{k.removeprefix('estimator__')}={v}" for k, v in params.items())
        for params in results["params"]
    ]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    chosen = model.best_index_
    colors = ["black" if i == chosen else "lightgray" for i in range(len(labels))]
    left.barh(
        labels,
        results["mean_test_score"],
        xerr=results["std_test_score"],
        color=colors,
        edgecolor="black",
    )
    left.set_xlim(0.5, 1.0)
    left.set_xlabel("cross-validated ROC AUC (development set)")
    left.set_title("candidates (black: chosen)", fontsize=10)
    fpr, tpr, _ = roc_curve(y_test, scores)
    right.plot(fpr, tpr, color="black", label=f"ROC AUC {roc_auc_score(y_test, scores):.3f}")
    right.plot([0, 1], [0, 1], color="gray", linestyle=":", linewidth=1)
    right.set_xlabel("false positive rate")
    right.set_ylabel("true positive rate")
    right.set_aspect("equal")
    right.set_title("refit model on the held-out test split", fontsize=10)
    right.legend(loc="lower right")
    return figure


# %%
# The command line
# ----------------


def main(argv=None):
    """Run the search and score its choice once on the test split."""
    parser = argparse.ArgumentParser(
        description="Tune GANomaly with a search that never sees the test split."
    )
    parser.add_argument("--dataset", choices=tuple(LOADERS), default="mnist5k")
    parser.add_argument("--anomaly", type=int, default=2, help="digit treated as anomalous")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dev-anomalies", type=float, default=0.2)
    parser.add_argument("--n-splits", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="paper-sized networks (GPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dask", type=int, default=0, metavar="N", help="Dask workers")
    parser.add_argument("--figure", default=None, help="also save the figure to this file")
    args = parser.parse_args(argv)

    X_dev, y_dev, X_test, y_test = development_test_split(
        args.anomaly, args.dev_anomalies, args.seed, args.dataset
    )
    print(
        f"{args.dataset}, digit {args.anomaly} anomalous; development: "
        f"{int((y_dev == 0).sum())} normal + {int(y_dev.sum())} anomalous; "
        f"test (unseen by the search): "
        f"{int((y_test == 0).sum())} normal + {int(y_test.sum())} anomalous"
    )
    start = time.perf_counter()
    backend = dask_backend(args.dask) if args.dask else contextlib.nullcontext()
    with backend:
        model = search(args).fit(X_dev, y_dev)
    print(f"search: {time.perf_counter() - start:.0f} s")

    results = model.cv_results_
    for params, mean, std in zip(
        results["params"], results["mean_test_score"], results["std_test_score"], strict=True
    ):
        shown = {name.removeprefix("estimator__"): value for name, value in params.items()}
        print(f"  {shown}: CV AUC {mean:.3f} +/- {std:.3f}")
    chosen = {k.removeprefix("estimator__"): v for k, v in model.best_params_.items()}
    print(f"chosen: {chosen} (CV AUC {model.best_score_:.3f})")

    refit = model.best_estimator_.estimator_
    print(f"refit on {int((y_dev == 0).sum())} normal images, best epoch {refit.best_epoch_}")
    scores = refit.anomaly_score(X_test)
    print(
        f"held-out test AUC {roc_auc_score(y_test, scores):.3f}, "
        f"average precision {average_precision_score(y_test, scores):.3f}"
    )
    figure = search_figure(model, y_test, scores)
    if args.figure:
        figure.savefig(args.figure, dpi=120)
        print(f"Figure saved to {args.figure}")
    return model, figure


# %%
# Run
# ---

if __name__ == "__main__":
    main()
