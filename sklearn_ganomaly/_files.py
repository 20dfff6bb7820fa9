"""Writing files so that a failure never leaves a truncated file or clobbers a good one.

Every file the package writes (models, CSV, report figures, ONNX graphs) goes
first to a temporary file in the destination's directory, is flushed to disk,
and is then renamed onto the destination, which POSIX and Windows do
atomically within one file system. Until the rename, an existing file at the
destination stays as it was; after a failure the temporary file is removed.

Two kinds of destination are not renamed onto. A symbolic link is followed:
its target is replaced, and the link stays. A destination that is not a
regular file (``/dev/null``, a FIFO, a terminal, ``/dev/stdout``) cannot be
replaced without destroying it, so the content is staged in a temporary file
elsewhere and then written into it, appending: a descriptor such as
``/dev/stdout`` redirected to a log file keeps what it already holds.
"""

import contextlib
import errno
import os
import re
import shutil
import stat
import sys
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "check_writable", "is_stream", "write_bytes_atomic"]

#: Links of the form /proc/<pid>/fd/<n> stand for a descriptor a process
#: already holds (/dev/stdout, /dev/fd/1 lead there); their "target" is no path.
_DESCRIPTOR_LINK = re.compile(r"^/proc/(?P<pid>[^/]+)/fd/(?P<fd>[0-9]+)$")


def _default_mode():
    # mkstemp creates files readable by the owner only; give the final file
    # the permissions an ordinary open() would, under the process's umask.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _checked_path(path):
    """``path`` as a Path, refusing the empty path (which Path reads as '.')."""
    if isinstance(path, (str, bytes, os.PathLike)) and not os.fspath(path):
        raise ValueError("The output path is empty; give a file name.")
    return Path(path)


def _descriptor_link(path):
    """The /proc/<pid>/fd/<n> link that following ``path``'s links passes through, or None."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on links in a row
        folder, name = os.path.split(current)
        current = os.path.join(os.path.realpath(folder), name)
        match = _DESCRIPTOR_LINK.match(current)
        if match or not os.path.islink(current):
            return match
        current = os.path.join(folder, os.readlink(current))
    return None


def _destination(path):
    """Where and how to write ``path``: ``(kind, where)``.

    ``('fd', n)`` for one of this process's descriptors (``/dev/stdout``),
    ``('direct', path)`` for any other file that is not a regular file, and
    ``('replace', target)`` for a regular or new file, links followed. Raises
    IsADirectoryError for a folder.
    """
    link = _descriptor_link(path)
    if link is not None and link["pid"] in ("self", str(os.getpid())):
        # Written through the descriptor itself, so that what the process
        # prints afterwards follows the content instead of overwriting it.
        return "fd", int(link["fd"])
    if link is not None:
        return "direct", path
    try:
        mode = os.stat(path).st_mode  # follows links
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    if mode is not None and not stat.S_ISREG(mode):
        return "direct", path
    # A link (or a dangling one) is written through: its target is replaced.
    return "replace", Path(os.path.realpath(path)) if os.path.islink(path) else path


def is_stream(path):
    """Whether ``path`` is written into rather than replaced: a device, a FIFO, /dev/stdout."""
    try:
        return _destination(_checked_path(path))[0] != "replace"
    except (OSError, ValueError):
        return False  # a folder or an empty path: refused when written


def _naming(error, path):
    """``error`` with ``path`` as its file name when it names none (ENOSPC from write())."""
    if isinstance(error, OSError) and error.filename is None and error.errno is not None:
        return type(error)(error.errno, error.strerror or os.strerror(error.errno), str(path))
    return None


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path to write; put its content at ``path`` on success.

    Parameters
    ----------
    path : str or path-like
        The destination file. Its directory must exist. A symbolic link is
        followed (its target is replaced); a destination that is not a
        regular file (a device, a FIFO, ``/dev/stdout``) is written into,
        never replaced.

    Yields
    ------
    tmp : pathlib.Path
        Where to write the content. If the ``with`` block raises (or is
        interrupted), ``tmp`` is removed and ``path`` is left untouched.

    Raises
    ------
    ValueError
        If ``path`` is empty.
    OSError
        If the content cannot be written; it names ``path`` (a full disk
        says "No space left on device").
    """
    path = _checked_path(path)
    kind, target = _destination(path)
    # A non-regular destination is staged in the temporary folder: its own
    # folder (/dev) is not for files.
    folder, name = (target.parent, target.name) if kind == "replace" else (None, "output")
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        if kind != "replace":
            _copy_into(tmp, target)
        else:
            mode = target.stat().st_mode & 0o7777 if target.exists() else _default_mode()
            os.chmod(tmp, mode)
            with open(tmp, "rb+") as file:
                os.fsync(file.fileno())
            os.replace(tmp, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            tmp.unlink()
        named = _naming(error, path)
        if named is not None:
            raise named from error
        raise


def _copy_into(source, target):
    """Write ``source``'s bytes into ``target``: a descriptor number or an existing file."""
    for stream in (sys.stdout, sys.stderr):
        # What was printed before comes before the content.
        with contextlib.suppress(Exception):
            stream.flush()
    if isinstance(target, int):
        fd = os.dup(target)
    else:
        # No O_CREAT: the destination exists and is not a regular file; no
        # O_TRUNC, which would mean nothing to a device or FIFO.
        fd = os.open(target, os.O_WRONLY | os.O_APPEND)
    with open(fd, "wb") as out, open(source, "rb") as data:
        shutil.copyfileobj(data, out)


def write_bytes_atomic(path, data):
    """Write ``data`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def check_writable(path, *, size=0):
    """Raise an OSError unless a file (of about ``size`` bytes) can be written at ``path``.

    Creates the missing parent folders, refuses an existing folder at
    ``path``, and proves the directory writable by creating and removing a
    temporary file in it, so that a long computation is not lost to an
    output path that was never writable. A destination that is not a
    regular file (a device, a FIFO) must be writable itself. With ``size``,
    the file system must also have that many bytes free.
    """
    path = _checked_path(path)
    kind, target = _destination(path)
    if kind != "replace":
        if not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "the file is not writable", str(path))
    fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=target.parent)
    os.close(fd)
    os.unlink(probe)
    free = shutil.disk_usage(target.parent).free
    if size > free:
        raise OSError(
            errno.ENOSPC,
            f"No space left on device (the file needs about {_megabytes(size)}, "
            f"{_megabytes(free)} are free)",
            str(path),
        )


def _megabytes(n_bytes):
    return f"{n_bytes / 1e6:.3g} MB"
