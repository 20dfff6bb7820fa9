"""What the neighbour read-out costs: scoring throughput and peak memory beside ``'latent'``.

One model is fitted on 20,000 random 28x28 images (so the default read-out
keeps 20,000 reference codes); its scoring graph is then timed scoring the
same images with ``score_method='latent'`` and with the default read-out,
interleaved in one run so that both see the same machine state. The peak
memory of scoring 100,000 images with each read-out is measured in fresh
processes by ``benchmarks/memory.py`` (cases ``score-images-latent`` and
``score-images-default``).

    python benchmarks/readout_cost.py --repeats 5 --json reports/readout_cost.json
"""

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.benchmark import describe_machine


def fitted_pair(n_references, device):
    """The same networks read out two ways: the default read-out and the latent distance."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(n_references, 28, 28), dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = GANomalyDetector(
            n_epochs=1, validation_fraction=0.0, random_state=0, device=device
        ).fit(X)
        latent = GANomalyDetector(
            n_epochs=1,
            validation_fraction=0.0,
            random_state=0,
            device=device,
            score_method="latent",
        ).fit(X)
    assert len(default.reference_codes_) == n_references
    return default, latent, X


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=int, default=20_000)
    parser.add_argument("--score", type=int, default=20_000, help="images scored per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    default, latent, X = fitted_pair(args.references, args.device)
    X_score = X[: args.score]
    default.anomaly_score(X_score[:512])  # warm up both
    latent.anomaly_score(X_score[:512])
    times = {"default": [], "latent": []}
    for _ in range(args.repeats):
        for name, model in (("latent", latent), ("default", default)):
            if torch.device(args.device).type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            model.anomaly_score(X_score)
            times[name].append(time.perf_counter() - start)
    rates = {name: len(X_score) / statistics.median(t) for name, t in times.items()}
    ratio = rates["default"] / rates["latent"]
    lines = [
        f"machine: {describe_machine()}",
        f"{args.references} reference codes, {len(X_score)} 28x28 images scored, "
        f"median of {args.repeats}",
        f"score_method='latent'          {rates['latent']:8.0f} images/s",
        f"score_method='{default.score_method_}'  {rates['default']:8.0f} images/s",
        f"ratio default / latent: {ratio:.2f}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "command": " ".join(sys.argv),
                    "machine": describe_machine(),
                    "references": args.references,
                    "scored": len(X_score),
                    "seconds": times,
                    "images_per_s": rates,
                    "ratio": ratio,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
