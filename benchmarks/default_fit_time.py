"""Wall time of the default image fit against the previous default, side by side.

The previous default trained 15 epochs at learning rate 2e-4 (and stopped
there); the current one trains ``n_epochs='auto'`` at ``learning_rate='auto'``.
Both fit MNIST-5k with one digit held out (3,600 training images, 28x28),
the benchmark's split, in bfloat16 (where the CPU has it) and in float32,
interleaved so that both see the same machine state; the ratio of the
medians is printed per precision. ``--table`` then times the default fit of
a table of that many rows and features (Gaussian noise: the time depends
on the shape only).

    OMP_NUM_THREADS=2 python benchmarks/default_fit_time.py --repeats 2 --table 5000x100 \\
        --json docs/benchmarks/default_fit_time.json
"""

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.benchmark import describe_machine
from sklearn_ganomaly.datasets import load_mnist5k, one_class_split

#: The parameters that made the previous default fit, everything else equal.
PREVIOUS = {"n_epochs": 15, "learning_rate": 2e-4}


def fit_seconds(X_train, params):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the timing is the point, not the advice
        model = GANomalyDetector(device="cpu", random_state=10, **params).fit(X_train)
    return time.perf_counter() - start, len(model.history_)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--precision", default="bf16,fp32")
    parser.add_argument("--table", default=None, help="ROWSxFEATURES, e.g. 5000x100")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    X, y = load_mnist5k()
    X_train, _, _ = one_class_split(X, y, 2, random_state=10)
    results = {"machine": describe_machine(), "n_train": len(X_train), "runs": []}
    for precision in args.precision.split(","):
        times = {"previous": [], "current": []}
        for _ in range(args.repeats):
            for name, params in (("previous", PREVIOUS), ("current", {})):
                seconds, epochs = fit_seconds(X_train, {**params, "precision": precision})
                times[name].append(seconds)
                results["runs"].append(
                    {"precision": precision, "fit": name, "seconds": seconds, "epochs": epochs}
                )
                print(f"{precision} {name:8} {seconds:6.1f} s ({epochs} epochs)", flush=True)
        ratio = statistics.median(times["current"]) / statistics.median(times["previous"])
        results[f"ratio_{precision}"] = ratio
        print(f"{precision}: current / previous median fit time = {ratio:.2f}", flush=True)
    if args.table:
        rows, features = (int(v) for v in args.table.lower().split("x"))
        table = np.random.default_rng(0).normal(size=(rows, features))
        seconds, epochs = fit_seconds(table, {})
        results["table"] = {"shape": [rows, features], "seconds": seconds, "epochs": epochs}
        print(f"table {rows} x {features}: default fit {seconds:.1f} s ({epochs} epochs)")
    print(results["machine"])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
