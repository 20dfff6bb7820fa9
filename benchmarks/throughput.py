"""Throughput of GANomalyDetector against a plain PyTorch loop, side by side.

For each case (32x32x1 images, 64x64x3 images, a table) this times, in one run
and interleaved so that both see the same machine state:

- training images/s of ``GANomalyDetector.fit`` and of a minimal plain PyTorch
  loop written here (same networks, same losses, same batch size, same Adam
  settings, same threads; both start from the same numpy array);
- scoring images/s of ``GANomalyDetector.score_samples`` and of a plain
  batched ``inference_mode`` loop computing the latent distance.

It prints medians over repeats, the ratios, the machine, FLOPs per image
(``torch.utils.flop_counter``) and the GFLOP/s achieved. ``fit`` is timed end
to end; beside it, the throughput of its epochs alone (skorch's
``EpochTimer``) and its fixed cost, mostly the one scoring pass over the
training data that fits the score normalisation, which more epochs amortise.

    python benchmarks/throughput.py                 # all cases, CPU or GPU
    python benchmarks/throughput.py --case img32 --device cuda --repeats 5
"""

import argparse
import json
import os
import platform
import statistics
import time
from functools import partial

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.losses import GeneratorLoss, discriminator_loss
from sklearn_ganomaly.networks import build_networks, dcgan_init_

CASES = {
    # name: (sample shape, n_train, n_score, epochs)
    "img32": ((32, 32), 512, 2048, 2),
    "img64": ((64, 64, 3), 256, 1024, 2),
    "tabular": ((32,), 8192, 65536, 4),
}
BATCH = 64
SCORE_BATCH = 256


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def _data(shape, n, seed=0):
    rng = np.random.default_rng(seed)
    if len(shape) == 1:
        return rng.normal(size=(n, *shape)).astype(np.float32)
    return rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _detector(device, epochs):
    # validation_fraction=0: both loops then train on exactly the same rows.
    return GANomalyDetector(
        n_epochs=epochs, batch_size=BATCH, validation_fraction=0.0, device=device, random_state=0
    )


class PlainLoop:
    """The same networks and losses, trained by the shortest honest loop."""

    def __init__(self, fitted, device):
        self.transform = fitted.input_transform_
        self.latent_dim = fitted.latent_dim_
        self.device = device
        self.loss = GeneratorLoss()
        self.build()

    def build(self):
        """Fresh networks and optimizers, as any training run must make."""
        generator, discriminator = build_networks(
            self.transform.network_shape, self.latent_dim, 64
        )
        init = partial(dcgan_init_, generator=torch.Generator().manual_seed(0))
        self.generator = generator.apply(init).to(self.device)
        self.discriminator = discriminator.apply(init).to(self.device)
        betas = (0.5, 0.999)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=betas)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=betas)

    def to_tensor(self, batch):
        return self.transform.to_network(batch, self.device)

    def train_step(self, x):
        x_hat, z, z_hat = self.generator(x)
        with torch.no_grad():
            _, f_real = self.discriminator(x)
        _, f_fake = self.discriminator(x_hat)
        loss = self.loss(x, x_hat, z, z_hat, f_real, f_fake)["loss"]
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        logits_real, _ = self.discriminator(x)
        logits_fake, _ = self.discriminator(x_hat.detach())
        loss_d = discriminator_loss(logits_real, logits_fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

    def fit(self, X, epochs):
        self.build()
        self.generator.train()
        self.discriminator.train()
        for _ in range(epochs):
            order = np.random.default_rng(0).permutation(len(X))
            for start in range(0, len(X), BATCH):
                rows = np.sort(order[start : start + BATCH])
                self.train_step(self.to_tensor(X[rows]))

    def score(self, X):
        self.generator.eval()
        out = []
        with torch.inference_mode():
            for start in range(0, len(X), SCORE_BATCH):
                _, z, z_hat = self.generator(self.to_tensor(X[start : start + SCORE_BATCH]))
                out.append(((z - z_hat) ** 2).mean(1))
        return torch.cat(out).cpu().numpy()


def _flops(plain, X):
    x = plain.to_tensor(X[:BATCH])
    with FlopCounterMode(display=False) as counter:
        plain.train_step(x)
    train = counter.get_total_flops() / len(x)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        plain.generator.eval()
        plain.generator(x)
    return train, counter.get_total_flops() / len(x)


def _timed(fn, device):
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - start


def run_case(name, device, repeats, epochs=None):
    shape, n_train, n_score, default_epochs = CASES[name]
    epochs = epochs or default_epochs
    X_train, X_score = _data(shape, n_train), _data(shape, n_score, seed=1)
    warm = _detector(device, 1).fit(X_train[: 4 * BATCH])  # warm-up, and the layout
    plain = PlainLoop(warm, device)
    plain.fit(X_train[: 2 * BATCH], 1)
    flops_train, flops_score = _flops(plain, X_train)

    times = {"fit": [], "plain_fit": [], "score": [], "plain_score": [], "fit_loop": []}
    for repeat in range(repeats):
        detector = _detector(device, epochs)
        steps = [
            ("fit", lambda d=detector: d.fit(X_train)),
            ("plain_fit", lambda: plain.fit(X_train, epochs)),
            ("score", lambda d=detector: d.score_samples(X_score)),
            ("plain_score", lambda: plain.score(X_score)),
        ]
        if repeat % 2:  # alternate who goes first: drift hits both alike
            steps = [steps[1], steps[0], steps[3], steps[2]]
        for key, fn in steps:
            times[key].append(_timed(fn, device))
        # skorch's EpochTimer: the epochs alone, without fit's fixed costs
        # (input checks, network build, the scoring pass over the training
        # data that fits the score normalisation).
        times["fit_loop"].append(sum(row["dur"] for row in detector.net_.history_))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "case": name,
        "shape": shape,
        "epochs": epochs,
        "train_img_s": n_train * epochs / med["fit"],
        "train_loop_img_s": n_train * epochs / med["fit_loop"],
        "fit_fixed_s": med["fit"] - med["fit_loop"],
        "plain_train_img_s": n_train * epochs / med["plain_fit"],
        "score_img_s": n_score / med["score"],
        "plain_score_img_s": n_score / med["plain_score"],
        "train_mflop_per_img": flops_train / 1e6,
        "score_mflop_per_img": flops_score / 1e6,
    }
    result["train_ratio"] = result["train_img_s"] / result["plain_train_img_s"]
    result["train_loop_ratio"] = result["train_loop_img_s"] / result["plain_train_img_s"]
    result["score_ratio"] = result["score_img_s"] / result["plain_score_img_s"]
    result["train_gflop_s"] = result["train_img_s"] * flops_train / 1e9
    result["score_gflop_s"] = result["score_img_s"] * flops_score / 1e9
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description="GANomalyDetector vs plain PyTorch throughput")
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--epochs", type=int, help="training epochs per fit (default: per case, 2 or 4)"
    )
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    machine = (
        f"{_cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {args.device}"
    )
    if torch.device(args.device).type == "cuda":
        machine += f" ({torch.cuda.get_device_name()})"
    print(f"machine: {machine}")
    header = (
        f"{'case':8} {'train img/s':>12} {'plain':>9} {'ratio':>6} "
        f"{'score img/s':>12} {'plain':>9} {'ratio':>6} "
        f"{'MFLOP/img tr,sc':>16} {'GFLOP/s tr,sc':>14}"
    )
    print(header)
    notes = []
    results = []
    for name in args.case or list(CASES):
        r = run_case(name, args.device, args.repeats, args.epochs)
        results.append(r)
        print(
            f"{name:8} {r['train_img_s']:12.1f} {r['plain_train_img_s']:9.1f} "
            f"{r['train_ratio']:6.3f} {r['score_img_s']:12.1f} {r['plain_score_img_s']:9.1f} "
            f"{r['score_ratio']:6.3f} "
            f"{r['train_mflop_per_img']:7.1f},{r['score_mflop_per_img']:7.1f}"
            f" {r['train_gflop_s']:6.1f},{r['score_gflop_s']:6.1f}",
            flush=True,
        )
        notes.append(
            f"{name}: {r['epochs']} epochs; fit's epochs alone {r['train_loop_img_s']:.1f} img/s "
            f"(ratio {r['train_loop_ratio']:.3f}); fixed cost of fit {r['fit_fixed_s']:.2f} s"
        )
    print("\n".join(notes))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
