"""Loaders read the real on-disk formats; the split follows the paper."""

import gzip
import pickle
import struct

import numpy as np
import pytest

from sklearn_ganomaly.datasets import (
    load_cifar10,
    load_digits_images,
    load_mnist5k,
    load_mnist_idx,
    one_class_split,
)


def _write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("kind, prefix", [("train", "train"), ("test", "t10k")])
def test_mnist_idx_round_trip(tmp_path, compress, kind, prefix):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7).astype(np.uint8)
    _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", images, compress)
    _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", labels, compress)
    X, y = load_mnist_idx(tmp_path, kind=kind)
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)


def test_mnist_idx_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images"):
        load_mnist_idx(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"not an idx file")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(ValueError, match="not an IDX"):
        load_mnist_idx(tmp_path)
    path = _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 4, 4)), False)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="truncated"):
        load_mnist_idx(tmp_path)


def _write_cifar_batch(path, images, labels):
    data = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    with open(path, "wb") as f:
        pickle.dump({b"data": data, b"labels": list(labels), b"batch_label": b"x"}, f)


def test_cifar10_batches(tmp_path):
    rng = np.random.default_rng(0)
    all_images, all_labels = [], []
    for i in range(1, 6):
        images = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=3)
        _write_cifar_batch(tmp_path / f"data_batch_{i}", images, labels)
        all_images.append(images)
        all_labels.append(labels)
    test_images = rng.integers(0, 256, size=(2, 32, 32, 3), dtype=np.uint8)
    _write_cifar_batch(tmp_path / "test_batch", test_images, [4, 5])
    X, y = load_cifar10(tmp_path)
    np.testing.assert_array_equal(X, np.concatenate(all_images))
    np.testing.assert_array_equal(y, np.concatenate(all_labels))
    X, y = load_cifar10(tmp_path, kind="test")
    np.testing.assert_array_equal(X, test_images)
    assert list(y) == [4, 5]


def test_cifar10_missing_batch(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        load_cifar10(tmp_path)


def test_mnist5k_paper_split_sizes():
    X, y = load_mnist5k()
    assert X.shape == (5000, 28, 28) and np.bincount(y).tolist() == [500] * 10
    X_train, X_test, y_test = one_class_split(X, y, 2, random_state=0)
    assert len(X_train) == 3600
    assert (y_test == 0).sum() == 900 and (y_test == 1).sum() == 500
    # All anomalies are in the test set, and no training image is a 2.
    train_rows = {x.tobytes() for x in X_train}
    assert not any(x.tobytes() in train_rows for x in X[y == 2])


def test_split_is_seeded():
    y = np.repeat(np.arange(3), 10)
    X = np.arange(30)
    first = one_class_split(X, y, 0, random_state=1)
    second = one_class_split(X, y, 0, random_state=1)
    other = one_class_split(X, y, 0, random_state=2)
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], other[0])


def test_split_errors():
    y = np.repeat(np.arange(3), 10)
    with pytest.raises(ValueError, match="No sample"):
        one_class_split(y, y, 7)
    with pytest.raises(ValueError, match="train_fraction"):
        one_class_split(y, y, 0, train_fraction=1.0)


def test_digits_images():
    X, y = load_digits_images()
    assert X.shape == (1797, 8, 8) and len(y) == 1797


# ------------------------------------------------------------- ADBench tables
def test_adbench_tables_are_read_and_checked(tmp_path):
    from sklearn_ganomaly.datasets import list_adbench_tables, load_adbench_table

    X, y = np.arange(12.0).reshape(6, 2), np.array([0, 0, 0, 0, 1, 1])
    np.savez(tmp_path / "3_ok.npz", X=X, y=y)
    np.savez(tmp_path / "10_no_y.npz", X=X)
    np.savez(tmp_path / "11_labels.npz", X=X, y=y * 2)
    np.savez(tmp_path / "12_nan.npz", X=np.where(X > 10, np.nan, X), y=y)
    np.savez(tmp_path / "13_short.npz", X=X, y=y[:3])
    assert list_adbench_tables(tmp_path) == ["3_ok", "10_no_y", "11_labels", "12_nan", "13_short"]
    X_read, y_read = load_adbench_table(tmp_path, "3_ok")
    assert X_read.dtype == np.float64 and y_read.tolist() == y.tolist()
    for name, message in [
        ("10_no_y", "lacks"),
        ("11_labels", "0 \\(normal\\) and 1"),
        ("12_nan", "NaN"),
        ("13_short", "one label a row"),
    ]:
        with pytest.raises(ValueError, match=message):
            load_adbench_table(tmp_path, name)
    with pytest.raises(FileNotFoundError, match="9_none"):
        load_adbench_table(tmp_path, "9_none")
    with pytest.raises(FileNotFoundError):
        list_adbench_tables(tmp_path / "missing")
