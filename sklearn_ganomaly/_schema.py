"""The schema a model file must meet before :func:`sklearn_ganomaly.load` rebuilds it.

A model file is a dict of tensors plus JSON metadata. ``torch.load`` with
``weights_only=True`` guarantees that reading it runs no code; this module
guarantees that what was read makes sense before any of it is used: each
metadata field has the right type and a finite, plausible value, the shapes
agree with one another, every weight tensor has the shape the networks
expect, and every stored statistic and weight is finite. A file that fails
raises a ``ValueError`` naming the first field at fault, instead of loading
and then failing (or scoring NaN) later.
"""

import math
from numbers import Integral, Real

import torch

from ._compat import validate_params
from ._estimator_checks import check_image_shape
from ._inputs import image_layout
from ._neighbours import METRICS
from ._scores import COMPONENT_KINDS, SCORE_METHODS
from .networks import build_networks

__all__ = ["MAX_METADATA_DEPTH", "check_nesting", "validate_model"]

#: Deepest nesting of JSON objects and lists the metadata may have. The format
#: nests three deep (params, image_shape); deeper is damage or an attack on
#: the recursive code that reads it.
MAX_METADATA_DEPTH = 8


class _Invalid(ValueError):
    pass


def _fail(field, problem):
    raise _Invalid(f"field {field!r} {problem}")


def _int(metadata, field, minimum=1):
    value = metadata.get(field)
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        _fail(field, f"must be an integer of at least {minimum}, not {value!r}")
    return int(value)


def _float(metadata, field, positive=False):
    value = metadata.get(field)
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
        _fail(field, f"must be a finite number, not {value!r}")
    if positive and value <= 0:
        _fail(field, f"must be positive, not {value!r}")
    return float(value)


def _shape(value, field, lengths):
    valid = (
        isinstance(value, list)
        and len(value) in lengths
        and all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in value)
    )
    if not valid:
        _fail(field, f"must be a list of {' or '.join(map(str, lengths))} positive integers")
    return tuple(value)


def _check_params(metadata, estimator):
    params = metadata.get("params")
    if not isinstance(params, dict):
        _fail("params", "must be a JSON object")
    if params.get("callbacks") is not None:
        _fail("params.callbacks", "must be null: callbacks are code and are never stored")
    try:
        detector = estimator(**params)
        validate_params(detector)
        if detector.image_shape is not None:
            check_image_shape(tuple(detector.image_shape))
    except (TypeError, ValueError) as error:
        _fail("params", f"holds an invalid parameter ({error})")
    return params


def _check_layout(metadata, params):
    spec = metadata.get("input_transform")
    if not isinstance(spec, dict):
        _fail("input_transform", "must be a JSON object")
    sample_shape = _shape(spec.get("sample_shape"), "input_transform.sample_shape", (1, 2, 3))
    network_shape = _shape(spec.get("network_shape"), "input_transform.network_shape", (1, 3))
    if not isinstance(spec.get("channels_last"), bool):
        _fail("input_transform.channels_last", "must be true or false")
    if "network" in metadata:
        # The layout the networks were fitted with; params.image_shape may
        # have been changed since, as set_params allows.
        image_shape, source = (network_shape if len(network_shape) == 3 else None), "network"
    else:
        image_shape, source = params.get("image_shape"), "params.image_shape"
    try:
        expected = image_layout(sample_shape, image_shape)
    except ValueError as error:
        _fail("input_transform.sample_shape", f"does not fit {source} ({error})")
    if expected != (network_shape, spec["channels_last"]):
        _fail(
            "input_transform.network_shape",
            f"is {list(network_shape)} with channels_last={spec['channels_last']}, but "
            f"samples of shape {list(sample_shape)} give {list(expected[0])} with "
            f"channels_last={expected[1]}",
        )
    if _shape(metadata.get("input_shape_"), "input_shape_", (1, 2, 3)) != sample_shape:
        _fail("input_shape_", f"differs from input_transform.sample_shape {list(sample_shape)}")
    if _int(metadata, "n_features_in_") != sample_shape[0]:
        _fail("n_features_in_", f"must equal the first sample axis, {sample_shape[0]}")
    return network_shape


def _check_metadata(metadata, estimator):
    params = _check_params(metadata, estimator)
    network_shape = _check_layout(metadata, params)
    latent_dim = _int(metadata, "latent_dim_")
    width = _check_network(metadata, params, network_shape, latent_dim)
    best_epoch = _int(metadata, "best_epoch_")
    _float(metadata, "score_center_")
    _float(metadata, "score_scale_", positive=True)
    _float(metadata, "offset_")
    if not isinstance(metadata.get("device_"), str):
        _fail("device_", "must be a string")
    history = metadata.get("history")
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        _fail("history", "must be a list of JSON objects")
    if history and best_epoch > len(history):
        _fail("best_epoch_", f"is {best_epoch}, after the last epoch, {len(history)}")
    names = metadata.get("feature_names_in_")
    if names is not None and (
        not isinstance(names, list)
        or len(names) != metadata["n_features_in_"]
        or not all(isinstance(n, str) for n in names)
    ):
        _fail("feature_names_in_", "must list one string per feature")
    return params, network_shape, latent_dim, width


def _check_network(metadata, params, network_shape, latent_dim):
    """The width the networks were built with; files of version 1 kept it in params."""
    network = metadata.get("network")
    if network is None:
        if params.get("latent_dim", "auto") not in ("auto", latent_dim):
            _fail("latent_dim_", f"differs from params.latent_dim, {params['latent_dim']!r}")
        return params["width"]
    if not isinstance(network, dict):
        _fail("network", "must be a JSON object")
    if _shape(network.get("shape"), "network.shape", (1, 3)) != network_shape:
        _fail("network.shape", f"differs from input_transform.network_shape {list(network_shape)}")
    if _int(network, "latent_dim") != latent_dim:
        _fail("network.latent_dim", f"differs from latent_dim_, {latent_dim}")
    return _int(network, "width")


def _expected_weights(width, network_shape, latent_dim):
    with torch.device("meta"):
        generator, discriminator = build_networks(network_shape, latent_dim, width)
    shapes = {}
    for prefix, module in (("generator", generator), ("discriminator", discriminator)):
        for key, value in module.state_dict().items():
            shapes[f"{prefix}.{key}"] = tuple(value.shape)
    return shapes


def _check_tensor(key, tensor):
    if not isinstance(tensor, torch.Tensor):
        _fail(f"tensors.{key}", f"must be a tensor, not {type(tensor).__name__}")
    if tensor.layout != torch.strided or tensor.is_quantized or tensor.is_nested:
        # Sparse, quantized and nested tensors fail deep inside torch when used.
        _fail(f"tensors.{key}", f"must be a dense tensor, not a {tensor.layout} one")
    if tensor.is_complex():
        _fail(f"tensors.{key}", f"must hold real numbers, not {tensor.dtype}")
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        _fail(f"tensors.{key}", "holds NaN or infinite values")


def _check_tensors(tensors, width, network_shape, latent_dim):
    if not isinstance(tensors, dict) or not all(isinstance(k, str) for k in tensors):
        _fail("tensors", "must map names to tensors")
    for key, tensor in tensors.items():
        _check_tensor(key, tensor)
    expected = _expected_weights(width, network_shape, latent_dim)
    stored = {k for k in tensors if k.startswith(("generator.", "discriminator."))}
    missing, extra = sorted(set(expected) - stored), sorted(stored - set(expected))
    if missing or extra:
        key = (missing or extra)[0]
        _fail(f"tensors.{key}", "is missing" if missing else "does not belong to the networks")
    for key, shape in expected.items():
        if tuple(tensors[key].shape) != shape:
            _fail(f"tensors.{key}", f"has shape {tuple(tensors[key].shape)}, not {shape}")
    n_offsets = 1 if len(network_shape) == 3 else network_shape[0]
    for name in ("offset", "scale"):
        key = f"input_transform.{name}"
        tensor = tensors.get(key)
        if tensor is None or tensor.numel() != n_offsets or not tensor.is_floating_point():
            _fail(f"tensors.{key}", f"must hold {n_offsets} float value(s)")
    if not bool((tensors["input_transform.scale"] > 0).all()):
        _fail("tensors.input_transform.scale", "must be positive")


def format1_score_method(score_method, is_image):
    """The score a file of format 1 was fitted with: ``'auto'`` as that format resolved it."""
    if score_method == "auto":
        score_method = "latent_knn_lof" if is_image else "latent"
    return SCORE_METHODS[score_method]


def _check_references(tensors, latent_dim, least, why):
    codes = tensors.get("reference_codes")
    if codes is None or codes.dim() != 2 or codes.shape[0] < least or codes.shape[1] != latent_dim:
        _fail(
            "tensors.reference_codes",
            f"must hold at least {least} codes of {latent_dim} numbers {why}",
        )
    return codes.shape[0]


def _check_readout(metadata, tensors, params, network_shape, latent_dim):
    readout = metadata.get("readout")
    if readout is None:
        # Version 1: the read-out is rebuilt from the reference codes at load.
        method = format1_score_method(
            params.get("score_method", "latent"), len(network_shape) == 3
        )
        if method.needs_references:
            _check_references(tensors, latent_dim, 2, f"for score_method={method.name!r}")
        return
    if not isinstance(readout, dict) or readout.get("method") not in SCORE_METHODS:
        _fail("readout.method", f"must be one of {sorted(SCORE_METHODS)}")
    tolerance = readout.get("match_tolerance", {})
    valid = isinstance(tolerance, dict) and all(
        metric in METRICS
        and isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
        for metric, value in tolerance.items()
    )
    if not valid:
        _fail("readout.match_tolerance", "must map metrics to finite non-negative numbers")
    components = readout.get("components")
    if not isinstance(components, list) or not components:
        _fail("readout.components", "must be a non-empty list")
    n_references = None
    for i, entry in enumerate(components):
        field = f"readout.components[{i}]"
        if not isinstance(entry, dict) or entry.get("kind") not in COMPONENT_KINDS:
            _fail(f"{field}.kind", f"must be one of {list(COMPONENT_KINDS)}")
        for name in ("center", "scale"):
            value = entry.get(name)
            valid = isinstance(value, Real) and not isinstance(value, bool)
            if not (valid and math.isfinite(value) and (name == "center" or value > 0)):
                _fail(
                    f"{field}.{name}", f"must be a finite{' positive' * (name == 'scale')} number"
                )
        if entry["kind"] == "latent":
            continue
        if entry.get("metric") not in METRICS:
            _fail(f"{field}.metric", f"must be one of {list(METRICS)}")
        if entry["metric"] == "anchored_cosine":
            anchors = readout.get("anchors")
            anchor = anchors.get("anchored_cosine") if isinstance(anchors, dict) else None
            valid = isinstance(anchor, Real) and not isinstance(anchor, bool)
            if not (valid and math.isfinite(anchor) and anchor > 0):
                _fail("readout.anchors.anchored_cosine", "must be a finite positive number")
        if n_references is None:
            n_references = _check_references(tensors, latent_dim, 2, "for neighbour scores")
        k = entry.get("n_neighbors")
        if not isinstance(k, Integral) or isinstance(k, bool) or not 1 <= k < n_references:
            _fail(f"{field}.n_neighbors", f"must be an integer from 1 to {n_references - 1}")
        if entry["kind"] == "lof":
            for name in ("k_distance", "density"):
                key = f"readout.lof{i}.{name}"
                tensor = tensors.get(key)
                if tensor is None or tuple(tensor.shape) != (n_references,):
                    _fail(f"tensors.{key}", f"must hold {n_references} values")
                if not bool((tensor >= 0).all()):
                    _fail(f"tensors.{key}", "must not be negative")


def _depth_over(value, limit):
    """Whether JSON ``value`` nests objects and lists more than ``limit`` deep."""
    stack = [(value, 1)]
    while stack:  # iterative: the value may be nested deeper than Python recurses
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def check_nesting(path, metadata):
    """Raise a ValueError naming ``path`` if its metadata nests deeper than the format does.

    Run before anything else reads the metadata: formatting or validating a
    value nested a thousand deep would exhaust Python's recursion limit.
    """
    if _depth_over(metadata, MAX_METADATA_DEPTH):
        raise ValueError(
            f"{path} is not a valid sklearn-ganomaly model: its metadata nests objects "
            f"or lists more than {MAX_METADATA_DEPTH} deep. The file is damaged or was "
            "edited."
        )


def validate_model(path, metadata, tensors, estimator):
    """Raise a ValueError naming the first field of the model file that is invalid.

    Parameters
    ----------
    path : path-like
        The file, for the message.
    metadata : dict
        Its decoded JSON metadata (format and version already checked).
    tensors : dict
        Its tensors.
    estimator : type
        The estimator class the parameters are for; they must construct it
        and pass its parameter constraints.
    """
    try:
        params, network_shape, latent_dim, width = _check_metadata(metadata, estimator)
        _check_tensors(tensors, width, network_shape, latent_dim)
        _check_readout(metadata, tensors, params, network_shape, latent_dim)
    except _Invalid as error:
        raise ValueError(
            f"{path} is not a valid sklearn-ganomaly model: {error}. The file is damaged "
            "or was edited."
        ) from None
