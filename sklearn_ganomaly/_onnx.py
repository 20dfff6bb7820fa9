"""Export a fitted detector's scoring to ONNX (needs the ``onnx`` extra).

The exported graph is the generator in evaluation mode followed by the latent
distance ``A(x) = mean((z - z_hat) ** 2)`` and its normalisation, so a model can
score in any ONNX runtime without Python or torch. It takes the networks'
input, not the caller's: a float32 batch of shape ``(batch, C, H, W)`` scaled to
``[-1, 1]`` for images, or ``(batch, d)`` standardised for tables, i.e. what
``detector.input_transform_`` produces. :func:`onnx_input` prepares such a
batch in Python, and the scaling (``network_input = (x - offset) * scale``,
then ``- 1`` for images) is also stored in the model's metadata for runtimes
elsewhere. The batch axis is dynamic.
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

from ._checks import check_scoring_input
from ._compat import ONNX_REGISTRATION_LOGGER
from ._files import atomic_path

__all__ = ["export_onnx", "onnx_input"]

#: Default ONNX opset; 18 is what torch's exporter targets natively.
OPSET = 18


class _LatentDistance(nn.Module):
    """Generator -> (latent distance, anomaly score), for export."""

    def __init__(self, generator, center, scale):
        super().__init__()
        self.generator = generator
        self.center = center
        self.scale = scale

    def forward(self, x):
        _, z, z_hat = self.generator(x)
        distance = torch.mean((z - z_hat) ** 2, dim=1)
        return distance, (distance - self.center) / self.scale


def onnx_input(detector, X):
    """Map samples in the caller's layout to the exported graph's input.

    Parameters
    ----------
    detector : GANomalyDetector
        The fitted detector that was exported.
    X : array-like
        Samples in the layout used at fit.

    Returns
    -------
    x : ndarray of dtype float32
        ``(n, C, H, W)`` in ``[-1, 1]`` for images, ``(n, d)`` standardised
        for tables: the input named ``"input"`` of the exported model.
    """
    X = check_scoring_input(detector, X)
    x = detector.input_transform_.to_network(X, "cpu", torch.float32)
    return x.contiguous().numpy()


def _metadata(detector):
    transform = detector.input_transform_
    return {
        "producer": "sklearn-ganomaly",
        "input_layout": "NCHW" if transform.is_image else "ND",
        "input_network_shape": json.dumps(list(transform.network_shape)),
        "input_sample_shape": json.dumps(list(transform.sample_shape)),
        "input_channels_last": json.dumps(bool(transform.channels_last)),
        "input_offset": json.dumps(np.asarray(transform.offset, float).tolist()),
        "input_scale": json.dumps(np.asarray(transform.scale, float).tolist()),
        "input_minus_one": json.dumps(bool(transform.is_image)),
        "score_center": repr(float(detector.score_center_)),
        "score_scale": repr(float(detector.score_scale_)),
        "anomaly_threshold": repr(float(-detector.offset_)),
    }


def export_onnx(detector, path, *, opset_version=OPSET):
    """Write the detector's scoring graph to an ONNX file.

    Parameters
    ----------
    detector : GANomalyDetector
        A fitted detector.
    path : str or path-like
        Destination ``.onnx`` file.
    opset_version : int, default=18
        ONNX opset to target.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Notes
    -----
    The model has one input, ``"input"``: a float32 batch in the networks'
    layout (see :func:`onnx_input`; the caller must apply
    ``detector.input_transform_``'s scaling, whose values are also in the
    model's metadata as ``input_offset``, ``input_scale`` and
    ``input_minus_one``). It has two outputs of shape ``(batch,)``:
    ``"latent_distance"`` (``detector.latent_distance``) and
    ``"anomaly_score"`` (``detector.anomaly_score``); a sample is an outlier
    when its anomaly score exceeds the ``anomaly_threshold`` metadata value
    (``-detector.offset_``). The graph computes in float32, whereas the
    estimator scores tabular data in float64: expect agreement to ~1e-5
    relative.
    """
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - depends on the extra
        raise ImportError(
            "Exporting to ONNX needs onnx: pip install 'sklearn-ganomaly[onnx]'"
        ) from error
    path = Path(path)
    generator = _cpu_float_copy(detector.net_.module_)
    wrapper = _LatentDistance(
        generator, float(detector.score_center_), float(detector.score_scale_)
    ).eval()
    # Two rows: BatchNorm shape checks and the exporter's tracing want n > 1.
    example = torch.zeros((2, *detector.input_transform_.network_shape))
    batch = torch.export.Dim("batch", min=1)
    # Built beside the destination and renamed into place: a failed export
    # never leaves a truncated graph or clobbers an existing one.
    with atomic_path(path) as tmp:
        with _quiet_exporter():
            torch.onnx.export(
                wrapper,
                (example,),
                str(tmp),
                input_names=["input"],
                output_names=["latent_distance", "anomaly_score"],
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
