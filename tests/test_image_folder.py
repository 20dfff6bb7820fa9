"""load_image_folder: recursive, stable order, formats, modes, sizes, bad files."""

import os
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


# ------------------------------------------------ what the file holds is read
WIDE = [
    # (file name, array Pillow writes, Pillow mode on reading)
    # Pillow 10.0 (the oldest supported) reads 16-bit PNGs as "I"; the values are the same.
    ("a.png", np.array([[300, 65000]], np.uint16), ("I;16", "I")),
    ("a.tif", np.array([[300, 65000]], np.uint16), "I;16"),
    ("a.tiff", np.array([[-70000, 300], [65000, 2**24]], np.int32), "I"),
    ("a.tif", np.array([[0.25, -3.5], [1e6, 65000.0]], np.float32), "F"),
]


@pytest.mark.parametrize(
    "name, array, pillow_mode", WIDE, ids=[np.atleast_1d(w[2])[0] + w[0] for w in WIDE]
)
def test_wide_images_keep_their_values(tmp_path, name, array, pillow_mode):
    _save(tmp_path / name, np.tile(array, (3, 4)))
    with Image.open(tmp_path / name) as image:
        assert image.mode in np.atleast_1d(pillow_mode)  # what the case claims to test
    images, _ = load_image_folder(tmp_path)
    assert images.dtype == np.float32
    np.testing.assert_array_equal(images[0], np.tile(array, (3, 4)).astype(np.float32))
    rgb, _ = load_image_folder(tmp_path, mode="RGB")
    assert rgb.shape == (1, *images.shape[1:], 3)
    for channel in range(3):
        np.testing.assert_array_equal(rgb[0, ..., channel], images[0])


def test_flat_16_bit_images_of_300_and_65000_differ(tmp_path):
    # Pillow's conversion to 8 bits clips both at 255.
    for value in (300, 65000):
        _save(tmp_path / f"{value}.png", np.full((6, 6), value, np.uint16))
    images, paths = load_image_folder(tmp_path, size=4)  # resized, still exact
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["300.png", "65000.png"]
    np.testing.assert_array_equal(images[:, 0, 0], [300.0, 65000.0])
    assert np.all(images[0] == 300) and np.all(images[1] == 65000)


def test_eight_bit_images_stay_uint8(folder):
    images, _ = load_image_folder(folder, size=8)
    assert images.dtype == np.uint8


def test_mixed_bit_depths_are_refused_naming_both(tmp_path):
    _save(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    _save(tmp_path / "b.png", np.full((4, 4), 1000, np.uint16))
    with pytest.raises(ValueError, match="depth mismatch: .*b.png is wider.*a.png is 8-bit"):
        load_image_folder(tmp_path)


def test_float_image_with_nan_is_named(tmp_path):
    _save(tmp_path / "ok.tif", np.ones((4, 4), np.float32))
    _save(tmp_path / "nan.tif", np.full((4, 4), np.nan, np.float32))
    with pytest.raises(ValueError, match="nan.tif.*NaN or infinite"):
        load_image_folder(tmp_path)
    with pytest.warns(UserWarning, match="nan.tif"):
        images, paths = load_image_folder(tmp_path, on_error="skip")
    assert len(paths) == 1


# EXIF orientation tag -> the np.rot90 turn that shows the stored pixels upright.
ORIENTATIONS = {3: 2, 6: -1, 8: 1}


@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
def test_exif_orientation_turns_the_image_upright(tmp_path, orientation):
    stored = np.arange(4 * 6, dtype=np.uint8).reshape(4, 6) * 10
    exif = Image.Exif()
    exif[0x0112] = orientation  # the Orientation tag, as cameras and phones write it
    Image.fromarray(stored).save(tmp_path / "photo.png", exif=exif)
    images, _ = load_image_folder(tmp_path)
    np.testing.assert_array_equal(images[0], np.rot90(stored, ORIENTATIONS[orientation]))


def test_exif_orientation_of_a_jpeg(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (30, 20), "white").save(tmp_path / "phone.jpg", exif=exif)
    images, _ = load_image_folder(tmp_path, mode="RGB")
    assert images.shape == (1, 30, 20, 3)  # 20 rows of 30 stored, shown 30 rows of 20


def test_links_to_folders_are_followed(tmp_path):
    _save(tmp_path / "elsewhere" / "x.png", np.zeros((4, 4), np.uint8))
    _save(tmp_path / "data" / "y.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "data" / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    _, paths = load_image_folder(tmp_path / "data")
    relative = [Path(p).relative_to(tmp_path / "data").as_posix() for p in paths]
    assert relative == ["more/x.png", "y.png"]


@pytest.mark.timeout(60)
def test_link_loops_are_read_once_with_a_warning(tmp_path):
    root = tmp_path / "data"
    _save(root / "a" / "x.png", np.zeros((4, 4), np.uint8))
    (root / "a" / "up").symlink_to(root, target_is_directory=True)  # a loop
    (root / "b").symlink_to(root / "a", target_is_directory=True)  # a second path
    with pytest.warns(UserWarning, match="already read") as record:
        _, paths = load_image_folder(root)
    relative = [Path(p).relative_to(root).as_posix() for p in paths]
    assert relative == ["a/x.png"]
    assert {str(w.message).split(":")[0] for w in record} == {
        f"Skipped {root / 'a' / 'up'}",
        f"Skipped {root / 'b'}",
    }


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads all")
def test_unreadable_subfolder_is_skipped_with_a_warning(tmp_path):
    _save(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    _save(tmp_path / "locked" / "y.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "locked").chmod(0)
    try:
        with pytest.warns(UserWarning, match="locked: it cannot be read"):
            _, paths = load_image_folder(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [Path(p).name for p in paths] == ["x.png"]
