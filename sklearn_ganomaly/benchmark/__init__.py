"""Benchmarks: GANomaly beside the detectors PyOD users compare, with no test-label peeking.

Two protocols, each a subcommand of ``sklearn-ganomaly`` and a function:

- images (``benchmark``, :func:`run_benchmark`): the GANomaly paper's
  protocol on MNIST-5k or scikit-learn's digits, one class the anomaly;
- tables (``benchmark-tables``, :func:`run_table_benchmark`): ADBench's
  classical tables read from a folder, the semi-supervised protocol.

    sklearn-ganomaly benchmark --quick           # the README's main job
    sklearn-ganomaly benchmark --classes 0-9 --seeds 0,1,2 --detectors all
    sklearn-ganomaly benchmark-tables ~/ADBench/adbench/datasets/Classical
    python -m sklearn_ganomaly.benchmark --help
"""

from ._command import add_subcommand, add_tables_subcommand, main, main_tables
from ._common import (
    PYOD_DETECTORS,
    describe_machine,
    int_list,
    make_pyod_detector,
    seeded_globals,
)
from ._images import (
    DETECTORS,
    PAPER_MNIST,
    QUICK,
    check_plan,
    format_table,
    load_dataset,
    run_benchmark,
    summarise_records,
    write_report,
)
from ._table_report import write_table_report
from ._tables import TABLE_DETECTORS, run_table_benchmark, select_tables, summarise_tables

__all__ = [
    "DETECTORS",
    "PAPER_MNIST",
    "PYOD_DETECTORS",
    "QUICK",
    "TABLE_DETECTORS",
    "add_subcommand",
    "add_tables_subcommand",
    "check_plan",
    "describe_machine",
    "format_table",
    "int_list",
    "load_dataset",
    "main",
    "main_tables",
    "make_pyod_detector",
    "run_benchmark",
    "run_table_benchmark",
    "seeded_globals",
    "select_tables",
    "summarise_records",
    "summarise_tables",
    "write_report",
    "write_table_report",
]
