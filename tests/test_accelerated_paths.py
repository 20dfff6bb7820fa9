"""The GPU-oriented training paths (bf16 autocast, channels-last, torch.compile),
checked for correctness on the CPU against the plain float32 path."""

import pickle

import numpy as np
import pytest
import torch

from sklearn_ganomaly import GANomalyDetector, _device
from sklearn_ganomaly.networks import Discriminator, Generator

TINY = dict(width=8, latent_dim=8, n_epochs=1, batch_size=32, random_state=0, device="cpu")
#: The float32 reference the accelerated paths are compared with.
FP32 = dict(TINY, precision="fp32")


def _conv_weights(module):
    return [m.weight for m in module.modules() if isinstance(m, torch.nn.Conv2d)]


@pytest.fixture(scope="module")
def images(digits_images):
    return digits_images[0][:300]


@pytest.fixture(scope="module")
def reference(images):
    return GANomalyDetector(**FP32).fit(images)


@pytest.fixture(scope="module")
def reference_distances(reference, images):
    return reference.latent_distance(images)


def test_auto_settings_on_cpu(images, monkeypatch):
    # 'auto' on a CPU: bfloat16 autocast only where the CPU computes it natively,
    # row-major float32 weights either way.
    for native in (False, True):
        monkeypatch.setattr(_device, "cpu_has_native_bf16", lambda native=native: native)
        model = GANomalyDetector(**{**TINY, "n_epochs": 1}).fit(images[:64])
        assert model.net_.autocast_dtype == (torch.bfloat16 if native else None)
        # Tables stay in float32: their small networks run slower under autocast.
        table = GANomalyDetector(**{**TINY, "n_epochs": 1}).fit(images[:64].reshape(64, -1))
        assert table.net_.autocast_dtype is None
    weights = _conv_weights(model.net_.module_)
    assert weights and all(w.dtype == torch.float32 for w in weights)
    assert all(w.is_contiguous() for w in weights)


def test_channels_last_matches_the_default_layout(images, reference_distances):
    model = GANomalyDetector(**FP32, channels_last=True).fit(images)
    weights = _conv_weights(model.net_.module_)
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in weights)
    assert not all(w.is_contiguous() for w in weights)
    np.testing.assert_allclose(model.latent_distance(images), reference_distances, rtol=1e-4)


def test_bf16_autocast_trains_close_to_float32(images, reference_distances):
    model = GANomalyDetector(**TINY, precision="bf16").fit(images)
    assert model.net_.autocast_dtype is torch.bfloat16
    distances = model.latent_distance(images)
    assert np.all(np.isfinite(distances))
    # bfloat16 keeps 8 bits of mantissa: same model up to a few percent.
    assert np.corrcoef(distances, reference_distances)[0, 1] > 0.99
    np.testing.assert_allclose(distances, reference_distances, rtol=0.1)


def test_compiled_training_matches_eager_and_pickles(images, reference_distances):
    model = GANomalyDetector(**FP32, compile=True).fit(images)
    np.testing.assert_allclose(model.latent_distance(images), reference_distances, rtol=1e-4)
    # The compiled wrappers are dropped after training: plain modules remain.
    assert type(model.net_.module_) is Generator
    assert type(model.net_.discriminator_) is Discriminator
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.latent_distance(images), model.latent_distance(images))
