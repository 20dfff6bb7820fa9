"""Writing files so that a failure never leaves a truncated file or clobbers a good one.

Every file the package writes (models, CSV, report figures, ONNX graphs) goes
first to a temporary file in the destination's directory, is flushed to disk,
and is then renamed onto the destination, which POSIX and Windows do
atomically within one file system. Until the rename, an existing file at the
destination stays as it was; after a failure the temporary file is removed.
"""

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "check_writable", "write_bytes_atomic"]


def _default_mode():
    # mkstemp creates files readable by the owner only; give the final file
    # the permissions an ordinary open() would, under the process's umask.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : str or path-like
        The destination file. Its directory must exist.

    Yields
    ------
    tmp : pathlib.Path
        Where to write the content. If the ``with`` block raises (or is
        interrupted), ``tmp`` is removed and ``path`` is left untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        mode = path.stat().st_mode & 0o7777 if path.exists() else _default_mode()
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomic(path, data):
    """Write ``data`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def check_writable(path):
    """Raise an OSError unless a file can be created at ``path``.

    Creates the missing parent folders, refuses an existing folder at
    ``path``, and proves the directory writable by creating and removing a
    temporary file in it, so that a long computation is not lost to an
    output path that was never writable.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "is a folder, not a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(13, "the file is not writable", str(path))
    fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    os.close(fd)
    os.unlink(probe)
