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

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._detector import GANomalyDetector

__all__ = ["GANomaly", "add_to_ad_engine"]


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


class GANomaly(BaseDetector):
    """GANomaly (Akcay et al., ACCV 2018) with PyOD's detector interface.

    Parameters
    ----------
    contamination : float in (0, 0.5] or thresholder, default=0.1
        Proportion of outliers in the training data, PyOD's default; it sets
        ``threshold_`` at that upper quantile of ``decision_scores_``. As in
        PyOD, a PyThresh thresholder object (``pyod.models.thresholds``) may
        stand in for the float and choose the threshold itself.
    latent_dim, width, n_epochs, batch_size, learning_rate, beta1, w_adv, \
w_con, w_enc, encoder_loss, image_shape, validation_fraction, device, \
callbacks, random_state, verbose, precision, channels_last, compile
        As in :class:`sklearn_ganomaly.GANomalyDetector`, with its defaults.

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

    def __init__(
        self,
        contamination=0.1,
        *,
        latent_dim="auto",
        width=64,
        n_epochs=15,
        batch_size=64,
        learning_rate=2e-4,
        beta1=0.5,
        w_adv=1.0,
        w_con=50.0,
        w_enc=1.0,
        encoder_loss="l2",
        image_shape=None,
        validation_fraction=0.1,
        device="auto",
        callbacks=None,
        random_state=None,
        verbose=0,
        precision="auto",
        channels_last="auto",
        compile=False,
    ):
        # Storage only (PyOD's own __init__ validates here; we do it in fit).
        self.contamination = contamination
        self.latent_dim = latent_dim
        self.width = width
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.beta1 = beta1
        self.w_adv = w_adv
        self.w_con = w_con
        self.w_enc = w_enc
        self.encoder_loss = encoder_loss
        self.image_shape = image_shape
        self.validation_fraction = validation_fraction
        self.device = device
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.precision = precision
        self.channels_last = channels_last
        self.compile = compile

    def _make_detector(self):
        params = self.get_params(deep=False)
        params.pop("contamination")
        return GANomalyDetector(**params)

    def fit(self, X, y=None):
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
        self._set_n_classes(y)
        self.detector_ = self._make_detector().fit(X)
        self.decision_scores_ = self.detector_.anomaly_score(X)
        self._process_decision_scores()
        return self

    def decision_function(self, X):
        """Anomaly scores of ``X``: higher = more abnormal.

        Parameters
        ----------
        X : array-like
            Samples in the layout used at fit.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The estimator's normalised latent distance.
        """
        check_is_fitted(self, ["detector_"])
        return self.detector_.anomaly_score(X)

    def predict_proba(self, X, method="linear", return_confidence=False):
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
        # PyOD's implementation reads X.shape: accept lists too.
        return super().predict_proba(np.asarray(X), method, return_confidence)


def add_to_ad_engine(engine):
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
