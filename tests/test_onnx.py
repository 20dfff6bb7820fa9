"""ONNX export: onnxruntime's latent distances match the estimator's."""

import numpy as np
import pytest

from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly._onnx import onnx_input

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TINY = dict(width=8, latent_dim=8, n_epochs=1, batch_size=32, random_state=0, device="cpu")


@pytest.fixture(scope="module", params=["images", "channels-last-rgb", "table"])
def exported(request, digits_images, blobs, tmp_path_factory):
    images = digits_images[0][:150]
    X = {
        "images": images,
        "channels-last-rgb": np.stack([images, images[:, ::-1], images], axis=-1),
        "table": blobs,
    }[request.param]
    detector = GANomalyDetector(**TINY).fit(X)
    path = detector.export_onnx(tmp_path_factory.mktemp("onnx") / "model.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return detector, X, path, session


@pytest.mark.parametrize("n", [1, 7, 64])
def test_latent_distances_match(exported, n):
    detector, X, _, session = exported
    distance, score = session.run(None, {"input": onnx_input(detector, X[:n])})
    assert distance.shape == score.shape == (n,)
    np.testing.assert_allclose(distance, detector.latent_distance(X[:n]), rtol=1e-4)
    np.testing.assert_allclose(score, detector.anomaly_score(X[:n]), rtol=1e-4, atol=1e-4)


def test_graph_signature_and_metadata(exported):
    detector, _, path, _ = exported
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    (graph_input,) = model.graph.input
    assert graph_input.name == "input"
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param  # the batch axis is symbolic
    assert [d.dim_value for d in dims[1:]] == list(detector.input_transform_.network_shape)
    assert [o.name for o in model.graph.output] == ["latent_distance", "anomaly_score"]
    metadata = {p.key: p.value for p in model.metadata_props}
    assert float(metadata["anomaly_threshold"]) == -detector.offset_
    assert metadata["input_layout"] == ("NCHW" if detector.input_transform_.is_image else "ND")


def test_input_helper_applies_the_fitted_scaling(exported):
    detector, X, _, _ = exported
    x = onnx_input(detector, X[:3])
    assert x.dtype == np.float32
    assert x.shape == (3, *detector.input_transform_.network_shape)
    if detector.input_transform_.is_image:
        assert x.min() >= -1 - 1e-6 and x.max() <= 1 + 1e-6
