"""Load a folder of image files (PNG, JPEG, BMP, TIFF) into one numpy array.

The X-ray screening use case of the GANomaly paper starts from a folder of
normal images; this turns such a folder into the ``(n, H, W)`` or
``(n, H, W, 3)`` uint8 array that :class:`~sklearn_ganomaly.GANomalyDetector`
takes, together with the path of every image so scores can be traced back.
Pillow's decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is left on:
a file claiming an absurd size is an error like any other corrupt file.
Only regular files are read: a FIFO, device or socket named like an image
would block or never end, so it is skipped with a warning. Images are capped
at :data:`MAX_IMAGE_SIDE` pixels a side, and the whole array must fit in the
memory available; both are checked before the pixels are allocated.
"""

import os
import stat
import warnings
from pathlib import Path

import numpy as np

__all__ = ["IMAGE_EXTENSIONS", "load_image_folder"]

#: File name endings read as images (compared case-insensitively).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_MODES = ("L", "RGB")

#: Largest height or width of a loaded image, requested or read.
MAX_IMAGE_SIDE = 4096


def _parse_size(size):
    """``(height, width)`` from an int, a pair, or None."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)):
        size = (size, size)
    try:
        height, width = (int(s) for s in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be an int or (height, width), got {size!r}.") from None
    if height < 1 or width < 1:
        raise ValueError(f"size must be positive, got {size!r}.")
    if max(height, width) > MAX_IMAGE_SIDE:
        raise ValueError(f"size={size!r} is over the cap of {MAX_IMAGE_SIDE} pixels a side.")
    return height, width


def _is_regular_file(path):
    """Whether ``path`` is a regular file (following symbolic links); warn if not."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        reason = f"cannot be read ({error.strerror or error})"
    else:
        if stat.S_ISREG(mode):
            return True
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else None
        reason = f"is {kind or 'a device or folder'}, not a regular file"
    warnings.warn(f"Skipped {path}: it {reason}.", UserWarning, stacklevel=4)
    return False


def _image_files(root):
    """Image files under ``root``, recursively, sorted by relative POSIX path."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"Image folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"Not a folder: {root}")
    files = [
        Path(dirpath) / name
        for dirpath, _, names in os.walk(root)
        for name in names
        if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
    ]
    files = [file for file in files if _is_regular_file(file)]
    # Sorting on the relative POSIX path gives the same order on every platform.
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def _read_image(path, mode, size):
    """One image as a uint8 array in ``mode``, resized to ``size`` if given."""
    from PIL import Image

    with Image.open(path) as image:
        if size is None and max(image.size) > MAX_IMAGE_SIDE:
            # Checked on the header, before the pixels are decoded.
            raise ValueError(
                f"{path} is {image.size[0]}x{image.size[1]} pixels, over the cap of "
                f"{MAX_IMAGE_SIDE} a side; pass size= to resize the images."
            )
        # Converting forces a full decode, so truncated files fail here.
        image = image.convert(mode)
        if size is not None and image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.uint8)


def load_image_folder(
    path: str | os.PathLike[str],
    *,
    size: int | tuple[int, int] | None = None,
    mode: str = "L",
    on_error: str = "raise",
) -> tuple[np.ndarray, list[str]]:
    """Load every image under a folder (recursively) into one array.

    Parameters
    ----------
    path : str or path-like
        Folder to search; sub-folders are searched too. Files ending in
        ``.png``, ``.jpg``, ``.jpeg``, ``.bmp``, ``.tif`` or ``.tiff`` (any
        case) are read; hidden files and other files are ignored.
    size : int, (height, width) or None, default=None
        Size every image is resized to (bilinear). An int means a square.
        Note the order, that of the returned array, not Pillow's
        ``(width, height)``. ``None`` keeps the files' own size, which must
        then be the same for all of them (the command line's default too).
    mode : {'L', 'RGB'}, default='L'
        ``'L'`` converts to 8-bit grayscale, ``'RGB'`` to three channels.
    on_error : {'raise', 'skip'}, default='raise'
        What to do with a file Pillow cannot read (corrupt, truncated, not
        an image, or over Pillow's decompression-bomb limit): ``'raise'`` a
        ``ValueError`` naming it, or ``'skip'`` it with a ``UserWarning``.

    Returns
    -------
    images : ndarray of shape (n, height, width) or (n, height, width, 3)
        The images as uint8, grayscale (``'L'``) or RGB.
    paths : list of str
        The file of each image, in the same order: sorted by path relative to
        ``path``, so the order is stable across runs and platforms.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no image is found, a file cannot be read (with
        ``on_error='raise'``), ``size=None`` and the sizes differ, a size is
        over :data:`MAX_IMAGE_SIDE` pixels a side, or the images would not fit
        in the memory available.

    Warns
    -----
    UserWarning
        For each file named like an image that is not a regular file (a
        FIFO, a device, a socket, a broken link): it is skipped.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sklearn_ganomaly.datasets import load_image_folder
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(3):
    ...     Image.fromarray(np.full((10, 12), 40 * i, np.uint8)).save(f"{folder}/{i}.png")
    >>> images, paths = load_image_folder(folder, size=8)
    >>> images.shape, images.dtype, len(paths)
    ((3, 8, 8), dtype('uint8'), 3)
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}.")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
    size = _parse_size(size)
    files = _image_files(path)
    if not files:
        raise ValueError(f"No images found in {path} (looked for {', '.join(IMAGE_EXTENSIONS)}).")
    images = None
    paths: list[str] = []
    for file in files:
        try:
            image = _read_image(file, mode, size)
        except Exception as error:  # Pillow raises many types for bad files
            # DecompressionBombError included: the guard stays on.
            message = f"Cannot read image {file}: {type(error).__name__}: {error}"
            if on_error == "raise":
                raise ValueError(message) from error
            warnings.warn(f"{message}; skipped.", UserWarning, stacklevel=2)
            continue
        if images is None:
            # One allocation for all, once the first image gives the size.
            images = _allocate(len(files), image.shape)
        elif image.shape != images.shape[1:]:
            raise ValueError(
                f"Image size mismatch: {file} is {image.shape[1]}x{image.shape[0]} "
                f"(width x height) but {paths[0]} is {images.shape[2]}x"
                f"{images.shape[1]}; pass size= to resize them all."
            )
        images[len(paths)] = image
        paths.append(str(file))
    if images is None:
        raise ValueError(f"None of the {len(files)} image files in {path} could be read.")
    return (images if len(paths) == len(images) else images[: len(paths)].copy()), paths


def _available_memory():
    """Bytes of memory available to allocate, or None where it cannot be told."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def _allocate(n_images, shape):
    """A uint8 array for ``n_images`` of ``shape``, if the memory available holds it."""
    needed = n_images * int(np.prod(shape))
    available = _available_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"Loading {n_images} images of {'x'.join(map(str, shape))} needs "
            f"{needed / 1e9:.3g} GB, more than the {available / 1e9:.3g} GB of memory "
            "available; pass a smaller size= or split the folder."
        )
    return np.empty((n_images, *shape), dtype=np.uint8)
