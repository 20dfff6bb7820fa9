"""The encoder-decoder-encoder figure of the user guide, drawn with matplotlib.

``conf.py`` calls :func:`draw` before Sphinx reads the sources, so the figure
always matches this file and nothing binary is kept in the repository. Run it
alone to look at the figure: ``python docs/_sphinxext/pipeline_figure.py out.svg``.
"""

import sys

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle

GENERATOR = "#dbe9f6"
DISCRIMINATOR = "#fbe3d6"
CODE = "#c6dbef"
LOSS = "#b2182b"


def _box(ax, x, y, w, h, label, color="white", fontsize=13, **kwargs):
    ax.add_patch(Rectangle((x, y), w, h, facecolor=color, edgecolor="black", lw=1.2, **kwargs))
    ax.text(x + w / 2, y + h / 2, label, ha="center", va="center", fontsize=fontsize)


def _trapezoid(ax, x, w, narrowing, label, caption):
    """An encoder (narrowing=True) or decoder block between x and x + w."""
    wide, narrow = (3.0, 7.0), (4.3, 5.7)
    left, right = (wide, narrow) if narrowing else (narrow, wide)
    corners = [(x, left[0]), (x + w, right[0]), (x + w, right[1]), (x, left[1])]
    ax.add_patch(Polygon(corners, facecolor=GENERATOR, edgecolor="black", lw=1.2))
    ax.text(x + w / 2, 5.0, label, ha="center", va="center", fontsize=13)
    ax.text(x + w / 2, 2.55, caption, ha="center", va="top", fontsize=9)


def _arrow(ax, start, end, color="black", style="-|>", **kwargs):
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=color, **kwargs)
    )


def _bracket(ax, x0, x1, y, label, below=False):
    """A loss drawn as a red bracket joining two things it compares."""
    tip = y + (0.5 if below else -0.5)
    ax.plot([x0, x0, x1, x1], [tip, y, y, tip], color=LOSS, lw=1.3, ls="--")
    ax.text(
        (x0 + x1) / 2,
        y + (-0.25 if below else 0.25),
        label,
        ha="center",
        va="top" if below else "bottom",
        fontsize=10.5,
        color=LOSS,
    )


def make_figure():
    """The figure: generator x -> z -> x_hat -> z_hat, discriminator, losses, scores."""
    figure = Figure(figsize=(9.8, 4.6))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 21.8)
    ax.set_ylim(-3.2, 11.4)
    ax.set_axis_off()

    # The generator G: encoder G_E, decoder G_D, encoder E.
    ax.add_patch(
        Rectangle((2.55, 1.5), 14.6, 7.0, facecolor="none", edgecolor="gray", lw=1, ls=":")
    )
    ax.text(2.7, 8.3, "generator G", fontsize=10, color="dimgray", va="top")
    _box(ax, 0.3, 3.6, 1.8, 2.8, "$x$")
    ax.text(1.2, 3.35, "input", ha="center", va="top", fontsize=9)
    _trapezoid(ax, 3.0, 3.0, True, "$G_E$", "encoder")
    _box(ax, 6.45, 4.2, 0.6, 1.6, "", CODE)
    ax.text(6.75, 6.0, "$z$", ha="center", va="bottom", fontsize=13)
    _trapezoid(ax, 7.5, 3.0, False, "$G_D$", "decoder")
    _box(ax, 10.95, 3.6, 1.8, 2.8, r"$\hat{x}$")
    ax.text(11.85, 3.35, "reconstruction", ha="center", va="top", fontsize=9)
    _trapezoid(ax, 13.2, 3.0, True, "$E$", "encoder")
    _box(ax, 16.5, 4.2, 0.6, 1.6, "", CODE)
    ax.text(16.8, 6.0, r"$\hat{z}$", ha="center", va="bottom", fontsize=13)
    for start, end in [(2.1, 3.0), (6.0, 6.45), (7.05, 7.5), (10.5, 10.95), (12.75, 13.2)]:
        _arrow(ax, (start, 5.0), (end, 5.0))
    _arrow(ax, (16.2, 5.0), (16.5, 5.0))
    _arrow(ax, (17.1, 5.0), (17.9, 5.0))

    # Losses of the generator, and the anomaly scores: the paper's reads z and
    # z_hat; the default reads z against the training samples' codes.
    _bracket(ax, 1.2, 11.85, 9.9, r"$L_{con} = \Vert x - \hat{x} \Vert_1$  (contextual)")
    _bracket(ax, 6.75, 16.8, 7.6, r"$L_{enc} = \Vert z - \hat{z} \Vert_2^2$  (encoder)")
    ax.text(19.7, 6.6, "anomaly score", ha="center", va="bottom", fontsize=10, color=LOSS)
    ax.text(
        19.7,
        5.0,
        "latent distance\n" r"$A(x) = \mathrm{mean}\,(z - \hat{z})^2$" "\n(the paper's)",
        ha="center",
        va="center",
        fontsize=9,
        bbox=dict(boxstyle="round", facecolor="white", edgecolor=LOSS),
    )
    ax.plot([6.75, 6.75, 19.7], [4.2, 0.9, 0.9], color=LOSS, lw=1.2, ls="--")
    _arrow(ax, (19.7, 0.9), (19.7, 1.5), color=LOSS)
    ax.text(
        19.7,
        1.5,
        "code $z$ against the\ntraining codes: nearest\nneighbour + LOF\n(the default)",
        ha="center",
        va="bottom",
        fontsize=9,
        bbox=dict(boxstyle="round", facecolor="white", edgecolor=LOSS),
    )

    # The discriminator D compares the features of x and x_hat.
    _box(ax, 5.4, -1.6, 3.6, 1.7, "discriminator $D$", DISCRIMINATOR, fontsize=11)
    _arrow(ax, (1.2, 3.6), (5.4, -0.75), connectionstyle="angle,angleA=90,angleB=0")
    _arrow(ax, (11.85, 3.6), (9.0, -0.75), connectionstyle="angle,angleA=90,angleB=0")
    ax.text(
        9.4,
        -1.25,
        r"$L_{adv} = \Vert f(x) - f(\hat{x}) \Vert_2^2$  (feature matching)",
        ha="left",
        va="top",
        fontsize=10.5,
        color=LOSS,
    )
    ax.text(
        0.3,
        -2.7,
        "G minimises $w_{adv} L_{adv} + w_{con} L_{con} + w_{enc} L_{enc}$; "
        "D learns to tell $x$ from $\\hat{x}$ (binary cross-entropy).",
        fontsize=9.5,
        va="center",
    )
    return figure


def draw(path):
    """Write the figure to ``path`` (its suffix picks the format)."""
    make_figure().savefig(path, metadata={"Date": None} if str(path).endswith(".svg") else None)
    return path


if __name__ == "__main__":
    draw(sys.argv[1] if len(sys.argv) > 1 else "ganomaly_pipeline.png")
