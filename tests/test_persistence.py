"""Safe persistence: tensors + JSON, CPU loading of GPU models, clear errors."""

import copy
import json
import pickle

import joblib
import numpy as np
import pytest
import torch

from sklearn_ganomaly import GANomalyDetector, load
from sklearn_ganomaly._persistence import FORMAT_VERSION

TINY = dict(width=4, latent_dim=4, n_epochs=2, batch_size=32, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def fitted(digits_images, blobs):
    images = digits_images[0][:200]
    return {
        "images": (GANomalyDetector(contamination=0.1, **TINY).fit(images), images),
        "table": (GANomalyDetector(**TINY).fit(blobs), blobs),
    }


@pytest.fixture(params=["images", "table"])
def model(request, fitted):
    return fitted[request.param]


def _same_scores(a, b, X):
    np.testing.assert_allclose(a.latent_distance(X), b.latent_distance(X), rtol=1e-6)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_save_load_round_trip(model, tmp_path):
    detector, X = model
    path = detector.save(tmp_path / "model.pt")
    loaded = load(path)
    assert isinstance(loaded, GANomalyDetector)
    assert loaded.get_params() == {**detector.get_params(), "callbacks": None}
    for name in (
        "offset_",
        "score_center_",
        "score_scale_",
        "input_shape_",
        "latent_dim_",
        "best_epoch_",
        "n_features_in_",
    ):
        assert getattr(loaded, name) == getattr(detector, name), name
    assert loaded.device_ == "cpu"
    assert len(loaded.history_) == len(detector.history_)
    _same_scores(detector, loaded, X)
    np.testing.assert_allclose(loaded.reconstruct(X[:5]), detector.reconstruct(X[:5]))


def test_file_holds_only_tensors_and_json(fitted, tmp_path):
    detector, _ = fitted["images"]
    path = detector.save(tmp_path / "model.pt")
    payload = torch.load(path, weights_only=True)  # refuses any pickled code
    assert set(payload) == {"metadata", "tensors"}
    assert all(isinstance(t, torch.Tensor) for t in payload["tensors"].values())
    metadata = json.loads(payload["metadata"])
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["offset_"] == detector.offset_
    assert metadata["input_transform"]["sample_shape"] == [8, 8]
    assert metadata["package_version"]


def test_loaded_model_can_be_refitted(fitted, tmp_path):
    detector, X = fitted["table"]
    loaded = load(detector.save(tmp_path / "m.pt"))
    refit = loaded.fit(X)
    _same_scores(detector, refit, X)


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads), ("joblib", "joblib")])
def test_pickle_and_joblib_round_trips(model, tmp_path, dumps, loads):
    detector, X = model
    if dumps == "joblib":
        joblib.dump(detector, tmp_path / "m.joblib")
        restored = joblib.load(tmp_path / "m.joblib")
    else:
        restored = loads(dumps(detector))
    _same_scores(detector, restored, X)


def test_gpu_saved_model_loads_and_scores_on_cpu(fitted, tmp_path, monkeypatch):
    detector, X = fitted["images"]
    gpu_like = copy.copy(detector)
    gpu_like.device_ = "cuda"
    path = tmp_path / "gpu.pt"
    with monkeypatch.context() as patch:
        # Tag every stored tensor as living on cuda:0, as a GPU save does.
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        gpu_like.save(path)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(path, weights_only=True)  # proves the file is GPU-tagged
    loaded = load(path)
    assert loaded.device_ == "cpu"
    assert next(loaded.net_.module_.parameters()).device.type == "cpu"
    _same_scores(detector, loaded, X)


def _torch_file(path, obj):
    torch.save(obj, path)
    return path


def test_unknown_format_version(fitted, tmp_path):
    detector, _ = fitted["table"]
    path = detector.save(tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    metadata = json.loads(payload["metadata"])
    metadata["format_version"] = 99
    payload["metadata"] = json.dumps(metadata)
    torch.save(payload, path)
    with pytest.raises(ValueError, match="format version 99"):
        load(path)


def test_truncated_file(fitted, tmp_path):
    detector, _ = fitted["table"]
    path = detector.save(tmp_path / "m.pt")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        load(path)


@pytest.mark.parametrize(
    "write",
    [
        lambda p: p.write_text("hello, not a model"),
        lambda p: p.write_bytes(b""),
        lambda p: _torch_file(p, torch.zeros(3)),
        lambda p: _torch_file(p, {"metadata": "{}", "tensors": {}}),
        lambda p: _torch_file(p, {"metadata": "not json", "tensors": {}}),
        lambda p: _torch_file(p, {"metadata": json.dumps({"format": "other"}), "tensors": {}}),
    ],
    ids=["text", "empty", "tensor", "empty-metadata", "bad-json", "other-format"],
)
def test_not_a_model_file(tmp_path, write):
    path = tmp_path / "m.pt"
    write(path)
    with pytest.raises(ValueError, match="not a sklearn-ganomaly model file"):
        load(path)


class _Payload:
    """An arbitrary class: unpickling it would mean importing and running code."""


def test_pickled_code_is_refused(tmp_path):
    path = _torch_file(tmp_path / "m.pt", {"metadata": _Payload(), "tensors": {}})
    with pytest.raises(ValueError, match="not a sklearn-ganomaly model file"):
        load(path)
    joblib.dump(GANomalyDetector(), tmp_path / "m.joblib")
    with pytest.raises(ValueError, match="not a sklearn-ganomaly model file"):
        load(tmp_path / "m.joblib")


def test_inconsistent_weights(fitted, tmp_path):
    detector, _ = fitted["table"]
    path = detector.save(tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)
    payload["tensors"] = {k: v for k, v in payload["tensors"].items() if "encoder" not in k}
    torch.save(payload, path)
    with pytest.raises(ValueError, match="inconsistent"):
        load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load(tmp_path / "nope.pt")
