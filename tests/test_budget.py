"""``n_epochs='auto'``: a training budget that fits the data, and undertraining warnings."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_ganomaly import GANomalyDetector, _training

still_improving = _training.still_improving

TINY = dict(width=4, latent_dim=4, batch_size=32, random_state=0, device="cpu")


def _steps(model, n_train):
    per_epoch = -(-n_train // model.batch_size)
    return per_epoch * len(model.history_)


def test_auto_trains_small_data_for_at_least_the_minimum_steps(monkeypatch, digits_images):
    monkeypatch.setattr(_training, "AUTO_MIN_STEPS", 60)
    X, _ = digits_images
    model = GANomalyDetector(**TINY, n_epochs="auto").fit(X[:100])
    n_train = 100 - int(0.1 * 100)
    # 3 batches an epoch: 60 steps take at least 20 epochs, whatever the loss does.
    assert len(model.history_) >= 20
    assert _steps(model, n_train) >= 60


def test_auto_stops_when_the_validation_loss_stops_improving(monkeypatch, digits_images):
    monkeypatch.setattr(_training, "AUTO_MIN_STEPS", 1)
    monkeypatch.setattr(_training, "AUTO_PATIENCE", 2)
    monkeypatch.setattr(_training, "AUTO_TOL", 0.99)  # nothing counts as progress
    X, _ = digits_images
    model = GANomalyDetector(**TINY, n_epochs="auto").fit(X[:200])
    # Epoch 1 sets the best; two epochs without a 99% improvement stop it.
    assert len(model.history_) == 3
    assert model.history_[-1]["stopped_early"]
    losses = model.history_[:, "valid_loss"]
    assert model.best_epoch_ == int(np.argmin(losses)) + 1


def test_auto_is_bounded_by_the_maximum_steps(monkeypatch, digits_images):
    monkeypatch.setattr(_training, "AUTO_MIN_STEPS", 10_000)
    monkeypatch.setattr(_training, "AUTO_MAX_STEPS", 20)
    X, _ = digits_images
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GANomalyDetector(**TINY, n_epochs="auto").fit(X[:200])
    # 180 training rows, batch 32: 6 steps an epoch, so 20 steps are 4 epochs.
    assert len(model.history_) == 4


def test_a_fit_with_too_few_steps_warns(digits_images):
    X, _ = digits_images
    # 270 training rows for 5 epochs: 45 steps, where the loss has barely moved.
    with pytest.warns(ConvergenceWarning, match="only 45 optimizer steps"):
        GANomalyDetector(**TINY, n_epochs=5).fit(X[:300])


def test_a_fit_ending_on_a_still_falling_loss_warns(monkeypatch, digits_images):
    monkeypatch.setattr(_training, "AUTO_MIN_STEPS", 1)
    monkeypatch.setattr(_training, "still_improving", lambda history: True)
    X, _ = digits_images
    with pytest.warns(ConvergenceWarning, match="still falling"):
        GANomalyDetector(**TINY, n_epochs=2).fit(X[:300])


def test_a_long_enough_fit_does_not_warn(monkeypatch, digits_images):
    monkeypatch.setattr(_training, "AUTO_MIN_STEPS", 10)
    X, _ = digits_images
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        GANomalyDetector(**TINY, n_epochs=2).fit(X[:300])


def test_still_improving():
    assert still_improving([{"valid_loss": v} for v in (10, 8, 6, 4, 2)])
    assert not still_improving([{"valid_loss": v} for v in (10, 5, 5.0, 4.99, 4.98)])
    assert not still_improving([{"valid_loss": 3.0}])
    assert not still_improving([{"train_loss": 1.0}, {"train_loss": 0.5}])
