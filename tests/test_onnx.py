"""ONNX export: the graph takes the caller's raw samples and scores as the estimator does."""

import numpy as np
import pytest

from sklearn_ganomaly import GANomalyDetector

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TINY = dict(
    width=8,
    latent_dim=8,
    n_epochs=1,
    batch_size=32,
    random_state=0,
    device="cpu",
    score_method="latent",
)

LAYOUTS = [
    "images",
    "images-default-score",
    "channels-last-rgb",
    "flat-pixels",
    "table",
    "table-knn",
    "table-lof",
]


def _data(name, digits_images, blobs):
    images = digits_images[0][:150]
    if name == "images":
        return images * 16.0, {}  # 0-256 raw pixel units, not [0, 1]
    if name == "images-default-score":
        return images, {"score_method": "auto"}
    if name == "channels-last-rgb":
        return np.stack([images, images[:, ::-1], images], axis=-1), {}
    if name == "flat-pixels":
        return images.reshape(len(images), -1), {"image_shape": (1, 8, 8)}
    if name == "table-knn":
        return blobs * 100.0 + 7.0, {"score_method": "latent_knn", "n_neighbors": 2}
    if name == "table-lof":
        return blobs * 100.0 + 7.0, {"score_method": "latent_knn_lof", "latent_dim": 3}
    return blobs * 100.0 + 7.0, {}  # far from standardised units


@pytest.fixture(scope="module", params=LAYOUTS)
def exported(request, digits_images, blobs, tmp_path_factory):
    X, params = _data(request.param, digits_images, blobs)
    detector = GANomalyDetector(**{**TINY, **params}).fit(X)
    path = detector.export_onnx(
        tmp_path_factory.mktemp("onnx") / "model.onnx", latent_distance=True
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return detector, X, path, session


@pytest.mark.parametrize("n", [1, 7, 64])
def test_raw_samples_score_as_the_estimator_does(exported, n):
    detector, X, _, session = exported
    score, distance = session.run(None, {"input": X[:n].astype(np.float32)})
    assert distance.shape == score.shape == (n,)
    np.testing.assert_allclose(distance, detector.latent_distance(X[:n]), rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(score, detector.anomaly_score(X[:n]), rtol=0, atol=1e-4)


def test_graph_signature_and_metadata(exported):
    detector, _, path, _ = exported
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    (graph_input,) = model.graph.input
    assert graph_input.name == "input"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param  # the batch axis is symbolic
    assert tuple(d.dim_value for d in dims[1:]) == detector.input_shape_
    assert [o.name for o in model.graph.output] == ["anomaly_score", "latent_distance"]
    metadata = {p.key: p.value for p in model.metadata_props}
    assert float(metadata["anomaly_threshold"]) == -detector.offset_
    assert metadata["score_method"] == detector.score_method_


def test_a_wrong_shape_fails_in_the_runtime_with_the_declared_shape(exported):
    detector, X, _, session = exported
    wrong = np.zeros((2, *[s + 1 for s in detector.input_shape_]), np.float32)
    with pytest.raises(Exception, match="(?i)invalid dimensions|expected"):
        session.run(None, {"input": wrong})


def test_the_score_is_the_only_output_by_default(blobs, tmp_path):
    detector = GANomalyDetector(**TINY).fit(blobs)
    path = detector.export_onnx(tmp_path / "score.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["anomaly_score"]
    (score,) = session.run(None, {"input": blobs[:5].astype(np.float32)})
    np.testing.assert_allclose(score, detector.anomaly_score(blobs[:5]), rtol=1e-3, atol=1e-3)
