"""Property-based fuzzing of fit and the scoring methods on tiny networks.

Whatever the dtype, shape, value range or memory layout of the input, the
estimator and the PyOD adapter must end in one of two ways: a fitted model
whose scores hold no NaN, or a ``ValueError``/``TypeError`` raised by a
``raise`` statement of the package (or of scikit-learn's input validation,
which the package calls) -- never an error from inside numpy or torch, never
a NaN score, never a sample with an undefined score labelled normal.

The case builders are plain functions of a seed and a few choices, so the
same cases can be replayed outside pytest.
"""

import json
import linecache
import os
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sklearn_ganomaly import GANomalyDetector

TINY = dict(width=4, latent_dim=2, n_epochs=1, batch_size=8, random_state=0, device="cpu")

DTYPES = (
    "float64",
    "float32",
    "float16",
    "int64",
    "int32",
    "uint8",
    "int8",
    "bool",
    "complex128",
    "object",
    "object_none",
    "object_str",
    "datetime64[s]",
    "str",
)
#: Value ranges: (low, high) of a uniform draw; "normal" and "constant" apart.
RANGES = {
    "unit": (0.0, 1.0),
    "byte": (0.0, 255.0),
    "normal": None,
    "constant": None,
    "negative": (-1e3, -1e2),
    "huge": (0.0, 1e30),
    "float32_overflow": (1e38, 1e39),
    "vast": (-1e200, 1e200),
    "tiny": (0.0, 1e-300),
    "subnormal32": (0.0, 1e-40),
}
INJECTIONS = ("none", "nan", "inf", "-inf", "big")
#: Draw weights: ordinary input is drawn more often, so that enough cases
#: get past validation to test the models themselves.
_COMMON_DTYPES = ("float64", "float32", "uint8", "int64")
_COMMON_RANGES = ("unit", "byte", "normal")


def _weighted(values, common, weight=4):
    return st.sampled_from([*values, *[v for v in common for _ in range(weight - 1)]])


dtypes = _weighted(DTYPES, _COMMON_DTYPES)
value_ranges = _weighted(sorted(RANGES), _COMMON_RANGES)
injections = _weighted(INJECTIONS, ("none",), weight=8)
LAYOUTS = ("C", "F", "strided", "readonly", "list", "memmap")
SHAPES = ("table", "gray", "chw", "hwc", "flat_image", "vector", "five_d", "empty_axis")

_SETTINGS = dict(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


# ------------------------------------------------------------- assertions
def _package_dirs():
    import sklearn

    import sklearn_ganomaly

    return (
        str(Path(sklearn_ganomaly.__file__).parent) + os.sep,
        str(Path(sklearn.__file__).parent) + os.sep,
    )


def assert_raised_by_package(error):
    """The error is a plain ValueError/TypeError from a ``raise`` of ours or sklearn's."""
    assert type(error).__module__.split(".")[0] in ("builtins", "sklearn", "sklearn_ganomaly"), (
        f"{type(error).__module__}.{type(error).__name__}: {error}"
    )
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    filename = tb.tb_frame.f_code.co_filename
    line = linecache.getline(filename, tb.tb_lineno).strip()
    assert filename.startswith(_package_dirs()) and line.startswith("raise"), (
        f"{type(error).__name__}: {error} (raised at {filename}:{tb.tb_lineno}: {line})"
    )


def _no_nan(name, values):
    values = np.asarray(values)
    assert not np.any(np.isnan(values)), f"{name} returned NaN: {values}"


def check_scoring(model, X, adapter=None):
    """Score ``X`` with every method; each returns clean values or raises cleanly."""
    outcomes = []
    calls = [
        ("score_samples", model.score_samples),
        ("decision_function", model.decision_function),
        ("predict", model.predict),
    ]
    if adapter is not None:
        calls += [
            ("pyod.decision_function", adapter.decision_function),
            ("pyod.predict", adapter.predict),
            ("pyod.predict_proba", adapter.predict_proba),
        ]
    for name, method in calls:
        try:
            out = method(X)
        except (ValueError, TypeError) as error:
            assert_raised_by_package(error)
            outcomes.append("rejected")
            continue
        _no_nan(name, out)
        if name == "score_samples":
            assert np.all(np.isfinite(out)), f"score_samples returned {out}"
        if name == "predict":
            assert set(np.unique(out)) <= {-1, 1}, out
        if name == "pyod.predict":
            assert set(np.unique(out)) <= {0, 1}, out
        if name == "pyod.predict_proba":
            assert np.all((out >= 0) & (out <= 1)), out
        outcomes.append("scored")
    return outcomes


def check_fit(X, params):
    """Fit on ``X``; a fitted model must score its own training data cleanly."""
    try:
        detector = GANomalyDetector(**params).fit(X)
    except (ValueError, TypeError) as error:
        assert_raised_by_package(error)
        return "rejected"
    scores = detector.score_samples(X)
    assert np.all(np.isfinite(scores)), f"training scores {scores}"
    assert set(np.unique(detector.predict(X))) <= {-1, 1}
    return "fitted"


# ----------------------------------------------------------- case builders
def _sample_shape(kind, rng):
    side = lambda: int(rng.randint(1, 10))  # noqa: E731
    return {
        "table": lambda: (int(rng.randint(1, 6)),),
        "gray": lambda: (side(), side()),
        "chw": lambda: (int(rng.randint(1, 5)), side(), side()),
        "hwc": lambda: (side(), side(), int(rng.choice([1, 3, 4]))),
        "flat_image": lambda: (64,),
        "vector": lambda: (),
        "five_d": lambda: (2, 3, 4, 2),
        "empty_axis": lambda: (8, 0),
    }[kind]()


def _values(shape, value_range, rng):
    if value_range == "normal":
        return rng.normal(size=shape)
    if value_range == "constant":
        return np.full(shape, 3.0)
    low, high = RANGES[value_range]
    return low + (high - low) * rng.random_sample(shape)


def _with_dtype(values, dtype, rng):
    if dtype == "datetime64[s]":
        return rng.randint(0, 10**9, size=values.shape).astype(dtype)
    if dtype == "str":
        return values.astype(str)
    if dtype.startswith("object"):
        out = values.astype(object)
        if out.size and dtype != "object":
            out.flat[rng.randint(out.size)] = None if dtype == "object_none" else "abc"
        return out
    with np.errstate(all="ignore"):  # float16 overflow and int wrap-around are the test
        if np.issubdtype(np.dtype(dtype), np.integer):
            info = np.iinfo(dtype)
            return np.clip(np.nan_to_num(values), info.min, info.max).astype(dtype)
        return values.astype(dtype)


def _inject(X, injection, rng):
    if injection == "none" or X.size == 0 or X.dtype.kind not in "fc":
        return X
    value = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf, "big": 1e39}[injection]
    X = X.copy()
    with np.errstate(all="ignore"):
        X.flat[rng.randint(X.size)] = value
    return X


def _layout(X, layout, tmp_dir):
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "strided":
        doubled = np.repeat(X, 2, axis=0)
        return doubled[::2]
    if layout == "readonly":
        X = X.copy()
        X.setflags(write=False)
        return X
    if layout == "list":
        return X.tolist()
    if layout == "memmap" and X.dtype.kind in "biuf" and X.size:
        path = Path(tmp_dir) / f"fuzz_{os.getpid()}.npy"
        np.save(path, X)
        return np.load(path, mmap_mode="r")
    return X


def make_array(seed, n, shape_kind, dtype, value_range, injection, layout, tmp_dir):
    """One fuzzed input array (or nested list), built from a seed and choices."""
    rng = np.random.RandomState(seed)
    shape = (n, *_sample_shape(shape_kind, rng))
    X = _with_dtype(_values(shape, value_range, rng), dtype, rng)
    return _layout(_inject(X, injection, rng), layout, tmp_dir)


def fit_params(shape_kind):
    params = dict(TINY)
    if shape_kind == "flat_image":
        params["image_shape"] = (1, 8, 8)
    return params


fit_cases = st.tuples(
    st.integers(0, 2**31 - 1),
    _weighted([0, 1, 2, 3, 12, 24], (12, 24)),
    _weighted(SHAPES, ("table", "gray", "chw", "hwc")),
    dtypes,
    value_ranges,
    injections,
    st.sampled_from(LAYOUTS),
)


# --------------------------------------------------------------- models
@cache
def fitted_models():
    """A table model (with its PyOD adapter) and two image models, fitted once."""
    from sklearn_ganomaly.pyod import GANomaly

    rng = np.random.RandomState(0)
    table = rng.normal(size=(40, 4))
    adapter = GANomaly(contamination=0.1, **TINY).fit(table)
    gray = rng.random_sample((40, 8, 8))
    hwc = rng.randint(0, 256, size=(40, 8, 8, 3)).astype(np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "table": (adapter.detector_, adapter),
            "gray": (GANomalyDetector(**TINY).fit(gray), None),
            "hwc": (GANomalyDetector(**TINY).fit(hwc), None),
        }


def make_scoring_input(model, seed, n, same_shape, dtype, value_range, injection, layout, tmp):
    rng = np.random.RandomState(seed)
    if same_shape:
        shape = (n, *model.input_shape_)
    else:
        shape = (n, *_sample_shape(rng.choice(SHAPES), rng))
    X = _with_dtype(_values(shape, value_range, rng), dtype, rng)
    return _layout(_inject(X, injection, rng), layout, tmp)


score_cases = st.tuples(
    st.sampled_from(["table", "gray", "hwc"]),
    st.integers(0, 2**31 - 1),
    st.sampled_from([0, 1, 5]),
    st.sampled_from([True, True, True, False]),
    dtypes,
    value_ranges,
    injections,
    st.sampled_from(LAYOUTS),
)


def run_score_case(case, tmp):
    name, *rest = case
    model, adapter = fitted_models()[name]
    X = make_scoring_input(model, *rest, tmp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check_scoring(model, X, adapter)


def run_fit_case(case, tmp):
    seed, n, shape_kind, dtype, value_range, injection, layout = case
    X = make_array(seed, n, shape_kind, dtype, value_range, injection, layout, tmp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check_fit(X, fit_params(shape_kind))


# ------------------------------------------------------------------ tests
@pytest.fixture(scope="module")
def tmp_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=150, **_SETTINGS)
@given(case=fit_cases)
def test_fit_ends_fitted_or_with_a_clear_error(case, tmp_dir):
    run_fit_case(case, tmp_dir)


@settings(max_examples=300, **_SETTINGS)
@given(case=score_cases)
def test_scoring_ends_with_clean_scores_or_a_clear_error(case, tmp_dir):
    run_score_case(case, tmp_dir)


PARAM_VALUES = {
    "image_shape": [(-1, -16, 16), (1, 0, 64), (1, 8, 8), (8, 8), "8x8", (1.5, 8, 8)],
    "callbacks": [[object()], ["progress"], [("name", object())], (), None],
    "device": ["meta", "cuda", "cuda:7", "mps", "tpu", "", "cpu"],
    "learning_rate": [1e-12, 2e-4, 1e3, float("nan"), float("inf"), -1.0],
    "batch_size": [1, 2, 10**9, 2.5, True],
    "latent_dim": [0, 1, 10**4, "auto", -3],
    "width": [0, 1, 4, 512],
    "validation_fraction": [0.0, 0.5, 0.99, 1.0, float("nan")],
    "contamination": [0.0, 1e-9, 0.5, 0.7, "auto", float("nan")],
    "n_epochs": [0, 1, -1, 2.0],
    "w_con": [0.0, 50.0, float("inf"), -1.0],
}

param_cases = st.tuples(
    st.sampled_from(["table", "gray"]),
    st.dictionaries(
        st.sampled_from(sorted(PARAM_VALUES)), st.integers(0, 6), min_size=1, max_size=3
    ),
)


def run_param_case(case):
    kind, choices = case
    params = dict(TINY)
    for name, index in choices.items():
        values = PARAM_VALUES[name]
        params[name] = values[index % len(values)]
    rng = np.random.RandomState(0)
    X = rng.normal(size=(24, 64)) if kind == "table" else rng.random_sample((24, 8, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return check_fit(X, params)


@settings(max_examples=100, **_SETTINGS)
@given(case=param_cases)
def test_parameters_end_fitted_or_with_a_clear_error(case):
    run_param_case(case)


@cache
def _model_bytes():
    import io

    import torch

    detector = fitted_models()["table"][0]
    from sklearn_ganomaly._persistence import _metadata, _tensors

    buffer = io.BytesIO()
    torch.save(
        {"metadata": json.dumps(_metadata(detector)), "tensors": _tensors(detector)}, buffer
    )
    return buffer.getvalue()


damage_cases = st.tuples(
    st.sampled_from(["flip", "truncate", "append", "zero_run"]),
    st.integers(0, 2**31 - 1),
    st.integers(1, 8),
)


def run_damage_case(case, tmp):
    """Load a damaged model file: a detector that scores cleanly, or a ValueError."""
    from sklearn_ganomaly import load

    kind, seed, count = case
    rng = np.random.RandomState(seed)
    data = bytearray(_model_bytes())
    if kind == "flip":
        for position in rng.randint(0, len(data), size=count):
            data[position] ^= 1 << rng.randint(8)
    elif kind == "truncate":
        data = data[: rng.randint(0, len(data))]
    elif kind == "append":
        data += rng.bytes(count * 100)
    else:
        start = rng.randint(0, len(data))
        data[start : start + count * 64] = bytes(len(data[start : start + count * 64]))
    path = Path(tmp) / f"damaged_{os.getpid()}.pt"
    path.write_bytes(bytes(data))
    try:
        detector = load(path)
    except ValueError as error:
        assert_raised_by_package(error)
        return "rejected"
    X = np.random.RandomState(0).normal(size=(5, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_scoring(detector, X)
    return "loaded"


@settings(max_examples=60, **_SETTINGS)
@given(case=damage_cases)
def test_damaged_model_files_load_cleanly_or_fail_with_a_clear_error(case, tmp_dir):
    run_damage_case(case, tmp_dir)


# ----------------------------------------- parameters changed between fit and save
#: Parameters a user may change after fit and before save, with values to try:
#: the saved file must keep what the model scores with.
CHANGED_VALUES = {
    "score_method": ["latent", "latent_knn", "latent_lof", "latent_knn_lof_euclidean", "auto"],
    "n_neighbors": [1, 3, 7],
    "width": [2, 16],
    "latent_dim": [1, 3, "auto"],
    "contamination": [0.01, 0.3, "auto"],
    "image_shape": [None, (1, 2, 2)],
    "learning_rate": [1e-3, "auto"],
    "n_epochs": [2, "auto"],
}

changed_cases = st.tuples(
    st.sampled_from(["table", "gray"]),
    st.dictionaries(
        st.sampled_from(sorted(CHANGED_VALUES)), st.integers(0, 5), min_size=1, max_size=4
    ),
)


def run_changed_case(case, tmp):
    """Change parameters of a fitted model, save, load: the same scores and threshold."""
    import copy

    from sklearn_ganomaly import load

    kind, choices = case
    model = copy.deepcopy(fitted_models()[kind][0])
    rng = np.random.RandomState(1)
    X = rng.normal(size=(6, 4)) if kind == "table" else rng.random_sample((6, 8, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, labels = model.anomaly_score(X), model.predict(X)
        changes = {}
        for name, index in choices.items():
            values = CHANGED_VALUES[name]
            changes[name] = values[index % len(values)]
        model.set_params(**changes)
        path = Path(tmp) / f"changed_{os.getpid()}.pt"
        model.save(path)
        loaded = load(path)
        np.testing.assert_array_equal(loaded.anomaly_score(X), scores, err_msg=str(changes))
        np.testing.assert_array_equal(loaded.predict(X), labels, err_msg=str(changes))


@settings(max_examples=40, **_SETTINGS)
@given(case=changed_cases)
def test_parameters_changed_after_fit_do_not_change_what_is_saved(case, tmp_dir):
    run_changed_case(case, tmp_dir)


# ------------------------------------------------------------ image file modes
#: Pillow modes an image file may have, and the formats to write them in.
IMAGE_MODES = ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "YCbCr", "I;16", "I", "F")
IMAGE_FORMATS = ("png", "tif", "tiff", "jpg", "jpeg", "bmp")
#: Lossless (mode, format) pairs whose wide values must come back exactly.
EXACT = {("I;16", "png"), ("I;16", "tif"), ("I", "tif"), ("F", "tif")}

image_cases = st.tuples(
    st.sampled_from(IMAGE_MODES),
    st.sampled_from(IMAGE_FORMATS),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["L", "RGB"]),
)


def _image_of_mode(mode, rng):
    from PIL import Image

    if mode == "I;16":
        values = rng.randint(0, 2**16, size=(5, 7)).astype(np.uint16)
    elif mode == "I":
        values = rng.randint(-(2**31), 2**31 - 1, size=(5, 7)).astype(np.int32)
    elif mode == "F":
        values = (rng.normal(size=(5, 7)) * 10.0 ** rng.randint(-3, 6)).astype(np.float32)
    else:
        rgb = rng.randint(0, 256, size=(5, 7, 3)).astype(np.uint8)
        return Image.fromarray(rgb).convert(mode), None
    return Image.fromarray(values), values


def run_image_case(case, tmp):
    """Write an image of one mode and format, load its folder: its values, or a clear error."""
    from sklearn_ganomaly.datasets import load_image_folder

    mode, extension, seed, load_mode = case
    image, values = _image_of_mode(mode, np.random.RandomState(seed))
    folder = Path(tmp) / f"images_{os.getpid()}_{mode.replace(';', '_')}_{extension}"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    try:
        image.save(folder / f"a.{extension}")
    except (OSError, KeyError, ValueError, TypeError):
        return "Pillow cannot write this"  # not the loader's concern
    try:
        images, paths = load_image_folder(folder, mode=load_mode)
    except ValueError as error:
        assert_raised_by_package(error)
        return "rejected"
    assert len(paths) == 1 and images.shape[:3] == (1, 5, 7)
    assert images.ndim == (3 if load_mode == "L" else 4)
    assert np.all(np.isfinite(images))
    if (mode, extension) in EXACT and load_mode == "L":
        np.testing.assert_array_equal(images[0], values.astype(np.float32))
    return "loaded"


@settings(max_examples=80, **_SETTINGS)
@given(case=image_cases)
def test_image_files_of_every_mode_load_their_values_or_fail_clearly(case, tmp_dir):
    run_image_case(case, tmp_dir)
