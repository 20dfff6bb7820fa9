"""Pictures of images, their reconstructions and their scores (the ``plot`` extra).

- :func:`plot_attribution_maps`: per-image maps of the pixels the score is
  most sensitive to (:func:`attribution_maps`, the gradient of the latent
  distance, or of the code's distance to the training codes, with respect to
  each pixel): what moves the score.
- :func:`plot_residual_heatmaps`: per-image heatmaps of ``|x - x_hat|``, where
  the reconstruction misses (which need not be what the score reads).
- :func:`plot_extremes`: input / reconstruction / residual for the
  ``k`` most and ``k`` least anomalous images.
- :func:`plot_score_histogram`: the distribution of anomaly scores with the
  threshold marked, normal and anomalous samples apart when labels are known.
- :func:`plot_roc_curves`: ROC curves of several detectors on labelled data.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot, so
no global figure state is touched and no display is needed; save it with
``figure.savefig(path)``. matplotlib is imported here only, never by the core.
Images are drawn in the networks' scale (the training range mapped to
``[-1, 1]``), so residuals of different images share one colour scale.
Figures that tell normal from anomalous samples call them "normal" and
"anomaly" and draw them in :data:`NORMAL_COLOR` and :data:`ANOMALY_COLOR`.
"""

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from numpy.typing import ArrayLike

from ._attribution import attribution_maps, resolve_target, target_caption
from ._checks import check_scoring_input
from .model_selection import LABEL_CONVENTIONS, anomaly_mask

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._detector import GANomalyDetector

__all__ = [
    "ANOMALY_COLOR",
    "NORMAL_COLOR",
    "attribution_maps",
    "plot_attribution_maps",
    "plot_extremes",
    "plot_residual_heatmaps",
    "plot_roc_curves",
    "plot_score_histogram",
    "require_matplotlib",
    "residuals",
]

_PANEL_INCHES = 1.6
_TITLE_POINTS = 8

#: Colour of normal samples in every figure that tells them from anomalies
#: (blue and vermilion, told apart also with red-green colour blindness).
NORMAL_COLOR = "#0072b2"
#: Colour of anomalous samples in every such figure.
ANOMALY_COLOR = "#d55e00"
#: Lines that are neither: thresholds, chance.
_NEUTRAL_COLOR = "0.25"


def _classes(labels, label_convention):
    """``[(name, mask, colour)]`` of the groups of ``labels``, normal first.

    Labels in a known convention (0/1, +1/-1, booleans; see
    :func:`sklearn_ganomaly.model_selection.anomaly_mask`) become "normal"
    and "anomaly"; with ``label_convention='auto'``, anything else (class
    names, several classes, labels that are all 1) is drawn group by group
    under its own values.
    """
    if label_convention not in LABEL_CONVENTIONS:
        raise ValueError(
            f"label_convention must be one of {LABEL_CONVENTIONS}, got {label_convention!r}."
        )
    labels = np.asarray(labels).ravel()
    try:
        anomalous = anomaly_mask(labels, label_convention)
    except ValueError:
        if label_convention != "auto":
            raise
        return [(str(value), labels == value, None) for value in np.unique(labels)]
    return [
        (name, mask, color)
        for name, mask, color in [
            ("normal", ~anomalous, NORMAL_COLOR),
            ("anomaly", anomalous, ANOMALY_COLOR),
        ]
        if mask.any()
    ]


def _wrap(text, width_inches, fontsize):
    """``text`` broken into lines that fit ``width_inches`` at ``fontsize`` points."""
    # An average character of DejaVu Sans is about 0.55 em wide.
    return textwrap.fill(text, max(20, int(width_inches * 72 / (0.55 * fontsize))))


def require_matplotlib():
    """Raise an ImportError naming the ``plot`` extra if matplotlib is missing.

    For callers that check before a long computation whose figures they
    will draw at the end.
    """
    _figure((1, 1))


def _figure(figsize):
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the extra
        raise ImportError(
            "Plotting needs matplotlib: pip install 'sklearn-ganomaly[plot]'"
        ) from error
    return Figure(figsize=figsize, layout="constrained")


def _to_display(detector, X):
    """Samples as ``(n, H, W, C)`` floats in [-1, 1], via the fitted scaling."""
    if not detector.input_transform_.is_image:
        raise ValueError("Plots of images need a detector fitted on images.")
    x = detector.input_transform_.to_network(np.asarray(X), "cpu", torch.float64)
    return x.permute(0, 2, 3, 1).numpy()


def residuals(
    detector: "GANomalyDetector", X: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, reconstructions and per-pixel residuals ``|x - x_hat|``.

    Parameters
    ----------
    detector : GANomalyDetector
        A detector fitted on images.
    X : array-like
        Images in the layout used at fit.

    Returns
    -------
    inputs, reconstructions : ndarray of shape (n, H, W, C)
        In the networks' scale, ``[-1, 1]`` over the training range.
    residuals : ndarray of shape (n, H, W)
        ``|x - x_hat|`` averaged over channels, in ``[0, 2]``.
    """
    X = check_scoring_input(detector, X)
    inputs = _to_display(detector, X)
    reconstructions = _to_display(detector, detector.reconstruct(X))
    return inputs, reconstructions, np.abs(inputs - reconstructions).mean(axis=-1)


def plot_attribution_maps(
    detector: "GANomalyDetector",
    X: ArrayLike,
    *,
    scores: ArrayLike | None = None,
    titles: Sequence[str] | None = None,
    n_cols: int = 8,
    target: str = "auto",
) -> "Figure":
    """Maps of the pixels each image's score is most sensitive to.

    Each panel is :func:`attribution_maps` of one image, normalised to its
    own maximum (the maps of different images differ in scale by orders of
    magnitude); the figure's title says which quantity was differentiated.

    Parameters
    ----------
    detector : GANomalyDetector
        A detector fitted on images.
    X : array-like
        Images in the layout used at fit.
    scores : array-like of shape (n,) or None, default=None
        Anomaly scores shown above each panel; computed when None.
    titles : sequence of str or None, default=None
        Extra caption per image (a file name, say), shown under the score.
    n_cols : int, default=8
        Panels per row.
    target : {'auto', 'score', 'latent_distance', 'code_distance'}, default='auto'
        What to differentiate (see :func:`attribution_maps`).

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per image, the image in gray under its map.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ganomaly import GANomalyDetector
    >>> from sklearn_ganomaly.plotting import plot_attribution_maps
    >>> X = load_digits().images[:100]
    >>> detector = GANomalyDetector(
    ...     width=4, latent_dim=4, n_epochs=1, score_method="latent", random_state=0
    ... ).fit(X)
    >>> figure = plot_attribution_maps(detector, X[:4])
    >>> figure.get_suptitle().startswith("|d score / d pixel|")
    True
    """
    target = resolve_target(detector, target)
    maps = attribution_maps(detector, X, target=target)
    inputs = _to_display(detector, check_scoring_input(detector, X))
    scores = _scores(detector, X, scores)
    n = len(maps)
    n_cols = max(1, min(n_cols, n))
    n_rows = -(-n // n_cols)
    width = _PANEL_INCHES * n_cols + 0.4
    # The title is long: wrapped to the figure's width, with room made for its
    # lines, so that a figure of a few panels does not cut it off.
    title = _wrap(
        f"|d score / d pixel|: gradient of {target_caption(detector, target)} with respect to "
        "each pixel (each map scaled to its maximum)",
        width,
        _TITLE_POINTS,
    )
    title_inches = (title.count("\n") + 1) * _TITLE_POINTS * 1.4 / 72
    figure = _figure((width, _PANEL_INCHES * n_rows + 0.5 + title_inches))
    axes = np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(np.clip((inputs[i].mean(axis=-1) + 1.0) / 2.0, 0, 1), cmap="gray")
        ax.imshow(maps[i] / max(float(maps[i].max()), 1e-30), cmap="inferno", alpha=0.7)
        caption = f"score {scores[i]:.2f}"
        if titles is not None:
            caption += f"\n{titles[i]}"
        ax.set_title(caption, fontsize=7)
    figure.suptitle(title, fontsize=_TITLE_POINTS)
    return figure


def _show_image(ax, image):
    """Draw one ``(H, W, C)`` image in [-1, 1]: gray for 1 channel, RGB for 3."""
    image = np.clip((image + 1.0) / 2.0, 0.0, 1.0)
    if image.shape[-1] == 3:
        ax.imshow(image)
    else:
        ax.imshow(image.mean(axis=-1), cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_axis_off()


def _show_residual(ax, residual, vmax):
    ax.set_axis_off()
    return ax.imshow(residual, cmap="inferno", vmin=0.0, vmax=vmax)


def _scores(detector, X, scores):
    if scores is None:
        return detector.anomaly_score(X)
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (len(X),):
        raise ValueError(f"scores must have shape ({len(X)},), got {scores.shape}.")
    return scores


def plot_residual_heatmaps(
    detector: "GANomalyDetector",
    X: ArrayLike,
    *,
    scores: ArrayLike | None = None,
    titles: Sequence[str] | None = None,
    n_cols: int = 8,
) -> "Figure":
    """Heatmaps of ``|x - x_hat|`` for each image, on one colour scale.

    Parameters
    ----------
    detector : GANomalyDetector
        A detector fitted on images.
    X : array-like
        Images in the layout used at fit.
    scores : array-like of shape (n,) or None, default=None
        Anomaly scores shown above each panel; computed when None.
    titles : sequence of str or None, default=None
        Extra caption per image (a file name, say), shown under the score.
    n_cols : int, default=8
        Panels per row.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One panel per image and a shared colour bar.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ganomaly import GANomalyDetector
    >>> from sklearn_ganomaly.plotting import plot_residual_heatmaps
    >>> X = load_digits().images[:100]
    >>> detector = GANomalyDetector(width=4, latent_dim=4, n_epochs=1, random_state=0).fit(X)
    >>> figure = plot_residual_heatmaps(detector, X[:4])
    >>> len(figure.axes)  # four panels and the colour bar
    5
    """
    _, _, residual = residuals(detector, X)
    scores = _scores(detector, X, scores)
    n = len(residual)
    n_cols = max(1, min(n_cols, n))
    n_rows = -(-n // n_cols)
    figure = _figure((_PANEL_INCHES * n_cols + 0.8, _PANEL_INCHES * n_rows + 0.3))
    axes = np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False)).ravel()
    vmax = max(float(residual.max()), 1e-12)
    for i, ax in enumerate(axes):
        if i >= n:
            ax.set_axis_off()
            continue
        image = _show_residual(ax, residual[i], vmax)
        caption = f"score {scores[i]:.2f}"
        if titles is not None:
            caption += f"\n{titles[i]}"
        ax.set_title(caption, fontsize=7)
    figure.colorbar(image, ax=axes.tolist(), label="|x - x_hat|", shrink=0.8)
    return figure


def plot_extremes(
    detector: "GANomalyDetector",
    X: ArrayLike,
    *,
    k: int = 5,
    scores: ArrayLike | None = None,
    titles: Sequence[str] | None = None,
    labels: ArrayLike | None = None,
    label_convention: str = "auto",
) -> "Figure":
    """Input, reconstruction and residual of the k most and k least anomalous images.

    Parameters
    ----------
    detector : GANomalyDetector
        A detector fitted on images.
    X : array-like
        Images in the layout used at fit.
    scores : array-like of shape (n,) or None, default=None
        Anomaly scores of ``X`` (higher = more abnormal); computed when None.
    k : int, default=5
        Images shown at each end (fewer when ``X`` is small).
    titles : sequence of str or None, default=None
        Caption per image of ``X`` (a file name, a known class, ...).
    labels : array-like of shape (n,) or None, default=None
        Known classes of ``X`` as anomaly labels (0/1 or +1/-1, read as by
        :func:`plot_score_histogram`): each caption then names its image
        "normal" or "anomaly", in :data:`NORMAL_COLOR` or
        :data:`ANOMALY_COLOR`.
    label_convention : {'auto', 'zero_one', 'sklearn'}, default='auto'
        How to read ``labels`` (see :func:`plot_score_histogram`).

    Returns
    -------
    figure : matplotlib.figure.Figure
        One row per image, most anomalous first; columns input,
        reconstruction and residual.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_ganomaly import GANomalyDetector
    >>> from sklearn_ganomaly.plotting import plot_extremes
    >>> X = load_digits().images[:100]
    >>> detector = GANomalyDetector(width=4, latent_dim=4, n_epochs=1, random_state=0).fit(X)
    >>> figure = plot_extremes(detector, X, k=2)
    >>> len(figure.axes)  # 4 images x 3 panels and the colour bar
    13
    """
    scores = _scores(detector, X, scores)
    names = colors = None
    if labels is not None:
        if len(np.asarray(labels).ravel()) != len(scores):
            raise ValueError(f"labels must have shape ({len(scores)},).")
        names, colors = np.empty(len(scores), object), np.full(len(scores), "black", object)
        for name, mask, color in _classes(labels, label_convention):
            names[mask], colors[mask] = name, color or "black"
    order = np.argsort(-scores, kind="stable")
    k = max(1, min(int(k), len(order) // 2 or 1))
    rows = np.concatenate([order[:k], order[-k:]]) if len(order) > 1 else order
    ends = ["most anomalous"] * k + ["least anomalous"] * (len(rows) - k)
    selected = np.asarray(X)[rows]
    inputs, reconstructions, residual = residuals(detector, selected)
    vmax = max(float(residual.max()), 1e-12)
    figure = _figure((_PANEL_INCHES * 3 + 1.6, _PANEL_INCHES * len(rows) + 0.4))
    axes = figure.subplots(len(rows), 3, squeeze=False)
    for column, name in enumerate(("input", "reconstruction", "|x - x_hat|")):
        axes[0, column].set_title(name, fontsize=9)
    for i, row in enumerate(rows):
        _show_image(axes[i, 0], inputs[i])
        _show_image(axes[i, 1], reconstructions[i])
        image = _show_residual(axes[i, 2], residual[i], vmax)
        caption = f"{ends[i]}\nscore {scores[row]:.2f}"
        if titles is not None:
            caption += f"\n{titles[row]}"
        if names is not None:
            caption += f"\n{names[row]}"
        # set_axis_off hides ylabels, so the caption goes in as text.
        axes[i, 0].text(
            -0.1,
            0.5,
            caption,
            transform=axes[i, 0].transAxes,
            fontsize=7,
            ha="right",
            va="center",
            color="black" if colors is None else colors[row],
        )
    figure.colorbar(image, ax=axes[:, 2].tolist(), shrink=0.6)
    return figure


def plot_score_histogram(
    scores: ArrayLike,
    labels: ArrayLike | None = None,
    *,
    threshold: float | None = None,
    bins: int | str = "auto",
    title: str | None = None,
    label_convention: str = "auto",
) -> "Figure":
    """Histogram of anomaly scores with the threshold marked.

    Parameters
    ----------
    scores : array-like of shape (n,)
        Anomaly scores, higher = more abnormal (``detector.anomaly_score``).
    labels : array-like of shape (n,) or None, default=None
        Optional groups drawn as separate histograms over the same bins.
        Labels in either convention of anomaly labels, 0/1 (1 = anomaly, as
        in PyOD) or +1/-1 (-1 = anomaly, as ``predict`` returns), are named
        "normal" and "anomaly" and drawn in :data:`NORMAL_COLOR` and
        :data:`ANOMALY_COLOR`; other labels (class names, several classes)
        are drawn group by group under their own values.
    threshold : float or None, default=None
        Scores above it are flagged; drawn as a vertical line. The
        detector's own is ``-detector.offset_``.
    bins : int or str, default='auto'
        Passed to ``numpy.histogram_bin_edges``.
    title : str or None, default=None
        Title of the plot.
    label_convention : {'auto', 'zero_one', 'sklearn'}, default='auto'
        How to read ``labels``, as in
        :func:`sklearn_ganomaly.model_selection.anomaly_mask`: ``'auto'``
        reads a 0 as the 0/1 convention and a -1 as scikit-learn's, and draws
        labels that fit neither (or that are all 1, which could be either)
        under their own values. Set it to name all-1 labels.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The histogram.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganomaly.plotting import plot_score_histogram
    >>> figure = plot_score_histogram(np.random.RandomState(0).normal(size=100), threshold=2.0)
    >>> figure.axes[0].get_xlabel()
    'anomaly score'
    >>> figure = plot_score_histogram([0.1, 0.3, 2.5], labels=[1, 1, -1])
    >>> [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    ['normal (2)', 'anomaly (1)']
    """
    scores = np.asarray(scores, dtype=float).ravel()
    edges = np.histogram_bin_edges(scores[np.isfinite(scores)], bins=bins)
    figure = _figure((6.0, 3.5))
    ax = figure.subplots()
    if labels is None:
        ax.hist(scores, bins=edges, color="0.55", alpha=0.8, label=f"{len(scores)} samples")
    else:
        if len(np.asarray(labels).ravel()) != len(scores):
            raise ValueError(
                f"labels must have one entry per score ({len(scores)}), "
                f"got {len(np.asarray(labels).ravel())}."
            )
        for name, mask, color in _classes(labels, label_convention):
            ax.hist(
                scores[mask], bins=edges, color=color, alpha=0.6, label=f"{name} ({mask.sum()})"
            )
    if threshold is not None:
        flagged = int(np.sum(scores > threshold))
        ax.axvline(
            threshold,
            color=_NEUTRAL_COLOR,
            linestyle="--",
            label=f"threshold {threshold:.2f} ({flagged} flagged)",
        )
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("count")
    if title is not None:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return figure


def plot_roc_curves(
    curves: Mapping[str, tuple[ArrayLike, ArrayLike]], *, title: str | None = None
) -> "Figure":
    """ROC curves of several detectors scored on the same labelled samples.

    Parameters
    ----------
    curves : dict
        ``{name: (y_true, scores)}`` with ``y_true`` 1 for abnormal and
        ``scores`` higher = more abnormal.
    title : str or None, default=None
        Title of the plot.

    Returns
    -------
    figure : matplotlib.figure.Figure
        One curve per detector, its ROC AUC in the legend.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ganomaly.plotting import plot_roc_curves
    >>> y = np.array([0, 0, 1, 1])
    >>> figure = plot_roc_curves({"A": (y, [0.1, 0.4, 0.35, 0.8])})
    >>> figure.axes[0].get_legend().get_texts()[0].get_text()
    'A (AUC 0.750)'
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    figure = _figure((4.5, 4.2))
    ax = figure.subplots()
    for name, (y_true, scores) in curves.items():
        fpr, tpr, _ = roc_curve(y_true, scores)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y_true, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="gray", linestyle=":", linewidth=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_aspect("equal")
    if title is not None:
        ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return figure
