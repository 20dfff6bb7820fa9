"""Warning categories of sklearn-ganomaly, to filter or to catch.

Errors are the standard ``ValueError`` and ``TypeError`` (and scikit-learn's
``NotFittedError``); these warnings mark the cases where the package goes on
but the result needs the caller's attention.
"""

from ._checks import InputRangeWarning, NonFiniteScoreWarning, TrainingInterruptedWarning

__all__ = ["InputRangeWarning", "NonFiniteScoreWarning", "TrainingInterruptedWarning"]
