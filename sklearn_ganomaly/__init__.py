"""sklearn-ganomaly: GANomaly anomaly detection with a scikit-learn interface."""

from typing import TYPE_CHECKING

from ._version import __version__

__all__ = ["PAPER_CONFIG", "GANomalyDetector", "__version__", "load"]

if TYPE_CHECKING:
    from ._detector import PAPER_CONFIG, GANomalyDetector, load

_FROM_DETECTOR = ("PAPER_CONFIG", "GANomalyDetector", "load")


def __getattr__(name):
    # The estimator's module imports torch, scikit-learn and skorch, seconds
    # of work: it is loaded on first use, so that the command line can answer
    # Ctrl-C while it loads (see _launcher).
    if name in _FROM_DETECTOR:
        from . import _detector

        return getattr(_detector, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_FROM_DETECTOR])
