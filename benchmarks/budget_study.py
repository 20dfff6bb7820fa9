"""Image budget study: one long fit per split, the read-outs' inputs at several epochs.

For every (data set, anomalous class, development seed) the script makes the
paper's one-class split, fits ``GANomalyDetector`` for ``max(--epochs)``
epochs, and at each epoch in ``--epochs`` keeps the generator's weights. It
then stores, for every snapshot, the codes ``z`` of the training and test
images, their latent distances, and the validation and training losses at
that epoch, in one ``.npz`` per split. ``budget_analysis.py`` reads the
AUC of each read-out against the budget off these files.

    python benchmarks/budget_study.py --dataset mnist5k --classes 0-9 --seeds 10 \\
        --epochs 1,2,3,5,8,10,15,25 --out reports/budget/mnist_lr2e-4

``--side`` resizes the images (bilinear) before they reach the detector, to
measure what the networks need to see. One file per split: an interrupted
run keeps what finished. Seeds 0-2 are refused: they are the reported splits.
"""

import argparse
import copy
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.nn import functional as F

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.benchmark import describe_machine, int_list, load_dataset
from sklearn_ganomaly.datasets import one_class_split


class EpochSnapshots(Callback):
    """Keep the generator's weights at the end of the listed epochs."""

    def __init__(self, epochs):
        self.epochs = epochs

    def initialize(self):
        self.states_ = {}
        return self

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch in self.epochs:
            self.states_[epoch] = copy.deepcopy(net.module_.state_dict())


#: ``'0-9'``, ``'10,11,12'``: a list of integers, for argparse.
ints = int_list(0, 2**31 - 1)


def resize(X, side):
    """Images ``(n, H, W)`` resized to ``(n, side, side)`` (bilinear, antialiased)."""
    x = torch.as_tensor(np.asarray(X, np.float32))[:, None]
    x = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    return x[:, 0].numpy()


def run_one(dataset, X, y, c, seed, params, epochs, side, out_dir):
    path = Path(out_dir) / f"{dataset}_class{c}_seed{seed}.npz"
    if path.exists():
        return path, 0.0
    X_train, X_test, y_test = one_class_split(X, y, c, random_state=seed)
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    if side:
        X_train, X_test = resize(X_train, side), resize(X_test, side)
    model = GANomalyDetector(
        random_state=seed,
        device="cpu",
        n_epochs=max(epochs),
        callbacks=[("snapshots", EpochSnapshots(epochs))],
        **params,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_train)
    fit_s = time.perf_counter() - start
    states = dict(model.net_.callbacks_)["snapshots"].states_
    arrays = {}
    for epoch, state in states.items():
        model.net_.module_.load_state_dict(state)
        for split, rows in (("train", X_train), ("test", X_test)):
            arrays[f"{epoch}/z_{split}"] = model.encode(rows).astype(np.float32)
            arrays[f"{epoch}/latent_{split}"] = model.latent_distance(rows)
    history = [
        {k: v for k, v in row.items() if isinstance(v, (int, float, bool))}
        for row in model.history_
    ]
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        y_test=y_test,
        fit_s=fit_s,
        epoch_s=json.dumps([row["dur"] for row in history]),
        history=json.dumps(history),
        **arrays,
    )
    tmp.rename(path)
    return path, fit_s


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["mnist5k", "digits"], default="mnist5k")
    parser.add_argument("--classes", type=ints, default=list(range(10)))
    parser.add_argument("--seeds", type=ints, default=[10, 11, 12])
    parser.add_argument("--epochs", default="1,2,3,5,8,10,15,25")
    parser.add_argument("--side", type=int, default=0, help="resize images to side x side")
    parser.add_argument("--params", type=json.loads, default={})
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if set(args.seeds) & {0, 1, 2}:
        parser.error("seeds 0-2 are the reported splits: study on development seeds only")
    epochs = sorted(int(e) for e in args.epochs.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(
        json.dumps(
            {
                "params": args.params,
                "epochs": epochs,
                "side": args.side,
                "command": " ".join(sys.argv),
                "machine": describe_machine(),
            }
        )
    )
    X, y = load_dataset(args.dataset)
    for seed in args.seeds:
        for c in args.classes:
            path, fit_s = run_one(args.dataset, X, y, c, seed, args.params, epochs, args.side, out)
            print(f"{path} {fit_s:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
