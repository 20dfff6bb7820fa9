"""load_image_folder: recursive, stable order, formats, modes, sizes, bad files."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sklearn_ganomaly.datasets import load_image_folder


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def folder(tmp_path):
    gray = np.arange(12 * 10, dtype=np.uint8).reshape(12, 10)
    _save(tmp_path / "b.png", gray)
    _save(tmp_path / "a.JPG", np.stack([gray] * 3, axis=-1))
    _save(tmp_path / "sub" / "deeper" / "c.bmp", gray)
    _save(tmp_path / "sub" / "d.tiff", gray)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


@pytest.mark.parametrize(
    "mode, size, shape",
    [
        ("L", 8, (4, 8, 8)),
        ("L", (6, 9), (4, 6, 9)),
        ("RGB", 8, (4, 8, 8, 3)),
        ("L", None, (4, 12, 10)),
    ],
)
def test_shapes_modes_and_sizes(folder, mode, size, shape):
    images, paths = load_image_folder(folder, size=size, mode=mode)
    assert images.shape == shape
    assert images.dtype == np.uint8
    assert len(paths) == shape[0]


def test_recursive_sorted_stable_order_and_only_images(folder):
    _, paths = load_image_folder(folder, size=8)
    relative = [Path(p).relative_to(folder).as_posix() for p in paths]
    assert relative == ["a.JPG", "b.png", "sub/d.tiff", "sub/deeper/c.bmp"]
    assert load_image_folder(folder, size=8)[1] == paths


def test_pixels_survive_without_resizing(tmp_path):
    array = np.random.RandomState(0).randint(0, 256, (5, 7), dtype=np.uint8)
    _save(tmp_path / "x.png", array)
    images, _ = load_image_folder(tmp_path, size=None)
    np.testing.assert_array_equal(images[0], array)


def test_corrupt_file_is_named(folder):
    (folder / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ValueError, match="broken.png"):
        load_image_folder(folder, size=8)


def test_truncated_file_is_named(folder):
    data = (folder / "b.png").read_bytes()
    (folder / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.png"):
        load_image_folder(folder, size=8)


def test_skip_warns_and_keeps_the_rest(folder):
    (folder / "broken.png").write_bytes(b"nope")
    with pytest.warns(UserWarning, match="broken.png"):
        images, paths = load_image_folder(folder, size=8, on_error="skip")
    assert len(images) == len(paths) == 4
    assert not any(p.endswith("broken.png") for p in paths)


def test_decompression_bomb_guard_stays_on(folder, monkeypatch):
    # A limit below the files' pixel count makes every file a "bomb".
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    with pytest.raises(ValueError, match="DecompressionBomb"):
        load_image_folder(folder, size=8)


def test_mixed_sizes_need_a_size(tmp_path):
    _save(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    _save(tmp_path / "b.png", np.zeros((9, 8), np.uint8))
    with pytest.raises(ValueError, match="size mismatch.*b.png"):
        load_image_folder(tmp_path, size=None)
    assert load_image_folder(tmp_path, size=8)[0].shape == (2, 8, 8)


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_image_folder(tmp_path / "nowhere", size=8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No images found"):
        load_image_folder(tmp_path / "empty", size=8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"size": 8, "mode": "CMYK"}, "mode"),
        ({"size": 8, "on_error": "ignore"}, "on_error"),
        ({"size": (0, 4)}, "positive"),
        ({"size": "big"}, "size"),
    ],
)
def test_bad_arguments(folder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_image_folder(folder, **kwargs)


def test_size_defaults_to_the_files_own_as_the_command_line_does(tmp_path):
    for i in range(2):
        Image.fromarray(np.full((6, 9), 10 * i, np.uint8)).save(tmp_path / f"{i}.png")
    images, paths = load_image_folder(tmp_path)
    assert images.shape == (2, 6, 9) and len(paths) == 2
