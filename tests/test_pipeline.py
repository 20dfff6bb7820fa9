import numpy as np
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sklearn_ganomaly import GANomalyDetector

TINY = dict(width=4, latent_dim=2, n_epochs=2, batch_size=32, random_state=0, device="cpu")


def _tabular():
    rng = np.random.RandomState(0)
    normal = rng.normal(size=(100, 6)) * [1, 2, 3, 10, 100, 0.1]
    anomalies = rng.normal(size=(8, 6)) * [1, 2, 3, 10, 100, 0.1] + 8 * np.array(
        [1, 2, 3, 10, 100, 0.1]
    )
    return normal, anomalies


def _tabular_pipelines():
    return [
        make_pipeline(StandardScaler(), GANomalyDetector(**TINY)),
        make_pipeline(StandardScaler(), PCA(n_components=4), GANomalyDetector(**TINY)),
    ]


@pytest.mark.parametrize("pipeline", _tabular_pipelines(), ids=["scaler", "scaler-pca"])
def test_tabular_pipeline_scores_and_predicts(pipeline):
    normal, anomalies = _tabular()
    pipeline.fit(normal)
    X = np.vstack([normal, anomalies])
    decision = pipeline.decision_function(X)
    assert decision.shape == (len(X),)
    # Outliers are negative, and the far-away rows are the most negative.
    assert np.all(decision[len(normal) :] < 0)
    assert decision[len(normal) :].max() < np.median(decision[: len(normal)])
    np.testing.assert_array_equal(pipeline.predict(X), np.where(decision < 0, -1, 1))
    np.testing.assert_allclose(pipeline.score_samples(X), decision + pipeline[-1].offset_)


@pytest.mark.parametrize("pipeline", _tabular_pipelines(), ids=["scaler", "scaler-pca"])
def test_pipeline_fit_predict_matches_fit_then_predict(pipeline):
    normal, _ = _tabular()
    labels = clone(pipeline).fit_predict(normal)
    assert set(np.unique(labels)) <= {-1, 1}
    np.testing.assert_array_equal(labels, clone(pipeline).fit(normal).predict(normal))


def test_pipeline_clone_and_params_reach_the_detector():
    pipeline = make_pipeline(StandardScaler(), PCA(n_components=4), GANomalyDetector(**TINY))
    params = pipeline.get_params()
    assert params["ganomalydetector__width"] == 4
    assert params["pca__n_components"] == 4

    copy = clone(pipeline)
    assert copy.get_params()["ganomalydetector__random_state"] == 0
    assert copy[-1] is not pipeline[-1] and not hasattr(copy[-1], "net_")

    copy.set_params(ganomalydetector__width=8, ganomalydetector__latent_dim=3, pca__n_components=5)
    assert pipeline[-1].width == 4  # the original is untouched
    normal, _ = _tabular()
    copy.fit(normal)
    detector = copy[-1]
    assert detector.width == 8 and detector.latent_dim_ == 3 and detector.n_features_in_ == 5
    small = sum(p.numel() for p in clone(pipeline).fit(normal)[-1].net_.module_.parameters())
    large = sum(p.numel() for p in detector.net_.module_.parameters())
    assert large > small


def test_pipeline_with_flat_image_rows(digits_images):
    images, labels = digits_images
    flat = images.reshape(len(images), -1)
    normal, other = flat[labels == 0][:96], flat[labels == 1][:16]
    pipeline = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("detector", GANomalyDetector(image_shape=(1, 8, 8), **TINY)),
        ]
    )
    pipeline.fit(normal)
    detector = pipeline.named_steps["detector"]
    # Flat rows were read as 1x8x8 images, so the DCGAN networks were built.
    assert detector.input_transform_.network_shape == (1, 8, 8)
    assert detector.n_features_in_ == 64
    X = np.vstack([normal, other])
    assert pipeline.decision_function(X).shape == (len(X),)
    assert set(np.unique(pipeline.predict(X))) <= {-1, 1}
    reshaped = clone(pipeline).set_params(detector__image_shape=None)
    reshaped.fit(normal)
    assert reshaped.named_steps["detector"].input_transform_.network_shape == (64,)
