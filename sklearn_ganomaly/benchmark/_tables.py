"""The table benchmark: ADBench's tables, GANomaly beside the detectors PyOD users compare.

For every table and seed, :func:`~sklearn_ganomaly.datasets.semi_supervised_split`
keeps 70% of the normal rows (at most 5,000) for training and tests on the
other normal rows (at most 2,000) and the anomalies (at most 1,000); every
detector sees the same rows, standardised with the training rows'
statistics. The detectors: GANomaly, scikit-learn's LOF (20 neighbours), KNN
(the distance to the 5th neighbour), IsolationForest and OneClassSVM, and
PyOD's AutoEncoder and DeepSVDD. Every finished (table, seed, detector)
record is appended at once to ``records.jsonl`` in the report folder, so an
interrupted run keeps what finished and a rerun with the same folder picks
up where it stopped.
"""

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.svm import OneClassSVM
from tqdm.auto import tqdm

from .. import GANomalyDetector
from ..datasets import (
    list_adbench_tables,
    load_adbench_table,
    semi_supervised_split,
    table_number,
)
from ._common import listed, make_pyod_detector, seeded_globals

__all__ = [
    "TABLE_DETECTORS",
    "check_table_plan",
    "read_records",
    "run_table_benchmark",
    "select_tables",
    "summarise_tables",
]

#: Every name the table benchmark's ``--detectors`` takes.
TABLE_DETECTORS = ("GANomaly", "LOF", "KNN", "IForest", "OCSVM", "AutoEncoder", "DeepSVDD")


class _KNN:
    """KNN as PyOD's default: the distance to the 5th nearest training row."""

    def fit(self, X):
        self.index_ = NearestNeighbors(n_neighbors=5).fit(X)
        return self

    def anomaly_score(self, X):
        return self.index_.kneighbors(X)[0][:, -1]


class _Negated:
    """A scikit-learn outlier detector with scores turned to PyOD's direction."""

    def __init__(self, model):
        self.model = model

    def fit(self, X):
        self.model.fit(X)
        return self

    def anomaly_score(self, X):
        return -self.model.score_samples(X)


class _PyOD:
    """A PyOD detector, fitted and scored with the global generators seeded."""

    def __init__(self, name, seed, n_features):
        self.model = make_pyod_detector(name, seed, n_features)
        self.seed = seed

    def fit(self, X):
        with seeded_globals(self.seed):
            self.model.fit(X)
        return self

    def anomaly_score(self, X):
        with seeded_globals(self.seed):
            return self.model.decision_function(X)


def _detector(name, seed, n_features, ganomaly_params):
    if name == "GANomaly":
        return _GANomaly(GANomalyDetector(random_state=seed, **ganomaly_params))
    if name == "KNN":
        return _KNN()
    if name == "LOF":
        return _Negated(LocalOutlierFactor(n_neighbors=20, novelty=True))
    if name == "IForest":
        return _Negated(IsolationForest(random_state=seed))
    if name == "OCSVM":
        return _Negated(OneClassSVM())
    return _PyOD(name, seed, n_features)


class _GANomaly:
    def __init__(self, model):
        self.model = model

    def fit(self, X):
        self.model.fit(X)
        return self

    def anomaly_score(self, X):
        return self.model.anomaly_score(X)


def select_tables(folder, which):
    """Table names in ``folder``: ``'all'``, ``'odd'``, ``'even'``, or names joined by commas.

    ADBench's odd-numbered tables are the development half of the package's
    studies and the even-numbered ones the half it reports on.
    """
    names = list_adbench_tables(folder)
    if which == "all":
        chosen = names
    elif which in ("odd", "even"):
        chosen = [n for n in names if table_number(n) % 2 == (which == "odd")]
    else:
        chosen = [name.strip() for name in which.split(",")]
        unknown = [name for name in chosen if name not in names]
        if unknown:
            raise ValueError(
                f"No table {', '.join(unknown)} in {folder}; it holds {', '.join(names)}."
            )
    return listed(chosen, "tables")


def check_table_plan(tables, seeds, detectors):
    """Raise a ValueError, before any fit, for a run that cannot give a full report."""
    listed(tables, "tables")
    for seed in listed(seeds, "seeds"):
        if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
            raise ValueError(f"Seed {seed!r} is not an integer from 0 to 2**32 - 1.")
    for name in listed(detectors, "detectors"):
        if name not in TABLE_DETECTORS:
            raise ValueError(
                f"Unknown detector {name!r}; choose from {', '.join(TABLE_DETECTORS)}"
            )


def read_records(path):
    """The records of a ``records.jsonl`` (none if it is missing); a torn line is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            records.append(json.loads(line))
    return records


def _append(path, record):
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record) + "\n")
        file.flush()
        os.fsync(file.fileno())


def _standardised(X_train, X_test):
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_test - mean) / std


def _one_run(name, seed, X_train, X_test, y_test, ganomaly_params):
    model = _detector(name, seed, X_train.shape[1], ganomaly_params)
    start = time.perf_counter()
    model.fit(X_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = np.asarray(model.anomaly_score(X_test), dtype=float)
    score_s = time.perf_counter() - start
    # A score that cannot be computed is never reported as normal.
    scores = np.where(np.isfinite(scores), scores, np.finfo(float).max)
    return {
        "auc": float(roc_auc_score(y_test, scores)),
        "ap": float(average_precision_score(y_test, scores)),
        "fit_s": fit_s,
        "score_s": score_s,
    }


def run_table_benchmark(
    folder,
    tables,
    seeds,
    detectors,
    *,
    ganomaly_params=None,
    records_path=None,
    progress=True,
):
    """Fit and score every detector on every (table, seed) split.

    Parameters
    ----------
    folder : path-like
        The folder of ADBench ``.npz`` tables.
    tables, seeds, detectors : list
        What to run.
    ganomaly_params : dict or None
        ``GANomalyDetector`` parameters (its defaults otherwise).
    records_path : path-like or None
        A ``records.jsonl`` file: records already there are kept and not
        run again, and each new one is appended as soon as it exists.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    records : list of dict
        One per (table, seed, detector): ``auc``, ``ap``, ``fit_s``,
        ``score_s`` and the split's sizes.
    """
    check_table_plan(tables, seeds, detectors)
    params = dict(ganomaly_params or {})
    records = read_records(records_path) if records_path else []
    done = {(r["table"], r["seed"], r["detector"]) for r in records}
    todo = [(t, s, d) for t in tables for s in seeds for d in detectors if (t, s, d) not in done]
    bar = tqdm(total=len(todo), desc="tables", unit="fit", disable=not progress, file=sys.stderr)
    for table in tables:
        runs = [(s, d) for t, s, d in todo if t == table]
        if not runs:
            continue
        X, y = load_adbench_table(folder, table)
        for seed in sorted({s for s, _ in runs}):
            X_train, X_test, y_test = semi_supervised_split(X, y, random_state=seed)
            X_train, X_test = _standardised(X_train, X_test)
            for _, name in [(s, d) for s, d in runs if s == seed]:
                bar.set_postfix(table=table, seed=seed, detector=name)
                record = {
                    "table": table,
                    "seed": int(seed),
                    "detector": name,
                    "n_train": len(X_train),
                    "n_test": len(X_test),
                    "n_features": int(X.shape[1]),
                    **_one_run(name, seed, X_train, X_test, y_test, params),
                }
                records.append(record)
                if records_path:
                    _append(records_path, record)
                bar.update(1)
    bar.close()
    wanted = set(tables), set(seeds), set(detectors)
    return [
        r
        for r in records
        if r["table"] in wanted[0] and r["seed"] in wanted[1] and r["detector"] in wanted[2]
    ]


def summarise_tables(records, detectors, tables):
    """Per-table mean AUCs, and per detector the mean AUC, mean rank and wins.

    Returns
    -------
    summary : dict
        ``per_table[table][detector]``: AUC averaged over seeds;
        ``mean_auc``, ``mean_ap``, ``mean_rank`` (1 is best; ties share the
        mean of their ranks), ``fit_s`` (median) per detector;
        ``best_baseline[table]``: the best AUC among the other detectors than
        GANomaly; ``ganomaly_beats_lof_and_knn``: tables where GANomaly is at
        or above the better of LOF and KNN.
    """
    per_table = {
        t: {
            d: float(
                np.mean([r["auc"] for r in records if r["table"] == t and r["detector"] == d])
            )
            for d in detectors
        }
        for t in tables
    }
    ranks = {d: [] for d in detectors}
    for aucs in per_table.values():
        values = np.array([aucs[d] for d in detectors])
        for d, value in zip(detectors, values, strict=True):
            above, tied = np.sum(values > value), np.sum(values == value)
            ranks[d].append(above + (tied + 1) / 2)
    summary = {
        "per_table": per_table,
        "mean_auc": {d: float(np.mean([per_table[t][d] for t in tables])) for d in detectors},
        "mean_ap": {
            d: float(np.mean([r["ap"] for r in records if r["detector"] == d])) for d in detectors
        },
        "mean_rank": {d: float(np.mean(ranks[d])) for d in detectors},
        "fit_s": {
            d: float(np.median([r["fit_s"] for r in records if r["detector"] == d]))
            for d in detectors
        },
    }
    others = [d for d in detectors if d != "GANomaly"]
    if "GANomaly" in detectors and others:
        summary["best_baseline"] = {t: max(per_table[t][d] for d in others) for t in tables}
        pair = [d for d in ("LOF", "KNN") if d in detectors]
        if pair:
            summary["ganomaly_beats_lof_and_knn"] = [
                t for t in tables if per_table[t]["GANomaly"] >= max(per_table[t][d] for d in pair)
            ]
    return summary
