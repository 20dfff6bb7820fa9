"""``n_epochs='auto'``: a step budget that scales with the data, and a warning that is true."""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_ganomaly import GANomalyDetector, _training

TINY = dict(width=4, latent_dim=4, batch_size=32, random_state=0, device="cpu")


def _steps(model, n_train):
    return _training.steps_per_epoch(n_train, model.batch_size) * len(model.history_)


@pytest.fixture
def small_budgets(monkeypatch):
    # Small budgets keep the tests fast; the rule is what counts.
    monkeypatch.setitem(_training.AUTO_STEPS, "image", 40)
    monkeypatch.setitem(_training.AUTO_STEPS, "table", 30)


@pytest.mark.parametrize("n_images, epochs", [(100, 14), (300, 5), (1797, 1)])
def test_auto_takes_the_step_budget_in_whole_epochs(
    small_budgets, digits_images, n_images, epochs
):
    X = digits_images[0][:n_images]
    model = GANomalyDetector(**TINY, n_epochs="auto").fit(X)
    # Whole epochs, just enough for 40 steps: a small set is seen many times,
    # a large one at least once.
    assert len(model.history_) == epochs
    n_train = n_images - int(0.1 * n_images)
    assert _steps(model, n_train) >= 40


def test_auto_has_its_own_budget_for_tables(small_budgets, blobs):
    model = GANomalyDetector(**TINY, n_epochs="auto").fit(blobs)
    n_train = len(blobs) - int(0.1 * len(blobs))
    assert len(model.history_) == -(-30 // _training.steps_per_epoch(n_train, 32))


def test_the_default_budget_fits_without_warnings(small_budgets, digits_images, blobs):
    X, _ = digits_images
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GANomalyDetector(**TINY).fit(X[:200])
        GANomalyDetector(**TINY).fit(blobs)


def test_a_fit_far_short_of_the_budget_warns_with_advice(small_budgets, digits_images):
    X, _ = digits_images
    # 270 training rows: 9 steps an epoch, 2 epochs are 18 of the 40 steps.
    with pytest.warns(ConvergenceWarning, match="18 optimizer steps.*n_epochs >= 5"):
        GANomalyDetector(**TINY, n_epochs=2).fit(X[:300])


def test_a_fit_of_half_the_budget_or_more_does_not_warn(small_budgets, digits_images):
    X, _ = digits_images
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        GANomalyDetector(**TINY, n_epochs=3).fit(X[:300])  # 27 of 40 steps
