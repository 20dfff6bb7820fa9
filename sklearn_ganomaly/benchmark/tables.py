"""``python -m sklearn_ganomaly.benchmark.tables``: the table benchmark."""

from ._command import main_tables

if __name__ == "__main__":
    raise SystemExit(main_tables())
