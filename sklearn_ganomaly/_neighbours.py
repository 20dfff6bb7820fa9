"""Nearest reference codes and local outlier factors, in torch, in bounded memory.

The neighbour read-outs compare a code with the stored codes of the training
data. Here that is done with matrix products and ``topk`` over chunks of the
reference codes, on whatever device the codes are on, keeping a running
k-best list: memory stays at ``batch * (chunk + k)`` distances however many
references there are, and the same functions run inside the scoring graph
that ONNX export traces. They compute what scikit-learn's brute-force
``NearestNeighbors`` and ``LocalOutlierFactor(novelty=True)`` compute (the
tests compare them to 1e-6 in float64):

- cosine distance ``1 - <u, v> / (|u| |v|)``, clipped to [0, 2], a zero code
  kept at zero length; Euclidean distance from the expansion
  ``|u|^2 - 2 <u, v> + |v|^2``;
- the anchored cosine distance: the cosine distance of the codes with one
  more coordinate, the same for every code (the training codes' median
  length). A plain cosine ignores a code's length, so a sample mapped far out
  along the direction of normal codes would look normal; with the anchor, a
  code much longer or much shorter than the training codes is far from all
  of them, while codes of the usual length compare almost as by their angle;
- the local reachability density of a code with neighbours ``o``,
  ``1 / (mean(max(d(x, o), k_distance(o))) + 1e-10)``, and its local outlier
  factor ``mean(lrd(o)) / lrd(x)``.

Leave-one-out statistics of the references themselves (a reference is never
its own neighbour) mask each row's own index, as scikit-learn's
``kneighbors()`` without arguments does.
"""

import torch

__all__ = [
    "DTYPE",
    "LOF_EPSILON",
    "METRICS",
    "anchor_of",
    "local_outlier_factor",
    "lof_reference_statistics",
    "nearest",
    "prepare",
]

#: Neighbour searches run in float64 whatever the networks' dtype: distances
#: of a code do not depend on the batch it is scored in (float32 matrix
#: products sum in a batch-size-dependent order), and they match
#: scikit-learn's float64 implementations.
DTYPE = torch.float64

METRICS = ("anchored_cosine", "cosine", "euclidean")

#: Added to the mean reachability distance, as scikit-learn does, so that a
#: point among duplicates has a finite density.
LOF_EPSILON = 1e-10

#: References compared per matrix product: as many as a model keeps (20,000
#: at most), so that a batch is one product and one top-k pass, most of the
#: neighbour search's time; about 20 MiB of float32 for a batch of 256 codes.
CHUNK = 20_000

#: The search ranks the references in float32 (twice as fast as float64) and
#: keeps this many more than the ``k`` asked for; their distances are then
#: computed in float64 and the ``k`` nearest kept. A true neighbour is lost
#: only if more than this many references lie within float32 rounding
#: (about 1e-7 relative) of it, and then its stand-in is as near to 1e-7.
CANDIDATE_MARGIN = 4


def prepare(codes, metric, anchor=None):
    """Codes as the distance computation wants them.

    Unit rows for the cosine; for the anchored cosine, unit rows of the codes
    with ``anchor`` appended as a last coordinate (see :func:`anchor_of`).
    """
    if metric == "anchored_cosine":
        column = torch.full_like(codes[:, :1], float(anchor))
        codes = torch.cat([codes, column], dim=1)
    if metric in ("cosine", "anchored_cosine"):
        norm = torch.linalg.vector_norm(codes, dim=1, keepdim=True)
        return codes / torch.where(norm > 0, norm, torch.ones_like(norm))
    return codes


def anchor_of(references):
    """The anchored cosine's extra coordinate: the references' median length (1 if zero)."""
    # quantile, not median: torch's median of an even count is the lower middle value.
    length = float(torch.quantile(torch.linalg.vector_norm(references, dim=1), 0.5))
    return length if length > 0 else 1.0


def _closeness(query, references, metric):
    """A quantity that falls as the distance grows, for each query and reference row.

    The inner product for the cosines (the distance is one minus it) and
    ``2 <u, v> - |v|^2`` for the Euclidean distance (its square is ``|u|^2``
    minus it): the nearest references are the top-k of this matrix, and only
    those k values per row are turned into distances, rather than every
    entry of the matrix.
    """
    closeness = query @ references.T
    if metric == "euclidean":
        closeness.mul_(2.0).sub_((references * references).sum(dim=1))
    return closeness


def _as_distances(closeness, query, metric):
    """Distances from the values :func:`_closeness` gave."""
    if metric in ("cosine", "anchored_cosine"):
        return torch.clamp(1.0 - closeness, min=0.0, max=2.0)
    squared = (query * query).sum(dim=1, keepdim=True) - closeness
    return torch.sqrt(torch.clamp(squared, min=0.0))


def nearest(query, references, k, metric, *, self_offset=None, chunk=CHUNK, coarse=None):
    """The ``k`` nearest references of each query row, nearest first.

    Parameters
    ----------
    query : tensor of shape (b, d)
        Prepared query codes (see :func:`prepare`).
    references : tensor of shape (m, d)
        Prepared reference codes; ``k <= m`` (``k < m`` with ``self_offset``).
    k : int
        Neighbours wanted.
    metric : {'cosine', 'euclidean'}
    self_offset : int or None
        When the query rows are references ``self_offset .. self_offset + b``
        themselves: each row's own index is left out (leave-one-out).
    chunk : int
        References compared per matrix product; memory is about ``b * chunk``.
    coarse : tensor of shape (m, d) or None
        ``references`` in float32, for the ranking pass (converted here if
        None; a caller scoring many batches keeps one copy).

    Returns
    -------
    distances : tensor of shape (b, k)
        Ascending.
    indices : tensor of shape (b, k), int64
        Rows of ``references``.
    """
    if coarse is None:
        coarse = references.to(torch.float32)
    wanted = min(k + CANDIDATE_MARGIN, references.shape[0])
    candidates = _rank(query.to(torch.float32), coarse, wanted, metric, self_offset, chunk)
    # The candidates' distances in float64: exact, whatever the batch.
    rows = references[candidates]
    closeness = torch.matmul(rows, query.unsqueeze(-1)).squeeze(-1)
    if metric == "euclidean":
        closeness = 2.0 * closeness - (rows * rows).sum(dim=-1)
    if self_offset is not None:
        own = torch.arange(query.shape[0], device=query.device) + self_offset
        closeness = torch.where(candidates == own.unsqueeze(1), -torch.inf, closeness)
    values, where = torch.topk(closeness, k, dim=1)
    return _as_distances(values, query, metric), torch.gather(candidates, 1, where)


def _rank(query, references, k, metric, self_offset, chunk):
    """Indices of the ``k`` references nearest each query row, by float32 closeness."""
    rows = torch.arange(query.shape[0], device=query.device)
    candidates, positions = [], []
    for start in range(0, references.shape[0], chunk):
        closeness = _closeness(query, references[start : start + chunk], metric)
        if self_offset is not None:
            own = rows + (self_offset - start)
            hit = (own >= 0) & (own < closeness.shape[1])
            closeness[rows[hit], own[hit]] = -torch.inf
        # Each chunk's own k best, then the best of those; unsorted, since
        # only the set matters here (the exact pass sorts).
        values, where = torch.topk(closeness, min(k, closeness.shape[1]), dim=1, sorted=False)
        candidates.append(values)
        positions.append(where + start)
    if len(positions) == 1:
        return positions[0]
    _, where = torch.topk(torch.cat(candidates, dim=1), k, dim=1, sorted=False)
    return torch.gather(torch.cat(positions, dim=1), 1, where)


def _reachability_density(distances, indices, k_distance):
    reach = torch.maximum(distances, k_distance[indices])
    return 1.0 / (reach.mean(dim=1) + LOF_EPSILON)


def lof_reference_statistics(distances, indices):
    """k-distances and local reachability densities of the references.

    Parameters
    ----------
    distances, indices : tensors of shape (m, k)
        Each reference's k nearest other references (leave-one-out).

    Returns
    -------
    k_distance, density : tensors of shape (m,)
        The distance to each reference's k-th neighbour, and its local
        reachability density.
    """
    k_distance = distances[:, -1]
    return k_distance, _reachability_density(distances, indices, k_distance)


def local_outlier_factor(distances, indices, k_distance, density):
    """Local outlier factors of codes whose k nearest references are given.

    Parameters
    ----------
    distances, indices : tensors of shape (b, k)
        The codes' k nearest references.
    k_distance, density : tensors of shape (m,)
        From :func:`lof_reference_statistics`.
    """
    own = _reachability_density(distances, indices, k_distance)
    return density[indices].mean(dim=1) / own
