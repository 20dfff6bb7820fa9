"""The development study's figures, drawn from its summaries in ``docs/benchmarks/study/``.

``conf.py`` calls :func:`write` before Sphinx reads the sources. It writes
into ``docs/generated/``

- ``study_image_budget.svg``: the default image read-out's ROC AUC against
  the optimizer steps trained, for each learning rate and image size
  studied, beside the validation loss of the same fits
  (``budget_curves.json``, written by ``benchmarks/budget_analysis.py``);
- ``study_tables.svg``: the table read-out's mean ROC AUC against the steps
  for each network-size rule, beside the untrained-network and input
  controls and the classical detectors (``tables_dev_study.json``).

Run it alone to look at them: ``python docs/_sphinxext/study_figures.py OUT_DIR``.
"""

import json
import sys
from pathlib import Path

from matplotlib.figure import Figure

STUDY = Path(__file__).resolve().parents[1] / "benchmarks" / "study"

#: The image read-out the defaults use (knn + LOF on the anchored cosine).
IMAGE_READOUT = "knn1+lof10_cosb"
#: (label, key in budget_curves.json, panel, style) of each image curve.
IMAGE_CURVES = [
    ("lr 2e-4, 28x28", "mnist_default", "MNIST-5k", dict(color="#7f7f7f", marker="o")),
    ("lr 1e-3, 28x28", "mnist_lr1e-3", "MNIST-5k", dict(color="#1f4e9c", marker="s")),
    ("lr 2e-4, 16x16", "mnist_side16", "MNIST-5k", dict(color="#e08214", marker="^")),
    ("lr 2e-4", "digits_default", "digits (8x8)", dict(color="#7f7f7f", marker="o")),
    ("lr 1e-3", "digits_lr1e-3", "digits (8x8)", dict(color="#1f4e9c", marker="s")),
]
#: The default image budget in optimizer steps (marked on the figure).
IMAGE_BUDGET = 150
#: The table read-out the defaults use (Euclidean knn + LOF on the codes).
TABLE_READOUT = "knn1+lof10_euc"
#: Short legends of the size rules (code size, width) for ``d`` features.
TABLE_LABELS = {
    "A": "code d//4, width 32 (previous)",
    "B": "code min(d, 128), width 32",
    "C": "code min(d, 128), width 2d (chosen)",
    "D": "code d//2, width 2d",
    "E": "code 2d, width 2d",
}
#: The budgets of the table study.
STEPS = [250, 500, 1000, 2000, 4000]
TABLE_STYLE = {
    "A": dict(color="#bdbdbd", marker="v"),
    "B": dict(color="#7f7f7f", marker="^"),
    "C": dict(color="#1f4e9c", marker="o", lw=2.5),
    "D": dict(color="#e08214", marker="s"),
    "E": dict(color="#6a3d9a", marker="D"),
}


def _curve(entry, readout):
    """``(steps, mean AUC, validation loss)`` of one budget study, by snapshot."""
    summary, steps = entry["summary"], entry["steps"]
    epochs = sorted(int(e) for e in steps)
    aucs = [summary[f"{e}|{readout}"]["mean"] for e in epochs]
    losses = [entry["valid_loss"][str(e)] for e in epochs]
    return [steps[str(e)] for e in epochs], aucs, losses


def image_budget_figure(curves):
    figure = Figure(figsize=(7.2, 6.4), layout="constrained")
    axes = figure.subplots(2, 2, sharex="col", height_ratios=[1.4, 1])
    panels = ["MNIST-5k", "digits (8x8)"]
    for label, key, panel, style in IMAGE_CURVES:
        if key not in curves:
            continue
        column = panels.index(panel)
        steps, aucs, losses = _curve(curves[key], IMAGE_READOUT)
        axes[0, column].plot(steps, aucs, label=label, **style)
        axes[1, column].plot(steps, losses, label=label, **style)
    for column, panel in enumerate(panels):
        top, bottom = axes[0, column], axes[1, column]
        top.set_title(panel, fontsize=11)
        top.set_ylabel("mean ROC AUC (default read-out)")
        top.grid(color="0.9")
        top.legend(fontsize=8.5, loc="lower right")
        bottom.set_ylabel("validation loss")
        bottom.set_xlabel("optimizer steps")
        bottom.set_xscale("log")
        bottom.set_xticks(
            [20, 50, 100, 200, 500, 1000], ["20", "50", "100", "200", "500", "1,000"]
        )
        for axis in (top, bottom):
            axis.axvline(IMAGE_BUDGET, color="0.5", linestyle="--", lw=1, zorder=0)
        bottom.annotate(
            "default budget",
            (IMAGE_BUDGET, 0.97),
            xycoords=("data", "axes fraction"),
            va="top",
            xytext=(3, 0),
            textcoords="offset points",
            fontsize=8,
            color="0.35",
        )
        bottom.minorticks_off()
        bottom.grid(color="0.9")
    figure.suptitle("Images: detection quality and validation loss against training", fontsize=12)
    return figure


def tables_figure(study):
    figure = Figure(figsize=(7.2, 6.0), layout="constrained")
    axis = figure.subplots()
    for name, config in study["configs"].items():
        snapshots = sorted(int(s) for s in config["snapshots"] if s.isdigit())
        aucs = [config["snapshots"][str(s)][TABLE_READOUT]["mean"] for s in snapshots]
        axis.plot(snapshots, aucs, label=f"{name}: {TABLE_LABELS[name]}", **TABLE_STYLE[name])
    chosen = study["configs"]["C"]["snapshots"]["untrained"][TABLE_READOUT]["mean"]
    lines = [
        ("read-out on the rows (control)", study["baselines"]["input_knn1+lof10_euc"]),
        ("C untrained (control)", {"mean": chosen}),
        ("KNN", study["baselines"]["KNN"]),
        ("LOF", study["baselines"]["LOF"]),
    ]
    for (label, value), style in zip(lines, ["-", "--", ":", "-."], strict=True):
        axis.axhline(value["mean"], color="0.35", linestyle=style, lw=1, label=label)
    axis.set_xscale("log")
    axis.set_xticks(STEPS, [f"{s:,}" for s in STEPS])
    axis.minorticks_off()
    axis.set_xlabel("optimizer steps")
    axis.set_ylabel("mean ROC AUC, 21 tables")
    axis.grid(color="0.9")
    figure.legend(fontsize=8, loc="outside lower center", ncols=2)
    axis.set_title("Tables (development half): network sizes against training", fontsize=11)
    return figure


def write(out):
    """Write the figures into the folder ``out``; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    budget = json.loads((STUDY / "budget_curves.json").read_text())
    path = out / "study_image_budget.svg"
    image_budget_figure(budget).savefig(path, metadata={"Date": None})
    paths.append(path)
    tables = json.loads((STUDY / "tables_dev_study.json").read_text())
    path = out / "study_tables.svg"
    tables_figure(tables).savefig(path, metadata={"Date": None})
    paths.append(path)
    return paths


if __name__ == "__main__":
    for path in write(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(path)
