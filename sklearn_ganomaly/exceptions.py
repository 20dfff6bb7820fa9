"""Warning categories of sklearn-ganomaly, to filter or to catch.

Errors are the standard ``ValueError`` and ``TypeError`` (and scikit-learn's
``NotFittedError``); these warnings mark the cases where the package goes on
but the result needs the caller's attention. Every warning the package
raises points at the caller's line, not at the package's internals.
"""

from sklearn.exceptions import ConvergenceWarning

__all__ = ["InputRangeWarning", "NonFiniteScoreWarning", "TrainingInterruptedWarning"]


class InputRangeWarning(UserWarning):
    """Data scored far outside the range the detector was fitted on."""


class NonFiniteScoreWarning(RuntimeWarning):
    """A sample's score came out NaN or infinite; it is labelled an outlier."""


class TrainingInterruptedWarning(ConvergenceWarning):
    """Training was interrupted; the detector keeps the best complete epoch."""
