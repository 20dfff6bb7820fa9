"""The table benchmark's report: a figure, narrow Markdown tables and the records as JSON.

The figure shows at a glance how GANomaly fares: each table's GANomaly AUC
against the best of the other detectors on it (a point above the diagonal is
a table GANomaly wins), and every detector's mean rank over the tables.
Files are rendered first and renamed into place, ``report.md`` last.
"""

import json
from pathlib import Path

import numpy as np

from .. import __version__
from .._files import write_bytes_atomic
from ._common import describe_machine
from ._tables import summarise_tables

__all__ = ["format_table_summary", "write_table_report"]

#: The figure's file name in the report folder.
FIGURE = "tables.png"


def format_table_summary(summary, detectors, tables):
    """Markdown: per-table AUC (tables as rows), then mean AUC, mean rank, fit time."""
    short = {d: d.replace("AutoEncoder", "AE") for d in detectors}
    header = "| table | " + " | ".join(short[d] for d in detectors) + " |"
    lines = [header, "|---|" + "---:|" * len(detectors)]
    for t in tables:
        aucs = summary["per_table"][t]
        best = max(aucs.values())
        cells = [f"**{aucs[d]:.3f}**" if aucs[d] == best else f"{aucs[d]:.3f}" for d in detectors]
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    for label, key, fmt in (
        ("mean AUC", "mean_auc", "{:.3f}"),
        ("mean rank", "mean_rank", "{:.2f}"),
        ("mean AP", "mean_ap", "{:.3f}"),
        ("fit s (median)", "fit_s", "{:.1f}"),
    ):
        values = [fmt.format(summary[key][d]) for d in detectors]
        lines.append(f"| *{label}* | " + " | ".join(values) + " |")
    below = [sum(summary["per_table"][t][d] < 0.5 for t in tables) for d in detectors]
    lines.append("| *tables below 0.5* | " + " | ".join(map(str, below)) + " |")
    return "\n".join(lines)


def _figure(summary, detectors, tables):
    from matplotlib.figure import Figure

    from ..plotting import ANOMALY_COLOR, NORMAL_COLOR

    figure = Figure(figsize=(9.0, 4.0), layout="constrained")
    scatter, ranks = figure.subplots(1, 2, width_ratios=[1.1, 1.0])
    if "best_baseline" in summary:
        best = np.array([summary["best_baseline"][t] for t in tables])
        ours = np.array([summary["per_table"][t]["GANomaly"] for t in tables])
        low = min(0.3, float(best.min()), float(ours.min())) - 0.02
        scatter.plot([low, 1.0], [low, 1.0], color="0.5", lw=0.8, zorder=0)
        wins = ours >= best
        scatter.scatter(
            best[wins], ours[wins], color=NORMAL_COLOR, s=18, label="GANomaly at or above"
        )
        scatter.scatter(
            best[~wins], ours[~wins], color=ANOMALY_COLOR, s=18, label="GANomaly below"
        )
        scatter.set(xlim=(low, 1.0), ylim=(low, 1.0), aspect="equal")
        scatter.set_xlabel("best AUC of the other detectors")
        scatter.set_ylabel("GANomaly AUC")
        scatter.set_title(f"one point a table ({len(tables)} tables)", fontsize=9)
        scatter.legend(fontsize=7, loc="lower right")
    order = sorted(detectors, key=lambda d: summary["mean_rank"][d])
    colours = [NORMAL_COLOR if d == "GANomaly" else "0.6" for d in order]
    ranks.barh(range(len(order)), [summary["mean_rank"][d] for d in order], color=colours)
    ranks.set_yticks(range(len(order)), order)
    ranks.invert_yaxis()
    ranks.set_xlabel("mean rank over the tables (1 is best)")
    ranks.set_title("mean rank of each detector", fontsize=9)
    return figure


def write_table_report(out_dir, records, *, config, command, figures=True):
    """Write ``results.json``, ``report.md`` and the figure into ``out_dir``; return the table."""
    out = Path(out_dir)
    tables, detectors = config["tables"], config["detectors"]
    summary = summarise_tables(records, detectors, tables)
    table = format_table_summary(summary, detectors, tables)
    machine = describe_machine()
    results = {
        "command": command,
        "config": config,
        "machine": machine,
        "version": __version__,
        "summary": summary,
        "records": records,
    }
    text = [
        "# GANomaly on tables",
        "",
        f"Command: `{command}`",
        "",
        f"Tables: {len(tables)} from {config['folder']}, seeds {config['seeds']}. Each table's "
        "normal rows: 70% (at most 5,000) train every detector; the test set is the other "
        "normal rows (at most 2,000) and the anomalies (at most 1,000); all standardised with "
        "the training rows' statistics. ROC AUC averaged over seeds (anomaly = positive "
        "class); the best of each row in bold.",
        "",
        f"Machine: {machine}; sklearn-ganomaly {__version__}",
        "",
        *([f"Wall time: {config['wall_s']:.0f} s", ""] if "wall_s" in config else []),
    ]
    if figures and records:
        import io

        buffer = io.BytesIO()
        _figure(summary, detectors, tables).savefig(buffer, format="png", dpi=110)
        write_bytes_atomic(out / FIGURE, buffer.getvalue())
        text += [f"![GANomaly against the best other detector, and mean ranks]({FIGURE})", ""]
    if "ganomaly_beats_lof_and_knn" in summary:
        wins = summary["ganomaly_beats_lof_and_knn"]
        text += [
            f"GANomaly is at or above the better of LOF and KNN on {len(wins)} of "
            f"{len(tables)} tables.",
            "",
        ]
    text += [table, ""]
    write_bytes_atomic(out / "results.json", json.dumps(results, indent=1).encode("utf-8"))
    write_bytes_atomic(out / "report.md", ("\n".join(text) + "\n").encode("utf-8"))
    return table
