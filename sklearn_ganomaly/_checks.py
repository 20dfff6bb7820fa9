"""Checks of inputs and scores that keep bad input from giving wrong answers.

The estimator calls these at a few points: on its input before training, on
every array it scores, and on the scores it labels (its parameters are
checked in :mod:`sklearn_ganomaly._estimator_checks`). Each
check either passes, warns (with a category of
:mod:`sklearn_ganomaly.exceptions`), or raises a ``ValueError``/``TypeError``
that names the parameter or the input at fault, so that the error never
surfaces from deep inside numpy or torch.

Limits on values (all documented in the user guide's reliability page):

* every input value must be finite with a magnitude of at most
  :data:`MAX_ABS_VALUE`, at fit and at scoring, since the networks compute in
  float32;
* at fit, a feature (tables) or the images' pixel range that varies at all
  must vary by at least :data:`MIN_SPREAD`, or float32 cannot resolve it;
* at scoring, a value more than :data:`MAX_NETWORK_UNITS` training spreads
  away from the training data is rejected: the networks would overflow.
"""

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ._warn import warn
from .exceptions import InputRangeWarning, NonFiniteScoreWarning

__all__ = [
    "MAX_ABS_VALUE",
    "MAX_NETWORK_UNITS",
    "MIN_SPREAD",
    "check_fit_values",
    "check_numeric_input",
    "check_sample_shape",
    "check_scoring_input",
    "check_scoring_values",
    "check_training_scores",
    "flag_undefined_anomaly_scores",
    "flag_undefined_decisions",
]

#: Largest magnitude accepted in an input value (float32's largest is 3.4e38).
MAX_ABS_VALUE = 1e30
#: Smallest non-zero spread (range of pixel values, or of a feature) at fit.
MIN_SPREAD = 1e-30
#: Largest distance from the training data accepted at scoring, in training
#: spreads: half the pixel range for images, standard deviations for tables.
MAX_NETWORK_UNITS = 1e8
#: Warn when scoring images that reach this many training ranges beyond it...
_FAR_RANGES = 10
#: ... or whose values span less than this share of the training range.
_NARROW_SHARE = 0.01
#: Warn when every value of a feature lies this many training standard
#: deviations away from the training mean.
_FAR_DEVIATIONS = 100


# ----------------------------------------------------------------- input
def _is_dataframe(X):
    return hasattr(X, "dtypes") and hasattr(X, "columns")


def _describe_kind(dtype):
    return {
        "M": "dates (datetime64)",
        "m": "durations (timedelta64)",
        "U": "strings",
        "S": "bytes",
        "V": "raw records",
    }.get(dtype.kind, f"values of dtype {dtype}")


def _as_float(values, name):
    """``values`` (an object array) as float64, or an error naming the culprit.

    The error is that of ``float(value)``, as scikit-learn's own checks
    expect: a ValueError for a string that is not a number, a TypeError for
    an object of another type.
    """
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    flat = np.asarray(values, dtype=object).ravel()
    for i, value in enumerate(flat):
        try:
            float(value)
        except (TypeError, ValueError) as error:
            index = ", ".join(map(str, np.unravel_index(i, np.shape(values))))
            raise type(error)(
                f"{name} must hold numbers only; {name}[{index}] is {value!r} ({error})."
            ) from None
    raise ValueError(f"{name} must hold numbers only.")


def check_numeric_input(X, name="X"):
    """Reject non-numeric input before scikit-learn's validation converts it.

    Lists and object arrays are converted to float64 here, so that strings
    and dates are reported by position rather than by numpy (``None`` becomes
    NaN, which validation then reports). A ValueError, as scikit-learn raises
    for non-numeric data. Other
    input (numeric arrays, DataFrames, sparse matrices) passes unchanged.
    """
    if _is_torch_tensor(X):
        # A tensor that requires grad, or lives on a GPU, cannot become an
        # array by itself; its values are what counts.
        X = X.detach().to("cpu").numpy()
    if _is_dataframe(X):
        for column, dtype in zip(X.columns, X.dtypes, strict=True):
            kind = getattr(dtype, "kind", "O")
            if kind in "MmUSV":
                raise ValueError(
                    f"{name} must hold numbers only; column {column!r} holds "
                    f"{_describe_kind(dtype)}."
                )
            if kind == "O":
                _as_float(np.asarray(X[column], dtype=object), f"{name}[{column!r}]")
        return X
    if isinstance(X, (list, tuple)):
        try:
            X = np.asarray(X)
        except ValueError:
            raise ValueError(
                f"{name} is a ragged nested sequence: its rows differ in length or shape."
            ) from None
    dtype = getattr(X, "dtype", None)
    if not isinstance(dtype, np.dtype):
        return X
    if dtype.kind in "MmUSV":
        advice = " (for example seconds since an epoch)" if dtype.kind in "Mm" else ""
        raise ValueError(
            f"{name} must hold numbers; it holds {_describe_kind(dtype)}. Convert them "
            f"to numbers first{advice}."
        )
    if dtype.kind == "O":
        return _as_float(X, name)
    if dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} holds complex numbers; pass their real "
            "and imaginary parts (or magnitudes) as real features."
        )
    if dtype.kind == "f" and dtype.itemsize > 8:
        # Extended precision (np.longdouble): the networks compute in float32
        # or float64, and values beyond float64's range are refused later.
        with np.errstate(over="ignore"):
            return np.asarray(X, dtype=np.float64)
    return X


def _is_torch_tensor(X):
    return isinstance(X, torch.Tensor)


def check_sample_shape(X, name="X"):
    """Raise a ValueError for samples with an empty axis."""
    if 0 in X.shape[1:]:
        raise ValueError(f"{name} has samples of shape {X.shape[1:]}, which hold no values.")


def _position_extremes(X):
    """Minimum and maximum over the samples, per position, in float64, chunk by chunk."""
    low = high = None
    for start in range(0, len(X), 16384):
        chunk = np.asarray(X[start : start + 16384])
        chunk_low = chunk.min(axis=0).astype(np.float64)
        chunk_high = chunk.max(axis=0).astype(np.float64)
        low = chunk_low if low is None else np.minimum(low, chunk_low)
        high = chunk_high if high is None else np.maximum(high, chunk_high)
    return low, high


def _check_magnitude(low, high, name):
    largest = float(max(np.max(np.abs(low)), np.max(np.abs(high))))
    if largest > MAX_ABS_VALUE:
        raise ValueError(
            f"{name} holds a value of magnitude {largest:.3g}; values must be at most "
            f"{MAX_ABS_VALUE:.0e} in magnitude (the networks compute in float32). "
            f"Rescale {name} or check its units."
        )


def check_fit_values(X, is_image, name="X"):
    """Reject training values float32 networks cannot represent or resolve."""
    low, high = _position_extremes(X)
    _check_magnitude(low, high, name)
    if is_image:
        spread = np.array([np.max(high) - np.min(low)])
    else:
        spread = (high - low).reshape(-1)
    tiny = np.flatnonzero((spread > 0) & (spread < MIN_SPREAD))
    if tiny.size:
        where = "its pixel values" if is_image else f"feature {int(tiny[0])}"
        raise ValueError(
            f"{name} varies too little: {where} spans only {float(spread[tiny[0]]):.3g}, "
            f"under {MIN_SPREAD:.0e}, which float32 networks cannot resolve. Rescale {name} "
            "(for example with sklearn.preprocessing.StandardScaler)."
        )
    _check_resolution(X.dtype, low, high, is_image, name)


#: Fewer distinct values than this between a feature's extremes, at the
#: resolution of its dtype, means the data lost its spread before it came.
_MIN_LEVELS = 256


def _check_resolution(dtype, low, high, is_image, name):
    """Warn when float32 (or float16) input cannot hold the spread at its offset.

    The estimator removes offsets in float64 before it casts, so float64
    input keeps its spread; float32 input of 1.7e9 + noise has already
    rounded the noise to steps of 128.
    """
    if dtype.kind != "f" or dtype.itemsize > 4:
        return
    if is_image:
        low, high = np.array([np.min(low)]), np.array([np.max(high)])
    low, high = np.ravel(low), np.ravel(high)
    magnitude = np.maximum(np.abs(low), np.abs(high)).astype(dtype)
    levels = (high - low) / np.spacing(magnitude).astype(np.float64)
    coarse = np.flatnonzero((high > low) & (levels < _MIN_LEVELS))
    if coarse.size:
        j = int(coarse[0])
        where = "its values" if is_image else f"feature {j}"
        warn(
            f"{where.capitalize()} of {name} span [{low[j]:.6g}, {high[j]:.6g}], only "
            f"{levels[j]:.0f} steps of {dtype} resolution at that magnitude: the values "
            f"were rounded before they reached the package. Pass {name} as float64, or "
            "subtract its offset before the cast to float32.",
            InputRangeWarning,
        )


def check_scoring_values(X, transform, name="X"):
    """Reject values that would overflow the networks; warn on other units.

    Works on the per-position minimum and maximum of ``X`` in float64, before
    the cast to the networks' float32.
    """
    low, high = _position_extremes(X)
    _check_magnitude(low, high, name)
    if transform.is_image:
        _check_image_range(float(np.min(low)), float(np.max(high)), transform, name)
    else:
        _check_table_range(low, high, transform, name)


def check_scoring_input(estimator, X, name="X"):
    """Check that ``estimator`` is fitted and ``X`` is samples it can score.

    The one input check of every method that scores, encodes or reconstructs,
    and of the helpers outside the estimator that feed its networks (ONNX
    input, plots). Returns ``X`` as a numeric array in the layout seen at fit.
    """
    check_is_fitted(estimator)
    transform = estimator.input_transform_
    X = check_numeric_input(X, name)
    # For images, say what shape is expected in image terms before
    # validate_data's n_features message (which compares X.shape[1] only).
    if transform.is_image and len(getattr(X, "shape", ())) >= 2:
        transform.check_shape(X, type(estimator).__name__)
    X = validate_data(estimator, X, allow_nd=True, dtype="numeric", reset=False)
    transform.check_shape(X, type(estimator).__name__)
    check_scoring_values(X, transform, name)
    return X


def _check_image_range(low, high, transform, name):
    offset, scale = float(transform.offset), float(transform.scale)
    net_low, net_high = (low - offset) * scale - 1.0, (high - offset) * scale - 1.0
    fit_low, fit_high = offset, offset + 2.0 / scale
    seen = f"[{fit_low:.4g}, {fit_high:.4g}]"
    if max(abs(net_low), abs(net_high)) > MAX_NETWORK_UNITS:
        raise ValueError(
            f"{name} holds values in [{low:.3g}, {high:.3g}], over "
            f"{MAX_NETWORK_UNITS:.0e} times the training range {seen} away from it: "
            "the networks would overflow. Check the units of "
            f"{name}."
        )
    span = 2.0 * _FAR_RANGES
    if net_low < -1.0 - span or net_high > 1.0 + span:
        warn(
            f"{name}'s values span [{low:.4g}, {high:.4g}], far outside the range seen "
            f"at fit, {seen}: check that {name} is in the same units (for example 0-255 "
            "integers against floats in [0, 1]). Its scores are not comparable with "
            "the training data's.",
            InputRangeWarning,
        )
    elif 0 < net_high - net_low < 2.0 * _NARROW_SHARE:
        warn(
            f"{name}'s values span only [{low:.4g}, {high:.4g}], under "
            f"{_NARROW_SHARE:.0%} of the range seen at fit, {seen}: check that {name} "
            "is in the same units (for example floats in [0, 1] against 0-255 integers).",
            InputRangeWarning,
        )


def _check_table_range(low, high, transform, name):
    offset, scale = np.asarray(transform.offset, float), np.asarray(transform.scale, float)
    net_low, net_high = (low - offset) * scale, (high - offset) * scale
    extreme = np.flatnonzero(np.maximum(np.abs(net_low), np.abs(net_high)) > MAX_NETWORK_UNITS)
    if extreme.size:
        j = int(extreme[0])
        raise ValueError(
            f"{name} holds values in [{low[j]:.3g}, {high[j]:.3g}] for feature {j}, over "
            f"{MAX_NETWORK_UNITS:.0e} standard deviations from its training mean "
            f"{offset[j]:.4g} (standard deviation {1 / scale[j]:.4g}): the networks would "
            f"overflow. Check the units of {name}."
        )
    far = np.flatnonzero((net_low > _FAR_DEVIATIONS) | (net_high < -_FAR_DEVIATIONS))
    if far.size:
        j = int(far[0])
        warn(
            f"Feature {j} of {name} spans [{low[j]:.4g}, {high[j]:.4g}], all of it over "
            f"{_FAR_DEVIATIONS} standard deviations from the range seen at fit (mean "
            f"{offset[j]:.4g}, standard deviation {1 / scale[j]:.4g}; {far.size} "
            "feature(s) so): check that its units match the training data's.",
            InputRangeWarning,
        )


# ---------------------------------------------------------------- scores
def _warn_undefined(bad, label):
    rows = np.flatnonzero(bad)
    shown = ", ".join(str(i) for i in rows[:10]) + (", ..." if rows.size > 10 else "")
    warn(
        f"{rows.size} sample(s) got a NaN or infinite score (rows {shown}) and are "
        f"labelled {label}: the model cannot rank them. Check those rows for extreme "
        "values, or the model for non-finite weights.",
        NonFiniteScoreWarning,
    )


def flag_undefined_decisions(decisions):
    """``decision_function`` values with NaN and +inf turned into -inf (outliers)."""
    decisions = np.asarray(decisions, dtype=float)
    bad = np.isnan(decisions) | (decisions == np.inf)
    if bad.any():
        _warn_undefined(bad, "outliers (decision_function -inf)")
        decisions = np.where(bad, -np.inf, decisions)
    return decisions


def flag_undefined_anomaly_scores(scores):
    """Anomaly scores (higher = more abnormal) with every non-finite one made the largest.

    NaN and infinite scores become the largest float64: higher than any
    threshold, so the sample is an outlier, yet finite, so that PyOD's
    probability scaling and score combination keep working.
    """
    scores = np.asarray(scores, dtype=float)
    bad = ~np.isfinite(scores)
    if bad.any():
        _warn_undefined(bad, "outliers (anomaly score set to the largest float)")
        scores = np.where(bad, np.finfo(np.float64).max, scores)
    return scores


def check_training_scores(scores, X, name="X"):
    """Warn when the fitted detector gives almost every training sample one and the same score.

    Such a detector cannot rank anything. Either the samples are identical,
    or the networks collapsed onto one code, which a few extreme values in
    ``X`` cause by squeezing every other sample into a sliver of the scaled
    range. The test is that the 1st and 99th percentiles of the training
    scores are equal: duplicated rows may share a score (a neighbour score of
    a row with a twin is zero), but not 98% of a data set that varies.
    """
    scores = np.asarray(scores, dtype=float)
    if len(scores) < 2:
        return
    low, high = np.percentile(scores, [1, 99])
    if high > low:
        return
    share = int(np.sum(scores == np.median(scores)))
    first = np.asarray(X[0])
    identical = all(np.all(np.asarray(X[s : s + 4096]) == first) for s in range(0, len(X), 4096))
    if identical:
        cause = f"the samples of {name} are all identical, so there is nothing to rank"
    else:
        cause = (
            f"the networks collapsed onto one code. Look for extreme values in {name} (a few "
            "values far from the others squeeze the rest into a sliver of the scaled range) "
            "and clip or remove them; otherwise try another random_state, a lower "
            "learning_rate or more epochs"
        )
    warn(
        f"The fitted detector gives {share} of its {len(scores)} training samples the "
        f"same score: {cause}.",
        ConvergenceWarning,
    )
