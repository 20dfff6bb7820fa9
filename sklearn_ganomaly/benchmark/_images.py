"""The image benchmark: the paper's protocol, GANomaly beside PyOD's detectors.

For every anomalous class and seed, :func:`one_class_split` makes the paper's
split (normals shuffled, 80% train / 20% test, all anomalies in the test set);
each detector is fitted on the normal training images and scores the test
split. Nothing looks at test labels before the scores exist: GANomaly's epoch
is chosen on held-out *normal* training data, scores are normalised with
statistics of the training data, and ROC AUC / average precision are
threshold-free. GANomaly gets the raw images (it scales them itself); PyOD's
detectors get pixels scaled to [0, 1] and flattened, the input these
detectors usually take.
"""

import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from tqdm.auto import tqdm

from .. import PAPER_CONFIG, GANomalyDetector, __version__, plotting
from .._files import write_bytes_atomic
from ..datasets import load_digits_images, load_mnist5k, one_class_split
from ._common import (
    PYOD_DETECTORS,
    describe_machine,
    listed,
    make_pyod_detector,
    move_into_place,
    seeded_globals,
)

__all__ = [
    "DETECTORS",
    "PAPER_MNIST",
    "QUICK",
    "check_detectors",
    "check_plan",
    "format_table",
    "load_dataset",
    "run_benchmark",
    "summarise_records",
    "write_report",
]

#: The paper's Table 1 row (GANomaly on the full MNIST), digits 0-9.
PAPER_MNIST = [0.850, 0.330, 0.920, 0.771, 0.770, 0.800, 0.880, 0.780, 0.890, 0.580]


QUICK = dict(
    dataset="mnist5k",
    classes=[2],
    seeds=[0],
    # GANomaly with its defaults: about 13 s of training on 2 idle cores.
    detectors=["GANomaly", "LOF", "KNN", "IForest", "AutoEncoder"],
)


def load_dataset(name):
    """``(X, y)`` of a named embedded data set: 'mnist5k' or 'digits'."""
    if name == "mnist5k":
        return load_mnist5k()
    if name == "digits":
        return load_digits_images()
    raise ValueError(f"Unknown dataset {name!r}: use 'mnist5k' or 'digits'")


def _fit_and_score(name, X_train, X_test, seed, ganomaly_params, paper_params):
    if name == "GANomaly-paper":
        # The paper's configuration; only where and how fast it runs is shared.
        shared = {k: v for k, v in ganomaly_params.items() if k in ("device", "precision")}
        model = GANomalyDetector(random_state=seed, **paper_params, **shared)
        X_fit, X_score = X_train, X_test
    elif name == "GANomaly":
        model = GANomalyDetector(random_state=seed, **ganomaly_params)
        X_fit, X_score = X_train, X_test
    else:
        scale = 255.0 if X_train.dtype == np.uint8 else float(max(X_train.max(), 1))
        X_fit = X_train.reshape(len(X_train), -1) / scale
        X_score = X_test.reshape(len(X_test), -1) / scale
        model = make_pyod_detector(name, seed, X_fit.shape[1])
    ours = name.startswith("GANomaly")
    seeding = contextlib.nullcontext() if ours else seeded_globals(seed)
    with seeding:
        start = time.perf_counter()
        model.fit(X_fit)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        scores = model.anomaly_score(X_score) if ours else model.decision_function(X_score)
        score_s = time.perf_counter() - start
    return model, np.asarray(scores, dtype=float), fit_s, score_s


#: Every name ``--detectors`` takes.
DETECTORS = ("GANomaly", "GANomaly-paper", *PYOD_DETECTORS)


def check_plan(y, *, classes, seeds, detectors):
    """Raise a ValueError, before any fit, for a run that cannot give a full report.

    The classes must exist in ``y`` (with other classes left as normals), the
    seeds be valid, and the detectors known; none of the lists may be empty
    or repeat an item.
    """
    known = set(np.unique(y).tolist())
    for c in listed(classes, "classes"):
        if c not in known:
            raise ValueError(
                f"Class {c!r} is not in the data set, whose classes are "
                f"{', '.join(map(str, sorted(known)))}."
            )
    if len(known) < 2:
        raise ValueError("The data set has one class: there are no normal samples.")
    for seed in listed(seeds, "seeds"):
        if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
            raise ValueError(f"Seed {seed!r} is not an integer from 0 to 2**32 - 1.")
    check_detectors(detectors)


def check_detectors(detectors):
    for name in listed(detectors, "detectors"):
        if name not in DETECTORS:
            raise ValueError(f"Unknown detector {name!r}; choose from {', '.join(DETECTORS)}")


def run_benchmark(
    X,
    y,
    *,
    classes,
    seeds,
    detectors,
    ganomaly_params=None,
    progress=True,
    paper_params=None,
):
    """Fit and score every detector on every (class, seed) split.

    ``ganomaly_params`` are the ``GANomalyDetector`` parameters of
    ``"GANomaly"``; ``paper_params`` (default ``PAPER_CONFIG``) those of
    ``"GANomaly-paper"``, which shares only the device and precision.

    Raises
    ------
    ValueError
        Before any fit, for an empty or repeated list, a class not in ``y``,
        a seed that is not an integer in [0, 2**32), or an unknown detector.

    Returns
    -------
    records : list of dict
        One per (detector, class, seed) with ``auc``, ``ap``, ``fit_s``,
        ``score_s``.
    artefacts : dict
        Scores and labels of the first seed per (detector, class), and the
        fitted GANomaly model and test split of the first class and seed,
        for the figures.
    """
    check_plan(y, classes=classes, seeds=seeds, detectors=detectors)
    ganomaly_params = dict(ganomaly_params or {})
    # An epoch bar under the run bar: one paper-config fit takes minutes on a CPU.
    ganomaly_params.setdefault("verbose", int(progress))
    runs = [(c, s, d) for c in classes for s in seeds for d in detectors]
    records, artefacts = [], {"scores": {}, "model": None}
    bar = tqdm(runs, desc="benchmark", unit="fit", disable=not progress, file=sys.stderr)
    for anomalous_class, seed, name in bar:
        bar.set_postfix(detector=name, cls=anomalous_class, seed=seed)
        X_train, X_test, y_test = one_class_split(X, y, anomalous_class, random_state=seed)
        model, scores, fit_s, score_s = _fit_and_score(
            name, X_train, X_test, seed, ganomaly_params, paper_params or PAPER_CONFIG
        )
        records.append(
            {
                "detector": name,
                "class": int(anomalous_class),
                "seed": int(seed),
                "auc": float(roc_auc_score(y_test, scores)),
                "ap": float(average_precision_score(y_test, scores)),
                "fit_s": fit_s,
                "score_s": score_s,
                "n_train": len(X_train),
                "n_test": len(X_test),
                "best_epoch": int(model.best_epoch_) if hasattr(model, "best_epoch_") else None,
            }
        )
        if seed == seeds[0]:
            artefacts["scores"][(name, int(anomalous_class))] = (y_test, scores)
            if name == "GANomaly" and artefacts["model"] is None:
                artefacts["model"] = (model, X_test, y_test, scores)
    return records, artefacts


def summarise_records(records, detectors, classes):
    """Per-detector rows: AUC mean and sd over seeds per class, and overall means."""
    rows = []
    for name in detectors:
        mine = [r for r in records if r["detector"] == name]
        per_class = {}
        for c in classes:
            aucs = [r["auc"] for r in mine if r["class"] == c]
            per_class[c] = (float(np.mean(aucs)), float(np.std(aucs)))
        rows.append(
            {
                "detector": name,
                "per_class": per_class,
                "mean_auc": float(np.mean([m for m, _ in per_class.values()])),
                "mean_ap": float(np.mean([r["ap"] for r in mine])),
                "fit_s": float(np.median([r["fit_s"] for r in mine])),
                "score_s": float(np.median([r["score_s"] for r in mine])),
            }
        )
    return rows


def format_table(rows, classes, paper=None):
    """Markdown table: AUC (mean ± sd over seeds) per class, means and timings."""
    header = ["detector", *[str(c) for c in classes], "mean AUC", "mean AP", "fit s", "score s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in row["per_class"].values()]
        lines.append(
            f"| {row['detector']} | "
            + " | ".join(cells)
            + f" | **{row['mean_auc']:.3f}** | {row['mean_ap']:.3f} | {row['fit_s']:.1f} | "
            f"{row['score_s']:.2f} |"
        )
    if paper is not None:
        values = [paper[c] for c in classes]
        lines.append(
            "| GANomaly, paper (full MNIST) | "
            + " | ".join(f"{v:.3f}" for v in values)
            + f" | {np.mean(values):.3f} | | | |"
        )
    return "\n".join(lines)


def write_report(out_dir, records, artefacts, *, command, config, figures=True):
    """Write ``report.md``, ``results.json`` and the figures into ``out_dir``.

    Everything is rendered first, into a hidden folder inside ``out_dir``,
    and then each file is renamed into place, ``report.md`` last: a failure
    leaves no truncated file, and an earlier report's files stay whole.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    classes, detectors = config["classes"], config["detectors"]
    rows = summarise_records(records, detectors, classes)
    paper = PAPER_MNIST if config["dataset"] == "mnist5k" else None
    table = format_table(rows, classes, paper)
    machine = describe_machine()
    results = json.dumps(
        {
            "command": command,
            "config": config,
            "machine": machine,
            "version": __version__,
            "records": records,
        },
        indent=2,
    )
    text = [
        "# GANomaly benchmark",
        "",
        f"Command: `{command}`",
        "",
        f"Data: {config['dataset']}, anomalous classes {classes}, seeds {config['seeds']}; "
        "ROC AUC (mean ± sd over seeds), abnormal = positive class; AP = average precision; "
        "fit/score seconds are medians.",
        "",
        f"Machine: {machine}; sklearn-ganomaly {__version__}",
        "",
        *([f"Wall time: {config['wall_s']:.0f} s", ""] if "wall_s" in config else []),
        table,
        "",
    ]
    staging = Path(tempfile.mkdtemp(prefix=".report.", suffix=".part", dir=out))
    try:
        if figures:
            text += _write_figures(staging, artefacts)
        for figure in sorted(staging.iterdir()):
            move_into_place(figure, out / figure.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_bytes_atomic(out / "results.json", results.encode("utf-8"))
    write_bytes_atomic(out / "report.md", ("\n".join(text) + "\n").encode("utf-8"))
    return table


def _write_figures(out, artefacts):
    written = []  # (file, caption)
    by_class = {}
    for (name, c), curve in artefacts["scores"].items():
        by_class.setdefault(c, {})[name] = curve
    for c, curves in sorted(by_class.items()):
        figure = plotting.plot_roc_curves(curves, title=f"ROC, class {c} anomalous")
        figure.savefig(out / f"roc_class{c}.png", dpi=100)
        written.append((f"roc_class{c}.png", f"ROC curves, class {c} anomalous, first seed"))
    if artefacts["model"] is not None:
        model, X_test, y_test, scores = artefacts["model"]
        # y_test is 1 for an anomaly: the figures name and colour the two
        # classes "normal" and "anomaly", as every figure of the package does.
        labels = (np.asarray(y_test) == 1).astype(int)
        figure = plotting.plot_score_histogram(scores, labels, label_convention="zero_one")
        figure.savefig(out / "ganomaly_scores.png", dpi=100)
        # Five normal and five anomalous test images drawn at random, not picked by score.
        rng = np.random.default_rng(0)
        groups_idx = [np.flatnonzero(labels == v) for v in (0, 1)]
        sample = np.concatenate([rng.choice(i, min(5, len(i)), replace=False) for i in groups_idx])
        figure = plotting.plot_extremes(
            model,
            X_test[sample],
            k=5,
            scores=scores[sample],
            labels=labels[sample],
            label_convention="zero_one",
        )
        figure.savefig(out / "ganomaly_reconstructions.png", dpi=100)
        figure = plotting.plot_extremes(
            model, X_test, k=5, scores=scores, labels=labels, label_convention="zero_one"
        )
        figure.savefig(out / "ganomaly_extremes.png", dpi=100)
        written += [
            ("ganomaly_scores.png", "GANomaly anomaly scores, normal and anomalous test images"),
            (
                "ganomaly_reconstructions.png",
                "input / reconstruction / residual of 5 random normal and 5 random anomalous "
                "test images, sorted by score",
            ),
            ("ganomaly_extremes.png", "the 5 most and 5 least anomalous test images"),
        ]
    lines = ["## Figures", "", "GANomaly figures: first class and seed.", ""]
    for name, caption in written:
        lines += [f"{caption}:", "", f"![{caption}]({name})", ""]
    return lines
