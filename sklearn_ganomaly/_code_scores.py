"""Anomaly scores read from the encoder's codes ``z = G_E(x)``.

The paper scores a sample by its latent gap ``mean((z - z_hat) ** 2)``. The
encoder that GANomaly trains is also a good feature extractor, and a
two-stage read-out (distance of ``z`` to the codes of the normal training
data) is a strong baseline in the anomaly-detection literature (Skvara et al.,
"Is AI-based anomaly detection a solved problem? Context matters", 2023).

:class:`CodeNeighbourScore` keeps a reference set of training codes and scores
new codes against it, either by the distance to the k-th nearest reference
code (``'knn'``) or by the local outlier factor (``'lof'``). Its training
scores are leave-one-out: a training code is never compared with itself, so
normalising with them does not make the training data look more normal than
new normal data. :class:`RobustScale` turns raw scores into robust z-scores
with training statistics only.
"""

import numpy as np
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

__all__ = [
    "MAX_REFERENCE_CODES",
    "CodeNeighbourScore",
    "CodeScore",
    "RobustScale",
    "reference_subset",
    "resolve_score_method",
]

#: Training codes kept as the neighbour reference set. Above this many, a
#: random subsample (drawn with the detector's seed) is kept: memory stays at
#: ``MAX_REFERENCE_CODES * latent_dim`` floats and a query costs
#: ``O(MAX_REFERENCE_CODES * latent_dim)`` however large the training set.
MAX_REFERENCE_CODES = 20_000

#: Turns a median absolute deviation into a standard deviation (normal data).
_MAD_TO_SD = 1.4826


class RobustScale:
    """Robust z-score ``(s - median) / (1.4826 * MAD)`` with stored statistics.

    A zero MAD falls back to the standard deviation, then to 1, so that a
    degenerate spread never divides by zero.
    """

    def __init__(self, center=0.0, scale=1.0):
        self.center, self.scale = float(center), float(scale)

    @classmethod
    def fit(cls, scores):
        scores = np.asarray(scores, dtype=float)
        center = float(np.median(scores))
        scale = float(np.median(np.abs(scores - center))) * _MAD_TO_SD
        if not scale > 0:
            scale = float(np.std(scores))
        return cls(center, scale if scale > 0 else 1.0)

    def __call__(self, scores):
        return (np.asarray(scores, dtype=float) - self.center) / self.scale


class CodeNeighbourScore:
    """Neighbour-based anomaly score of codes against training codes.

    Parameters
    ----------
    kind : {'knn', 'lof'}
        ``'knn'``: distance to the ``n_neighbors``-th nearest reference code.
        ``'lof'``: local outlier factor over ``n_neighbors`` neighbours.
    n_neighbors : int
        Neighbours consulted (capped at the reference size minus one).
    metric : str
        Distance between codes, ``'cosine'`` or ``'euclidean'``.
    """

    def __init__(self, kind, n_neighbors, metric="cosine"):
        self.kind, self.n_neighbors, self.metric = kind, n_neighbors, metric

    def fit(self, codes):
        """Index the reference codes; ``training_scores_`` are leave-one-out."""
        codes = np.asarray(codes, dtype=np.float64)
        self.reference_ = codes
        k = max(1, min(self.n_neighbors, len(codes) - 1))
        if self.kind == "lof":
            self.index_ = LocalOutlierFactor(
                n_neighbors=k, metric=self.metric, algorithm="brute", novelty=True
            ).fit(codes)
            # LOF's fitted factors already leave each point out of its own neighbours.
            self.training_scores_ = -self.index_.negative_outlier_factor_
        else:
            self.index_ = NearestNeighbors(
                n_neighbors=k, metric=self.metric, algorithm="brute"
            ).fit(codes)
            # kneighbors() without X excludes each point from its own neighbours.
            distances, _ = self.index_.kneighbors()
            self.training_scores_ = distances[:, -1]
        self.k_ = k
        return self

    def score(self, codes):
        """Raw scores of new codes, higher = more abnormal."""
        codes = np.asarray(codes, dtype=np.float64)
        if self.kind == "lof":
            return -self.index_.score_samples(codes)
        distances, _ = self.index_.kneighbors(codes, n_neighbors=self.k_)
        return distances[:, -1]


class CodeScore:
    """The neighbour read-out of a detector: one or more neighbour scores summed.

    Each component's raw score is turned into a robust z-score with its own
    leave-one-out training scores, and the components are summed, so that a
    distance and a density ratio count alike.

    Parameters
    ----------
    components : list of (kind, n_neighbors)
        The :class:`CodeNeighbourScore` parts, e.g. ``[("knn", 1), ("lof", 20)]``.
    metric : str, default='cosine'
        Distance between codes.
    """

    def __init__(self, components, metric="cosine"):
        self.components, self.metric = components, metric

    def fit(self, codes):
        """Fit every component on the reference codes; set ``training_scores_``."""
        self.parts_, self.scales_ = [], []
        self.training_scores_ = np.zeros(len(codes))
        for kind, k in self.components:
            part = CodeNeighbourScore(kind, k, self.metric).fit(codes)
            scale = RobustScale.fit(part.training_scores_)
            self.parts_.append(part)
            self.scales_.append(scale)
            self.training_scores_ += scale(part.training_scores_)
        return self

    def score(self, codes):
        """Raw scores of new codes (sum of robust z-scores), higher = more abnormal."""
        total = np.zeros(len(codes))
        for part, scale in zip(self.parts_, self.scales_, strict=True):
            total += scale(part.score(codes))
        return total


def resolve_score_method(score_method, is_image):
    """``score_method`` with ``'auto'`` resolved for the kind of input.

    ``'auto'`` reads the codes' neighbours for images and keeps the latent
    distance for tables, whose codes of ``d // 4`` numbers are too short for
    cosine distances.
    """
    if score_method != "auto":
        return score_method
    return "latent_knn_lof" if is_image else "latent"


def reference_subset(n_samples, seed, limit=MAX_REFERENCE_CODES):
    """Sorted indices of the training rows kept as neighbour references."""
    if n_samples <= limit:
        return np.arange(n_samples)
    return np.sort(np.random.default_rng(seed).choice(n_samples, limit, replace=False))
