"""Every warning of the package points at the caller's line, whatever the entry point.

Each test calls one entry point from this file and checks that the warning's
``filename`` is this file: a warning attributed to the package's internals
(or to scikit-learn's wrappers around ``fit``) tells the user nothing.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.exceptions import InputRangeWarning

TINY = dict(width=4, latent_dim=4, n_epochs=1, batch_size=32, random_state=0, device="cpu")


def _caught(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return caught


def _assert_points_here(caught, category):
    mine = [w for w in caught if issubclass(w.category, category)]
    assert mine, f"no {category.__name__} among {[str(w.message) for w in caught]}"
    for w in mine:
        assert w.filename == __file__, f"{category.__name__} points at {w.filename}:{w.lineno}"


@pytest.fixture(scope="module")
def fitted(digits_images):
    images = digits_images[0][:120]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GANomalyDetector(**TINY).fit(images), images


@pytest.mark.parametrize("entry", ["fit", "fit_predict"])
def test_training_warnings_point_at_the_caller(digits_images, entry):
    images = digits_images[0][:120]
    detector = GANomalyDetector(**TINY)
    # One epoch of 108 images: far fewer optimizer steps than a fit should take.
    caught = _caught(lambda: getattr(detector, entry)(images))
    _assert_points_here(caught, ConvergenceWarning)


@pytest.mark.parametrize(
    "entry", ["score_samples", "decision_function", "predict", "anomaly_score", "encode"]
)
def test_scoring_warnings_point_at_the_caller(fitted, entry):
    detector, images = fitted
    # Pixels of 0-16 scored as if they were 0-4096: far outside the training range.
    caught = _caught(lambda: getattr(detector, entry)(images[:4] * 256.0))
    _assert_points_here(caught, InputRangeWarning)


@pytest.mark.parametrize("entry", ["decision_function", "predict", "predict_proba"])
def test_pyod_adapter_warnings_point_at_the_caller(digits_images, entry):
    pytest.importorskip("pyod")
    from sklearn_ganomaly.pyod import GANomaly

    images = digits_images[0][:120]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = GANomaly(**TINY).fit(images)
    caught = _caught(lambda: getattr(clf, entry)(images[:4] * 256.0))
    _assert_points_here(caught, InputRangeWarning)


def test_pyod_adapter_fit_warnings_point_at_the_caller(digits_images):
    pytest.importorskip("pyod")
    from sklearn_ganomaly.pyod import GANomaly

    caught = _caught(lambda: GANomaly(**TINY).fit(digits_images[0][:120]))
    _assert_points_here(caught, ConvergenceWarning)


def test_plotting_warnings_point_at_the_caller(fitted):
    pytest.importorskip("matplotlib")
    from sklearn_ganomaly import plotting

    detector, images = fitted
    caught = _caught(lambda: plotting.plot_extremes(detector, images[:4] * 256.0, k=1))
    _assert_points_here(caught, InputRangeWarning)


def test_a_table_scored_in_other_units_warns_at_the_caller():
    X = np.random.RandomState(0).normal(size=(120, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector = GANomalyDetector(**TINY).fit(X)
    caught = _caught(lambda: detector.predict(X[:5] + 1000.0))
    _assert_points_here(caught, InputRangeWarning)
