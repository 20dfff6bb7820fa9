"""PyOD adapter: GANomaly as a ``pyod.models.base.BaseDetector``.

``GANomaly`` follows PyOD's conventions (0 inlier / 1 outlier labels, higher
score = more abnormal, ``decision_scores_``, ``threshold_``, ``labels_``,
``predict_proba``, ``predict_confidence``), so it drops into PyOD's score
combination, its ensembles (LSCP, SUOD) and its ``ADEngine``. The scikit-learn
estimator, :class:`sklearn_ganomaly.GANomalyDetector`, does the work; this
module is the only place that imports pyod.
"""

try:
    from pyod.models.base import BaseDetector
except ImportError as error:  # pragma: no cover - exercised without pyod
    raise ImportError(
        "sklearn_ganomaly.pyod needs PyOD: pip install 'sklearn-ganomaly[pyod]'"
    ) from error

import inspect
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from ._callback_params import CallbackParamsMixin
from ._checks import flag_undefined_anomaly_scores
from ._compat import pyod_finish_fit
from ._detector import GANomalyDetector

__all__ = ["GANomaly", "add_to_ad_engine"]

#: The estimator's parameters, which the adapter takes with the same names and
#: defaults; all but contamination, whose meaning and default are PyOD's.
_DETECTOR_PARAMETERS = {
    name: parameter
    for name, parameter in inspect.signature(GANomalyDetector).parameters.items()
    if name != "contamination"
}


def _check_contamination(contamination):
    """PyOD's rule: a float in (0, 0.5], or a PyThresh-style thresholder object."""
    if isinstance(contamination, (float, int)) and not isinstance(contamination, bool):
        if not 0 < contamination <= 0.5:
            raise ValueError(f"contamination must be in (0, 0.5], got {contamination!r}")
    elif not (hasattr(contamination, "fit") and hasattr(contamination, "predict")):
        raise ValueError(
            "contamination must be a float in (0, 0.5] or a thresholder with fit and "
            f"predict (as pythresh's), got {contamination!r}"
        )


class GANomaly(CallbackParamsMixin, BaseDetector):
    """GANomaly (Akcay et al., ACCV 2018) with PyOD's detector interface.

    Parameters
    ----------
    contamination : float in (0, 0.5] or thresholder, default=0.1
        Proportion of outliers in the training data, PyOD's default; it sets
        ``threshold_`` at that upper quantile of ``decision_scores_``. As in
        PyOD, a PyThresh thresholder object (``pyod.models.thresholds``) may
        stand in for the float and choose the threshold itself.
    **params
        Every other parameter of :class:`sklearn_ganomaly.GANomalyDetector`
        (``n_epochs``, ``latent_dim``, ``device``, ``warm_start``, ...), with
        its default. The adapter's signature is built from the estimator's,
        so the two always take the same parameters. With ``warm_start=True``
        a second ``fit`` continues training the fitted networks, as
        :meth:`train_more` does.

    Attributes
    ----------
    detector_ : GANomalyDetector
        The fitted scikit-learn estimator.
    decision_scores_ : ndarray of shape (n_samples,)
        Anomaly scores of the training data (higher = more abnormal).
    threshold_ : float
        Scores above it are outliers.
    labels_ : ndarray of shape (n_samples,)
        Training labels, 0 inlier and 1 outlier.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganomaly.pyod import GANomaly
    >>> X = np.random.RandomState(0).normal(size=(200, 4))
    >>> clf = GANomaly(n_epochs=2, random_state=0).fit(X)
    >>> clf.predict([[0.0, 0.0, 0.0, 0.0], [8.0, -8.0, 8.0, -8.0]])
    array([0, 1])
    """

    # Set in __init__ from the estimator's signature, or by fit.
    callbacks: Any
    warm_start: bool
    detector_: GANomalyDetector

    def __init__(self, contamination=0.1, **params):
        unknown = sorted(set(params) - set(_DETECTOR_PARAMETERS))
        if unknown:
            raise TypeError(f"GANomaly got unexpected keyword arguments {unknown}.")
        # Storage only (PyOD's own __init__ validates here; we do it in fit).
        self.contamination = contamination
        for name, parameter in _DETECTOR_PARAMETERS.items():
            setattr(self, name, params.get(name, parameter.default))

    def _make_detector(self):
        params = self.get_params(deep=False)
        params.pop("contamination")
        return GANomalyDetector(**params)

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> "GANomaly":
        """Fit GANomaly on ``X`` (assumed mostly normal); ``y`` is ignored.

        Parameters
        ----------
        X : array-like
            Training data, tabular or images (see ``GANomalyDetector``).
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : GANomaly
            The fitted detector.
        """
        _check_contamination(self.contamination)
        if self.warm_start and hasattr(self, "detector_"):
            params = self.get_params(deep=False)
            params.pop("contamination")
            self.detector_.set_params(**params).fit(X)
        else:
            self.detector_ = self._make_detector().fit(X)
        return self._finish_fit()

    def _finish_fit(self):
        # Leave-one-out for neighbour scores: a training row is never its own neighbour.
        self.decision_scores_ = self.detector_.train_anomaly_scores_
        # y is ignored, as documented: PyOD would check it as class labels.
        pyod_finish_fit(self, None)
        return self

    def train_more(self, X: ArrayLike, epochs: int | None = None) -> "GANomaly":
        """Train the fitted networks for more epochs, as PyOD's ALAD does.

        Continues from the fitted weights and optimizer states (``fit`` with
        ``warm_start=True``), then refits the score normalisation,
        ``decision_scores_``, ``threshold_`` and ``labels_`` on ``X``.

        Parameters
        ----------
        X : array-like
            Training data in the layout used at fit.
        epochs : int or None, default=None
            Epochs to add; None adds ``n_epochs``.

        Returns
        -------
        self : GANomaly
            The detector, trained on.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_ganomaly.pyod import GANomaly
        >>> X = np.random.RandomState(0).normal(size=(100, 4))
        >>> clf = GANomaly(n_epochs=1, width=4, random_state=0).fit(X)
        >>> len(clf.train_more(X, epochs=2).detector_.history_)
        3
        """
        check_is_fitted(self, ["detector_"])
        _check_contamination(self.contamination)
        detector = self.detector_
        saved = detector.get_params(deep=False)
        more = {"warm_start": True, **({} if epochs is None else {"n_epochs": epochs})}
        try:
            detector.set_params(**more).fit(X)
        finally:
            detector.set_params(**{k: saved[k] for k in more})
        return self._finish_fit()

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Anomaly scores of ``X``: higher = more abnormal.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The estimator's normalised anomaly score. A NaN or infinite score
            becomes the largest float64, with a ``NonFiniteScoreWarning``:
            ``predict`` then labels the sample an outlier and ``predict_proba``
            gives it outlier probability 1, never an undefined value.
        """
        check_is_fitted(self, ["detector_"])
        return flag_undefined_anomaly_scores(self.detector_.anomaly_score(X))

    def predict_proba(
        self, X: ArrayLike, method: str = "linear", return_confidence: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Outlier probability of each sample, PyOD's ``'linear'`` or ``'unify'``.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.
        method : {'linear', 'unify'}, default='linear'
            Min-max scaling against the training scores, or Kriegel et al.'s
            unified Gaussian scaling.
        return_confidence : bool, default=False
            Also return ``predict_confidence(X)``.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            Columns: probability of inlier, of outlier; rows sum to 1.
        """
        # PyOD's implementation reads X.shape: accept lists too, and keep a
        # DataFrame's column names, which the estimator checks.
        X = X if hasattr(X, "shape") else np.asarray(X)
        return super().predict_proba(X, method, return_confidence)

    @property
    def n_features_in_(self) -> int:
        """Number of features seen at fit (see ``GANomalyDetector``)."""
        check_is_fitted(self, ["detector_"])
        return self.detector_.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Column names seen at fit, when ``X`` was a DataFrame with string column names."""
        check_is_fitted(self, ["detector_"])
        return self.detector_.feature_names_in_


# get_params, clone, set_params and help() read the parameters off this
# signature: GANomaly's own first, then the estimator's, so that a parameter
# added to GANomalyDetector reaches the adapter with no edit here.
GANomaly.__init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("contamination", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=0.1),
        *_DETECTOR_PARAMETERS.values(),
    ]
)


def add_to_ad_engine(engine: Any) -> Any:
    """Register ``GANomaly`` in a PyOD ``ADEngine``'s knowledge base.

    PyOD 3.x's ``ADEngine`` builds detectors by name from its knowledge base
    (``class_path`` entries); after this call, ``engine.make_plan(['GANomaly'],
    params=[{...}])`` and ``engine.run_detection(X_train, plan, X_test)`` run
    GANomaly like a built-in detector.

    Parameters
    ----------
    engine : pyod.utils.ad_engine.ADEngine
        The engine to extend (its knowledge base is changed in place).

    Returns
    -------
    engine : ADEngine
        The same engine.

    Notes
    -----
    The entry is added to this engine only. PyOD's rule-based routing
    (``plan_detection``, ``detect``) never proposes GANomaly, its rules being
    PyOD's own; name it with ``make_plan`` (or put its plan in an
    investigation's ``state.plans``). PyOD's MCP server and ``pyod`` command
    build their own engines and do not see it.

    Examples
    --------
    >>> from pyod.utils.ad_engine import ADEngine
    >>> from sklearn_ganomaly.pyod import add_to_ad_engine
    >>> engine = add_to_ad_engine(ADEngine())
    >>> engine.explain_detector("GANomaly")["class_path"]
    'sklearn_ganomaly.pyod.GANomaly'
    >>> engine.make_plan(["GANomaly"], params=[{"n_epochs": 2}])["params"]
    {'n_epochs': 2, 'contamination': 0.1}
    """
    # The keys of PyOD's own entries (pyod/utils/knowledge/algorithms.json).
    engine.kb.algorithms["GANomaly"] = {
        "class_path": "sklearn_ganomaly.pyod.GANomaly",
        "full_name": "GANomaly (encoder-decoder-encoder GAN)",
        "status": "shipped",
        "data_types": ["tabular", "image"],
        "category": "deep_learning",
        "complexity": {
            "time": "O(n * epochs * network cost); scoring O(n * network cost)",
            "space": "O(network parameters)",
        },
        "strengths": [
            "Semi-supervised: trained on normal data only",
            "Images of any size and channel count, scaled internally",
            "Scores do not depend on the other samples scored with them",
        ],
        "weaknesses": [
            "Slow to train without a GPU",
            "Adversarial training: results vary with the seed",
        ],
        "best_for": "Images, or tabular data, with a clean set of normal training samples",
        "avoid_when": "No GPU and a large data set, or training data mixed with anomalies",
        "benchmark_refs": [],
        "benchmark_rank": {},
        "paper": {"id": "ganomaly", "short": "Akcay et al., ACCV 2018"},
        "default_params": {"contamination": 0.1},
        "preprocessing_mode": "internal",
        "requires": ["torch", "skorch"],
    }
    return engine
