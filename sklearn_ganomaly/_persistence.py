"""Save and load fitted detectors as tensors plus JSON metadata, never pickled code.

A pickle runs code when it is loaded, so a pickled model is unsafe to accept
from someone else. :func:`save_detector` writes one file with
``torch.save`` holding only a dict of tensors and a JSON string: the network
weights, the input scaling, and the metadata needed to rebuild the detector
(parameters, input shape, score normalisation, threshold, format and package
versions). :func:`read_model` reads it back with
``torch.load(weights_only=True)``, which refuses anything but tensors and plain
containers, maps the tensors to the CPU (or a chosen device), checks the
result against the schema and hands back its parts as a :class:`SavedModel`.
Pickle and joblib round-trips of the estimator keep working independently of
this format.

This module only writes, reads and checks files: it knows the detector by its
public attributes and never imports it. :func:`sklearn_ganomaly.load`, beside
the estimator, turns a :class:`SavedModel` back into a fitted detector with the
same code that ``fit`` builds the networks with.
"""

import io
import json
import os
import pickle
import zipfile
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.base import BaseEstimator

from ._files import write_bytes_atomic
from ._inputs import InputTransform
from ._readout import ReadOut, RobustScale, fit_components
from ._schema import check_nesting, format1_score_method, validate_model
from ._version import __version__
from .networks import network_width

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SavedModel",
    "inconsistent_model",
    "read_model",
    "save_detector",
]

#: Marker identifying the files this module writes.
FORMAT_NAME = "sklearn-ganomaly"
#: Version of the file layout; bump it when the layout changes incompatibly.
#: 2 stores the networks' sizes and the fitted read-out; files of version 1
#: are still read (their read-out is rebuilt from the reference codes).
FORMAT_VERSION = 2
#: The versions this package reads.
READABLE_VERSIONS = (1, 2)

_SCORE_FLOATS = ("score_center_", "score_scale_")
_FITTED_FLOATS = ("offset_",)
_FITTED_INTS = ("latent_dim_", "best_epoch_", "n_features_in_")


def _json_params(detector):
    """The constructor parameters as JSON values (unserialisable ones dropped)."""
    params = detector.get_params(deep=False)
    # Callbacks are arbitrary objects (code): they are not stored; a
    # RandomState instance cannot be stored either, and only matters for refits.
    params["callbacks"] = None
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None
    params["device"] = str(params["device"])
    if params["image_shape"] is not None:
        params["image_shape"] = [int(s) for s in params["image_shape"]]
    return params


def _json_history(detector):
    """The per-epoch history rows, keeping only JSON scalar values."""
    scalar = (bool, int, float, str, type(None))
    return [
        {k: v for k, v in row.items() if isinstance(v, scalar)} for row in detector.net_.history_
    ]


def _metadata(detector):
    transform = detector.input_transform_
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "estimator": type(detector).__name__,
        "params": _json_params(detector),
        "input_transform": {
            "sample_shape": list(transform.sample_shape),
            "network_shape": list(transform.network_shape),
            "channels_last": bool(transform.channels_last),
        },
        "input_shape_": list(detector.input_shape_),
        "device_": str(detector.device_),
        "history": _json_history(detector),
        # What the networks were built with, which later set_params calls
        # may no longer say.
        "network": {
            "shape": list(transform.network_shape),
            "latent_dim": int(detector.latent_dim_),
            "width": network_width(detector.net_.module_),
        },
        "readout": detector.readout_.to_saved()[0],
    }
    metadata.update({name: float(getattr(detector, name)) for name in _SCORE_FLOATS})
    metadata.update({name: float(getattr(detector, name)) for name in _FITTED_FLOATS})
    metadata.update({name: int(getattr(detector, name)) for name in _FITTED_INTS})
    if hasattr(detector, "feature_names_in_"):
        metadata["feature_names_in_"] = [str(f) for f in detector.feature_names_in_]
    return metadata


def _tensors(detector):
    tensors = {}
    for prefix, module in (
        ("generator", detector.net_.module_),
        ("discriminator", detector.net_.discriminator_),
    ):
        for key, value in module.state_dict().items():
            # contiguous(): channels-last weights save as plain row-major tensors.
            tensors[f"{prefix}.{key}"] = value.detach().contiguous()
    transform = detector.input_transform_
    tensors["input_transform.offset"] = torch.as_tensor(np.asarray(transform.offset, np.float64))
    tensors["input_transform.scale"] = torch.as_tensor(np.asarray(transform.scale, np.float64))
    readout = detector.readout_
    if readout.references is not None:
        tensors["reference_codes"] = torch.as_tensor(readout.references)
    tensors.update(readout.to_saved()[1])
    return tensors


def save_detector(detector: BaseEstimator, path: str | PathLike[str]) -> Path:
    """Write a fitted detector to ``path`` without pickling any code.

    Parameters
    ----------
    detector : GANomalyDetector
        A fitted detector.
    path : str or path-like
        Destination file (conventionally ``.pt``).

    Returns
    -------
    path : pathlib.Path
        The file written.

    Notes
    -----
    Callbacks are not stored (they are code); a ``random_state`` given as a
    ``RandomState`` instance is stored as None. Optimizer states are not
    stored: a loaded detector scores, ``fit`` retrains it from scratch, and
    ``fit`` with ``warm_start=True`` trains on from the saved weights with
    fresh optimizer states.
    """
    if isinstance(path, (str, PathLike)) and not os.fspath(path):
        # Path("") is the current folder, which torch would fail to write deep inside.
        raise ValueError("save needs a file name; the path given is empty.")
    path = Path(path)
    payload = {
        "metadata": json.dumps(_metadata(detector)),
        "tensors": _tensors(detector),
    }
    # Serialised in memory: torch turns a failed write of its own (a full
    # disk) into an opaque RuntimeError, Python's write names the cause.
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    # Written beside the destination and renamed into place: a failure (full
    # disk, Ctrl-C) never leaves a truncated model or clobbers an existing one.
    write_bytes_atomic(path, buffer.getbuffer())
    return path


def _is_zipfile(path):
    # zipfile.is_zipfile lets some damaged end records raise (BadZipFile:
    # "zipfiles that span multiple disks are not supported").
    try:
        return zipfile.is_zipfile(path)
    except zipfile.BadZipFile:
        return False


def _read_payload(path, map_location, estimator):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file not found: {path}")
    if not _is_zipfile(path):
        # torch.save writes a zip archive, whose directory sits at its end: a file
        # that starts like a zip but has no directory was cut short.
        with open(path, "rb") as file:
            starts_like_zip = file.read(4) == b"PK\x03\x04"
        if starts_like_zip:
            raise ValueError(f"{path} is truncated or corrupt: the model file is incomplete.")
        raise ValueError(f"{path} is not a sklearn-ganomaly model file.")
    _check_archive(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{path} is not a sklearn-ganomaly model file: it holds Python objects "
            f"that a safe load refuses ({error})."
        ) from None
    except Exception as error:  # torch raises RuntimeError and others for bad archives
        raise ValueError(
            f"{path} is truncated or corrupt and cannot be read as a model file "
            f"({type(error).__name__}: {error})."
        ) from None
    return _check_payload(path, payload, estimator)


def _check_archive(path):
    """Refuse a model file whose records fail the CRC-32 checks the archive stores.

    torch.load does not check them: a flipped bit in a weight would load and
    change the scores. Reading every record through zipfile checks each.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except Exception as error:  # zipfile raises many types for a damaged directory
        raise ValueError(
            f"{path} is damaged and cannot be read as a model file "
            f"({type(error).__name__}: {error})."
        ) from None
    if damaged is not None:
        raise ValueError(
            f"{path} is damaged: its record {damaged!r} fails its CRC-32 check, so the "
            "bytes differ from those written. Use an intact copy of the model file."
        )


def _check_payload(path, payload, estimator):
    not_ours = ValueError(f"{path} is not a sklearn-ganomaly model file.")
    if not isinstance(payload, dict) or not {"metadata", "tensors"} <= set(payload):
        raise not_ours
    try:
        metadata = json.loads(payload["metadata"])
    except RecursionError:
        raise ValueError(
            f"{path} is not a valid sklearn-ganomaly model: its metadata is nested too "
            "deeply to read. The file is damaged or was edited."
        ) from None
    except (TypeError, ValueError):
        raise not_ours from None
    check_nesting(path, metadata)
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise not_ours
    version = metadata.get("format_version")
    if version not in READABLE_VERSIONS:
        raise ValueError(
            f"{path} has model format version {version!r}, which sklearn-ganomaly "
            f"{__version__} cannot read (it reads versions {list(READABLE_VERSIONS)}); it was "
            f"written by sklearn-ganomaly {metadata.get('package_version', '?')}."
        )
    validate_model(path, metadata, payload["tensors"], estimator)
    return metadata, payload["tensors"]


class SavedModel(NamedTuple):
    """The parts of a model file that passed the schema, ready to be put back.

    Attributes
    ----------
    params : dict
        The detector's constructor parameters.
    attributes : dict
        Its fitted attributes by name (``input_transform_``, ``input_shape_``,
        ``readout_``, ``offset_``, ...), as ``fit`` sets them.
    network : dict
        The networks' ``shape``, ``latent_dim`` and ``width``.
    weights : dict
        The state dict of each network, under ``"generator"`` and
        ``"discriminator"``.
    history : list of dict
        The per-epoch history rows.
    """

    params: dict[str, Any]
    attributes: dict[str, Any]
    network: dict[str, Any]
    weights: dict[str, dict[str, torch.Tensor]]
    history: list[dict[str, Any]]


def inconsistent_model(path, error):
    """The ValueError for a file whose parts passed the schema but do not fit together."""
    return ValueError(
        f"{path} is an inconsistent sklearn-ganomaly model file ({type(error).__name__}: {error})."
    )


def _module_state(tensors, prefix):
    start = len(prefix) + 1
    return {k[start:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def _input_transform(metadata, tensors):
    spec = metadata["input_transform"]
    return InputTransform(
        sample_shape=tuple(spec["sample_shape"]),
        network_shape=tuple(spec["network_shape"]),
        channels_last=bool(spec["channels_last"]),
        offset=tensors["input_transform.offset"].numpy(),
        scale=tensors["input_transform.scale"].numpy(),
    )


def _network_spec(metadata):
    """The networks' shape, code size and width; files of version 1 kept the width in params."""
    if "network" in metadata:
        return metadata["network"]
    return {
        "shape": metadata["input_transform"]["network_shape"],
        "latent_dim": metadata["latent_dim_"],
        "width": metadata["params"]["width"],
    }


def _readout(metadata, tensors, score_method):
    """The fitted read-out; files of version 1 get it rebuilt from their reference codes."""
    references = tensors.get("reference_codes")
    references = None if references is None else references.cpu().numpy()
    score = RobustScale(metadata["score_center_"], metadata["score_scale_"])
    if "readout" in metadata:
        return ReadOut.from_saved(metadata["readout"], tensors, references, score)
    if references is None:
        # The latent distance, normalised by the stored statistics alone.
        readout, _ = fit_components(score_method, 1, np.zeros(2))
        readout.scales = [RobustScale()]
    else:
        n_neighbors = metadata["params"]["n_neighbors"]
        readout, _ = fit_components(
            score_method,
            n_neighbors,
            np.zeros(len(references)),
            references,
            np.arange(len(references)),
            standardise=True,
            metric="cosine",
        )
    readout.score = score
    return readout


def _saved_model(metadata, tensors):
    params = metadata["params"]
    # Files written before scores were selectable always used the latent distance.
    params.setdefault("score_method", "latent")
    if params["image_shape"] is not None:
        params["image_shape"] = tuple(params["image_shape"])
    attributes = {name: metadata[name] for name in (*_FITTED_FLOATS, *_FITTED_INTS)}
    attributes["input_transform_"] = _input_transform(metadata, tensors)
    attributes["input_shape_"] = tuple(metadata["input_shape_"])
    if "feature_names_in_" in metadata:
        attributes["feature_names_in_"] = np.asarray(metadata["feature_names_in_"], dtype=object)
    network = _network_spec(metadata)
    method = format1_score_method(params["score_method"], len(network["shape"]) == 3).name
    attributes["readout_"] = _readout(metadata, tensors, method)
    weights = {name: _module_state(tensors, name) for name in ("generator", "discriminator")}
    return SavedModel(params, attributes, network, weights, metadata["history"])


def read_model(
    path: str | PathLike[str], *, map_location: str, estimator: type[BaseEstimator]
) -> SavedModel:
    """Read a file written by :func:`save_detector`, safely, and check it against the schema.

    Parameters
    ----------
    path : str or path-like
        The model file; a missing one raises ``FileNotFoundError``, one that
        is not a readable model file of this format, or fails the schema,
        a ``ValueError``.
    map_location : str
        Device the tensors are read onto.
    estimator : type
        The estimator class whose parameters the file stores: they must
        construct it and pass its parameter constraints.

    Returns
    -------
    saved : SavedModel
        The file's parameters, fitted attributes, weights and history.
    """
    metadata, tensors = _read_payload(path, map_location, estimator)
    try:
        return _saved_model(metadata, tensors)
    except (KeyError, TypeError) as error:
        raise inconsistent_model(path, error) from None
