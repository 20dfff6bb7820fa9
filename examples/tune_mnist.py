"""Tune GANomaly on MNIST-5k with a search that never sees the test split.

One digit is the anomaly, the other nine are normal (the paper's protocol,
DESIGN.md section 5): the normal digits are shuffled with the seed, 80% of them
go to the development set and 20% to the test set. A search needs labelled
anomalies to score its candidates, so a share of the anomalous digit
(``--dev-anomalies``, 20% by default) joins the development set; the rest
join the test set. With digit 2 that is 3,600 normal + 100 anomalous
development images and 900 normal + 400 anomalous test images.

``GridSearchCV`` then runs on the development set only:

- ``NormalOnlyKFold`` trains every candidate on normal images only and scores
  it on held-out normal images plus a share of the development anomalies;
- ``anomaly_roc_auc_scorer`` scores with the anomaly as the positive class;
- ``NormalOnlyFit`` makes the final refit drop the development anomalies.

The refit model is scored once on the test split. The default is a quick
search (small networks, 3 epochs, a few minutes on two CPU cores); ``--full``
searches around the paper's settings (DCGAN width 64, 15 epochs: use a GPU).
``--dask N`` runs the search on a local Dask cluster of N worker processes.

Run: ``python examples/tune_mnist.py [--anomaly 2] [--seed 0] [--full] [--dask 2]``
"""

import argparse
import contextlib
import time

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import GridSearchCV

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.datasets import load_mnist5k, one_class_split
from sklearn_ganomaly.model_selection import (
    NormalOnlyFit,
    NormalOnlyKFold,
    anomaly_roc_auc_scorer,
)

QUICK = dict(width=16, n_epochs=3)
QUICK_GRID = {"latent_dim": [16, 100], "w_con": [10.0, 50.0]}
FULL = dict(width=64, n_epochs=15)
FULL_GRID = {"latent_dim": [50, 100], "w_con": [10.0, 50.0]}


def development_test_split(anomaly, dev_anomalies, seed):
    """The paper's one-class split, with a share of the anomalies moved to development."""
    X, y = load_mnist5k()
    X_train, X_test, y_test = one_class_split(X, y, anomaly, random_state=seed)
    anomalies = np.flatnonzero(y_test == 1)
    anomalies = anomalies[np.random.default_rng(seed).permutation(len(anomalies))]
    moved = anomalies[: int(round(dev_anomalies * len(anomalies)))]
    kept = np.setdiff1d(np.arange(len(X_test)), moved)
    X_dev = np.concatenate([X_train, X_test[moved]])
    y_dev = np.r_[np.zeros(len(X_train), int), np.ones(len(moved), int)]
    return X_dev, y_dev, X_test[kept], y_test[kept]


def search(args):
    settings, grid = (FULL, FULL_GRID) if args.full else (QUICK, QUICK_GRID)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anomaly", type=int, default=2, help="digit treated as anomalous")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dev-anomalies", type=float, default=0.2)
    parser.add_argument("--n-splits", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="paper-sized networks (GPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dask", type=int, default=0, metavar="N", help="Dask workers")
    args = parser.parse_args(argv)

    X_dev, y_dev, X_test, y_test = development_test_split(
        args.anomaly, args.dev_anomalies, args.seed
    )
    print(
        f"digit {args.anomaly} anomalous; development: {int((y_dev == 0).sum())} normal + "
        f"{int(y_dev.sum())} anomalous; test (unseen by the search): "
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


if __name__ == "__main__":
    main()
