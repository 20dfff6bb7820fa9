"""Paper-protocol benchmark: GANomaly against PyOD detectors on the same splits.

For every anomalous class and seed, :func:`one_class_split` makes the paper's
split (normals shuffled, 80% train / 20% test, all anomalies in the test set);
each detector is fitted on the normal training images and scores the test
split. Nothing looks at test labels before the scores exist: GANomaly's epoch
is chosen on held-out *normal* training data by its validation loss, scores
are normalised with statistics of the training data, and ROC AUC / average
precision are threshold-free.

    sklearn-ganomaly benchmark --quick           # the README's main job
    sklearn-ganomaly benchmark --classes 0-9 --seeds 0,1,2 --detectors all
    python -m sklearn_ganomaly.benchmark --help

GANomaly gets the raw images (it scales them itself); PyOD's detectors get
pixels scaled to [0, 1] and flattened, the input these detectors usually take.
"""

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score, roc_auc_score
from tqdm.auto import tqdm

from . import PAPER_CONFIG, GANomalyDetector, __version__, plotting
from ._argtypes import bounded_int, checked, positive_int_or_auto
from ._compat import validate_params
from ._device import check_device
from ._files import check_writable, write_bytes_atomic
from ._scores import SCORE_METHODS
from .datasets import load_digits_images, load_mnist5k, one_class_split

__all__ = [
    "DETECTORS",
    "PYOD_DETECTORS",
    "add_subcommand",
    "check_plan",
    "main",
    "run_benchmark",
    "write_report",
]

#: The paper's Table 1 row (GANomaly on the full MNIST), digits 0-9.
PAPER_MNIST = [0.850, 0.330, 0.920, 0.771, 0.770, 0.800, 0.880, 0.780, 0.890, 0.580]


def _pyod(name, seed, n_features):
    """A PyOD detector by name (imported lazily: pyod is an optional extra)."""
    if name == "LOF":
        from pyod.models.lof import LOF

        return LOF()
    if name == "KNN":
        from pyod.models.knn import KNN

        return KNN()
    if name == "IForest":
        from pyod.models.iforest import IForest

        return IForest(random_state=seed)
    if name == "OCSVM":
        from pyod.models.ocsvm import OCSVM

        return OCSVM()
    if name == "AutoEncoder":
        from pyod.models.auto_encoder import AutoEncoder

        # No per-pixel z-scoring: it blows up pixels never lit in training.
        return AutoEncoder(preprocessing=False, random_state=seed, verbose=0)
    if name == "DeepSVDD":
        from pyod.models.deep_svdd import DeepSVDD

        return DeepSVDD(n_features=n_features, random_state=seed, verbose=0)
    if name == "ALAD":
        from pyod.models.alad import ALAD

        # ALAD takes no random_state; _seed_globals seeds what it draws from.
        return ALAD(verbose=0)
    if name == "CBLOF":
        from pyod.models.cblof import CBLOF

        return CBLOF(random_state=seed)
    if name == "LUNAR":
        from pyod.models.lunar import LUNAR

        return LUNAR()
    raise ValueError(f"Unknown detector {name!r}; choose from {', '.join(PYOD_DETECTORS)}")


PYOD_DETECTORS = (
    "LOF",
    "KNN",
    "IForest",
    "OCSVM",
    "AutoEncoder",
    "DeepSVDD",
    "ALAD",
    "CBLOF",
    "LUNAR",
)
QUICK = dict(
    dataset="mnist5k",
    classes=[2],
    seeds=[0],
    # GANomaly with its defaults: about 1.5 min of training on 2 idle cores.
    detectors=["GANomaly", "LOF", "KNN", "IForest", "AutoEncoder"],
)


def load_dataset(name):
    """``(X, y)`` of a named embedded data set: 'mnist5k' or 'digits'."""
    if name == "mnist5k":
        return load_mnist5k()
    if name == "digits":
        return load_digits_images()
    raise ValueError(f"Unknown dataset {name!r}: use 'mnist5k' or 'digits'")


@contextlib.contextmanager
def _seeded_globals(seed):
    """Seed numpy's, Python's and torch's global generators for one PyOD fit.

    Some PyOD detectors (ALAD) take no ``random_state`` and draw from the
    global generators; seeding them makes a rerun give the same numbers. The
    previous states are restored on exit, so the caller's generators are left
    as they were. GANomaly never needs this: its ``random_state`` seeds
    private generators.
    """
    numpy_state, python_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        np.random.seed(seed)
        random.seed(seed)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)


def _fit_and_score(name, X_train, X_test, seed, ganomaly_params):
    if name == "GANomaly-paper":
        # The paper's configuration; only where and how fast it runs is shared.
        shared = {k: v for k, v in ganomaly_params.items() if k in ("device", "precision")}
        model = GANomalyDetector(random_state=seed, **PAPER_CONFIG, **shared)
        X_fit, X_score = X_train, X_test
    elif name == "GANomaly":
        model = GANomalyDetector(random_state=seed, **ganomaly_params)
        X_fit, X_score = X_train, X_test
    else:
        scale = 255.0 if X_train.dtype == np.uint8 else float(max(X_train.max(), 1))
        X_fit = X_train.reshape(len(X_train), -1) / scale
        X_score = X_test.reshape(len(X_test), -1) / scale
        model = _pyod(name, seed, X_fit.shape[1])
    ours = name.startswith("GANomaly")
    seeding = contextlib.nullcontext() if ours else _seeded_globals(seed)
    with seeding:
        start = time.perf_counter()
        model.fit(X_fit)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        scores = model.anomaly_score(X_score) if ours else model.decision_function(X_score)
        score_s = time.perf_counter() - start
    return model, np.asarray(scores, dtype=float), fit_s, score_s


#: Every name ``--detectors`` takes.
DETECTORS = ("GANomaly", "GANomaly-paper", *PYOD_DETECTORS)


def _listed(values, what):
    values = list(values)
    if not values:
        raise ValueError(f"No {what} given: the benchmark needs at least one.")
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{what.capitalize()} {', '.join(repeated)} given more than once.")
    return values


def check_plan(y, *, classes, seeds, detectors):
    """Raise a ValueError, before any fit, for a run that cannot give a full report.

    The classes must exist in ``y`` (with other classes left as normals), the
    seeds be valid, and the detectors known; none of the lists may be empty
    or repeat an item.
    """
    known = set(np.unique(y).tolist())
    for c in _listed(classes, "classes"):
        if c not in known:
            raise ValueError(
                f"Class {c!r} is not in the data set, whose classes are "
                f"{', '.join(map(str, sorted(known)))}."
            )
    if len(known) < 2:
        raise ValueError("The data set has one class: there are no normal samples.")
    for seed in _listed(seeds, "seeds"):
        if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
            raise ValueError(f"Seed {seed!r} is not an integer from 0 to 2**32 - 1.")
    _check_detectors(detectors)


def _check_detectors(detectors):
    for name in _listed(detectors, "detectors"):
        if name not in DETECTORS:
            raise ValueError(f"Unknown detector {name!r}; choose from {', '.join(DETECTORS)}")


def run_benchmark(X, y, *, classes, seeds, detectors, ganomaly_params=None, progress=True):
    """Fit and score every detector on every (class, seed) split.

    Raises
    ------
    ValueError
        Before any fit, for an empty or repeated list, a class not in ``y``,
        a seed that is not an integer in [0, 2**32), or an unknown detector.

    Returns
    -------
    records : list of dict
        One per (detector, class, seed) with ``auc``, ``ap``, ``fit_s``,
        ``score_s``.
    artefacts : dict
        Scores and labels of the first seed per (detector, class), and the
        fitted GANomaly model and test split of the first class and seed,
        for the figures.
    """
    check_plan(y, classes=classes, seeds=seeds, detectors=detectors)
    ganomaly_params = dict(ganomaly_params or {})
    # An epoch bar under the run bar: one paper-config fit takes minutes on a CPU.
    ganomaly_params.setdefault("verbose", int(progress))
    runs = [(c, s, d) for c in classes for s in seeds for d in detectors]
    records, artefacts = [], {"scores": {}, "model": None}
    bar = tqdm(runs, desc="benchmark", unit="fit", disable=not progress, file=sys.stderr)
    for anomalous_class, seed, name in bar:
        bar.set_postfix(detector=name, cls=anomalous_class, seed=seed)
        X_train, X_test, y_test = one_class_split(X, y, anomalous_class, random_state=seed)
        model, scores, fit_s, score_s = _fit_and_score(
            name, X_train, X_test, seed, ganomaly_params
        )
        records.append(
            {
                "detector": name,
                "class": int(anomalous_class),
                "seed": int(seed),
                "auc": float(roc_auc_score(y_test, scores)),
                "ap": float(average_precision_score(y_test, scores)),
                "fit_s": fit_s,
                "score_s": score_s,
                "n_train": len(X_train),
                "n_test": len(X_test),
                "best_epoch": int(model.best_epoch_) if hasattr(model, "best_epoch_") else None,
            }
        )
        if seed == seeds[0]:
            artefacts["scores"][(name, int(anomalous_class))] = (y_test, scores)
            if name == "GANomaly" and artefacts["model"] is None:
                artefacts["model"] = (model, X_test, y_test, scores)
    return records, artefacts


def _summary(records, detectors, classes):
    """Per-detector rows: AUC mean and sd over seeds per class, and overall means."""
    rows = []
    for name in detectors:
        mine = [r for r in records if r["detector"] == name]
        per_class = {}
        for c in classes:
            aucs = [r["auc"] for r in mine if r["class"] == c]
            per_class[c] = (float(np.mean(aucs)), float(np.std(aucs)))
        rows.append(
            {
                "detector": name,
                "per_class": per_class,
                "mean_auc": float(np.mean([m for m, _ in per_class.values()])),
                "mean_ap": float(np.mean([r["ap"] for r in mine])),
                "fit_s": float(np.median([r["fit_s"] for r in mine])),
                "score_s": float(np.median([r["score_s"] for r in mine])),
            }
        )
    return rows


def format_table(rows, classes, paper=None):
    """Markdown table: AUC (mean ± sd over seeds) per class, means and timings."""
    header = ["detector", *[str(c) for c in classes], "mean AUC", "mean AP", "fit s", "score s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in row["per_class"].values()]
        lines.append(
            f"| {row['detector']} | "
            + " | ".join(cells)
            + f" | **{row['mean_auc']:.3f}** | {row['mean_ap']:.3f} | {row['fit_s']:.1f} | "
            f"{row['score_s']:.2f} |"
        )
    if paper is not None:
        values = [paper[c] for c in classes]
        lines.append(
            "| GANomaly, paper (full MNIST) | "
            + " | ".join(f"{v:.3f}" for v in values)
            + f" | {np.mean(values):.3f} | | | |"
        )
    return "\n".join(lines)


def describe_machine():
    """CPU model, core count, torch threads and platform, for the report."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux: keep platform's answer
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads{gpu}, {platform.platform()}"
    )


def write_report(out_dir, records, artefacts, *, command, config, figures=True):
    """Write ``report.md``, ``results.json`` and the figures into ``out_dir``.

    Everything is rendered first, into a hidden folder inside ``out_dir``,
    and then each file is renamed into place, ``report.md`` last: a failure
    leaves no truncated file, and an earlier report's files stay whole.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    classes, detectors = config["classes"], config["detectors"]
    rows = _summary(records, detectors, classes)
    paper = PAPER_MNIST if config["dataset"] == "mnist5k" else None
    table = format_table(rows, classes, paper)
    machine = describe_machine()
    results = json.dumps(
        {
            "command": command,
            "config": config,
            "machine": machine,
            "version": __version__,
            "records": records,
        },
        indent=2,
    )
    text = [
        "# GANomaly benchmark",
        "",
        f"Command: `{command}`",
        "",
        f"Data: {config['dataset']}, anomalous classes {classes}, seeds {config['seeds']}; "
        "ROC AUC (mean ± sd over seeds), abnormal = positive class; AP = average precision; "
        "fit/score seconds are medians.",
        "",
        f"Machine: {machine}; sklearn-ganomaly {__version__}",
        "",
        *([f"Wall time: {config['wall_s']:.0f} s", ""] if "wall_s" in config else []),
        table,
        "",
    ]
    staging = Path(tempfile.mkdtemp(prefix=".report.", suffix=".part", dir=out))
    try:
        if figures:
            text += _write_figures(staging, artefacts)
        for figure in sorted(staging.iterdir()):
            _move_into_place(figure, out / figure.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_bytes_atomic(out / "results.json", results.encode("utf-8"))
    write_bytes_atomic(out / "report.md", ("\n".join(text) + "\n").encode("utf-8"))
    return table


def _move_into_place(source, target):
    """Rename a finished file onto ``target``, flushed first (as ``atomic_path`` does)."""
    with open(source, "rb+") as file:
        os.fsync(file.fileno())
    os.replace(source, target)


def _write_figures(out, artefacts):
    written = []  # (file, caption)
    by_class = {}
    for (name, c), curve in artefacts["scores"].items():
        by_class.setdefault(c, {})[name] = curve
    for c, curves in sorted(by_class.items()):
        figure = plotting.plot_roc_curves(curves, title=f"ROC, class {c} anomalous")
        figure.savefig(out / f"roc_class{c}.png", dpi=100)
        written.append((f"roc_class{c}.png", f"ROC curves, class {c} anomalous, first seed"))
    if artefacts["model"] is not None:
        model, X_test, y_test, scores = artefacts["model"]
        # y_test is 1 for an anomaly: the figures name and colour the two
        # classes "normal" and "anomaly", as every figure of the package does.
        labels = (np.asarray(y_test) == 1).astype(int)
        figure = plotting.plot_score_histogram(scores, labels, label_convention="zero_one")
        figure.savefig(out / "ganomaly_scores.png", dpi=100)
        # Five normal and five anomalous test images drawn at random, not picked by score.
        rng = np.random.default_rng(0)
        groups_idx = [np.flatnonzero(labels == v) for v in (0, 1)]
        sample = np.concatenate([rng.choice(i, min(5, len(i)), replace=False) for i in groups_idx])
        figure = plotting.plot_extremes(
            model,
            X_test[sample],
            k=5,
            scores=scores[sample],
            labels=labels[sample],
            label_convention="zero_one",
        )
        figure.savefig(out / "ganomaly_reconstructions.png", dpi=100)
        figure = plotting.plot_extremes(
            model, X_test, k=5, scores=scores, labels=labels, label_convention="zero_one"
        )
        figure.savefig(out / "ganomaly_extremes.png", dpi=100)
        written += [
            ("ganomaly_scores.png", "GANomaly anomaly scores, normal and anomalous test images"),
            (
                "ganomaly_reconstructions.png",
                "input / reconstruction / residual of 5 random normal and 5 random anomalous "
                "test images, sorted by score",
            ),
            ("ganomaly_extremes.png", "the 5 most and 5 least anomalous test images"),
        ]
    lines = ["## Figures", "", "GANomaly figures: first class and seed.", ""]
    for name, caption in written:
        lines += [f"{caption}:", "", f"![{caption}]({name})", ""]
    return lines


#: Most items a ``--classes`` or ``--seeds`` list may hold: a range is
#: checked against it before it is built.
MAX_LIST_ITEMS = 1000


def _int_list(low, high):
    """An argparse type: ``'2'``, ``'0,1,2'`` or ``'0-9'``, integers from ``low`` to ``high``."""

    def parse(text):
        values = []
        for part in text.split(","):
            first, dash, last = part.strip().partition("-")
            try:
                start = int(first)
                stop = int(last) if dash else start
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected integers or ranges like 0-9, separated by commas, got {text!r}"
                ) from None
            if stop < start:
                raise argparse.ArgumentTypeError(f"the range {part!r} is empty in {text!r}")
            if not low <= start <= stop <= high:
                raise argparse.ArgumentTypeError(
                    f"expected values from {low} to {high}, got {text!r}"
                )
            if len(values) + stop - start + 1 > MAX_LIST_ITEMS:
                raise argparse.ArgumentTypeError(
                    f"{text!r} lists more than {MAX_LIST_ITEMS} values"
                )
            values += range(start, stop + 1)
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise argparse.ArgumentTypeError(
                f"{', '.join(map(str, repeated))} listed more than once in {text!r}"
            )
        return values

    return parse


def _configure(parser):
    parser.add_argument(
        "--quick",
        action="store_true",
        help="main-job preset: MNIST-5k, digit 2, seed 0, GANomaly + LOF + KNN + "
        "IForest + AutoEncoder, GANomaly with its defaults (about 3 minutes on 2 cores)",
    )
    parser.add_argument(
        "--dataset",
        choices=["mnist5k", "digits"],
        default="mnist5k",
        help="embedded data set: mnist5k (5,000 MNIST digits, 28x28) or digits "
        "(scikit-learn's 8x8 digits) (default mnist5k)",
    )
    parser.add_argument(
        "--classes",
        type=_int_list(0, 2**31 - 1),
        default=None,
        help="anomalous classes, e.g. '2', '0,3' or '0-9'; each must be in the data set "
        "(default 0-9; --quick: 2)",
    )
    parser.add_argument(
        "--seeds",
        type=_int_list(0, 2**32 - 1),
        default=None,
        help="seeds of the splits and fits, e.g. '0,1,2' or '0-4' (default 0,1,2; --quick: 0)",
    )
    parser.add_argument(
        "--detectors",
        default=None,
        help="comma-separated: GANomaly (the defaults), GANomaly-paper (PAPER_CONFIG) "
        f"and PyOD names ({', '.join(PYOD_DETECTORS)}), or 'all' (default GANomaly and "
        f"the first seven PyOD names; --quick: {','.join(QUICK['detectors'])})",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int_or_auto,
        default=None,
        help="GANomaly n_epochs, an int or 'auto' (default: the detector's default)",
    )
    parser.add_argument(
        "--learning-rate",
        type=checked(float, lambda v: 0 < v < float("inf"), "a positive number"),
        default=None,
        help="GANomaly Adam learning rate (default: the detector's default, 2e-4)",
    )
    parser.add_argument(
        "--score-method",
        choices=("auto", *SCORE_METHODS),
        default=None,
        help="GANomaly score_method",
    )
    parser.add_argument(
        "--width", type=bounded_int(1), default=None, help="GANomaly network width"
    )
    parser.add_argument(
        "--latent-dim", type=bounded_int(1), default=None, help="GANomaly latent size"
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="device GANomaly trains on: cpu, cuda, cuda:1, mps or auto, the first "
        "available of cuda, mps and cpu (default auto)",
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "bf16", "fp32"],
        default=None,
        help="GANomaly training precision (default: the detector's 'auto')",
    )
    parser.add_argument(
        "--out",
        default="reports/benchmark",
        help="report folder: report.md, results.json and figures (default reports/benchmark)",
    )
    parser.add_argument("--no-figures", action="store_true", help="write no figures")
    parser.set_defaults(handler=run_from_args, parameter_flags=BENCHMARK_FLAGS)


#: Command-line options that set GANomalyDetector parameters of the same name.
_GANOMALY_OPTIONS = (
    "n_epochs",
    "learning_rate",
    "score_method",
    "width",
    "latent_dim",
    "precision",
)

#: The parameters messages name, as the command's flags (the command line
#: shows warnings in these words).
BENCHMARK_FLAGS = {
    "n_epochs": "--epochs",
    "learning_rate": "--learning-rate",
    "score_method": "--score-method",
    "width": "--width",
    "latent_dim": "--latent-dim",
    "precision": "--precision",
    "device": "--device",
    "random_state": "--seeds",
}


def _check_before_fitting(config, params, out, figures):
    """Refuse, before any data is loaded or model fitted, what would fail later."""
    _check_detectors(config["detectors"])
    for name in set(config["detectors"]) & set(PYOD_DETECTORS):
        try:
            _pyod(name, 0, 1)  # imports its module: pyod and what the detector needs
        except ImportError as error:
            raise ValueError(
                f"Detector {name} needs PyOD ({error}): pip install 'sklearn-ganomaly[pyod]'"
            ) from None
    check_device(params["device"], name="--device")
    validate_params(GANomalyDetector(**params))
    if figures:
        plotting.require_matplotlib()  # an ImportError naming the 'plot' extra
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(20, "is a file, not a folder", str(out))
    out.mkdir(parents=True, exist_ok=True)
    for name in ("report.md", "results.json"):
        check_writable(out / name)


def run_from_args(args):
    config = dict(
        dataset=args.dataset,
        classes=list(range(10)),
        seeds=[0, 1, 2],
        detectors=["GANomaly", *PYOD_DETECTORS[:7]],
    )
    if args.quick:
        config.update(QUICK)
    if args.classes is not None:
        config["classes"] = args.classes
    if args.seeds is not None:
        config["seeds"] = args.seeds
    if args.detectors:
        config["detectors"] = (
            ["GANomaly", *PYOD_DETECTORS]
            if args.detectors == "all"
            else [name.strip() for name in args.detectors.split(",")]
        )
    args.n_epochs = args.epochs
    for name in _GANOMALY_OPTIONS:
        if getattr(args, name) is not None:
            config[name] = getattr(args, name)
    params = {name: config[name] for name in _GANOMALY_OPTIONS if name in config}
    params["device"] = args.device
    _check_before_fitting(config, params, args.out, not args.no_figures)
    X, y = load_dataset(config["dataset"])
    check_plan(y, classes=config["classes"], seeds=config["seeds"], detectors=config["detectors"])
    start = time.perf_counter()
    records, artefacts = run_benchmark(
        X,
        y,
        classes=config["classes"],
        seeds=config["seeds"],
        detectors=config["detectors"],
        ganomaly_params=params,
    )
    config["wall_s"] = time.perf_counter() - start
    command = "sklearn-ganomaly benchmark " + " ".join(
        sys.argv[2:] if sys.argv[1:2] == ["benchmark"] else sys.argv[1:]
    )
    # The command line reports what was written when a run stops.
    written = getattr(args, "written", [])
    started = time.time()
    try:
        table = write_report(
            args.out,
            records,
            artefacts,
            command=command.strip(),
            config=config,
            figures=not args.no_figures,
        )
    except BaseException:
        if any(f.stat().st_mtime >= started for f in Path(args.out).iterdir() if f.is_file()):
            written.append(f"part of the report in {args.out}")
        raise
    written.append(f"the report in {args.out}")
    sys.stdout.write(
        f"{table}\n\nwall time {config['wall_s']:.0f} s; report in "
        f"{Path(args.out).resolve()}/report.md\n"
    )
    return 0


def add_subcommand(subparsers):
    """Register ``benchmark`` on an argparse sub-parsers object."""
    parser = subparsers.add_parser(
        "benchmark",
        help="paper-protocol benchmark against PyOD detectors",
        description=__doc__.split("\n\n")[0],
    )
    _configure(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_ganomaly.benchmark", description=__doc__.split("\n\n")[0]
    )
    _configure(parser)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
