"""The MNIST figure and tables of the benchmarks page, drawn from the raw results.

``conf.py`` calls :func:`write` before Sphinx reads the sources: it reads the
result records kept in ``docs/benchmarks/`` (one per detector, digit and seed,
as ``sklearn-ganomaly benchmark`` writes them) and writes into
``docs/generated/``

- ``benchmark_mnist_auc.svg``: the ROC AUC of each detector on each digit,
  and each detector's mean over the digits;
- ``benchmark_mnist_table.md`` and ``benchmark_pyod_table.md``: the same
  numbers as narrow tables (digits as rows, detectors as columns), included
  by ``benchmarks.md``.

So the page's figure and tables always show what the records hold. Run it
alone to look at them: ``python docs/_sphinxext/benchmark_figures.py OUT_DIR``.
"""

import json
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks"
DIGITS = list(range(10))

#: Akcay et al. (ACCV 2018), Table 1: ROC AUC of GANomaly on full MNIST, per
#: anomalous digit (no seeds, no spread published).
PAPER_AUC = [0.850, 0.330, 0.920, 0.771, 0.770, 0.800, 0.880, 0.780, 0.890, 0.580]

#: (label, records file, detector name in it) of each detector shown, in the
#: order of the tables. LOF and KNN come from the same runs as the defaults.
DETECTORS = [
    ("GANomaly, defaults", "mnist5k_defaults_seeds012.json", "GANomaly"),
    ("LOF", "mnist5k_defaults_seeds012.json", "LOF"),
    ("KNN", "mnist5k_defaults_seeds012.json", "KNN"),
    ("GANomaly, paper configuration", "mnist5k_ganomaly_full_bf16.json", "GANomaly"),
    ("AutoEncoder", "mnist5k_pyod_fast.json", "AutoEncoder"),
    ("DeepSVDD", "mnist5k_pyod_slow.json", "DeepSVDD"),
    ("OCSVM", "mnist5k_pyod_slow.json", "OCSVM"),
    ("IForest", "mnist5k_pyod_fast.json", "IForest"),
    ("ALAD", "mnist5k_pyod_fast.json", "ALAD"),
]
PAPER = "GANomaly, the paper (full MNIST)"
#: Detectors drawn digit by digit (the others appear in the means only).
PER_DIGIT = ["GANomaly, defaults", "LOF", "KNN", "GANomaly, paper configuration", PAPER]
STYLE = {
    "GANomaly, defaults": dict(color="#1f4e9c", marker="o", markersize=8, zorder=5),
    "LOF": dict(color="#e08214", marker="s", markersize=6),
    "KNN": dict(color="#7f7f7f", marker="^", markersize=6),
    "GANomaly, paper configuration": dict(color="#6a3d9a", marker="D", markersize=5),
    PAPER: dict(color="#6a3d9a", marker="D", markersize=5, markerfacecolor="white"),
}


def load(file, detector):
    """The records of ``detector`` in ``docs/benchmarks/file``."""
    data = json.loads((RESULTS / file).read_text())
    records = data["records"] if isinstance(data, dict) else data
    return [r for r in records if r["detector"] == detector]


def summarise(records):
    """Per-digit AUC means and sds over seeds, and the means over digits."""
    auc = {d: [r["auc"] for r in records if r["class"] == d] for d in DIGITS}
    ap = {d: [r["ap"] for r in records if r["class"] == d] for d in DIGITS}
    if any(not values for values in auc.values()):
        missing = [d for d, values in auc.items() if not values]
        raise ValueError(f"no records for digits {missing}")
    return {
        "auc": [float(np.mean(auc[d])) for d in DIGITS],
        "sd": [float(np.std(auc[d])) for d in DIGITS],  # as the benchmark report
        "mean_auc": float(np.mean([np.mean(auc[d]) for d in DIGITS])),
        "mean_ap": float(np.mean([np.mean(ap[d]) for d in DIGITS])),
        "fit_s": float(np.median([r["fit_s"] for r in records])),
        "score_s": float(np.median([r["score_s"] for r in records])),
        "seeds": sorted({r["seed"] for r in records}),
    }


def summaries():
    """``{label: summary}`` of every detector, the paper's figures included."""
    result = {label: summarise(load(file, name)) for label, file, name in DETECTORS}
    result[PAPER] = {"auc": PAPER_AUC, "sd": None, "mean_auc": float(np.mean(PAPER_AUC))}
    return result


def make_figure(results):
    """Per-digit AUC (top) and the mean over the digits (bottom).

    Stacked rather than side by side: the page's text column is narrow, and
    the figure's text must stay readable at its width.
    """
    figure = Figure(figsize=(7.2, 8.4), layout="constrained")
    top, bottom = figure.subplots(2, 1, height_ratios=[1.25, 1])
    offsets = np.linspace(-0.26, 0.26, len(PER_DIGIT))
    for offset, label in zip(offsets, PER_DIGIT, strict=True):
        result, style = results[label], STYLE[label]
        x = np.array(DIGITS) + offset
        top.plot(x, result["auc"], linestyle="none", label=label, **style)
        if result["sd"] is not None:
            top.errorbar(x, result["auc"], yerr=result["sd"], fmt="none", ecolor=style["color"])
    for d in DIGITS[:-1]:
        top.axvline(d + 0.5, color="0.9", lw=0.8, zorder=0)
    top.set_xticks(DIGITS)
    top.set_xlim(-0.5, 9.5)
    top.set_xlabel("anomalous digit (the other nine are normal)")
    top.set_ylabel("ROC AUC")
    top.set_ylim(0.0, 1.02)
    top.grid(axis="y", color="0.9")
    top.set_axisbelow(True)
    top.set_title("ROC AUC per digit (bars: sd over seeds 0-2)", fontsize=11)
    top.legend(fontsize=8.5, loc="lower left", ncols=2)

    order = sorted(results, key=lambda label: results[label]["mean_auc"])
    means = [results[label]["mean_auc"] for label in order]
    colors = [STYLE.get(label, {}).get("color", "#bdbdbd") for label in order]
    bars = bottom.barh(range(len(order)), means, color=colors)
    bars[order.index(PAPER)].set(facecolor="white", edgecolor=STYLE[PAPER]["color"], hatch="//")
    bottom.set_yticks(range(len(order)), order)
    for y, value in enumerate(means):
        bottom.text(value + 0.01, y, f"{value:.3f}", va="center", fontsize=9)
    bottom.set_xlim(0.0, 1.08)
    bottom.set_xlabel("mean ROC AUC over the ten digits")
    bottom.set_title("Mean over the digits, every detector", fontsize=11)
    figure.suptitle("MNIST-5k, one digit anomalous (the paper's split), seeds 0-2", fontsize=12)
    return figure


def _row(name, results, labels, key, fmt):
    """One table row: ``key`` of each detector's summary, blank where it has none."""
    cells = [
        fmt.format(results[label][key]) if results[label].get(key) else "" for label in labels
    ]
    return [name, *cells]


def table(results, labels):
    """A Markdown table: digits as rows, one column per detector, then the summaries."""
    rows = [["digit", *labels], ["---"] + ["---:"] * len(labels)]
    for d in DIGITS:
        rows.append([str(d)] + [f"{results[label]['auc'][d]:.3f}" for label in labels])
    rows.append(_row("**mean AUC**", results, labels, "mean_auc", "**{:.3f}**"))
    spread = {label: {"sd": max(results[label]["sd"] or [0.0])} for label in labels}
    rows.append(_row("largest sd over seeds", spread, labels, "sd", "{:.3f}"))
    rows.append(_row("mean AP", results, labels, "mean_ap", "{:.3f}"))
    rows.append(_row("fit s (median)", results, labels, "fit_s", "{:.1f}"))
    rows.append(_row("score s (median)", results, labels, "score_s", "{:.2f}"))
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


#: Column headers of the tables: the detectors' labels, shortened.
HEADERS = {
    "GANomaly, defaults": "GANomaly defaults",
    "GANomaly, paper configuration": "GANomaly paper config.",
    PAPER: "the paper",
}


def write(out):
    """Write the figure and the tables into the folder ``out``; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results = summaries()
    figure_path = out / "benchmark_mnist_auc.svg"
    make_figure(results).savefig(figure_path, metadata={"Date": None})
    renamed = {HEADERS.get(label, label): result for label, result in results.items()}
    main = [HEADERS.get(label, label) for label in PER_DIGIT]
    pyod = [HEADERS.get(label, label) for label, _, _ in DETECTORS if label not in PER_DIGIT]
    paths = [figure_path]
    for name, labels in [("benchmark_mnist_table.md", main), ("benchmark_pyod_table.md", pyod)]:
        path = out / name
        path.write_text(table(renamed, labels))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for path in write(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(path)
