"""The ``benchmark`` and ``benchmark-tables`` subcommands: options, checks, reports.

Everything a run needs is checked before the first fit (the detectors and
their extras, GANomaly's options, the device, the data, the report folder),
so a mistake costs seconds, not the hours of a long run.
"""

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .. import GANomalyDetector, plotting
from .._argtypes import bounded_int, checked, positive_int_or_auto
from .._compat import validate_params
from .._device import check_device
from .._files import check_writable
from .._scores import SCORE_METHODS
from ._common import PYOD_DETECTORS, int_list, make_pyod_detector
from ._images import QUICK, check_detectors, check_plan, load_dataset, run_benchmark, write_report
from ._table_report import write_table_report
from ._tables import TABLE_DETECTORS, check_table_plan, run_table_benchmark, select_tables

__all__ = ["add_subcommand", "add_tables_subcommand", "main", "main_tables"]

DESCRIPTION = "Paper-protocol benchmark: GANomaly against PyOD detectors on the same splits."
TABLES_DESCRIPTION = (
    "Table benchmark: GANomaly beside LOF, KNN, IsolationForest, OneClassSVM, and PyOD's "
    "AutoEncoder and DeepSVDD, on ADBench's tables read from a folder."
)


def _add_ganomaly_options(parser):
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
        help="GANomaly Adam learning rate (default: the detector's default, 'auto')",
    )
    parser.add_argument(
        "--score-method",
        choices=("auto", *SCORE_METHODS),
        default=None,
        help="GANomaly score_method",
    )
    parser.add_argument(
        "--width",
        type=positive_int_or_auto,
        default=None,
        help="GANomaly network width, an int or 'auto' (default: the detector's default)",
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


def _configure(parser):
    parser.add_argument(
        "--quick",
        action="store_true",
        help="main-job preset: MNIST-5k, digit 2, seed 0, GANomaly + LOF + KNN + "
        "IForest + AutoEncoder, GANomaly with its defaults (about 30 seconds on 2 cores)",
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
        type=int_list(0, 2**31 - 1),
        default=None,
        help="anomalous classes, e.g. '2', '0,3' or '0-9'; each must be in the data set "
        "(default 0-9; --quick: 2)",
    )
    parser.add_argument(
        "--seeds",
        type=int_list(0, 2**32 - 1),
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
    _add_ganomaly_options(parser)
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


def _check_before_fitting(pyod_names, params, out, figures):
    """Refuse, before any data is loaded or model fitted, what would fail later."""
    for name in pyod_names:
        try:
            make_pyod_detector(name, 0, 1)  # imports its module: pyod and what the detector needs
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
    check_detectors(config["detectors"])
    pyod_names = sorted(set(config["detectors"]) & set(PYOD_DETECTORS))
    _check_before_fitting(pyod_names, params, args.out, not args.no_figures)
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
        description=DESCRIPTION,
    )
    _configure(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_ganomaly.benchmark", description=DESCRIPTION
    )
    _configure(parser)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args.handler(args)


# ------------------------------------------------------------------ tables
def _configure_tables(parser):
    parser.add_argument(
        "folder",
        help="folder of ADBench's classical tables, one <number>_<name>.npz a table holding "
        "X and y (1 = anomaly), as in ADBench's adbench/datasets/Classical/; nothing is "
        "downloaded",
    )
    parser.add_argument(
        "--tables",
        default="all",
        help="which tables: all, odd (ADBench's odd numbers), even, or names joined by "
        "commas, e.g. 4_breastw,38_thyroid (default all)",
    )
    parser.add_argument(
        "--seeds",
        type=int_list(0, 2**32 - 1),
        default=[0, 1, 2],
        help="seeds of the splits and fits, e.g. '0,1,2' or '0-4' (default 0,1,2)",
    )
    parser.add_argument(
        "--detectors",
        default=",".join(TABLE_DETECTORS),
        help=f"comma-separated, from {', '.join(TABLE_DETECTORS)} (default all of them)",
    )
    _add_ganomaly_options(parser)
    parser.add_argument(
        "--out",
        default="reports/tables",
        help="report folder: report.md, results.json, tables.png and records.jsonl, the "
        "records of finished fits, which a rerun with the same folder keeps and goes on "
        "from (default reports/tables)",
    )
    parser.add_argument("--no-figures", action="store_true", help="write no figure")
    parser.add_argument("--quiet", action="store_true", help="show no progress bar")
    parser.set_defaults(handler=run_tables_from_args, parameter_flags=BENCHMARK_FLAGS)


def _ganomaly_params(args):
    args.n_epochs = args.epochs
    params = {n: getattr(args, n) for n in _GANOMALY_OPTIONS if getattr(args, n) is not None}
    params["device"] = args.device
    return params


def run_tables_from_args(args):
    tables = select_tables(args.folder, args.tables)
    detectors = [name.strip() for name in args.detectors.split(",")]
    check_table_plan(tables, args.seeds, detectors)
    params = _ganomaly_params(args)
    config = {
        "folder": str(args.folder),
        "tables": tables,
        "seeds": args.seeds,
        "detectors": detectors,
        "ganomaly_params": {k: v for k, v in params.items() if k != "device"},
    }
    pyod_names = [d for d in detectors if d in ("AutoEncoder", "DeepSVDD")]
    _check_before_fitting(pyod_names, params, args.out, not args.no_figures)
    out = Path(args.out)
    start = time.perf_counter()
    records = run_table_benchmark(
        args.folder,
        tables,
        args.seeds,
        detectors,
        ganomaly_params=params,
        records_path=out / "records.jsonl",
        progress=not args.quiet,
    )
    getattr(args, "written", []).append(f"the records of finished fits in {out}/records.jsonl")
    config["wall_s"] = time.perf_counter() - start
    table = write_table_report(
        out, records, config=config, command=_command_line(args), figures=not args.no_figures
    )
    getattr(args, "written", []).append(f"the report in {out}")
    sys.stdout.write(f"{table}\n\nreport in {out.resolve()}/report.md\n")
    return 0


def _command_line(args):
    # The same command whether it came through ``sklearn-ganomaly
    # benchmark-tables`` or ``python -m sklearn_ganomaly.benchmark.tables``.
    words = list(getattr(args, "argv", sys.argv[1:]))
    if words[:1] == ["benchmark-tables"]:
        words = words[1:]
    return "sklearn-ganomaly benchmark-tables " + " ".join(words)


def add_tables_subcommand(subparsers):
    """Register ``benchmark-tables`` on an argparse sub-parsers object."""
    parser = subparsers.add_parser(
        "benchmark-tables",
        help="ADBench tables: GANomaly beside LOF, KNN, IForest, OCSVM, AutoEncoder, DeepSVDD",
        description=TABLES_DESCRIPTION,
    )
    _configure_tables(parser)
    return parser


def main_tables(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_ganomaly.benchmark.tables", description=TABLES_DESCRIPTION
    )
    _configure_tables(parser)
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args.handler(args)
