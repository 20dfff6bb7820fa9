"""Export a fitted detector's scoring to ONNX (needs the ``onnx`` extra).

The exported graph is the detector's scoring graph
(:class:`~sklearn_ganomaly._scoring_graph.ScoringGraph`, the module
``anomaly_score`` runs), traced on the CPU in float32: it takes the caller's
samples as they were given to ``fit`` (same layout, same units, cast to
float32) and computes the fitted scaling, the generator in evaluation mode,
the read-out of ``score_method_`` (the latent distance, the neighbour
searches against the stored reference codes as matrix products and ``topk``,
the local outlier factors from the stored reference statistics) and the
score's normalisation. The batch axis is dynamic; the other axes are fixed to
the training samples' shape, which the runtime enforces.
"""

import contextlib
import copy
import json
import logging
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from ._compat import ONNX_REGISTRATION_LOGGER
from ._files import atomic_path
from ._scores import SCORE_METHODS
from ._scoring_graph import scoring_graph

__all__ = ["export_onnx"]

#: Default ONNX opset; 18 is what torch's exporter targets natively.
OPSET = 18


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
        A fitted detector.
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
        For a score method that the registry marks as not exportable.
    """
    if not os.fspath(path):
        raise ValueError("export_onnx needs a file path; got an empty one.")
    if not SCORE_METHODS[detector.score_method_].exportable:
        raise ValueError(
            f"export_onnx cannot export score_method={detector.score_method_!r}; refit "
            "with another score_method to export."
        )
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - depends on the extra
        raise ImportError(
            "Exporting to ONNX needs onnx: pip install 'sklearn-ganomaly[onnx]'"
        ) from error
    path = Path(path)
    graph = scoring_graph(
        detector.input_transform_,
        _cpu_float_copy(detector.net_.module_),
        detector.readout_,
        dtype=torch.float32,
    ).eval()
    wrapper = _Outputs(graph, latent_distance).eval()
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


class _Outputs(nn.Module):
    """The scoring graph's anomaly score, and its latent distance if asked for."""

    def __init__(self, graph, latent_distance):
        super().__init__()
        # Not "graph": torch.fx's GraphModule, which export builds, owns that name.
        self.scoring, self.latent_distance = graph, latent_distance

    def forward(self, x):
        score, latent, _ = self.scoring(x)
        return (score, latent) if self.latent_distance else score


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
