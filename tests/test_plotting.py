"""Pictures: residuals, heatmaps, extremes grid, score histogram, ROC curves."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from sklearn_ganomaly import GANomalyDetector

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

from sklearn_ganomaly import plotting  # noqa: E402
from sklearn_ganomaly._scores import SCORE_METHODS  # noqa: E402
from sklearn_ganomaly._scoring_graph import detector_graph  # noqa: E402

TINY = dict(width=4, latent_dim=4, n_epochs=1, batch_size=32, random_state=0, device="cpu")


@pytest.fixture(scope="module")
def gray(digits_images):
    X = digits_images[0][:120]
    return GANomalyDetector(**TINY).fit(X), X


@pytest.fixture(scope="module")
def rgb(digits_images):
    X = np.stack([digits_images[0][:80]] * 3, axis=-1)
    return GANomalyDetector(**TINY).fit(X), X


def test_residuals_are_abs_reconstruction_error(gray):
    detector, X = gray
    inputs, reconstructions, residual = plotting.residuals(detector, X[:6])
    assert inputs.shape == reconstructions.shape == (6, 8, 8, 1)
    assert residual.shape == (6, 8, 8)
    np.testing.assert_allclose(residual, np.abs(inputs - reconstructions)[..., 0])
    assert inputs.min() >= -1 - 1e-9 and inputs.max() <= 1 + 1e-9


@pytest.mark.parametrize("n, n_cols, panels", [(1, 8, 1), (5, 8, 5), (10, 4, 12)])
def test_heatmaps_one_panel_per_image(gray, n, n_cols, panels):
    detector, X = gray
    figure = plotting.plot_residual_heatmaps(
        detector, X[:n], titles=[f"img{i}" for i in range(n)], n_cols=n_cols
    )
    assert isinstance(figure, Figure)
    image_axes = figure.axes[:-1]  # the last one is the colour bar
    assert len(image_axes) == panels
    assert image_axes[0].get_title().endswith("img0")


@pytest.mark.parametrize("k", [1, 3])
def test_grid_shows_k_most_then_k_least_anomalous(gray, k):
    detector, X = gray
    scores = detector.anomaly_score(X)
    figure = plotting.plot_extremes(detector, X, k=k, scores=scores)
    panels = figure.axes[:-1]
    assert len(panels) == 2 * k * 3
    captions = [t.get_text() for ax in panels[::3] for t in ax.texts]
    assert captions[0].startswith("most anomalous")
    assert f"{scores.max():.2f}" in captions[0]
    assert captions[-1].startswith("least anomalous")
    assert f"{scores.min():.2f}" in captions[-1]


def test_rgb_images_are_drawn_in_colour(rgb):
    detector, X = rgb
    figure = plotting.plot_extremes(detector, X, k=1)
    assert figure.axes[0].get_images()[0].get_array().shape == (8, 8, 3)


def test_histogram_marks_the_threshold():
    scores = np.random.RandomState(0).normal(size=200)
    figure = plotting.plot_score_histogram(scores, threshold=1.5, title="t")
    ax = figure.axes[0]
    (line,) = ax.get_lines()
    assert line.get_xdata()[0] == 1.5
    flagged = int(np.sum(scores > 1.5))
    assert any(f"{flagged} flagged" in t.get_text() for t in ax.get_legend().get_texts())


def test_histogram_by_label():
    scores = np.r_[np.zeros(10), np.ones(5)]
    figure = plotting.plot_score_histogram(scores, np.r_[np.zeros(10), np.ones(5)].astype(int))
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert texts == ["normal (10)", "abnormal (5)"]


def test_roc_curves():
    y = np.r_[np.zeros(20), np.ones(20)]
    curves = {"perfect": (y, y), "chance": (y, np.full(40, 0.5))}
    figure = plotting.plot_roc_curves(curves, title="ROC")
    texts = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert texts == ["perfect (AUC 1.000)", "chance (AUC 0.500)"]


def test_figures_save_as_png(gray, tmp_path):
    detector, X = gray
    path = tmp_path / "grid.png"
    plotting.plot_extremes(detector, X, k=2).savefig(path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100


def test_tabular_detector_is_refused(blobs):
    detector = GANomalyDetector(**TINY).fit(blobs)
    with pytest.raises(ValueError, match="fitted on images"):
        plotting.plot_residual_heatmaps(detector, blobs[:3])


def test_scores_of_wrong_length_are_refused(gray):
    detector, X = gray
    with pytest.raises(ValueError, match="scores must have shape"):
        plotting.plot_extremes(detector, X[:5], scores=np.zeros(4))


def test_core_import_does_not_load_matplotlib():
    code = "import sys, sklearn_ganomaly; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


@pytest.mark.parametrize("score_method", ["latent", "latent_knn", "latent_knn_lof"])
def test_attribution_maps_are_the_gradient_of_the_score(digits_images, score_method):
    X = digits_images[0][:120]
    detector = GANomalyDetector(**{**TINY, "score_method": score_method}).fit(X)
    maps = plotting.attribution_maps(detector, X[:3])
    assert maps.shape == (3, 8, 8) and np.all(maps >= 0) and maps.max() > 0
    # A central finite difference of the anomaly score on the most influential
    # pixel, in float64, in the networks' input units (raw units times the scale).
    n = int(np.argmax(maps.max(axis=(1, 2))))
    i, j = np.unravel_index(np.argmax(maps[n]), maps[n].shape)
    scale = float(detector.input_transform_.scale)
    step = 1e-4 / scale
    graph = detector_graph(detector, dtype=torch.float64)

    def score(image):
        with torch.no_grad():
            return float(graph(torch.as_tensor(image[None], dtype=torch.float64))[0][0])

    up, down = X[n].astype(np.float64), X[n].astype(np.float64)
    up[i, j] += step
    down[i, j] -= step
    slope = (score(up) - score(down)) / (2 * step) / scale
    assert abs(slope) == pytest.approx(maps[n, i, j], rel=0.05)


def test_attribution_figure_says_which_map_it_shows(gray):
    detector, X = gray
    figure = plotting.plot_attribution_maps(detector, X[:3], titles=["a", "b", "c"])
    assert SCORE_METHODS[detector.score_method_].attribution in figure.get_suptitle()
    assert len([ax for ax in figure.axes if ax.get_title()]) == 3
    figure = plotting.plot_attribution_maps(detector, X[:3], target="latent_distance")
    assert "latent distance mean((z - z_hat)^2)" in figure.get_suptitle()
    latent = GANomalyDetector(**{**TINY, "score_method": "latent"}).fit(X)
    with pytest.raises(ValueError, match="code_distance"):
        plotting.attribution_maps(latent, X[:3], target="code_distance")
