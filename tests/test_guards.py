"""Silent wrong answers and errors from deep inside other libraries, turned into clear outcomes.

Each case is one a careless or hostile user met: far-away rows called normal,
offsets that ate the data's precision, degenerate fits that said nothing,
and parameters or inputs that ended deep inside torch, skorch or json.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Checkpoint, EarlyStopping, LRScheduler

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly._scores import SCORE_METHODS
from sklearn_ganomaly.exceptions import InputRangeWarning

rng = np.random.RandomState(0)
X = rng.normal(size=(200, 4))


def D(**params):
    return GANomalyDetector(n_epochs=1, width=8, random_state=0, device="cpu", **params)


def _quiet_fit(detector, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return detector.fit(data)


# ------------------------------------------------------ far rows are not normal
@pytest.mark.parametrize("method", sorted(SCORE_METHODS))
def test_rows_far_from_the_training_data_are_outliers_on_tables(method):
    table = np.random.RandomState(1).normal(size=(500, 8))
    detector = _quiet_fit(
        GANomalyDetector(n_epochs=20, width=32, latent_dim=4, score_method=method, random_state=0),
        table,
    )
    far = np.array([np.full(8, sign * s) for s in (10.0, 100.0, 1e4) for sign in (1, -1)])
    far = np.vstack([far, np.outer([10.0, 100.0, 1e4], table[0])])  # along a normal row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputRangeWarning)
        assert np.all(detector.predict(far) == -1), detector.anomaly_score(far)


@pytest.mark.parametrize("method", sorted(SCORE_METHODS))
def test_images_far_outside_the_training_range_are_outliers(digits_images, method):
    images = digits_images[0][:300]
    detector = _quiet_fit(
        GANomalyDetector(n_epochs=3, width=8, score_method=method, random_state=0), images
    )
    far = np.concatenate([images[:2] * s for s in (10.0, 100.0, 1e4)])  # normal images, scaled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputRangeWarning)
        assert np.all(detector.predict(far) == -1), detector.anomaly_score(far)


# ----------------------------------------------------- precision before offsets
def test_a_large_offset_does_not_eat_the_spread():
    noise = rng.normal(size=(200, 2)) * 10
    shifted = _quiet_fit(GANomalyDetector(n_epochs=3, width=8, random_state=0), 1.7e9 + noise)
    plain = _quiet_fit(GANomalyDetector(n_epochs=3, width=8, random_state=0), noise)
    assert shifted.history_[-1]["train_loss"] > 0
    # The offset changes nothing but float rounding, which training amplifies a little.
    a, b = shifted.anomaly_score(1.7e9 + noise), plain.anomaly_score(noise)
    assert np.ptp(a) > 0 and np.corrcoef(a, b)[0, 1] > 0.99


def test_images_with_a_large_offset_keep_their_spread(digits_images):
    images = 1e9 + digits_images[0][:200].astype(np.float64)
    plain = _quiet_fit(D(), digits_images[0][:200].astype(np.float64))
    shifted = _quiet_fit(D(), images)
    np.testing.assert_allclose(
        shifted.latent_distance(images), plain.latent_distance(images - 1e9), rtol=1e-4
    )


def test_float32_input_rounded_at_its_offset_warns():
    # float32 holds 1.7e9 in steps of 128: a spread of a few hundred keeps a few steps.
    data = (1.7e9 + rng.normal(size=(200, 2)) * 100).astype(np.float32)
    with pytest.warns(InputRangeWarning, match="steps of float32 resolution"):
        _quiet_fit_except(D(), data, InputRangeWarning)


def _quiet_fit_except(detector, data, category):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", category)
        return detector.fit(data)


# ------------------------------------------------------------ degenerate fits
def test_one_extreme_training_pixel_warns(digits_images):
    images = digits_images[0][:200].astype(np.float64)
    images[0, 0, 0] = 1e20
    with pytest.warns(ConvergenceWarning, match="extreme values"):
        _quiet_fit_except(D(), images, ConvergenceWarning)


# ------------------------------------------------ clear errors from the package
@pytest.mark.parametrize("name", ["best_epoch", "epoch_timer", "best_losses", "progress"])
def test_a_callback_may_not_take_a_name_the_package_uses(name):
    with pytest.raises(ValueError, match=f"named '{name}'"):
        D(callbacks=[(name, EarlyStopping())]).fit(X)


def test_a_callback_may_not_take_a_schedulers_twin_name():
    scheduler = LRScheduler(policy="StepLR", step_size=1)
    with pytest.raises(ValueError, match="lr_discriminator"):
        D(callbacks=[("lr", scheduler), ("lr_discriminator", EarlyStopping())]).fit(X)


def test_huge_loss_weights_get_advice_about_the_weights():
    with pytest.raises(FloatingPointError, match="loss weights"):
        _quiet_fit(D(w_con=1e38, w_adv=1e38), X)


@pytest.mark.parametrize("params", [{"width": 2**31}, {"latent_dim": 2**40}])
def test_enormous_networks_are_refused_before_they_exist(params):
    with pytest.raises(ValueError, match="parameters"):
        GANomalyDetector(**{"n_epochs": 1, "random_state": 0, **params}).fit(X)


@pytest.mark.parametrize("name", ["width", "latent_dim", "n_epochs", "batch_size", "n_neighbors"])
def test_a_boolean_is_not_an_integer_parameter(name):
    with pytest.raises(TypeError, match=name):
        D(**{name: True}).fit(X)


@pytest.mark.parametrize(
    "callback",
    [EarlyStopping(load_best=True), Checkpoint(dirname="unused", load_best=True)],
    ids=["EarlyStopping", "Checkpoint"],
)
def test_validation_callbacks_without_validation_rows_are_refused(callback, tmp_path):
    with pytest.raises(ValueError, match="validation_fraction"):
        D(validation_fraction=0.0, callbacks=[callback]).fit(X)
    assert not (tmp_path / "unused").exists()


def test_extended_precision_input_is_read_as_float64():
    detector = _quiet_fit(D(), X.astype(np.longdouble))
    np.testing.assert_allclose(
        detector.anomaly_score(X.astype(np.longdouble)), detector.anomaly_score(X)
    )


def test_complex_input_is_refused():
    with pytest.raises(ValueError, match="complex"):
        D().fit(X.astype(complex))


def test_tensors_that_require_grad_are_read_as_their_values():
    tensor = torch.as_tensor(X, dtype=torch.float32).requires_grad_(True)
    detector = _quiet_fit(D(), tensor)
    np.testing.assert_allclose(
        detector.anomaly_score(tensor), detector.anomaly_score(X.astype(np.float32)), rtol=1e-6
    )


def test_export_to_an_empty_path_is_refused():
    pytest.importorskip("onnx")
    detector = _quiet_fit(D(), X)
    with pytest.raises(ValueError, match="path"):
        detector.export_onnx("")


def test_the_pyod_adapter_ignores_y_as_documented():
    pytest.importorskip("pyod")
    from sklearn_ganomaly.pyod import GANomaly

    clf = _quiet_fit(GANomaly(n_epochs=1, width=8, random_state=0), X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = GANomaly(n_epochs=1, width=8, random_state=0).fit(X, y=np.full(len(X), 3.7))
    np.testing.assert_array_equal(other.decision_scores_, clf.decision_scores_)


def test_a_model_file_whose_end_record_claims_several_disks_is_refused(tmp_path):
    from sklearn_ganomaly import load

    path = _quiet_fit(D(), X).save(tmp_path / "m.pt")
    data = bytearray(path.read_bytes())
    # torch writes zip64 archives: the zip64 locator says how many disks there are.
    locator = data.rfind(b"PK\x06\x07")
    assert locator > 0
    data[locator + 16 : locator + 20] = (2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="m.pt"):
        load(path)


def test_duplicated_rows_are_no_degenerate_fit():
    # Tables often repeat rows: twins share a neighbour score of zero, which is
    # no collapse of the networks.
    rows = np.random.RandomState(2).normal(size=(80, 4))
    data = np.vstack([rows, np.repeat(rows[:40], 3, axis=0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", ConvergenceWarning)
        GANomalyDetector(n_epochs="auto", width=8, random_state=0).fit(data)
