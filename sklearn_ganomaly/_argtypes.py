"""Argument types shared by the command line's subcommands.

``argparse`` calls a type with the option's text and reports an
``ArgumentTypeError`` as a usage error naming the option, so each type
converts, checks and says what it expected in one place.
"""

import argparse
import math

__all__ = ["bounded_int", "checked", "contamination", "finite_float", "positive_int_or_auto"]


def checked(convert, accept, wanted, *, auto=False):
    """An argparse type: text that ``convert`` reads to a value ``accept`` takes.

    Parameters
    ----------
    convert : callable
        Reads the text (``int``, ``float``); its ``ValueError`` is a mistake.
    accept : callable
        Whether a converted value is allowed.
    wanted : str
        What was expected, for the message.
    auto : bool, default=False
        Also take the text ``'auto'``, returned as is.
    """

    def parse(text):
        if auto and text == "auto":
            return text
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    return parse


def bounded_int(low, high=None):
    """An argparse type: an integer of at least ``low`` (and at most ``high``)."""
    wanted = f"from {low} to {high}" if high is not None else f"of at least {low}"
    return checked(int, lambda v: low <= v and (high is None or v <= high), f"an integer {wanted}")


finite_float = checked(float, math.isfinite, "a finite number")
contamination = checked(float, lambda v: 0 < v <= 0.5, "'auto' or a number in (0, 0.5]", auto=True)
positive_int_or_auto = checked(int, lambda v: v >= 1, "'auto' or a positive integer", auto=True)
positive_float_or_auto = checked(
    float, lambda v: 0 < v < math.inf, "'auto' or a positive number", auto=True
)
