"""Warnings that point at the caller's line, whatever the entry point.

A fixed ``stacklevel`` counts frames, and a decorator or another public
method in between makes it point inside the package. :func:`warn` instead
walks up the stack past every frame of this package (and of the wrappers
that scikit-learn and PyOD put around its methods) and attributes the warning to the
first frame beyond them: the line of the user's code that called the
package.
"""

import contextlib
import functools
import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _wrapper_files():
    # scikit-learn's base module wraps fit (parameter validation) and holds
    # the mixins' fit_predict; PyOD's base class implements predict and
    # predict_proba on the adapter's decision_function; functools and
    # contextlib hold decorators.
    modules = (
        functools,
        contextlib,
        sys.modules.get("sklearn.base"),
        sys.modules.get("pyod.models.base"),
    )
    return {os.path.abspath(m.__file__) for m in modules if getattr(m, "__file__", None)}


def _internal(filename, wrappers):
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE) or path in wrappers


def warn(message, category):
    """``warnings.warn(message, category)`` attributed to the first frame outside the package."""
    wrappers = _wrapper_files()
    frame = sys._getframe(1)
    level = 2  # stacklevel 2 is this function's caller
    while frame is not None and _internal(frame.f_code.co_filename, wrappers):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level - 1 if frame is None else level)
