"""Checks of the estimator's parameters and of its pickled state.

scikit-learn's parameter constraints (``_parameter_constraints``) check types
and ranges; these catch what they let through (a boolean for an integer, an
``image_shape`` that is no shape, a callback that is no callback or takes a
name the package uses, networks too large to allocate), and refuse a pickle
written by another version of the package. Each raises a ``ValueError`` or
``TypeError`` naming the parameter at fault.
"""

import math
from numbers import Integral

import numpy as np
import torch

from ._device import check_device
from ._version import __version__

__all__ = [
    "MAX_NETWORK_PARAMETERS",
    "RESERVED_CALLBACK_NAMES",
    "check_fit_params",
    "check_image_shape",
    "check_network_size",
    "check_pickle_version",
]

#: Most parameters the networks may have (generator and discriminator, about
#: 8.6 GB of float32 weights and four times that while training).
MAX_NETWORK_PARAMETERS = 2**31


def check_image_shape(image_shape):
    if image_shape is None:
        return
    valid = len(image_shape) == 3 and all(
        isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in image_shape
    )
    if not valid:
        raise ValueError(
            f"image_shape must be (C, H, W), three positive integers; got {image_shape!r}."
        )


def _check_callbacks(callbacks):
    from skorch.callbacks import Callback

    def is_callback(item):
        return isinstance(item, Callback) or (
            isinstance(item, type) and issubclass(item, Callback)
        )

    named = [e for e in callbacks or () if isinstance(e, tuple) and len(e) == 2]
    for i, entry in enumerate(callbacks or ()):
        is_named = isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
        if not is_callback(entry[1] if is_named else entry):
            raise TypeError(
                f"callbacks[{i}] must be a skorch Callback or a (name, Callback) pair; "
                f"got {entry!r}."
            )
        if is_named and _reserved(entry[0], [n for n, _ in named]):
            raise ValueError(
                f"callbacks[{i}] is named {entry[0]!r}, a name the package's own callbacks "
                f"use ({', '.join(RESERVED_CALLBACK_NAMES)}, and <name>_discriminator for "
                "each LRScheduler); give it another name."
            )


#: Names of the callbacks the package adds to every fit.
RESERVED_CALLBACK_NAMES = ("best_epoch", "best_losses", "epoch_timer", "progress")


def _reserved(name, names):
    twin = name.endswith("_discriminator") and name[: -len("_discriminator")] in names
    return name in RESERVED_CALLBACK_NAMES or twin


#: Parameters that take integers, where a bool (an int to Python) is a mistake.
_INTEGER_PARAMETERS = ("latent_dim", "width", "n_epochs", "batch_size", "n_neighbors")


def check_fit_params(estimator):
    """Check the parameters whose type constraints let wrong values through."""
    for name in _INTEGER_PARAMETERS:
        value = getattr(estimator, name)
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be an integer, not the boolean {value!r}.")
    check_image_shape(estimator.image_shape)
    _check_callbacks(estimator.callbacks)
    check_device(estimator.device)


def check_network_size(network_shape, latent_dim, width):
    """Raise a ValueError before allocating networks over the parameter cap."""
    from .networks import build_networks

    try:
        with torch.device("meta"):
            networks = build_networks(network_shape, latent_dim, width)
        count = sum(p.numel() for net in networks for p in net.parameters())
    except (RuntimeError, OverflowError, ValueError):
        # Sizes so large that torch cannot even describe the layers.
        count = math.inf
    if count > MAX_NETWORK_PARAMETERS:
        size = "x".join(str(s) for s in network_shape)
        raise ValueError(
            f"The networks for samples of shape ({size}) with width={width} and "
            f"latent_dim={latent_dim} would have {count:.3g} parameters "
            f"({4 * count / 1e9:.3g} GB of weights), over the cap of "
            f"{MAX_NETWORK_PARAMETERS:.3g}: lower width or latent_dim, or use smaller images."
        )


def check_pickle_version(estimator_name, pickled_version):
    """Raise a ValueError when unpickling what another package version pickled.

    A pickle restores attributes, not behaviour: an estimator from another
    version may lack parameters or attributes this code relies on and fail
    later, deep inside scoring. The safe model format (``save`` and
    :func:`sklearn_ganomaly.load`) is the way to move models across versions.
    """
    if pickled_version == __version__:
        return
    written = (
        f"sklearn-ganomaly {pickled_version}"
        if pickled_version
        else "an earlier sklearn-ganomaly (one whose pickles carry no version)"
    )
    raise ValueError(
        f"This {estimator_name} was pickled by {written}, and this is sklearn-ganomaly "
        f"{__version__}: a pickle only loads in the version that wrote it. Load it there "
        "and move it with its save() method and sklearn_ganomaly.load, which read across "
        "versions."
    )
