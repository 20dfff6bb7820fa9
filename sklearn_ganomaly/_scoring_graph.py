"""The scoring graph: one torch module from raw samples to anomaly scores.

:class:`ScoringGraph` holds the fitted input scaling, the generator in
evaluation mode and the fitted read-out (:class:`~sklearn_ganomaly._readout.ReadOut`),
and computes, for a batch of samples in the caller's layout and units, the
normalised anomaly score, the latent distance and the code. Scoring, ONNX
export and attribution maps all run this module, so that they agree by
construction. It runs on the networks' device: the neighbour search is a
chunked matrix product and ``topk`` against buffers of reference codes, so a
GPU scores without a round trip to the host per batch.

:func:`run_batches` feeds it a (possibly memory-mapped) array batch by batch
into preallocated outputs, which keeps memory at the input plus one batch.
:func:`fit_readout` fits the read-out on the training data: latent distances
of every row, codes of the reference rows, leave-one-out statistics, then the
summed score's normalisation.
"""

import copy

import numpy as np
import torch
from torch import nn

from ._device import use_channels_last
from ._neighbours import DTYPE as NEIGHBOUR_DTYPE
from ._neighbours import local_outlier_factor, nearest, prepare
from ._readout import RobustScale, fit_components, reference_subset
from ._scores import SCORE_METHODS

__all__ = [
    "PROGRESS_MIN_SAMPLES",
    "ScoringGraph",
    "detector_graph",
    "fit_readout",
    "run_batches",
    "scoring_graph",
]

#: Rows scored per forward pass; large batches amortise per-call overhead.
MIN_SCORING_BATCH = 256

#: At ``verbose=1``, scoring, encoding and reconstructing more samples than
#: this shows a progress bar (at ``verbose >= 2``, any number does).
PROGRESS_MIN_SAMPLES = 10_000


class ScoringGraph(nn.Module):
    """Samples in the caller's layout -> ``(anomaly score, latent distance, code)``.

    Parameters
    ----------
    transform : InputTransform
        The fitted input layout and scaling.
    generator : Generator
        The generator, in the dtype and on the device to score with; it is
        put in evaluation mode (BatchNorm uses its running statistics).
    readout : ReadOut or None
        The fitted read-out; None computes latent distances and codes only
        (the anomaly score output is then the latent distance).
    channels_last : bool, default=False
        Feed the networks channels-last image tensors.
    """

    def __init__(self, transform, generator, readout=None, channels_last=False):
        super().__init__()
        parameter = next(generator.parameters())
        device = parameter.device
        self.transform = transform
        self.generator = generator.eval()
        self.channels_last = channels_last
        # The offset and scale are removed in float64 when the networks run
        # in float32 (see InputTransform.scale_tensor); ONNX input is float32.
        for name in ("offset", "scale"):
            value = torch.as_tensor(np.asarray(getattr(transform, name), np.float64))
            self.register_buffer(name, value.to(device))
        self.components = () if readout is None else readout.components
        self.centers = [s.center for s in readout.scales] if readout else []
        self.spreads = [s.scale for s in readout.scales] if readout else []
        self.score_center = readout.score.center if readout else 0.0
        self.score_scale = readout.score.scale if readout else 1.0
        self.neighbours = {}  # metric -> largest k any component needs
        self.anchors = {}  # metric -> the anchored cosine's extra coordinate
        self.tolerance = {}  # metric -> distance within which a code is a reference
        for component in self.components:
            if component.kind != "latent":
                k = max(self.neighbours.get(component.metric, 0), component.n_neighbors)
                self.neighbours[component.metric] = k
        for metric in self.neighbours:
            references = _tensor(readout.references, NEIGHBOUR_DTYPE, device)
            self.anchors[metric] = readout.anchors.get(metric)
            self.tolerance[metric] = readout.match_tolerance.get(metric)
            prepared = prepare(references, metric, self.anchors[metric])
            self.register_buffer(f"references_{metric}", prepared)
            # The float32 copy the neighbour search ranks with (derived, not saved).
            self.register_buffer(f"coarse_{metric}", prepared.to(torch.float32), persistent=False)
        for position, (k_distance, density) in (readout.lof_statistics if readout else {}).items():
            self.register_buffer(
                f"k_distance_{position}", _tensor(k_distance, NEIGHBOUR_DTYPE, device)
            )
            self.register_buffer(f"density_{position}", _tensor(density, NEIGHBOUR_DTYPE, device))

    def network_input(self, x):
        """The networks' input for a batch in the caller's layout and units."""
        dtype = next(self.generator.parameters()).dtype
        return self.transform.scale_tensor(
            x, self.offset, self.scale, dtype, channels_last=self.channels_last
        )

    def forward(self, x):
        score, latent, _, z = self.read(self.network_input(x))
        return score, latent, z

    def read(self, x):
        """``(score, latent distance, component values, code)`` of a network input batch."""
        x_hat, z, z_hat = self.generator(x)
        latent = torch.mean((z - z_hat) ** 2, dim=1)
        if not self.components:
            return latent, latent, [], z
        codes = z.to(NEIGHBOUR_DTYPE)
        neighbours = {
            metric: self._nearest(codes, metric, k) for metric, k in self.neighbours.items()
        }
        parts = [
            self._component(position, component, latent, neighbours)
            for position, component in enumerate(self.components)
        ]
        raw = torch.zeros_like(codes[:, 0])
        for value, center, spread in zip(parts, self.centers, self.spreads, strict=True):
            raw = raw + (value - center) / spread
        # A code that is not finite has no neighbours: its score is undefined
        # (NaN), which the estimator reports as an outlier.
        raw = torch.where(torch.isfinite(z).all(dim=1), raw, torch.nan)
        return (raw - self.score_center) / self.score_scale, latent, parts, z

    def _nearest(self, codes, metric, k):
        """The k nearest references of each code, a code's own reference left out."""
        references = getattr(self, f"references_{metric}")
        coarse = getattr(self, f"coarse_{metric}")
        query = prepare(codes, metric, self.anchors[metric])
        tolerance = self.tolerance[metric]
        if tolerance is None:  # a file of format 1: every reference counts
            return nearest(query, references, k, metric, coarse=coarse)
        # One more: a training sample scored again finds itself first, and is
        # compared with the others, as its leave-one-out training score was.
        distances, indices = nearest(query, references, k + 1, metric, coarse=coarse)
        own = distances[:, :1] <= tolerance
        return (
            torch.where(own, distances[:, 1:], distances[:, :-1]),
            torch.where(own, indices[:, 1:], indices[:, :-1]),
        )

    def _component(self, position, component, latent, neighbours):
        if component.kind == "latent":
            return latent.to(NEIGHBOUR_DTYPE)
        distances, indices = neighbours[component.metric]
        k = component.n_neighbors
        if component.kind == "knn":
            return distances[:, k - 1]
        return local_outlier_factor(
            distances[:, :k],
            indices[:, :k],
            getattr(self, f"k_distance_{position}"),
            getattr(self, f"density_{position}"),
        )

    def reconstruct_input(self, x):
        """The reconstruction ``x_hat`` of a batch, in the caller's layout and units."""
        x_hat = self.generator(self.network_input(x))[0]
        return self.transform.unscale_tensor(x_hat, self.offset, self.scale)


def _tensor(values, dtype, device):
    return torch.as_tensor(np.asarray(values), dtype=dtype, device=device)


def scoring_graph(transform, generator, readout=None, *, dtype=None, channels_last=False):
    """A :class:`ScoringGraph` over a copy of ``generator`` in ``dtype`` when it differs.

    Tabular networks score in float64 (so that a sample's score is the same
    to ~1e-12 alone or in any batch); image networks in float32.
    """
    dtype = dtype or (torch.float32 if transform.is_image else torch.float64)
    if next(generator.parameters()).dtype != dtype:
        generator = copy.deepcopy(generator).to(dtype)
    return ScoringGraph(transform, generator, readout, channels_last)


def detector_graph(detector, dtype=None):
    """The scoring graph of a fitted detector, on its device.

    Reads the detector's public fitted attributes only: ``input_transform_``,
    ``net_`` (its generator), ``readout_``, ``device_`` and the
    ``channels_last`` parameter.
    """
    transform = detector.input_transform_
    channels_last = use_channels_last(detector.channels_last, detector.device_, transform.is_image)
    return scoring_graph(
        transform,
        detector.net_.module_,
        detector.readout_,
        dtype=dtype,
        channels_last=channels_last,
    )


def _progress(verbose, total, desc):
    """A tqdm bar over ``total`` samples, or None when it would not show."""
    if not verbose or (verbose < 2 and total <= PROGRESS_MIN_SAMPLES):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="sample", leave=False)


def _device_batch(batch, device):
    batch = np.ascontiguousarray(batch)
    if not batch.flags.writeable:  # torch.from_numpy warns on read-only memory
        batch = batch.copy()
    x = torch.from_numpy(batch)
    if torch.device(device).type == "cuda":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)


def run_batches(
    graph,
    X,
    outputs,
    *,
    batch_size=MIN_SCORING_BATCH,
    rows=None,
    verbose=0,
    desc="Scoring",
    into=None,
):
    """Run ``graph`` over ``X`` (or ``X[rows]``) batch by batch.

    Parameters
    ----------
    graph : ScoringGraph
    X : ndarray or memmap
        Samples in the caller's layout.
    outputs : dict of str to callable
        ``{name: fn(graph, x, (score, latent, z))}``; each ``fn`` returns a
        tensor with one row per sample.
    batch_size : int
        Rows a forward pass (at least :data:`MIN_SCORING_BATCH`).
    rows : ndarray of int or None
        Score these rows only.
    verbose : int
        Show a progress bar (see :data:`PROGRESS_MIN_SAMPLES`).
    desc : str
        The progress bar's label.
    into : dict of str to ndarray or None
        Preallocated arrays for some outputs (large ones: codes,
        reconstructions), filled batch by batch. The other outputs stay on
        the device until the end, so a GPU is not waited on per batch.

    Returns
    -------
    results : dict of str to ndarray
        One float64 array per output.
    """
    device = graph.offset.device
    index = np.arange(len(X)) if rows is None else np.asarray(rows)
    into = dict(into or {})
    # On the CPU every output goes straight into one preallocated array: a
    # list of thousands of small per-batch tensors, each allocated between
    # two large temporary ones (the neighbour search's similarities), kept
    # the allocator from reusing freed memory, and scoring 1,000,000 rows
    # grew the heap by gigabytes.
    lazy = set() if device.type != "cpu" else {n for n in outputs if n not in into}
    step = max(batch_size, MIN_SCORING_BATCH)
    parts = {name: [] for name in outputs if name not in into and name not in lazy}
    bar = _progress(verbose, len(index), desc)
    with torch.inference_mode():
        for start in range(0, len(index), step):
            chunk = index[start : start + step]
            # Contiguous slices read a memmap sequentially.
            batch = X[chunk[0] : chunk[-1] + 1] if rows is None else X[chunk]
            x = _device_batch(batch, device)
            result = graph(x)
            for name, fn in outputs.items():
                value = fn(graph, x, result)
                if name in lazy and name not in into:
                    into[name] = np.empty((len(index), *value.shape[1:]))
                if name in into:
                    into[name][start : start + len(chunk)] = value.to("cpu", torch.float64).numpy()
                else:
                    parts[name].append(value.to(torch.float64))
            if bar is not None:
                bar.update(len(chunk))
    if bar is not None:
        bar.close()
    results = {
        name: torch.cat(values).cpu().numpy() if values else np.empty(0)
        for name, values in parts.items()
    }
    results.update({name: np.empty(0) for name in lazy if name not in into})
    return {**results, **into}


def fit_readout(
    generator,
    transform,
    X,
    method,
    *,
    n_neighbors,
    seed,
    batch_size,
    channels_last=False,
    verbose=0,
):
    """Fit a score method's read-out on the training data ``X``.

    Returns
    -------
    readout : ReadOut
        The fitted read-out, normalisation included.
    training_scores : ndarray of shape (n,)
        Normalised anomaly scores of the training rows, leave-one-out for the
        references of neighbour scores (rows outside a subsampled reference
        set are scored as new data).
    """
    spec = SCORE_METHODS[method]
    plain = scoring_graph(transform, generator, channels_last=channels_last)
    keep = reference_subset(len(X), seed) if spec.needs_references else None
    latent = run_batches(
        plain,
        X,
        {"latent": lambda g, x, out: out[1]},
        batch_size=batch_size,
        verbose=verbose,
        desc="Fitting the read-out",
    )["latent"]
    references = None
    if keep is not None:
        codes = run_batches(
            plain, X, {"z": lambda g, x, out: out[2]}, batch_size=batch_size, rows=keep
        )["z"]
        if not np.all(np.isfinite(codes)):
            raise FloatingPointError(
                "Training produced a model whose latent codes are not finite; lower learning_rate."
            )
        references = codes
    if not np.all(np.isfinite(latent)):
        raise FloatingPointError(
            "Training produced a model whose latent distances are not finite; lower learning_rate."
        )
    readout, raw = fit_components(method, n_neighbors, latent, references, keep)
    missing = np.flatnonzero(np.isnan(raw))
    if missing.size:
        graph = scoring_graph(transform, generator, readout, channels_last=channels_last)
        raw[missing] = run_batches(
            graph, X, {"raw": lambda g, x, out: out[0]}, batch_size=batch_size, rows=missing
        )["raw"]
    readout.score = RobustScale.fit(raw)
    return readout, readout.score(raw)
