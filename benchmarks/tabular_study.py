"""Table study: fit GANomaly once per (table, seed) and keep what every read-out needs.

For each ADBench table and development seed, the script makes the benchmark's
semi-supervised split, standardises with the training rows' statistics, and
fits one ``GANomalyDetector`` with the given parameters for ``max(--steps)``
optimizer steps. At each budget in ``--steps`` it snapshots the generator and
afterwards stores, for that snapshot and for two more (``best``: the weights
the detector keeps, ``untrained``: the initial weights with BatchNorm
statistics of the training rows, the control), the codes ``z`` of the
training and test rows, their latent distances and reconstruction errors,
and the validation loss at that point. ``tabular_analysis.py`` then reads
many scores off these files without refitting.

    python benchmarks/tabular_study.py --data ~/ADBench/adbench/datasets/Classical \\
        --tables dev --seeds 10,11,12 --params '{"latent_dim": "auto"}' \\
        --out reports/tables/default

One file per (table, seed): an interrupted run keeps what finished and a rerun
skips it. Seeds 0-2 and the even-numbered tables are refused: they are the
reported half.
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

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.benchmark import describe_machine
from sklearn_ganomaly.datasets import (
    list_adbench_tables,
    load_adbench_table,
    semi_supervised_split,
    table_number,
)


class Snapshots(Callback):
    """Keep the generator's weights once training has taken each budget of steps."""

    def __init__(self, steps):
        self.steps = steps

    def initialize(self):
        self.states_, self.valid_loss_ = {}, {}
        return self

    def on_train_begin(self, net, **kwargs):
        self.states_["untrained"] = copy.deepcopy(net.module_.state_dict())

    def on_epoch_end(self, net, **kwargs):
        taken = sum(row.get("train_batch_count", 0) for row in net.history)
        for budget in self.steps:
            if budget <= taken and budget not in self.states_:
                self.states_[budget] = copy.deepcopy(net.module_.state_dict())
                self.valid_loss_[budget] = net.history[-1].get("valid_loss", float("nan"))


def _batch_norm_statistics(model, X):
    """Fill BatchNorm's running statistics from the training rows (no weight changes)."""
    module = model.net_.module_
    norms = [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over all batches
    module.train()
    with torch.no_grad():
        for start in range(0, len(X), 256):
            module(model.input_transform_.to_network(X[start : start + 256], "cpu"))
    for norm in norms:
        norm.momentum = 0.1
    module.eval()


def _readouts(model, X):
    """Codes, latent distances and mean squared reconstruction errors (standardised)."""
    X_hat = model.reconstruct(X)
    scale = np.asarray(model.input_transform_.scale, float)
    recon = np.mean(((X - X_hat) * scale) ** 2, axis=1)
    return model.encode(X).astype(np.float32), model.latent_distance(X), recon


def _steps_per_epoch(n_rows, params):
    n_valid = int(params.get("validation_fraction", 0.1) * n_rows)
    n_train = n_rows - min(n_valid, n_rows - 2)
    batch = params.get("batch_size", 64)
    return max(1, n_train // batch + (n_train % batch > 1))


def run_one(folder, table, seed, params, rules, steps, out_dir, model_seed=0):
    path = Path(out_dir) / f"{table}_seed{seed}.npz"
    if path.exists():
        return path, 0.0
    X, y = load_adbench_table(folder, table)
    X_train, X_test, y_test = semi_supervised_split(X, y, random_state=seed)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    n_epochs = -(-max(steps) // _steps_per_epoch(len(X_train), params))
    params = dict(params)
    for name, rule in rules.items():
        # A rule is an expression of the table's width d and rows n, e.g. "max(2, d // 2)".
        params[name] = int(
            eval(rule, {"min": min, "max": max}, {"d": X.shape[1], "n": len(X_train)})
        )
    model = GANomalyDetector(
        # The split's seed, shifted for another model on the same split (ensembles).
        random_state=seed + model_seed,
        device="cpu",
        n_epochs=int(n_epochs),
        callbacks=[("snapshots", Snapshots(steps))],
        **params,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_train)
    fit_s = time.perf_counter() - start
    snapshots = dict(model.net_.callbacks_)["snapshots"]
    arrays = {}
    best_state = copy.deepcopy(model.net_.module_.state_dict())
    for name, state in [*snapshots.states_.items(), ("best", best_state)]:
        model.net_.module_.load_state_dict(state)
        if name == "untrained":
            _batch_norm_statistics(model, X_train)
        for split, rows in (("train", X_train), ("test", X_test)):
            z, latent, recon = _readouts(model, rows)
            arrays[f"{name}/z_{split}"] = z.astype(np.float16 if z.shape[1] > 64 else np.float32)
            arrays[f"{name}/latent_{split}"] = latent
            arrays[f"{name}/recon_{split}"] = recon
    history = [
        {k: v for k, v in row.items() if isinstance(v, (int, float, bool))}
        for row in model.history_
    ]
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        y_test=y_test,
        fit_s=fit_s,
        best_epoch=model.best_epoch_,
        latent_dim=model.latent_dim_,
        valid_loss=json.dumps({str(k): v for k, v in snapshots.valid_loss_.items()}),
        history=json.dumps(history),
        **arrays,
    )
    tmp.rename(path)
    return path, fit_s


def select_tables(folder, which):
    names = list_adbench_tables(folder)
    if which in ("dev", "odd"):
        return [n for n in names if table_number(n) % 2 == 1]
    chosen = which.split(",")
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise SystemExit(f"unknown tables {unknown}; the folder has {names}")
    return chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder of ADBench .npz tables")
    parser.add_argument("--tables", default="dev", help="'dev' (odd-numbered) or names")
    parser.add_argument("--seeds", default="10,11,12")
    parser.add_argument("--params", type=json.loads, default={})
    parser.add_argument(
        "--rules",
        type=json.loads,
        default={},
        help='parameters as expressions of d and n, e.g. \'{"latent_dim": "d"}\'',
    )
    parser.add_argument("--steps", default="250,500,1000,2000,4000")
    parser.add_argument(
        "--model-seed", type=int, default=0, help="added to the split's seed for the model"
    )
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if set(seeds) & {0, 1, 2}:
        parser.error("seeds 0-2 are the reported splits: study on development seeds only")
    tables = select_tables(args.data, args.tables)
    if any(table_number(t) % 2 == 0 for t in tables):
        parser.error("even-numbered tables are the reported half: study on odd ones only")
    steps = sorted(int(s) for s in args.steps.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(
        json.dumps(
            {
                "params": args.params,
                "rules": args.rules,
                "steps": steps,
                "command": " ".join(sys.argv),
                "machine": describe_machine(),
            }
        )
    )
    for seed in seeds:
        for table in tables:
            path, fit_s = run_one(
                args.data, table, seed, args.params, args.rules, steps, out, args.model_seed
            )
            print(f"{path} {fit_s:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
