"""The command line's messages: one line each, in the words of its flags.

Errors and warnings are shown as ``sklearn-ganomaly: error: ...`` and
``sklearn-ganomaly: warning: ...`` lines, with the estimator's parameter
names they mention written as the subcommand's flags.
"""

import contextlib
import re
import sys
import warnings
from functools import partial

__all__ = ["PROG", "TRAIN_FLAGS", "as_flags", "one_line", "one_line_warnings", "written_before"]

PROG = "sklearn-ganomaly"


def written_before(written):
    """What was in place when the run stopped: the truth, whatever the outcome."""
    return f"{', '.join(written)} had been written before; nothing else was"


def one_line(error):
    text = str(error) or type(error).__name__
    return " ".join(text.split())


#: The estimator's parameters that ``train``'s flags set, as messages name them.
TRAIN_FLAGS = {
    "n_epochs": "--epochs",
    "score_method": "--score-method",
    "batch_size": "--batch-size",
    "learning_rate": "--learning-rate",
    "latent_dim": "--latent-dim",
    "width": "--width",
    "contamination": "--contamination",
    "device": "--device",
    "random_state": "--seed",
    "size": "--size",
    "mode": "--mode",
}


def as_flags(text, flags):
    """``text`` with the Python parameters it names written as the command's flags.

    ``n_epochs='auto'`` becomes ``--epochs auto`` and ``raise n_epochs``
    ``raise --epochs``. A bare name is translated only when it cannot be an
    English word (it holds an underscore): ``width`` alone stays, ``width=64``
    becomes ``--width 64``.
    """
    for name, flag in flags.items():
        # Not inside a longer name, a dotted field (params.width) or a path.
        start = rf"(?<![\w./-]){re.escape(name)}"
        text = re.sub(rf"{start}={_VALUE}", partial(_flag_and_value, flag), text)
        if "_" in name:
            # Nor the start of a path (batch_size/x.png) or a dotted name.
            text = re.sub(rf"{start}(?![\w=/]|\.\w)", flag, text)
    return text


#: A parameter's value in a message: quoted, or up to a space or punctuation.
_VALUE = r"""(?:'([^']*)'|"([^"]*)"|([^\s,;:()'"]+))?"""


def _flag_and_value(flag, match):
    return " ".join([flag, *[group for group in match.groups() if group]])


@contextlib.contextmanager
def one_line_warnings(flags):
    """Show warnings as ``sklearn-ganomaly: warning: ...`` lines, in the command's words."""
    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        text = as_flags(one_line(message), flags)
        print(f"{PROG}: warning: {text}", file=file or sys.stderr)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original
