"""The fitted read-out: what turns the generator's outputs into an anomaly score.

A :class:`ReadOut` holds everything a score method (see
:mod:`sklearn_ganomaly._scores`) needs beyond the networks, fitted once on the
training data and stored: the reference codes the neighbour components
compare with (all training codes, or a random subsample of
:data:`MAX_REFERENCE_CODES`), the k-distances and local reachability
densities of those references for the LOF components, each component's
robust centre and scale, and the centre and scale of the summed score.
Scores are therefore normalised without looking at the samples being
scored: a sample scores the same alone or in any batch.

:func:`fit_components` computes the leave-one-out statistics of the
references (a reference is never its own neighbour), so that normalising
with them does not make training data look more normal than new data.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from ._neighbours import (
    anchor_of,
    local_outlier_factor,
    lof_reference_statistics,
    nearest,
    prepare,
)
from ._scores import SCORE_METHODS, Component

__all__ = [
    "MATCH_TOLERANCE",
    "MAX_REFERENCE_CODES",
    "ReadOut",
    "RobustScale",
    "fit_components",
    "reference_subset",
]

#: Training codes kept as the neighbour reference set. Above this many, a
#: random subsample (drawn with the detector's seed) is kept: memory stays at
#: ``MAX_REFERENCE_CODES * latent_dim`` floats and a query costs
#: ``O(MAX_REFERENCE_CODES * latent_dim)`` however large the training set.
MAX_REFERENCE_CODES = 20_000

#: A scored code this close to a reference code, relative to the references'
#: median distance to their nearest other reference, is that reference
#: itself: it is compared with the other references only, as at fit, so
#: that the training data scores as its leave-one-out training scores (and
#: ``predict`` on it flags the ``contamination`` share). The margin covers
#: float rounding, never a genuine neighbour.
MATCH_TOLERANCE = 1e-5

#: Turns a median absolute deviation into a standard deviation (normal data).
_MAD_TO_SD = 1.4826

#: Reference rows whose leave-one-out neighbours are searched at once (as
#: many as a scoring batch, so that fitting needs no more memory than scoring).
_FIT_BATCH = 256


@dataclass(frozen=True)
class RobustScale:
    """Robust z-score ``(s - median) / (1.4826 * MAD)`` with stored statistics.

    A zero MAD falls back to the standard deviation, then to 1, so that a
    degenerate spread never divides by zero.
    """

    center: float = 0.0
    scale: float = 1.0

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


@dataclass
class ReadOut:
    """A fitted score method.

    Attributes
    ----------
    method : str
        The ``score_method`` (resolved, never ``'auto'``).
    components : tuple of Component
        Its components with their neighbour counts resolved.
    scales : list of RobustScale
        Each component's training statistics when there are several (their
        robust z-scores are summed); the identity for a single component.
    score : RobustScale
        Statistics of the summed score over the training data.
    references : ndarray of shape (m, latent_dim) or None
        Reference codes (float32), for methods that need them.
    lof_statistics : dict of int to (ndarray, ndarray)
        For each LOF component (by position): the references' k-distances
        and local reachability densities.
    anchors : dict of str to float
        The anchored cosine's extra coordinate, when a component uses it.
    match_tolerance : dict of str to float
        Per metric, the distance up to which a scored code counts as a
        reference code itself (see :data:`MATCH_TOLERANCE`); empty for files
        of format 1, which scored every code against all references.
    """

    method: str
    components: tuple
    scales: list
    score: RobustScale = field(default_factory=RobustScale)
    references: np.ndarray | None = None
    lof_statistics: dict = field(default_factory=dict)
    anchors: dict = field(default_factory=dict)
    match_tolerance: dict = field(default_factory=dict)

    def to_saved(self):
        """``(metadata, tensors)``: JSON values and float64 tensors for a model file."""
        metadata = {
            "method": self.method,
            "components": [
                {
                    "kind": c.kind,
                    "metric": c.metric,
                    "n_neighbors": c.n_neighbors,
                    "center": s.center,
                    "scale": s.scale,
                }
                for c, s in zip(self.components, self.scales, strict=True)
            ],
            "anchors": dict(self.anchors),
            "match_tolerance": dict(self.match_tolerance),
        }
        tensors = {}
        for position, (k_distance, density) in self.lof_statistics.items():
            tensors[f"readout.lof{position}.k_distance"] = torch.as_tensor(k_distance)
            tensors[f"readout.lof{position}.density"] = torch.as_tensor(density)
        return metadata, tensors

    @classmethod
    def from_saved(cls, metadata, tensors, references, score):
        """The read-out a model file describes (see :meth:`to_saved`)."""
        components, scales, statistics = [], [], {}
        for position, entry in enumerate(metadata["components"]):
            components.append(Component(entry["kind"], entry["metric"], entry["n_neighbors"]))
            scales.append(RobustScale(entry["center"], entry["scale"]))
            if entry["kind"] == "lof":
                prefix = f"readout.lof{position}"
                statistics[position] = (
                    tensors[f"{prefix}.k_distance"].cpu().numpy(),
                    tensors[f"{prefix}.density"].cpu().numpy(),
                )
        anchors = {k: float(v) for k, v in metadata.get("anchors", {}).items()}
        tolerance = {k: float(v) for k, v in metadata.get("match_tolerance", {}).items()}
        return cls(
            metadata["method"],
            tuple(components),
            scales,
            score,
            references,
            statistics,
            anchors,
            tolerance,
        )


def reference_subset(n_samples, seed, limit=None):
    """Sorted indices of the training rows kept as neighbour references.

    At most ``limit`` rows (:data:`MAX_REFERENCE_CODES` by default), drawn
    with ``seed`` when there are more.
    """
    limit = MAX_REFERENCE_CODES if limit is None else limit
    if n_samples <= limit:
        return np.arange(n_samples)
    return np.sort(np.random.default_rng(seed).choice(n_samples, limit, replace=False))


def _leave_one_out(references, metric, k, anchor):
    """Each reference's k nearest other references, batch by batch."""
    prepared = prepare(references, metric, anchor)
    coarse = prepared.to(torch.float32)
    parts = [
        nearest(prepared[s : s + _FIT_BATCH], prepared, k, metric, self_offset=s, coarse=coarse)
        for s in range(0, len(prepared), _FIT_BATCH)
    ]
    return torch.cat([d for d, _ in parts]), torch.cat([i for _, i in parts])


def fit_components(
    method,
    n_neighbors,
    latent,
    references=None,
    reference_index=None,
    standardise=None,
    metric=None,
):
    """Fit a score method's components on the training data.

    Parameters
    ----------
    method : str
        A key of ``SCORE_METHODS``.
    n_neighbors : int
        The estimator's ``n_neighbors``.
    latent : ndarray of shape (n,)
        Latent distances of all the training rows.
    references : ndarray of shape (m, latent_dim) or None
        Reference codes (needed by neighbour components; ``m >= 2``).
    reference_index : ndarray of shape (m,) or None
        The training rows the references are the codes of.
    standardise : bool or None
        Turn each component into a robust z-score; None does when there are
        several components (files of format 1 did for every neighbour score).
    metric : str or None
        Compare codes with this metric instead of the registry's (files of
        format 1 used the plain cosine).

    Returns
    -------
    readout : ReadOut
        With component statistics fitted (``score`` still the identity).
    raw : ndarray of shape (n,)
        The summed raw score of each training row: leave-one-out for the
        references; NaN for rows outside a subsampled reference set, which
        the caller scores as new data.
    """
    spec = SCORE_METHODS[method]
    m = 0 if references is None else len(references)
    components = tuple(
        c
        if c.kind == "latent"
        else Component(c.kind, metric or c.metric, max(1, min(c.n_neighbors, m - 1)))
        for c in spec.resolved_components(n_neighbors)
    )
    readout = ReadOut(method, components, [], references=references)
    raw = np.zeros(len(latent))
    if spec.needs_references:
        raw[:] = np.nan
        raw[reference_index] = 0.0
    rows = slice(None) if reference_index is None else reference_index
    if standardise is None:
        standardise = len(components) > 1
    codes = None if references is None else torch.as_tensor(references, dtype=torch.float64)
    for position, component in enumerate(components):
        if component.kind == "latent":
            part = latent
        else:
            if component.metric == "anchored_cosine":
                readout.anchors.setdefault(component.metric, anchor_of(codes))
            anchor = readout.anchors.get(component.metric)
            distances, indices = _leave_one_out(
                codes, component.metric, component.n_neighbors, anchor
            )
            if component.metric not in readout.match_tolerance:
                nearest_other = distances[:, 0].numpy()
                positive = nearest_other[nearest_other > 0]
                typical = float(np.median(positive)) if positive.size else 0.0
                readout.match_tolerance[component.metric] = MATCH_TOLERANCE * typical
            if component.kind == "knn":
                part = distances[:, -1]
            else:
                k_distance, density = lof_reference_statistics(distances, indices)
                readout.lof_statistics[position] = (k_distance.numpy(), density.numpy())
                part = local_outlier_factor(distances, indices, k_distance, density)
            part = part.numpy()
        # Several components are summed as robust z-scores, so that a distance
        # and a density ratio count alike; a single one is the raw score itself.
        scale = RobustScale.fit(part) if standardise else RobustScale()
        readout.scales.append(scale)
        raw[rows] += scale(part if component.kind != "latent" else part[rows])
    return readout, raw
