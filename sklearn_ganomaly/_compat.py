"""Every private name of scikit-learn, torch, skorch and PyOD that the package uses.

Private names can change in any release of those libraries. Reaching them from
this module only means that an upstream rename breaks one line here, with a
fallback or a message that says what to install, rather than ``import
sklearn_ganomaly`` at some unrelated place. A test checks that no other module
of the package imports or reaches for a private name of these libraries.

PyOD is optional: its helpers here take the detector and import nothing.
"""

import functools

from torch import nn

__all__ = [
    "BATCH_NORM_TYPES",
    "HasMethods",
    "Interval",
    "ONNX_REGISTRATION_LOGGER",
    "StrOptions",
    "fit_context",
    "pyod_finish_fit",
    "safe_indexing",
    "set_training",
    "uncompiled",
    "validate_parameter_constraints",
    "validate_params",
]

# ---------------------------------------------------------------- scikit-learn
try:
    # The parameter-validation framework of scikit-learn's own estimators; it
    # has lived here since scikit-learn 1.2, with no public alias.
    from sklearn.utils._param_validation import (
        HasMethods,
        Interval,
        StrOptions,
        validate_parameter_constraints,
    )
except ImportError as error:  # pragma: no cover - depends on scikit-learn
    raise ImportError(
        "sklearn-ganomaly needs sklearn.utils._param_validation (Interval, StrOptions, "
        "HasMethods), which this scikit-learn lacks; install a scikit-learn version "
        "that pyproject.toml allows."
    ) from error

try:
    from sklearn.base import _fit_context as fit_context
except ImportError:  # pragma: no cover - depends on scikit-learn

    def fit_context(*, prefer_skip_nested_validation):
        """Validate the estimator's parameters before ``fit``.

        A stand-in for scikit-learn's decorator of the same purpose, keeping
        its first job (the parameter checks) and leaving out the nested
        validation switch.
        """

        def decorator(fit):
            @functools.wraps(fit)
            def wrapper(estimator, *args, **kwargs):
                validate_params(estimator)
                return fit(estimator, *args, **kwargs)

            return wrapper

        return decorator


try:
    from sklearn.utils import _safe_indexing as safe_indexing
except ImportError:  # pragma: no cover - depends on scikit-learn

    def safe_indexing(X, indices):
        """Rows ``indices`` (integers) of an array, a DataFrame or a list."""
        if hasattr(X, "iloc"):
            return X.iloc[indices]
        if hasattr(X, "shape"):
            return X[indices]
        return [X[i] for i in indices]


def validate_params(estimator):
    """Check an estimator's parameters against its ``_parameter_constraints``."""
    method = getattr(estimator, "_validate_params", None)
    if method is not None:
        method()
        return
    validate_parameter_constraints(
        estimator._parameter_constraints,
        estimator.get_params(deep=False),
        caller_name=type(estimator).__name__,
    )


# ----------------------------------------------------------------------- torch
#: Layers with BatchNorm's affine weight and running statistics.
BATCH_NORM_TYPES = getattr(
    nn.modules.batchnorm, "_BatchNorm", (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
)


#: The logger of torch's ONNX exporter that warns about every operator of
#: other libraries (torchvision) it cannot register; a name of torch's
#: internals, which may move without notice (silencing a missing logger is
#: harmless).
ONNX_REGISTRATION_LOGGER = "torch.onnx._internal.exporter._registration"


def uncompiled(module):
    """The plain module inside a ``torch.compile`` wrapper, or ``module`` itself.

    torch keeps the wrapped module as ``_orig_mod``, its only handle on it.
    """
    return getattr(module, "_orig_mod", module)


# ---------------------------------------------------------------------- skorch
def set_training(net, training):
    """Put every module of a skorch net in training or evaluation mode."""
    method = getattr(net, "_set_training", None)
    if method is not None:
        method(training)
        return
    # Older or newer skorch without the helper: the initialised modules are the
    # attributes whose names end in an underscore (module_, discriminator_).
    for name, value in vars(net).items():
        if name.endswith("_") and isinstance(value, nn.Module):
            value.train(training)


# ------------------------------------------------------------------------ PyOD
def pyod_finish_fit(detector, y):
    """PyOD's bookkeeping at the end of a detector's ``fit``.

    PyOD asks subclasses of its ``BaseDetector`` to record the number of
    classes and to derive ``threshold_`` and ``labels_`` from
    ``decision_scores_`` through two of its private methods.
    """
    try:
        set_n_classes = detector._set_n_classes
        process_decision_scores = detector._process_decision_scores
    except AttributeError as error:  # pragma: no cover - depends on PyOD
        raise ImportError(
            f"This PyOD version lacks {error.name!r}, which sklearn_ganomaly.pyod "
            "calls; install a PyOD version that the 'pyod' extra allows."
        ) from None
    set_n_classes(y)
    process_decision_scores()
    return detector
