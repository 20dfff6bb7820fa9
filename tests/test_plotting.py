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


def _legend(figure):
    return [t.get_text() for t in figure.axes[0].get_legend().get_texts()]


def _bar_colours(figure):
    """The face colour of each histogram drawn, in legend order."""
    from matplotlib.colors import to_hex

    containers = figure.axes[0].containers
    return [to_hex(container.patches[0].get_facecolor()) for container in containers]


@pytest.mark.parametrize(
    "labels",
    [
        np.r_[np.zeros(10), np.ones(5)].astype(int),  # PyOD's 0/1, 1 = anomaly
        np.r_[np.ones(10), -np.ones(5)].astype(int),  # scikit-learn's +1/-1, -1 = anomaly
        np.r_[np.zeros(10), np.ones(5)].astype(bool),  # True = anomaly
    ],
    ids=["zero_one", "plus_minus_one", "bool"],
)
def test_histogram_names_and_colours_normal_and_anomaly(labels):
    scores = np.r_[np.zeros(10), np.ones(5)]
    figure = plotting.plot_score_histogram(scores, labels)
    assert _legend(figure) == ["normal (10)", "anomaly (5)"]
    assert _bar_colours(figure) == [plotting.NORMAL_COLOR, plotting.ANOMALY_COLOR]


def test_histogram_of_predictions_reads_the_sign():
    scores = np.arange(6.0)
    figure = plotting.plot_score_histogram(scores, [1, 1, 1, 1, -1, -1], threshold=3.5)
    assert _legend(figure)[:2] == ["normal (4)", "anomaly (2)"]


def test_histogram_label_conventions():
    scores = np.arange(4.0)
    # All 1 could be all anomalies (0/1) or all normal (+1/-1): drawn as they are ...
    assert _legend(plotting.plot_score_histogram(scores, [1, 1, 1, 1])) == ["1 (4)"]
    # ... unless the convention is given.
    figure = plotting.plot_score_histogram(scores, [1, 1, 1, 1], label_convention="sklearn")
    assert _legend(figure) == ["normal (4)"]
    figure = plotting.plot_score_histogram(scores, [1, 1, 1, 1], label_convention="zero_one")
    assert _legend(figure) == ["anomaly (4)"]
    # Other groups keep their names.
    figure = plotting.plot_score_histogram(scores, ["a", "b", "b", "c"])
    assert _legend(figure) == ["a (1)", "b (2)", "c (1)"]
    with pytest.raises(ValueError, match="label_convention='zero_one' expects"):
        plotting.plot_score_histogram(scores, [1, -1, 1, 1], label_convention="zero_one")
    with pytest.raises(ValueError, match="label_convention must be one of"):
        plotting.plot_score_histogram(scores, [0, 1, 0, 1], label_convention="pyod")
    with pytest.raises(ValueError, match="one entry per score"):
        plotting.plot_score_histogram(scores, [0, 1])


def test_extremes_name_and_colour_known_classes(gray):
    detector, X = gray
    labels = np.r_[np.zeros(len(X) - 10), np.ones(10)].astype(int)
    figure = plotting.plot_extremes(detector, X, k=2, labels=labels)
    captions = [t for ax in figure.axes[:-1:3] for t in ax.texts]
    assert len(captions) == 4
    for text in captions:
        name = text.get_text().splitlines()[-1]
        assert name in ("normal", "anomaly")
        colour = plotting.NORMAL_COLOR if name == "normal" else plotting.ANOMALY_COLOR
        assert text.get_color() == colour


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


def _suptitle(figure):
    return " ".join(figure.get_suptitle().split())  # wrapped to the figure's width


def test_attribution_figure_says_which_map_it_shows(gray):
    detector, X = gray
    figure = plotting.plot_attribution_maps(detector, X[:3], titles=["a", "b", "c"])
    assert SCORE_METHODS[detector.score_method_].attribution in _suptitle(figure)
    assert len([ax for ax in figure.axes if ax.get_title()]) == 3
    figure = plotting.plot_attribution_maps(detector, X[:3], target="latent_distance")
    assert "latent distance mean((z - z_hat)^2)" in _suptitle(figure)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_attribution_figure_title_fits_the_figure(digits_images, n):
    # The CLI's report draws k images: with few of them the figure is narrow,
    # and the long title must still show whole.
    X = digits_images[0][:120]
    detector = GANomalyDetector(**{**TINY, "score_method": "latent_knn"}).fit(X)
    figure = plotting.plot_attribution_maps(detector, X[:n], titles=[f"{i}.png" for i in range(n)])
    figure.draw_without_rendering()  # lays the figure out as savefig would
    title = figure._suptitle.get_window_extent()
    page = figure.bbox
    assert title.x0 >= page.x0 and title.x1 <= page.x1
    assert title.y0 >= page.y0 and title.y1 <= page.y1
    panels = [ax.get_window_extent() for ax in figure.axes if ax.get_images()]
    assert all(title.y0 >= panel.y1 for panel in panels)  # above the panels, not over them
    latent = GANomalyDetector(**{**TINY, "score_method": "latent"}).fit(X)
    with pytest.raises(ValueError, match="code_distance"):
        plotting.attribution_maps(latent, X[:3], target="code_distance")
