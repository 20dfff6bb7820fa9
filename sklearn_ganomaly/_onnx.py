"""Export a fitted detector's scoring to ONNX (needs the ``onnx`` extra).

The exported graph scores samples as :meth:`GANomalyDetector.anomaly_score`
does, in any ONNX runtime, without Python or torch. It takes the caller's
samples as they were given to ``fit`` (same layout, same units, cast to
float32): the scaling fitted at ``fit`` (``(x - offset) * scale``, then
``- 1`` for images), the move of channels-last images to channels-first and
the reshape of flat pixel rows are inside the graph. Then come the generator
in evaluation mode, the raw score (the latent distance
``mean((z - z_hat) ** 2)``, or for ``score_method='latent_knn'`` the cosine
distance to the ``n_neighbors``-th nearest of the stored reference codes, a
matrix product and a top-k) and its normalisation. The batch axis is dynamic;
the other axes are fixed to the training samples' shape, which the runtime
enforces. The LOF scores (``'latent_lof'``, ``'latent_knn_lof'``) are not
exported: they need scikit-learn's neighbour index.
"""

import contextlib
import copy
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ._compat import ONNX_REGISTRATION_LOGGER
from ._files import atomic_path

__all__ = ["EXPORTABLE_SCORES", "export_onnx"]

#: Default ONNX opset; 18 is what torch's exporter targets natively.
OPSET = 18

#: The ``score_method`` values whose scoring the graph can compute.
EXPORTABLE_SCORES = ("latent", "latent_knn")


class _ScoringGraph(nn.Module):
    """Raw samples -> (anomaly score, latent distance), for export."""

    def __init__(self, detector, generator):
        super().__init__()
        transform = detector.input_transform_
        self.generator = generator
        self.is_image = transform.is_image
        self.channels_last = bool(transform.channels_last)
        self.network_shape = tuple(transform.network_shape)
        for name in ("offset", "scale"):
            value = torch.as_tensor(np.asarray(getattr(transform, name), np.float32))
            self.register_buffer(name, value)
        self.center = float(detector.score_center_)
        self.score_scale = float(detector.score_scale_)
        self.knn = detector.score_method_ == "latent_knn"
        if self.knn:
            (part,), (scale,) = detector._code_score.parts_, detector._code_score.scales_
            references = torch.as_tensor(np.asarray(part.reference_, np.float32))
            self.register_buffer("references", _unit_rows(references).T.contiguous())
            self.k = int(part.k_)
            self.knn_center, self.knn_scale = float(scale.center), float(scale.scale)

    def forward(self, x):
        x = (x - self.offset) * self.scale
        if self.is_image:
            x = x - 1.0
            if self.channels_last:
                x = x.permute(0, 3, 1, 2)
            else:
                x = x.reshape(x.shape[0], *self.network_shape)
        _, z, z_hat = self.generator(x)
        distance = torch.mean((z - z_hat) ** 2, dim=1)
        raw = distance
        if self.knn:
            similarity = _unit_rows(z) @ self.references
            nearest = torch.topk(similarity, self.k, dim=1).values[:, -1]
            cosine = torch.clamp(1.0 - nearest, min=0.0)
            raw = (cosine - self.knn_center) / self.knn_scale
        return (raw - self.center) / self.score_scale, distance


def _unit_rows(x):
    """Rows scaled to unit length; zero rows stay zero (as scikit-learn's cosine)."""
    norm = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    return x / torch.where(norm > 0, norm, torch.ones_like(norm))


def _metadata(detector):
    transform = detector.input_transform_
    return {
        "producer": "sklearn-ganomaly",
        "input_sample_shape": json.dumps(list(transform.sample_shape)),
        "score_method": detector.score_method_,
        "score_center": repr(float(detector.score_center_)),
        "score_scale": repr(float(detector.score_scale_)),
        "anomaly_threshold": repr(float(-detector.offset_)),
    }


def export_onnx(detector, path, *, latent_distance=False, opset_version=OPSET):
    """Write the detector's scoring graph to an ONNX file.

    Parameters
    ----------
    detector : GANomalyDetector
        A fitted detector whose ``score_method`` is ``'latent'`` or
        ``'latent_knn'``.
    path : str or path-like
        Destination ``.onnx`` file.
    latent_distance : bool, default=False
        Also output the raw latent distance.
    opset_version : int, default=18
        ONNX opset to target.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        For ``score_method='latent_lof'`` or ``'latent_knn_lof'``, whose local
        outlier factors the graph does not compute.
    """
    if detector.score_method_ not in EXPORTABLE_SCORES:
        raise ValueError(
            f"export_onnx supports score_method in {list(EXPORTABLE_SCORES)}, not "
            f"score_method={detector.score_method_!r}: the local outlier factor needs "
            "scikit-learn's neighbour index. Refit with score_method='latent_knn' or "
            "'latent' to export."
        )
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - depends on the extra
        raise ImportError(
            "Exporting to ONNX needs onnx: pip install 'sklearn-ganomaly[onnx]'"
        ) from error
    path = Path(path)
    graph = _ScoringGraph(detector, _cpu_float_copy(detector.net_.module_)).eval()
    wrapper = graph if latent_distance else _ScoreOnly(graph).eval()
    # Two rows: BatchNorm shape checks and the exporter's tracing want n > 1.
    example = torch.zeros((2, *detector.input_shape_))
    batch = torch.export.Dim("batch", min=1)
    outputs = ["anomaly_score", "latent_distance"] if latent_distance else ["anomaly_score"]
    # Built beside the destination and renamed into place: a failed export
    # never leaves a truncated graph or clobbers an existing one.
    with atomic_path(path) as tmp:
        with _quiet_exporter():
            torch.onnx.export(
                wrapper,
                (example,),
                str(tmp),
                input_names=["input"],
                output_names=outputs,
                dynamic_shapes={"x": {0: batch}},
                opset_version=opset_version,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
        model = onnx.load(str(tmp))
        for key, value in _metadata(detector).items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(model, str(tmp))
    return path


class _ScoreOnly(nn.Module):
    """The scoring graph without its latent-distance output."""

    def __init__(self, scoring):
        super().__init__()
        self.scoring = scoring

    def forward(self, x):
        return self.scoring(x)[0]


def _cpu_float_copy(module):
    module = copy.deepcopy(module).to("cpu", torch.float32)
    # Channels-last weights (a CUDA fit) export as ordinary row-major tensors.
    for parameter in module.parameters():
        parameter.data = parameter.data.contiguous()
    return module.eval()


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's notes that concern torch, not the user's model."""
    # It logs a warning for each torchvision operator it cannot register.
    logger = logging.getLogger(ONNX_REGISTRATION_LOGGER)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)
            yield
    finally:
        logger.setLevel(level)
