"""Peak memory of scoring large inputs and of fitting on a numpy memmap.

Each case runs in a fresh process and reports the peak of its anonymous
resident memory (``RssAnon`` in ``/proc/self/status``, sampled every 2 ms; file
pages of a memmap are not anonymous, so a copy of the data shows and a mapping
does not) above the level reached once the input exists and the model is
fitted, next to the size of the input.

    python benchmarks/memory.py                       # all cases (Linux only)
    python benchmarks/memory.py --case score-tabular
    python benchmarks/memory.py --case score-images-latent --case score-images-default
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

CASES = (
    "score-tabular",
    "score-images",
    "score-images-latent",
    "score-images-default",
    "fit-memmap",
)


def _rss_anon_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("RssAnon not available (Linux only)")


class PeakSampler:
    def __init__(self):
        self.peak, self._stop = _rss_anon_mb(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_anon_mb())
            time.sleep(0.002)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _run_case(case):
    from sklearn_ganomaly import GANomalyDetector

    # One-epoch fits are the point here (the model only has to score); the
    # undertraining advice is not.
    warnings.simplefilter("ignore", ConvergenceWarning)

    rng = np.random.default_rng(0)
    small = dict(width=16, n_epochs=1, random_state=0)
    if case == "score-tabular":
        X = rng.normal(size=(1_000_000, 32)).astype(np.float32)
        model = GANomalyDetector(**small).fit(X[:2000])
        action = lambda: model.score_samples(X)  # noqa: E731
    elif case == "score-images":
        X = rng.integers(0, 256, size=(100_000, 32, 32), dtype=np.uint8)
        model = GANomalyDetector(**small).fit(X[:256])
        action = lambda: model.score_samples(X)  # noqa: E731
    elif case.startswith("score-images-"):
        # 100,000 MNIST-sized images scored by a model with 3,000 reference
        # codes, with the latent distance or with the default read-out.
        X = rng.integers(0, 256, size=(100_000, 28, 28), dtype=np.uint8)
        method = "latent" if case.endswith("latent") else "auto"
        model = GANomalyDetector(**small, score_method=method).fit(X[:3000])
        action = lambda: model.score_samples(X)  # noqa: E731
    else:
        path = os.path.join(tempfile.mkdtemp(), "rows.f32")
        X = np.memmap(path, dtype=np.float32, mode="w+", shape=(1_000_000, 32))
        for start in range(0, len(X), 100_000):
            X[start : start + 100_000] = rng.normal(size=(100_000, 32))
        X.flush()
        X = np.memmap(path, dtype=np.float32, mode="r", shape=(1_000_000, 32))
        model = GANomalyDetector(**small)
        action = lambda: model.fit(X)  # noqa: E731
    input_mb = X.nbytes / 2**20
    before = _rss_anon_mb()
    start = time.perf_counter()
    with PeakSampler() as sampler:
        action()
    seconds = time.perf_counter() - start
    print(
        f"{case:14} input {input_mb:7.1f} MiB | anonymous RSS before {before:7.1f} MiB, "
        f"peak {sampler.peak:7.1f} MiB, growth {sampler.peak - before:6.1f} MiB | {seconds:.1f} s",
        flush=True,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=CASES, action="append")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.in_process:
        _run_case(args.case[0])
        return
    for case in args.case or CASES:
        subprocess.run([sys.executable, __file__, "--in-process", "--case", case], check=True)


if __name__ == "__main__":
    main()
