"""Load a folder of image files (PNG, JPEG, BMP, TIFF) into one numpy array.

The X-ray screening use case of the GANomaly paper starts from a folder of
normal images; this turns such a folder into the ``(n, H, W)`` or
``(n, H, W, 3)`` array that :class:`~sklearn_ganomaly.GANomalyDetector`
takes, together with the path of every image so scores can be traced back.
Pixels are read as the file holds them: 8-bit images as uint8, wider ones
(16-bit PNG or TIFF, 32-bit integer or float TIFF) as float32 with their
values kept, never clipped to 255; the detector scales either range itself.
Each image is turned upright by its EXIF orientation tag, as viewers show it.
Pillow's decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) is left on:
a file claiming an absurd size is an error like any other corrupt file.
Only regular files are read: a FIFO, device or socket named like an image
would block or never end, so it is skipped with a warning. Links to folders
are followed, each folder read once, so a link back up the tree cannot loop.
Images are capped at :data:`MAX_IMAGE_SIDE` pixels a side, and the whole array
must fit in the memory available; both are checked before the pixels are
allocated.
"""

import os
import stat
import warnings
from pathlib import Path

import numpy as np

__all__ = ["IMAGE_EXTENSIONS", "load_image_folder", "parse_size"]

#: File name endings read as images (compared case-insensitively).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

_MODES = ("L", "RGB")

#: Pillow modes of one channel wider than 8 bits (16-bit, 32-bit integer,
#: 32-bit float): read as float32 with their values, not converted to 8 bits,
#: which Pillow does by clipping at 255.
_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")

#: Largest height or width of a loaded image, requested or read.
MAX_IMAGE_SIDE = 4096


def parse_size(size):
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


def _walk(root):
    """Files named like images under ``root``, links to folders followed, each folder once.

    A folder reached a second time (a link back up the tree, or two links to
    one folder) is skipped with a warning, as is a folder that cannot be
    listed; the traversal is in sorted order, so which path is kept does not
    depend on the platform.
    """
    seen = set()
    files = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = os.stat(folder)
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            if folder == root:
                raise
            warnings.warn(
                f"Skipped folder {folder}: it cannot be read ({error.strerror or error}).",
                UserWarning,
                stacklevel=4,
            )
            continue
        if (info.st_dev, info.st_ino) in seen:
            warnings.warn(
                f"Skipped {folder}: it is {os.path.realpath(folder)}, a folder already "
                "read through another path (a link loop, or two links to one folder).",
                UserWarning,
                stacklevel=4,
            )
            continue
        seen.add((info.st_dev, info.st_ino))
        subfolders = []
        for entry in entries:
            path = Path(folder) / entry.name
            try:
                is_folder = entry.is_dir()  # follows links
            except OSError:
                is_folder = False
            if is_folder:
                subfolders.append(path)
            elif entry.name.lower().endswith(IMAGE_EXTENSIONS) and not entry.name.startswith("."):
                files.append(path)
        stack.extend(reversed(subfolders))  # popped in sorted order
    return files


def _image_files(root):
    """Image files under ``root``, recursively, sorted by relative POSIX path."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"Image folder not found: {root}")
    if not root.is_dir():
        raise NotADirectoryError(f"Not a folder: {root}")
    files = [file for file in _walk(root) if _is_regular_file(file)]
    # Sorting on the relative POSIX path gives the same order on every platform.
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def _read_image(path, mode, size):
    """One image as an array in ``mode``, resized to ``size`` if given.

    uint8 for 8-bit files; float32 holding the file's values for files of a
    wider mode (see :data:`_WIDE_MODES`).
    """
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        if size is None and max(image.size) > MAX_IMAGE_SIDE:
            # Checked on the header, before the pixels are decoded.
            raise ValueError(
                f"{path} is {image.size[0]}x{image.size[1]} pixels, over the cap of "
                f"{MAX_IMAGE_SIDE} a side; pass size= to resize the images."
            )
        # Upright as a viewer shows it: cameras store the pixels as the sensor
        # read them and the rotation in the EXIF orientation tag.
        image = ImageOps.exif_transpose(image)
        wide = image.mode in _WIDE_MODES
        # Converting forces a full decode, so truncated files fail here. A
        # wide image becomes 32-bit float, which holds every 16-bit value
        # exactly (and 32-bit integers to float32 precision).
        image = image.convert("F" if wide else mode)
        if size is not None and image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        if not wide:
            return np.asarray(image, dtype=np.uint8)
        pixels = np.asarray(image, dtype=np.float32)
        if not np.isfinite(pixels).all():
            raise ValueError("the image holds NaN or infinite values")
        # One channel, repeated as RGB's three when asked for colour.
        return np.repeat(pixels[..., None], 3, axis=-1) if mode == "RGB" else pixels


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
        Folder to search; sub-folders are searched too, links to folders
        included (a folder reached twice, as by a link back up the tree, is
        read once). Files ending in ``.png``, ``.jpg``, ``.jpeg``, ``.bmp``,
        ``.tif`` or ``.tiff`` (any case) are read; hidden files and other
        files are ignored. Each image is first turned upright by its EXIF
        orientation tag, if it has one (camera and phone photos).
    size : int, (height, width) or None, default=None
        Size every image is resized to (bilinear). An int means a square.
        Note the order, that of the returned array, not Pillow's
        ``(width, height)``. ``None`` keeps the files' own size, which must
        then be the same for all of them (the command line's default too).
    mode : {'L', 'RGB'}, default='L'
        ``'L'`` reads one channel, ``'RGB'`` three. What each file becomes
        depends on its Pillow mode:

        - 8-bit files (``'1'``, ``'L'``, ``'P'``, ``'RGB'``, ``'RGBA'``,
          ``'CMYK'``, ``'LA'``, ...; all JPEGs) are converted by Pillow to
          8-bit grayscale or RGB: colour to grey by ITU-R 601-2 luma, grey
          repeated in three channels, a palette looked up, an alpha channel
          dropped (not composited), bilevel as 0 and 255.
        - Wider single-channel files (``'I;16'``: 16-bit PNG and TIFF;
          ``'I'``: 32-bit integer TIFF; ``'F'``: 32-bit float TIFF) keep
          their values as float32, never clipped to 255 (32-bit integers
          are rounded to float32's 24 bits of precision); ``'RGB'`` repeats
          the channel three times. A float image holding NaN or infinity is
          a file that cannot be read.

        All images of a folder must be 8-bit, or all wider: a mix would put
        pixels on two scales in one array. 16-bit colour files are reduced
        to 8-bit RGB by Pillow itself when they are opened.
    on_error : {'raise', 'skip'}, default='raise'
        What to do with a file Pillow cannot read (corrupt, truncated, not
        an image, or over Pillow's decompression-bomb limit): ``'raise'`` a
        ``ValueError`` naming it, or ``'skip'`` it with a ``UserWarning``.

    Returns
    -------
    images : ndarray of shape (n, height, width) or (n, height, width, 3)
        The images, grayscale (``'L'``) or RGB: uint8 for 8-bit files,
        float32 holding the files' values for wider ones (see ``mode``).
    paths : list of str
        The file of each image, in the same order: sorted by path relative to
        ``path``, so the order is stable across runs and platforms.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If no image is found, a file cannot be read (with
        ``on_error='raise'``), ``size=None`` and the sizes differ, 8-bit and
        wider images are mixed, a size is over :data:`MAX_IMAGE_SIDE` pixels
        a side, or the images would not fit in the memory available.

    Warns
    -----
    UserWarning
        For each file named like an image that is not a regular file (a
        FIFO, a device, a socket, a broken link), each folder that cannot be
        listed, and each link to a folder already read: it is skipped.

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
    size = parse_size(size)
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
            images = _allocate(len(files), image.shape, image.dtype)
        elif image.dtype != images.dtype:
            raise ValueError(
                f"Image depth mismatch: {file} is {_depth(image.dtype)} but {paths[0]} "
                f"is {_depth(images.dtype)}; their pixels are on different scales. "
                "Convert the files to one bit depth."
            )
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


def _depth(dtype):
    return "8-bit" if dtype == np.uint8 else "wider than 8 bits (16-bit, 32-bit or float)"


def _allocate(n_images, shape, dtype):
    """An array for ``n_images`` of ``shape``, if the memory available holds it."""
    needed = n_images * int(np.prod(shape)) * np.dtype(dtype).itemsize
    available = _available_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"Loading {n_images} images of {'x'.join(map(str, shape))} needs "
            f"{needed / 1e9:.3g} GB, more than the {available / 1e9:.3g} GB of memory "
            "available; pass a smaller size= or split the folder."
        )
    return np.empty((n_images, *shape), dtype=dtype)
