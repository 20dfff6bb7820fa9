"""Model selection for detectors trained on normal data only.

Cross-validating a semi-supervised detector such as GANomaly with the usual
tools goes wrong in three quiet ways: anomalies leak into the training folds,
labels come as ``{0 normal, 1 anomaly}`` or as scikit-learn's ``{+1 inlier,
-1 outlier}``, and the default scorers read ``predict`` or the wrong sign of
a score. This module makes the right way the easy way:

- :class:`NormalOnlyKFold` trains on normal samples only and tests on
  held-out normal samples plus the anomalies;
- :func:`anomaly_roc_auc_scorer` and :func:`anomaly_average_precision_scorer`
  score with anomalies as the positive class, whatever the detector's sign
  convention and whichever label convention ``y`` uses;
- :class:`NormalOnlyFit` drops labelled anomalies before fitting, so that
  the final ``refit`` of a search (which sees all of ``X``) also trains on
  normal samples only.

Label conventions
-----------------
``label_convention='zero_one'`` reads 1 (or ``True``) as an anomaly and 0 as
normal; ``'sklearn'`` reads -1 as an anomaly and +1 as normal. ``'auto'``
infers it from the values present: a 0 means ``'zero_one'``, a -1 means
``'sklearn'``, booleans are ``'zero_one'``. Labels that are all 1 are
ambiguous (all anomalous, or all normal?) and raise an error asking for an
explicit convention, as do values outside both conventions; the one exception
is :class:`NormalOnlyFit`, which reads all-1 training labels as all normal
(the training folds of scikit-learn labels), since the other reading leaves
nothing to train on.
"""

from collections.abc import Callable, Iterator, Sized
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, MetaEstimatorMixin, OutlierMixin, clone
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import BaseCrossValidator, KFold
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._compat import (
    HasMethods,
    Interval,
    StrOptions,
    fit_context,
    safe_indexing,
    validate_parameter_constraints,
)

__all__ = [
    "NormalOnlyFit",
    "NormalOnlyKFold",
    "anomaly_average_precision_scorer",
    "anomaly_mask",
    "anomaly_roc_auc_scorer",
    "anomaly_scores",
    "make_anomaly_scorer",
]

LABEL_CONVENTIONS = ("auto", "zero_one", "sklearn")
_ANOMALY_LABEL = {"zero_one": 1, "sklearn": -1}
_NORMAL_LABEL = {"zero_one": 0, "sklearn": 1}


def _resolve_convention(values, label_convention):
    """The convention ``'zero_one'`` or ``'sklearn'`` of the label ``values``."""
    present = set(values.tolist())
    if label_convention == "auto":
        if present == {1}:
            raise ValueError(
                "Labels that are all 1 are ambiguous (all anomalies in the 0/1 convention, "
                "all inliers in scikit-learn's +1/-1): set label_convention='zero_one' or "
                "'sklearn'."
            )
        if present <= {0, 1}:
            return "zero_one"
        if present <= {-1, 1}:
            return "sklearn"
        raise ValueError(
            f"Cannot infer the label convention from labels {sorted(present)}: expected "
            "{0 normal, 1 anomaly} or {+1 inlier, -1 outlier}."
        )
    allowed = {_ANOMALY_LABEL[label_convention], _NORMAL_LABEL[label_convention]}
    if not present <= allowed:
        raise ValueError(
            f"label_convention={label_convention!r} expects labels in {sorted(allowed)}, "
            f"got {sorted(present)}."
        )
    return label_convention


def anomaly_mask(y: ArrayLike, label_convention: str = "auto") -> np.ndarray:
    """Boolean mask of the anomalies in ``y``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, ``{0 normal, 1 anomaly}``, ``{+1 inlier, -1 outlier}`` or
        booleans (``True`` = anomaly).
    label_convention : {'auto', 'zero_one', 'sklearn'}, default='auto'
        How to read ``y``; see the module documentation for ``'auto'``.

    Returns
    -------
    mask : ndarray of shape (n_samples,), dtype bool
        ``True`` for anomalies.

    Examples
    --------
    >>> from sklearn_ganomaly.model_selection import anomaly_mask
    >>> anomaly_mask([0, 1, 0]), anomaly_mask([1, -1, 1])
    (array([False,  True, False]), array([False,  True, False]))
    """
    if label_convention not in LABEL_CONVENTIONS:
        raise ValueError(f"label_convention must be one of {LABEL_CONVENTIONS}")
    y = column_or_1d(y, warn=True)
    if y.dtype == bool:
        return y.copy()
    if not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)):
        raise ValueError(f"Anomaly labels must be finite numbers or booleans, got {y.dtype}.")
    convention = _resolve_convention(np.unique(y), label_convention)
    return y == _ANOMALY_LABEL[convention]


class NormalOnlyKFold(BaseCrossValidator):
    """K-fold splitter whose training folds hold normal samples only.

    The normal samples are split into ``n_splits`` folds as by
    :class:`~sklearn.model_selection.KFold`; each test fold is one fold of
    normal samples plus a share of the anomalies, which are spread evenly over
    the test folds (each anomaly is tested exactly once). Training folds never
    contain an anomaly.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Shuffle the normal samples and the anomalies before splitting.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles when ``shuffle=True``.
    label_convention : {'auto', 'zero_one', 'sklearn'}, default='auto'
        How to read ``y``: ``'zero_one'`` (1 = anomaly), ``'sklearn'``
        (-1 = outlier) or ``'auto'`` to infer it (all-1 labels are ambiguous
        and raise).

    See Also
    --------
    NormalOnlyFit : Drops anomalies when fitting, e.g. at a search's refit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganomaly.model_selection import NormalOnlyKFold
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    >>> for train, test in NormalOnlyKFold(n_splits=2).split(np.zeros((8, 1)), y):
    ...     print(train, test)
    [3 4 5] [0 1 2 6]
    [0 1 2] [3 4 5 7]
    """

    _parameter_constraints: dict = {
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "label_convention": [StrOptions(set(LABEL_CONVENTIONS))],
    }

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None, label_convention="auto"):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.label_convention = label_convention

    def split(
        self, X: Sized, y: ArrayLike | None = None, groups: object = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate train and test indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data; only its length is used.
        y : array-like of shape (n_samples,)
            Anomaly labels (required).
        groups : None
            Ignored, present for API consistency.

        Yields
        ------
        train : ndarray
            Indices of normal training samples.
        test : ndarray
            Indices of test samples, normal and anomalous, sorted.
        """
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )
        if y is None:
            raise ValueError("NormalOnlyKFold needs the anomaly labels y to split.")
        anomalous = anomaly_mask(y, self.label_convention)
        if len(anomalous) != len(X):
            raise ValueError(f"X has {len(X)} samples but y has {len(anomalous)}.")
        normal = np.flatnonzero(~anomalous)
        anomalies = np.flatnonzero(anomalous)
        for name, count in (("normal samples", len(normal)), ("anomalies", len(anomalies))):
            if count < self.n_splits:
                raise ValueError(
                    f"n_splits={self.n_splits} needs at least as many {name}, got {count}: "
                    "every test fold must hold both kinds."
                )
        # One generator drives both shuffles so that a seed fixes every fold.
        rng = check_random_state(self.random_state) if self.shuffle else None
        kfold = KFold(self.n_splits, shuffle=self.shuffle, random_state=rng)
        if rng is not None:
            anomalies = anomalies[rng.permutation(len(anomalies))]
        anomaly_folds = np.array_split(anomalies, self.n_splits)
        for (train, test), fold_anomalies in zip(kfold.split(normal), anomaly_folds, strict=True):
            yield normal[train], np.sort(np.concatenate([normal[test], fold_anomalies]))

    def get_n_splits(self, X: object = None, y: object = None, groups: object = None) -> int:
        """Number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API consistency.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits


def _final_estimator(estimator):
    """The estimator that produces the scores, through pipelines and wrappers."""
    while True:
        if hasattr(estimator, "steps"):
            estimator = estimator.steps[-1][1]
        elif isinstance(estimator, NormalOnlyFit):
            estimator = getattr(estimator, "estimator_", estimator.estimator)
        else:
            return estimator


def _is_pyod_detector(estimator):
    # Checked by module name so that pyod is never imported here.
    return any(cls.__module__.split(".")[0] == "pyod" for cls in type(estimator).__mro__)


def anomaly_scores(estimator: Any, X: ArrayLike) -> np.ndarray:
    """Scores of a fitted detector with higher = more anomalous.

    scikit-learn detectors (``IsolationForest``, ``LocalOutlierFactor`` with
    ``novelty=True``, ``OneClassSVM``, ``GANomalyDetector``) and pipelines
    ending in one give higher = more normal from ``score_samples`` or
    ``decision_function``: these are negated. PyOD detectors give higher =
    more abnormal from ``decision_function``: used as they are.

    Parameters
    ----------
    estimator : fitted detector, Pipeline or NormalOnlyFit
    X : array-like
        Samples to score.

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        Higher = more anomalous.
    """
    if _is_pyod_detector(_final_estimator(estimator)):
        return np.asarray(estimator.decision_function(X), dtype=float)
    for method in ("score_samples", "decision_function"):
        if hasattr(estimator, method):
            return -np.asarray(getattr(estimator, method)(X), dtype=float)
    raise TypeError(f"{type(estimator).__name__} has neither score_samples nor decision_function.")


class _AnomalyScorer:
    """Scorer ``scorer(estimator, X, y) -> float`` with anomalies as positives."""

    def __init__(self, metric, label_convention):
        self.metric = metric
        self.label_convention = label_convention

    def __call__(self, estimator, X, y):
        positive = anomaly_mask(y, self.label_convention)
        return float(self.metric(positive, anomaly_scores(estimator, X)))

    def __repr__(self):
        return (
            f"make_anomaly_scorer({self.metric.__name__}, "
            f"label_convention={self.label_convention!r})"
        )


def make_anomaly_scorer(
    metric: Callable[..., float], *, label_convention: str = "auto"
) -> Callable[..., float]:
    """Scorer for anomaly detectors from a ranking metric.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_score)`` with ``y_true`` boolean (``True`` =
        anomaly) and ``y_score`` higher = more anomalous, e.g.
        :func:`~sklearn.metrics.roc_auc_score`.
    label_convention : {'auto', 'zero_one', 'sklearn'}, default='auto'
        How to read ``y``; ``'auto'`` infers it per call (all-1 labels are
        ambiguous and raise).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``, usable as ``scoring=``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> from sklearn.metrics import roc_auc_score
    >>> from sklearn_ganomaly.model_selection import make_anomaly_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(50, 2)), rng.normal(6, 1, size=(5, 2))])
    >>> y = np.r_[np.ones(50), -np.ones(5)]
    >>> scorer = make_anomaly_scorer(roc_auc_score, label_convention="sklearn")
    >>> scorer(IsolationForest(random_state=0).fit(X[:50]), X, y)
    1.0
    """
    if label_convention not in LABEL_CONVENTIONS:
        raise ValueError(f"label_convention must be one of {LABEL_CONVENTIONS}")
    return _AnomalyScorer(metric, label_convention)


#: ROC AUC with anomalies as the positive class; either label convention.
anomaly_roc_auc_scorer = make_anomaly_scorer(roc_auc_score)
#: Average precision with anomalies as the positive class; either label convention.
anomaly_average_precision_scorer = make_anomaly_scorer(average_precision_score)


def _estimator_has(method):
    def check(self):
        fitted = getattr(self, "estimator_", None)
        return hasattr(fitted if fitted is not None else self.estimator, method)

    return check


class NormalOnlyFit(MetaEstimatorMixin, OutlierMixin, BaseEstimator):
    """Fit a detector (or a pipeline) on the samples labelled normal only.

    A search's ``refit`` fits the best estimator on all of ``X``, anomalies
    included, whatever the splitter did. Wrapping the detector, or the whole
    pipeline so that its preprocessing also sees normal data only, makes
    ``fit(X, y)`` drop the labelled anomalies first; ``fit(X)`` uses every
    row. Scoring methods are those of the fitted estimator.

    Parameters
    ----------
    estimator : estimator object
        Detector or pipeline ending in one; cloned at fit.
    label_convention : {'auto', 'zero_one', 'sklearn'}, default='auto'
        How to read ``y``. With ``'auto'``, labels that are all 1 (a
        training fold of scikit-learn labels) are read as all normal, the
        only reading that leaves something to train on.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone.
    n_features_in_ : int
        Number of features seen at fit, from ``estimator_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> from sklearn_ganomaly.model_selection import NormalOnlyFit
    >>> X = np.r_[np.zeros((20, 2)), np.full((2, 2), 9.0)]
    >>> y = np.r_[np.zeros(20), np.ones(2)]
    >>> model = NormalOnlyFit(IsolationForest(random_state=0)).fit(X, y)
    >>> model.estimator_.max_samples_
    20
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "label_convention": [StrOptions(set(LABEL_CONVENTIONS))],
    }

    def __init__(self, estimator, *, label_convention="auto"):
        self.estimator = estimator
        self.label_convention = label_convention

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> "NormalOnlyFit":
        """Fit a clone of ``estimator`` on the normal rows of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training data.
        y : array-like of shape (n_samples,) or None
            Anomaly labels; rows labelled anomalous are dropped. ``None``
            trains on every row.

        Returns
        -------
        self : NormalOnlyFit
        """
        if y is not None:
            y = column_or_1d(y, warn=True)
            convention = self.label_convention
            if convention == "auto" and y.dtype != bool and np.all(y == 1):
                # A training fold of scikit-learn labels is all +1; reading it
                # as all anomalies would leave nothing to train on.
                convention = "sklearn"
            normal = np.flatnonzero(~anomaly_mask(y, convention))
            if len(normal) == 0:
                raise ValueError("No sample is labelled normal: nothing to train on.")
            X = safe_indexing(X, normal)
        self.estimator_ = clone(self.estimator).fit(X)
        return self

    def fit_predict(self, X: ArrayLike, y: ArrayLike | None = None) -> np.ndarray:
        """Fit on the normal rows of ``X``, then label every row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,) or None

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The estimator's ``predict`` output.
        """
        return self.fit(X, y).predict(X)

    @available_if(_estimator_has("score_samples"))
    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """``estimator_.score_samples(X)``."""
        check_is_fitted(self)
        return self.estimator_.score_samples(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """``estimator_.decision_function(X)``."""
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("predict"))
    def predict(self, X: ArrayLike) -> np.ndarray:
        """``estimator_.predict(X)``."""
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @property
    def n_features_in_(self) -> int:
        """Number of features seen at fit."""
        check_is_fitted(self)
        return self.estimator_.n_features_in_

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags = inner.input_tags
        tags.non_deterministic = inner.non_deterministic
        return tags
