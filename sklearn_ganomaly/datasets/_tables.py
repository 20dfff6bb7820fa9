"""Tables for anomaly-detection benchmarks: ADBench's ``.npz`` files and their split.

ADBench (Han et al., "ADBench: Anomaly Detection Benchmark", NeurIPS 2022)
ships its classical tables as one ``.npz`` file each, named ``<number>_<name>.npz``
and holding ``X`` (rows of features) and ``y`` (1 = anomaly, 0 = normal).
Nothing here downloads: get the files once, for example with ``git clone
https://github.com/Minqi824/ADBench`` (folder ``adbench/datasets/Classical/``),
and point :func:`list_adbench_tables` and :func:`load_adbench_table` at the
folder.

:func:`semi_supervised_split` is the protocol of the package's table
benchmark: a detector trains on normal rows only and is tested on held-out
normal rows and the anomalies.
"""

import re
from os import PathLike
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

__all__ = [
    "list_adbench_tables",
    "load_adbench_table",
    "semi_supervised_split",
    "table_number",
]

_TABLE_NAME = re.compile(r"^(\d+)_(.+)\.npz$")


def list_adbench_tables(folder: str | PathLike[str]) -> list[str]:
    """Names of the ADBench tables in ``folder``, in ADBench's numeric order.

    Parameters
    ----------
    folder : str or path-like
        A folder of ``<number>_<name>.npz`` files.

    Returns
    -------
    names : list of str
        File names without ``.npz`` (``'1_ALOI'``, ``'2_annthyroid'``, ...).

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder of ADBench tables at {folder}")
    found = [(m, p) for p in folder.iterdir() if p.is_file() and (m := _TABLE_NAME.match(p.name))]
    return [p.stem for m, p in sorted(found, key=lambda item: int(item[0].group(1)))]


def table_number(name: str) -> int:
    """ADBench's number of a table name (``'33_skin'`` -> 33)."""
    match = _TABLE_NAME.match(f"{name}.npz")
    if match is None:
        raise ValueError(f"{name!r} is not an ADBench table name such as '33_skin'")
    return int(match.group(1))


def load_adbench_table(folder: str | PathLike[str], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Read one ADBench table: ``X`` as float64 and ``y`` as 0/1 integers.

    Parameters
    ----------
    folder : str or path-like
        The folder of ``.npz`` files.
    name : str
        The table's file name without ``.npz`` (``'33_skin'``).

    Returns
    -------
    X : ndarray of shape (n_rows, n_features), float64
    y : ndarray of shape (n_rows,), int
        1 for anomalies, 0 for normal rows.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If the file lacks ``X`` or ``y``, they disagree in length, ``X`` is
        not a 2-D table of finite numbers, or ``y`` holds labels other than
        0 and 1.
    """
    path = Path(folder) / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"No ADBench table {name!r}: {path} does not exist")
    # allow_pickle=False: a data file never runs code.
    with np.load(path, allow_pickle=False) as data:
        missing = {"X", "y"} - set(data.files)
        if missing:
            raise ValueError(f"{path} lacks the array(s) {sorted(missing)}")
        X, y = data["X"], data["y"]
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(
            f"{path}: X must be a 2-D table with one label a row in y; got X of shape "
            f"{X.shape} and y of shape {y.shape}"
        )
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"{path}: X holds NaN or infinite values")
    labels = set(np.unique(y).tolist())
    if not labels <= {0, 1}:
        raise ValueError(f"{path}: y must hold 0 (normal) and 1 (anomaly), got {sorted(labels)}")
    return X, y.astype(int)


def semi_supervised_split(
    X: ArrayLike,
    y: ArrayLike,
    *,
    train_fraction: float = 0.7,
    max_train: int = 5000,
    max_test_normal: int = 2000,
    max_test_anomalies: int = 1000,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normal rows to train on; held-out normal rows and anomalies to test on.

    The normal rows are shuffled with ``random_state``; the first
    ``train_fraction`` of them (at most ``max_train``) train, the next ones
    (at most ``max_test_normal``) are the test set's normal rows. At most
    ``max_test_anomalies`` anomalies, drawn with the same generator, join
    them. No anomaly is ever in the training rows.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
    y : array-like of shape (n_rows,)
        1 for anomalies, 0 for normal rows.
    train_fraction : float in (0, 1), default=0.7
        Share of the normal rows that train.
    max_train, max_test_normal, max_test_anomalies : int
        Caps on the training rows, the test set's normal rows and its anomalies.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle.

    Returns
    -------
    X_train : ndarray
        Normal training rows.
    X_test : ndarray
        Normal test rows followed by the anomalies.
    y_test : ndarray of shape (n_test,), dtype int
        1 for anomalies, 0 for normal rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganomaly.datasets import semi_supervised_split
    >>> y = np.r_[np.zeros(100, int), np.ones(10, int)]
    >>> X_train, X_test, y_test = semi_supervised_split(y[:, None], y, random_state=0)
    >>> len(X_train), len(X_test), int(y_test.sum())
    (70, 40, 10)
    """
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    X, y = np.asarray(X), np.asarray(y)
    rng = check_random_state(random_state)
    normal = np.flatnonzero(y == 0)
    anomalies = np.flatnonzero(y == 1)
    if len(normal) < 4 or len(anomalies) == 0:
        raise ValueError(
            f"The split needs at least 4 normal rows and 1 anomaly; got {len(normal)} "
            f"and {len(anomalies)}"
        )
    normal = normal[rng.permutation(len(normal))]
    n_train = min(int(round(train_fraction * len(normal))), max_train)
    test_normal = normal[n_train : n_train + max_test_normal]
    test_anomalies = np.sort(rng.permutation(anomalies)[:max_test_anomalies])
    test = np.concatenate([test_normal, test_anomalies])
    y_test = np.r_[np.zeros(len(test_normal), int), np.ones(len(test_anomalies), int)]
    return X[normal[:n_train]], X[test], y_test
