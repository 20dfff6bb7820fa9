"""How GANomalyDetector's fit time grows with data size and image size.

Fits one epoch (batch 64, the paper's DCGAN widths) on random images and
prints seconds per fit and per epoch-image, so a user can predict a run:
time ~ n_images * n_epochs / (training img/s) plus one scoring pass.

    python benchmarks/scaling.py                  # sizes 1k, 4k, 16k at 32x32; 1k, 4k at 64x64
"""

import argparse
import time

import numpy as np
import torch

from sklearn_ganomaly import GANomalyDetector

GRID = [(32, 1000), (32, 4000), (32, 16000), (64, 1000), (64, 4000)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"device {args.device}, {torch.get_num_threads()} threads, {args.epochs} epoch(s)")
    print(f"{'side':>5} {'n':>7} {'fit s':>8} {'train img/s':>12}")
    rng = np.random.default_rng(0)
    for side, n in GRID:
        X = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
        model = GANomalyDetector(
            n_epochs=args.epochs, validation_fraction=0.0, device=args.device, random_state=0
        )
        start = time.perf_counter()
        model.fit(X)
        seconds = time.perf_counter() - start
        print(f"{side:5d} {n:7d} {seconds:8.1f} {n * args.epochs / seconds:12.1f}", flush=True)


if __name__ == "__main__":
    main()
