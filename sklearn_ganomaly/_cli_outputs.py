"""The command line's outputs: CSV rows, files written safely, outputs that may not be inputs.

Every output is written to a temporary file beside it and renamed into place
(``-`` is standard output); a device or a FIFO is written directly. An output
may not name one of the command's inputs. Mistakes raise :class:`UserError`,
which the command line reports as one line.
"""

import contextlib
import csv
import io
import os
import sys
from pathlib import Path

from ._files import check_writable, is_stream, write_bytes_atomic
from .datasets._image_folder import IMAGE_EXTENSIONS

__all__ = [
    "UserError",
    "check_folder_outside",
    "check_names",
    "check_not_input",
    "check_output",
    "csv_bytes",
    "is_regular_output",
    "noting",
    "reason",
    "write_output",
]


class UserError(Exception):
    """A mistake in the command's input, reported as one line without traceback."""


#: Spreadsheets read a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value):
    """A text cell escaped against spreadsheet formula injection (a leading ')."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def check_names(paths):
    """Fail, naming the file, on a path that a UTF-8 CSV or a report cannot hold."""
    for path in paths:
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            # The bytes the file system holds, with the undecodable ones escaped.
            shown = os.fsencode(path).decode("utf-8", "backslashreplace")
            raise UserError(
                f"The file name {shown} is not valid UTF-8 and cannot be written to the "
                "output; rename the file."
            ) from None


def csv_bytes(paths, scores, flagged):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["path", "anomaly_score", "is_anomaly"])
    for path, score, flag in zip(paths, scores, flagged, strict=True):
        writer.writerow([_csv_text(path), repr(float(score)), int(flag)])
    return text.getvalue().encode("utf-8")


def write_output(out, data, written):
    """Write ``data`` to ``out`` atomically (``-`` is stdout); note it in ``written``."""
    if str(out) == "-":
        sys.stdout.write(data.decode("utf-8"))
        return
    try:
        with noting(out, written):
            write_bytes_atomic(out, data)
    except (OSError, ValueError) as error:
        raise UserError(f"Cannot write {out}: {reason(error)}") from None


def _identity(path):
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size


@contextlib.contextmanager
def noting(out, written):
    """Add ``out`` to ``written`` once the write is in place, even if Ctrl-C follows at once.

    A file written is renamed into place, so a new one has a new identity:
    an interrupt that lands after the rename still finds the output written.
    """
    before = _identity(out)
    try:
        yield
    except BaseException:
        if _identity(out) != before:
            written.append(str(out))
        raise
    written.append(str(out))


def reason(error):
    return (error.strerror if isinstance(error, OSError) else None) or str(error)


def check_output(path, *, size=0):
    """Fail now, in one line, if ``path`` cannot be written later (``size`` bytes free)."""
    if str(path) == "-":
        return
    try:
        check_writable(path, size=size)
    except (OSError, ValueError) as error:
        raise UserError(f"Cannot write {path}: {reason(error)}") from None


def is_regular_output(path):
    """Whether ``path`` is a file of its own (not ``-``, a device, a FIFO, /dev/stdout)."""
    return str(path) != "-" and not is_stream(path)


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def _inside(path, folder):
    """Whether ``path`` is ``folder`` or lies under it, links resolved."""
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def check_not_input(option, out, *, model=None, folder=None):
    """Refuse an output that would overwrite an input, or join the images read.

    ``out`` may not be the model file, and a file named like an image may
    not be written under the image folder: it would replace one of the
    images, or be read as one by the next run.
    """
    if str(out) == "-" or not is_regular_output(out):
        return
    if model is not None and _same_file(out, model):
        raise UserError(f"{option} {out} is the model file read by --model; choose another path.")
    if folder is not None and _inside(out, folder) and str(out).lower().endswith(IMAGE_EXTENSIONS):
        raise UserError(
            f"{option} {out} is an image file under the input folder {folder}: it would "
            "replace one of the images or be read as one; choose a path outside it."
        )


def check_folder_outside(option, out, folder):
    """Refuse an output folder that is the input folder or lies inside it."""
    if _inside(out, folder):
        where = "is" if _same_file(out, folder) else "is inside"
        raise UserError(
            f"{option} {out} {where} the input folder {folder}: the report's figures would "
            "join the images; choose a folder outside it."
        )
