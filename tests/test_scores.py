"""The ``score_method`` options: neighbour read-outs of the codes and their contracts."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from sklearn_ganomaly import PAPER_CONFIG, GANomalyDetector, _readout, load
from sklearn_ganomaly._readout import fit_components, reference_subset

TINY = dict(width=8, latent_dim=8, n_epochs=2, batch_size=32, random_state=0, device="cpu")
NEIGHBOUR_SCORES = ["latent_knn", "latent_lof", "latent_knn_lof"]


@pytest.fixture(scope="module")
def normal_and_test(digits_images):
    X, y = digits_images
    normal, abnormal = X[y != 4], X[y == 4]
    X_test = np.concatenate([normal[600:800], abnormal[:100]])
    y_test = np.r_[np.zeros(200), np.ones(100)]
    return normal[:600], X_test, y_test


@pytest.fixture(scope="module")
def fitted(normal_and_test):
    X_train, _, _ = normal_and_test
    return {
        score: GANomalyDetector(**TINY, score_method=score).fit(X_train)
        for score in ["latent", *NEIGHBOUR_SCORES]
    }


@pytest.mark.parametrize("score", ["latent", *NEIGHBOUR_SCORES])
def test_every_score_keeps_the_outlier_contract(fitted, normal_and_test, score):
    model = fitted[score]
    X_train, X_test, _ = normal_and_test
    scores = model.score_samples(X_test)
    assert np.all(np.isfinite(scores))
    np.testing.assert_allclose(model.anomaly_score(X_test), -scores)
    np.testing.assert_allclose(model.decision_function(X_test), scores - model.offset_)
    np.testing.assert_array_equal(model.predict(X_test) == -1, scores < model.offset_)
    # 'auto' contamination: about 1% of the (leave-one-out) training scores flagged.
    flagged = np.mean(-model.train_anomaly_scores_ < model.offset_)
    assert flagged == pytest.approx(0.01, abs=2 / len(X_train))


@pytest.mark.parametrize("score", NEIGHBOUR_SCORES)
def test_neighbour_scores_do_not_depend_on_the_batch(fitted, normal_and_test, score):
    model = fitted[score]
    _, X_test, _ = normal_and_test
    together = model.anomaly_score(X_test[:40])
    alone = np.array([model.anomaly_score(X_test[i : i + 1])[0] for i in range(40)])
    np.testing.assert_allclose(alone, together, rtol=1e-9, atol=1e-9)


def _anchored(codes, anchor):
    """Codes with the anchored cosine's extra coordinate, for scikit-learn's cosine."""
    return np.c_[codes, np.full(len(codes), anchor)]


def test_knn_score_is_distance_to_nearest_training_code(fitted, normal_and_test):
    model = fitted["latent_knn"]
    X_train, X_test, _ = normal_and_test
    anchor = model.readout_.anchors["anchored_cosine"]
    index = NearestNeighbors(n_neighbors=1, metric="cosine")
    index.fit(_anchored(model.encode(X_train), anchor))
    distance = index.kneighbors(_anchored(model.encode(X_test[:20]), anchor))[0][:, 0]
    # The score is the distance up to the robust normalisation: an increasing affine map.
    slope, intercept = np.polyfit(distance, model.anomaly_score(X_test[:20]), 1)
    assert slope > 0
    np.testing.assert_allclose(
        model.anomaly_score(X_test[:20]), slope * distance + intercept, atol=1e-6
    )


def test_training_scores_are_leave_one_out(fitted, normal_and_test):
    model = fitted["latent_knn"]
    X_train, _, _ = normal_and_test
    # The statistics come from leave-one-out distances, which are positive.
    codes = _anchored(model.encode(X_train), model.readout_.anchors["anchored_cosine"])
    loo = NearestNeighbors(n_neighbors=2, metric="cosine").fit(codes).kneighbors(codes)[0][:, 1]
    assert np.all(loo > 0)
    slope, intercept = np.polyfit(loo, model.train_anomaly_scores_, 1)
    assert slope > 0
    np.testing.assert_allclose(model.train_anomaly_scores_, slope * loo + intercept, atol=1e-6)


def test_neighbour_scores_beat_the_latent_distance_on_a_held_out_digit(fitted, normal_and_test):
    _, X_test, y_test = normal_and_test
    aucs = {s: roc_auc_score(y_test, m.anomaly_score(X_test)) for s, m in fitted.items()}
    assert aucs["latent_knn"] > 0.85, aucs
    assert aucs["latent_knn_lof"] > 0.85, aucs


@pytest.mark.parametrize("score", NEIGHBOUR_SCORES)
def test_save_and_load_keep_the_neighbour_score(fitted, normal_and_test, tmp_path, score):
    model = fitted[score]
    _, X_test, _ = normal_and_test
    loaded = load(model.save(tmp_path / "model.pt"))
    assert loaded.score_method == score
    np.testing.assert_allclose(loaded.anomaly_score(X_test), model.anomaly_score(X_test))
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))


def test_reference_set_is_bounded():
    keep = reference_subset(50_000, seed=0, limit=1000)
    assert len(keep) == 1000 and np.all(np.diff(keep) > 0)
    np.testing.assert_array_equal(keep, reference_subset(50_000, seed=0, limit=1000))
    np.testing.assert_array_equal(reference_subset(10, seed=0, limit=1000), np.arange(10))


def test_subsampled_reference_still_scores_every_training_row(monkeypatch, blobs):
    monkeypatch.setattr(_readout, "MAX_REFERENCE_CODES", len(blobs) // 2)
    model = GANomalyDetector(**TINY, score_method="latent_knn").fit(blobs)
    assert len(model.reference_codes_) == len(blobs) // 2
    assert model.train_anomaly_scores_.shape == (len(blobs),)
    assert np.all(np.isfinite(model.train_anomaly_scores_))


def test_neighbour_count_is_capped_by_the_reference_size():
    codes = np.random.RandomState(0).normal(size=(3, 4))
    readout, raw = fit_components("latent_knn_lof", 10, np.zeros(3), codes, np.arange(3))
    assert [c.n_neighbors for c in readout.components] == [2, 2]
    assert raw.shape == (3,) and np.all(np.isfinite(raw))


def test_paper_config_is_the_latent_distance_on_the_paper_networks():
    model = GANomalyDetector(**PAPER_CONFIG)
    assert model.score_method == "latent" and model.width == 64 and model.n_epochs == 15


def test_pyod_adapter_uses_leave_one_out_training_scores(normal_and_test):
    pytest.importorskip("pyod")
    from sklearn_ganomaly.pyod import GANomaly

    X_train, X_test, _ = normal_and_test
    params = {k: v for k, v in TINY.items()}
    clf = GANomaly(**params, score_method="latent_knn", contamination=0.1).fit(X_train)
    np.testing.assert_allclose(clf.decision_scores_, clf.detector_.train_anomaly_scores_)
    # 10% of the training rows above the threshold, as PyOD's contract says.
    assert np.mean(clf.labels_) == pytest.approx(0.1, abs=2 / len(X_train))
    assert clf.predict(X_test).shape == (len(X_test),)


@pytest.mark.parametrize("damage", ["missing", "wrong_width", "not_finite"])
def test_load_refuses_damaged_reference_codes(fitted, tmp_path, damage):
    import torch

    path = fitted["latent_knn"].save(tmp_path / "model.pt")
    payload = torch.load(path, weights_only=True)
    codes = payload["tensors"]["reference_codes"]
    if damage == "missing":
        del payload["tensors"]["reference_codes"]
    elif damage == "wrong_width":
        payload["tensors"]["reference_codes"] = codes[:, :-1].clone()
    else:
        codes[0, 0] = float("nan")
    torch.save(payload, path)
    with pytest.raises(ValueError, match="reference_codes"):
        load(path)


@pytest.mark.parametrize("score", NEIGHBOUR_SCORES)
def test_the_training_data_scores_as_its_leave_one_out_scores(fitted, normal_and_test, score):
    # A training sample scored again is compared with the other training
    # codes, as at fit: predict on the training data flags the contamination
    # share, as labels_ of the PyOD adapter do.
    model = fitted[score]
    X_train, _, _ = normal_and_test
    np.testing.assert_allclose(
        model.anomaly_score(X_train), model.train_anomaly_scores_, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("score", ["latent_knn_euclidean", "latent_knn_lof_euclidean"])
def test_tables_score_their_training_rows_leave_one_out(blobs, score):
    model = GANomalyDetector(**TINY, score_method=score).fit(blobs)
    np.testing.assert_allclose(
        model.anomaly_score(blobs), model.train_anomaly_scores_, rtol=1e-9, atol=1e-9
    )
    # A new row that merely lies near a training row is compared with all of
    # them, that one included: it scores lower (more normal) than the row did.
    near = blobs[:20] + 1e-3
    assert np.all(model.anomaly_score(near) < model.train_anomaly_scores_[:20])
