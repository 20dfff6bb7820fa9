"""Attribution maps: which pixels an image's anomaly score is most sensitive to.

The maps are gradients, taken with autograd through the detector's scoring
graph (the module that scores, in float64), of the anomaly score or of one
of the quantities it is made of. :mod:`sklearn_ganomaly.plotting` draws them.
"""

from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import ArrayLike

from ._checks import check_scoring_input
from ._scores import SCORE_METHODS
from ._scoring_graph import detector_graph

if TYPE_CHECKING:
    from ._detector import GANomalyDetector

__all__ = ["attribution_maps", "resolve_target", "target_caption"]


#: The attribution targets besides ``'score'`` (the detector's own score).
_TARGETS = {
    "latent_distance": "the latent distance mean((z - z_hat)^2)",
    "code_distance": "the distance of the code z to its n_neighbors-th nearest training code",
}


def resolve_target(detector, target):
    if target == "auto":
        return "score"
    if target != "score" and target not in _TARGETS:
        raise ValueError(
            f"target must be 'auto', 'score' or one of {list(_TARGETS)}, got {target!r}."
        )
    if target == "code_distance" and _knn_position(detector) is None:
        raise ValueError(
            "target='code_distance' needs a detector whose score_method reads the distance "
            f"to the nearest training codes; this one has score_method={detector.score_method_!r}."
        )
    return target


def _knn_position(detector):
    kinds = [c.kind for c in detector.readout_.components]
    return kinds.index("knn") if "knn" in kinds else None


def target_caption(detector, target):
    """What an attribution map of ``target`` differentiates."""
    if target == "score":
        return SCORE_METHODS[detector.score_method_].attribution
    return _TARGETS[target]


def attribution_maps(
    detector: "GANomalyDetector", X: ArrayLike, *, target: str = "auto"
) -> np.ndarray:
    """How strongly each pixel moves the score: ``|d score / d pixel|`` per image.

    The gradient, with respect to the network input (the pixels scaled to
    ``[-1, 1]``), of the quantity the anomaly score is computed from, in
    absolute value and summed over channels: bright pixels are those whose
    change would move the score most. It is computed through the detector's
    scoring graph, the module that scores, in float64.

    Parameters
    ----------
    detector : GANomalyDetector
        A detector fitted on images.
    X : array-like
        Images in the layout used at fit.
    target : {'auto', 'score', 'latent_distance', 'code_distance'}, default='auto'
        What to differentiate. ``'score'`` (and ``'auto'``) is the anomaly
        score of the detector's ``score_method_``, local outlier factors
        included; ``'latent_distance'`` the paper's score ``mean((z - z_hat)
        ** 2)``; ``'code_distance'`` the distance of the code ``z`` to its
        ``n_neighbors``-th nearest reference code (for score methods that
        read it).

    Returns
    -------
    maps : ndarray of shape (n, H, W)
        Non-negative attributions, float64.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ganomaly import GANomalyDetector
    >>> from sklearn_ganomaly.plotting import attribution_maps
    >>> X = load_digits().images[:100]
    >>> detector = GANomalyDetector(
    ...     width=4, latent_dim=4, n_epochs=1, score_method="latent", random_state=0
    ... ).fit(X)
    >>> attribution_maps(detector, X[:3]).shape
    (3, 8, 8)
    """
    target = resolve_target(detector, target)
    X = check_scoring_input(detector, X)
    if not detector.input_transform_.is_image:
        raise ValueError("Attribution maps need a detector fitted on images.")
    # In float64: z and z_hat of a normal image agree to many digits, and
    # float32 would lose their difference's gradient to cancellation.
    graph = detector_graph(detector, dtype=torch.float64)
    device = graph.offset.device
    maps = []
    for start in range(0, len(X), 256):
        batch = torch.as_tensor(np.asarray(X[start : start + 256]), device=device)
        x = graph.network_input(batch).detach().requires_grad_(True)
        with torch.enable_grad():
            score, latent, parts, _ = graph.read(x)
            if target == "score":
                value = score
            elif target == "latent_distance":
                value = latent
            else:
                value = parts[_knn_position(detector)]
            (gradient,) = torch.autograd.grad(value.sum(), x)
        maps.append(gradient.abs().sum(dim=1).to("cpu", torch.float64).numpy())
    return np.concatenate(maps)
