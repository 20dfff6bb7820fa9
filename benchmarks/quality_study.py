"""Quality study: fit GANomaly once per split and keep what every score needs.

One fit per (data set, anomalous class, seed) on the paper's one-class split;
the script stores the training and test latent codes, the test latent
distances and reconstruction errors, the labels, the fit time and the epoch
history in one ``.npz`` file. ``quality_analysis.py`` then reads many scores
(latent distance, reconstruction error, neighbour scores on the codes, their
combinations) off the same fitted models without refitting.

Run one process per split so that an interruption keeps what finished:

    python benchmarks/quality_study.py --dataset mnist5k --classes 0-9 --seeds 10 \\
        --latent-dim 100 --precision bf16 --out reports/study/l100

Only development seeds (10, 11, 12) belong in a study; the reported seeds 0-2
are run once with the final configuration by ``sklearn-ganomaly benchmark``.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.benchmark import describe_machine, int_list, load_dataset
from sklearn_ganomaly.datasets import one_class_split


def _reconstruction_error(model, X):
    """Mean absolute pixel error with pixels scaled to [0, 1] by the training range."""
    X_hat = model.reconstruct(X)
    low, high = float(X.min()), float(X.max())
    scale = 1.0 / max(high - low, 1e-12)
    return np.abs((X - X_hat) * scale).reshape(len(X), -1).mean(axis=1)


def run_one(dataset, X, y, anomalous_class, seed, params, out_dir):
    name = f"{dataset}_class{anomalous_class}_seed{seed}.npz"
    path = Path(out_dir) / name
    if path.exists():
        return path
    X_train, X_test, y_test = one_class_split(X, y, anomalous_class, random_state=seed)
    X_train = X_train.astype(np.float32)
    X_test = X_test.astype(np.float32)
    model = GANomalyDetector(random_state=seed, **params)
    start = time.perf_counter()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    history = [
        {k: v for k, v in row.items() if isinstance(v, (int, float, bool))}
        for row in model.history_
    ]
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        z_train=model.encode(X_train).astype(np.float32),
        z_test=model.encode(X_test).astype(np.float32),
        latent_train=model.latent_distance(X_train),
        latent_test=model.latent_distance(X_test),
        recon_train=_reconstruction_error(model, X_train),
        recon_test=_reconstruction_error(model, X_test),
        y_test=y_test,
        fit_s=fit_s,
        best_epoch=model.best_epoch_,
        n_epochs_run=len(model.history_),
        history=json.dumps(history),
    )
    tmp.rename(path)
    return path


#: ``'0-9'``, ``'10,11,12'``: a list of integers, for argparse.
ints = int_list(0, 2**31 - 1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["mnist5k", "digits"], default="mnist5k")
    parser.add_argument("--classes", type=ints, default=list(range(10)))
    parser.add_argument("--seeds", type=ints, default=[10, 11, 12])
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--epochs", default="15", help="an int or 'auto'")
    parser.add_argument("--precision", default="fp32", choices=["auto", "bf16", "fp32"])
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if set(args.seeds) & {0, 1, 2}:
        parser.error("seeds 0-2 are the reported splits: study on development seeds only")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    params = dict(
        latent_dim=args.latent_dim,
        width=args.width,
        n_epochs=args.epochs if args.epochs == "auto" else int(args.epochs),
        precision=args.precision,
        device="cpu",
    )
    (out / "config.json").write_text(
        json.dumps(
            {"params": params, "command": " ".join(sys.argv), "machine": describe_machine()}
        )
    )
    X, y = load_dataset(args.dataset)
    for seed in args.seeds:
        for c in args.classes:
            start = time.perf_counter()
            path = run_one(args.dataset, X, y, c, seed, params, out)
            print(f"{path} {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
