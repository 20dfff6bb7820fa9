"""A fitted detector saves, loads and continues with what it scores with.

Parameters may change after ``fit`` (``set_params``, as scikit-learn allows);
the fitted networks and read-out do not. ``save`` writes what the model
scores with, so every file it writes loads and scores exactly as the model
that wrote it; a ``warm_start`` continuation uses the new read-out or refuses
a change it cannot continue with; a failed continuation keeps the fitted model.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from sklearn_ganomaly import GANomalyDetector, load

X = np.random.RandomState(0).normal(size=(200, 4))


def D(**params):
    return GANomalyDetector(n_epochs=1, width=8, random_state=0, device="cpu", **params)


@pytest.fixture(autouse=True)
def _short_fits_are_expected():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize(
    "change",
    [
        {"score_method": "latent"},
        {"n_neighbors": 7},
        {"width": 16},
        {"latent_dim": 2},
        {"image_shape": (1, 2, 2)},
        {"contamination": 0.2},
    ],
)
def test_a_file_scores_as_the_model_that_wrote_it(tmp_path, change):
    detector = D(latent_dim=3, score_method="latent_knn").fit(X)
    expected = detector.anomaly_score(X)
    detector.set_params(**change)
    loaded = load(detector.save(tmp_path / "model.pt"))
    np.testing.assert_allclose(loaded.anomaly_score(X), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(loaded.predict(X), detector.predict(X))
    assert loaded.score_method_ == detector.score_method_ == "latent_knn"
    assert loaded.get_params() == detector.get_params()


def test_a_continuation_uses_a_changed_read_out():
    detector = D(latent_dim=3, score_method="latent_knn", warm_start=True).fit(X)
    detector.set_params(score_method="latent").fit(X)
    assert detector.score_method_ == "latent"
    np.testing.assert_allclose(
        detector.anomaly_score(X),
        (detector.latent_distance(X) - detector.score_center_) / detector.score_scale_,
    )


@pytest.mark.parametrize("change", [{"width": 16}, {"latent_dim": 5}])
def test_a_continuation_refuses_other_networks_and_keeps_the_model(change):
    detector = D(latent_dim=3, warm_start=True).fit(X)
    expected = detector.anomaly_score(X)
    with pytest.raises(ValueError, match="width or latent_dim"):
        detector.set_params(**change).fit(X)
    np.testing.assert_array_equal(detector.anomaly_score(X), expected)


class _FailAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) >= self.epoch:
            raise RuntimeError("disk on fire")


@pytest.mark.parametrize("error_epoch", [1, 2])
def test_a_failed_continuation_keeps_the_fitted_model(error_epoch):
    detector = D(warm_start=True).fit(X)
    expected, history = detector.anomaly_score(X), len(detector.history_)
    weights = {k: v.clone() for k, v in detector.net_.module_.state_dict().items()}
    detector.set_params(n_epochs=3, callbacks=[_FailAt(history + error_epoch)])
    with pytest.raises(RuntimeError, match="disk on fire"):
        detector.fit(X)
    np.testing.assert_array_equal(detector.anomaly_score(X), expected)
    assert len(detector.history_) == history
    for key, value in detector.net_.module_.state_dict().items():
        assert np.array_equal(value.numpy(), weights[key].numpy())


def test_an_interrupted_continuation_keeps_the_fitted_model():
    detector = D(warm_start=True).fit(X)
    expected = detector.anomaly_score(X)

    class CtrlC(Callback):
        def on_batch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    detector.set_params(callbacks=[CtrlC()])
    with pytest.raises(KeyboardInterrupt):
        detector.fit(X)
    np.testing.assert_array_equal(detector.anomaly_score(X), expected)
