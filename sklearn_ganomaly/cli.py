"""Command line: train on a folder of normal images, score new ones, draw figures.

``sklearn-ganomaly train NORMAL_DIR --out MODEL`` fits a detector on every
image under a folder, ``score DIR --model MODEL --csv OUT`` writes one CSV row
per image, and ``report DIR --model MODEL --out REPORT_DIR`` writes PNG
figures. Models are saved with :func:`sklearn_ganomaly.load`'s safe format.
User mistakes (a missing folder, no images, a bad model file, mismatched
image sizes, an output path that cannot be written) end with one line on
stderr and exit status 1, before any long computation where they can be
foreseen; argparse's usage errors exit with 2; Ctrl-C exits with 130 and says
which outputs, if any, were written. Output files are written to a temporary
file and renamed into place, so a failure never leaves a truncated file or
overwrites a good one; an output may not name one of the command's inputs.
"""

import argparse
import io
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from . import GANomalyDetector, __version__, load, plotting
from ._argtypes import (
    bounded_int,
    contamination,
    finite_float,
    positive_float_or_auto,
    positive_int_or_auto,
)
from ._cli_messages import PROG, TRAIN_FLAGS, as_flags, one_line, one_line_warnings, written_before
from ._cli_outputs import (
    UserError,
    check_folder_outside,
    check_names,
    check_not_input,
    check_output,
    csv_bytes,
    is_regular_output,
    noting,
    reason,
    write_output,
)
from ._device import check_device
from ._estimator_checks import check_network_size
from ._scores import SCORE_METHODS
from .benchmark import add_subcommand as add_benchmark
from .benchmark import add_tables_subcommand as add_benchmark_tables
from .datasets import load_image_folder
from .datasets._image_folder import parse_size
from .exceptions import NonFiniteScoreWarning, TrainingInterruptedWarning
from .networks import build_networks, network_sizes

#: The estimator's defaults, which the training options share.
_DEFAULTS = GANomalyDetector().get_params()

__all__ = ["build_parser", "main"]


#: Caps on the report's figures, which grow with k and with the square of dpi.
MAX_K = 100
MAX_DPI = 600


# ----------------------------------------------------------------- helpers
def _size(text):
    """``"32"`` or ``"32x48"`` (height x width) as an int or a pair."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"expected N or HxW with positive integers, got {text!r}")
    return parts[0] if len(parts) == 1 else tuple(parts)


def _load_images(folder, *, size, mode):
    try:
        return load_image_folder(folder, size=size, mode=mode)
    except (OSError, ValueError) as error:
        raise UserError(str(error)) from None


def _load_model(path):
    try:
        return load(path)
    except (OSError, ValueError) as error:
        raise UserError(str(error)) from None


def _image_layout(detector):
    """``(mode, (H, W))`` the model's images were loaded with."""
    transform = getattr(detector, "input_transform_", None)
    if transform is None or not transform.is_image:
        raise UserError("The model was not trained on images; the CLI scores image models only.")
    channels, height, width = transform.network_shape
    if channels not in (1, 3):
        raise UserError(f"The model expects {channels}-channel images; the CLI reads 1 or 3.")
    return ("L" if channels == 1 else "RGB"), (height, width)


def _as_model_input(detector, images):
    """Images ``(n, H, W[, 3])`` in the sample layout the model was fitted on."""
    shape = detector.input_shape_
    transform = detector.input_transform_
    channels_first = len(shape) == 3 and not transform.channels_last
    flat = len(shape) == 1  # flat rows with image_shape=(C, H, W)
    if channels_first or flat:
        images = images.reshape(len(images), *images.shape[1:3], -1).transpose(0, 3, 1, 2)
    return images.reshape(len(images), *shape)


def _images_for_model(folder, detector):
    mode, size = _image_layout(detector)
    images, paths = _load_images(folder, size=size, mode=mode)
    return _as_model_input(detector, images), paths


def _scores(detector, X, paths, threshold):
    with warnings.catch_warnings():
        # Reported below, once, with the files' names.
        warnings.simplefilter("ignore", NonFiniteScoreWarning)
        scores = detector.anomaly_score(X)
        if threshold is None:
            # The model's own threshold: exactly what predict() flags.
            flagged = detector.predict(X) == -1
            threshold = -detector.offset_
        else:
            # NaN compares False: written this way, an undefined score is flagged.
            flagged = ~(scores <= threshold)
    undefined = np.flatnonzero(~np.isfinite(scores))
    if undefined.size:
        warnings.warn(
            f"{undefined.size} image(s) got a NaN or infinite anomaly score and are "
            f"flagged as anomalous, among them {paths[undefined[0]]}.",
            NonFiniteScoreWarning,
            stacklevel=2,
        )
    return scores, flagged, threshold


# ------------------------------------------------------------- subcommands
def _check_device(device):
    try:
        check_device(device, name="--device")
    except ValueError as error:
        raise UserError(str(error)) from None


def _check_network(args):
    """Refuse, before loading any image, a --size or networks over their caps."""
    if args.size is None:
        return  # the images' own size, checked as they are read and by fit
    try:
        height, width = parse_size(args.size)
        channels = 1 if args.mode == "L" else 3
        shape = (channels, height, width)
        check_network_size(shape, *network_sizes(shape, args.latent_dim, args.width))
    except ValueError as error:
        raise UserError(f"--size {args.size}: {error}") from None


def _fit(detector, images):
    """Fit; return whether training was interrupted (Ctrl-C) after an epoch."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrainingInterruptedWarning)
        try:
            detector.fit(images)
        except (RuntimeError, FloatingPointError) as error:  # e.g. divergence
            raise UserError(f"Training failed: {error}") from None
    interrupted = False
    for warning in caught:
        if issubclass(warning.category, TrainingInterruptedWarning):
            interrupted = True  # said below, in the CLI's own words
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return interrupted


def _save(detector, out, written):
    try:
        with noting(out, written):
            return detector.save(out)
    except (OSError, ValueError) as error:
        raise UserError(f"Cannot write {out}: {reason(error)}") from None


def _model_file_bytes(images, args):
    """About the size of the model file ``train`` will write, from the networks' shapes."""
    channels = images.shape[3] if images.ndim == 4 else 1
    shape = (channels, *images.shape[1:3])
    latent_dim, width = network_sizes(shape, args.latent_dim, args.width)
    with torch.device("meta"):  # shapes only, nothing allocated
        networks = build_networks(shape, latent_dim, width)
    values = sum(t.numel() for net in networks for t in net.state_dict().values())
    # float32 weights, a float32 code per training image, and a generous
    # allowance for the metadata (the history of every epoch) and the archive.
    return 4 * values + 4 * len(images) * latent_dim + 2**18


def _train(args):
    check_not_input("--out", args.out, folder=args.normal_dir)
    _check_device(args.device)
    check_output(args.out)
    _check_network(args)
    images, paths = _load_images(args.normal_dir, size=args.size, mode=args.mode)
    if len(images) < 2:
        raise UserError(f"Training needs at least 2 images; {args.normal_dir} has {len(images)}.")
    # Before training: a full disk found after an hour of it loses the hour.
    check_output(args.out, size=_model_file_bytes(images, args))
    print(
        f"Training on {len(images)} images of {images.shape[2]}x{images.shape[1]} "
        f"({args.mode}) from {args.normal_dir}",
        file=sys.stderr,
    )
    detector = GANomalyDetector(
        n_epochs=args.epochs,
        score_method=args.score_method,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        latent_dim=args.latent_dim,
        width=args.width,
        contamination=args.contamination,
        device=args.device,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
    )
    if _fit(detector, images):
        where = f"{PROG}: interrupted in epoch {len(detector.history_)}"
        best = f"the best complete epoch, {detector.best_epoch_}"
        if not args.save_partial:
            print(f"{where}; no model written (--save-partial saves {best}).", file=sys.stderr)
            return 130
        out = _save(detector, args.out, args.written)
        print(f"{where}; saved {best}, to {out}.", file=sys.stderr)
        return 130
    out = _save(detector, args.out, args.written)
    # The leave-one-out training scores set the threshold: re-scoring the
    # training images against themselves would flag fewer than it aims at.
    flagged = int(np.sum(detector.train_anomaly_scores_ > -detector.offset_))
    print(
        f"Saved model to {out} (best epoch {detector.best_epoch_} of "
        f"{len(detector.history_)} run; threshold {-detector.offset_:.3f} flags {flagged} of "
        f"{len(images)} training images)"
    )
    return 0


def _scores_with_progress(detector, X, paths, args):
    """``_scores`` with a progress bar on stderr unless ``--quiet``."""
    detector.set_params(verbose=0 if args.quiet else 2)
    try:
        return _scores(detector, X, paths, args.threshold)
    finally:
        detector.set_params(verbose=0)


def _score(args):
    check_not_input("--csv", args.csv, model=args.model, folder=args.dir)
    check_output(args.csv)
    detector = _load_model(args.model)
    X, paths = _images_for_model(args.dir, detector)
    check_names(paths)
    scores, flagged, threshold = _scores_with_progress(detector, X, paths, args)
    write_output(args.csv, csv_bytes(paths, scores, flagged), args.written)
    if str(args.csv) != "-":
        # On stderr when the CSV goes to a stream (/dev/stdout): not into the CSV.
        print(
            f"Scored {len(paths)} images: {int(flagged.sum())} flagged as anomalous "
            f"(anomaly_score > {threshold:.3f}); wrote {args.csv}",
            file=sys.stdout if is_regular_output(args.csv) else sys.stderr,
        )
    return 0


#: The figures ``report`` writes.
_REPORT_FIGURES = (
    "score_histogram.png",
    "extremes.png",
    "residual_heatmaps.png",
    "attribution_maps.png",
)


def _png_bytes(figure, dpi):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _report(args):
    try:
        plotting.require_matplotlib()
    except ImportError as error:
        raise UserError(str(error)) from None
    out = Path(args.out)
    check_folder_outside("--out", out, args.dir)
    for name in (*_REPORT_FIGURES, "scores.csv"):
        check_not_input("--out", out / name, model=args.model)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"Cannot create {out}: {error.strerror or error}") from None
    check_output(out / "scores.csv")
    detector = _load_model(args.model)
    X, paths = _images_for_model(args.dir, detector)
    check_names(paths)
    scores, flagged, threshold = _scores_with_progress(detector, X, paths, args)
    names = [Path(p).name for p in paths]
    top = np.argsort(-scores, kind="stable")[: args.k]
    figures = {
        "score_histogram.png": plotting.plot_score_histogram(
            scores, threshold=threshold, title=f"Anomaly scores of {len(paths)} images"
        ),
        "extremes.png": plotting.plot_extremes(detector, X, k=args.k, scores=scores, titles=names),
        "residual_heatmaps.png": plotting.plot_residual_heatmaps(
            detector, X[top], scores=scores[top], titles=[names[i] for i in top]
        ),
        "attribution_maps.png": plotting.plot_attribution_maps(
            detector, X[top], scores=scores[top], titles=[names[i] for i in top]
        ),
    }
    # Everything is rendered before anything is written: a failure leaves the
    # folder as it was, not a report with some figures new and some old.
    files = {name: _png_bytes(figure, args.dpi) for name, figure in figures.items()}
    files["scores.csv"] = csv_bytes(paths, scores, flagged)
    for name, data in files.items():
        write_output(out / name, data, args.written)
    print(
        f"Wrote {', '.join(figures)} and scores.csv to {out} "
        f"({int(flagged.sum())} of {len(paths)} images flagged)"
    )
    return 0


# ------------------------------------------------------------------ parser
def _add_train(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="fit a detector on a folder of normal images and save it",
        description=(
            "Fit GANomaly on every image under NORMAL_DIR (searched recursively; PNG, "
            "JPEG, BMP, TIFF), all assumed normal, and save the model to --out in a "
            "safe, pickle-free format. Shows a progress bar over epochs."
        ),
    )
    parser.add_argument("normal_dir", metavar="NORMAL_DIR", help="folder of normal images")
    parser.add_argument("--out", required=True, metavar="MODEL", help="model file to write")
    parser.add_argument(
        "--size",
        type=_size,
        default=None,
        metavar="N|HxW",
        help="resize every image to N x N or H x W pixels (default: keep the files' "
        "size, which must then be the same for all)",
    )
    parser.add_argument(
        "--mode", choices=("L", "RGB"), default="L", help="grayscale (L, default) or RGB"
    )
    parser.add_argument(
        "--epochs",
        type=positive_int_or_auto,
        default=_DEFAULTS["n_epochs"],
        help="training epochs, or 'auto': the number of optimizer steps chosen on the "
        f"benchmarks for images (default {_DEFAULTS['n_epochs']})",
    )
    parser.add_argument(
        "--score-method",
        choices=("auto", *SCORE_METHODS),
        default=_DEFAULTS["score_method"],
        help=f"what makes an image anomalous (default {_DEFAULTS['score_method']}; "
        "'latent' is the paper's latent distance)",
    )
    parser.add_argument(
        "--batch-size", type=bounded_int(2), default=64, help="batch size (default 64)"
    )
    parser.add_argument(
        "--learning-rate",
        type=positive_float_or_auto,
        default=_DEFAULTS["learning_rate"],
        help="Adam learning rate, or 'auto': the rate chosen on the benchmarks for images "
        f"(default {_DEFAULTS['learning_rate']})",
    )
    parser.add_argument(
        "--latent-dim",
        type=bounded_int(1),
        default=100,
        help="size of the latent code (default 100)",
    )
    parser.add_argument(
        "--width",
        type=positive_int_or_auto,
        default=_DEFAULTS["width"],
        help="base number of DCGAN filters, or 'auto': 32 for images "
        f"(default {_DEFAULTS['width']}; the paper's 64)",
    )
    parser.add_argument(
        "--contamination",
        type=contamination,
        default="auto",
        help="expected share of anomalies in the training folder, in (0, 0.5], which "
        "sets the threshold; 'auto' (default) flags 1%% of the training images",
    )
    parser.add_argument(
        "--device", default="auto", help="cpu, cuda, cuda:1, mps or auto (default)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed for a repeatable fit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--save-partial",
        action="store_true",
        help="on Ctrl-C after the first epoch, save the best epoch so far to --out "
        "(the exit status is still 130)",
    )
    parser.set_defaults(handler=_train, parameter_flags=TRAIN_FLAGS)


def _add_folder_and_model(parser, folder_help):
    """The inputs ``score`` and ``report`` share: a folder of images and a model."""
    parser.add_argument("dir", metavar="DIR", help=folder_help)
    parser.add_argument("--model", required=True, help="model file written by 'train'")
    parser.add_argument("--quiet", action="store_true", help="no progress bar while scoring")


def _add_threshold(parser):
    parser.add_argument(
        "--threshold",
        type=finite_float,
        default=None,
        help="flag images whose anomaly_score exceeds this (default: the model's "
        "own threshold, set at training from --contamination)",
    )


def _add_score(subparsers):
    parser = subparsers.add_parser(
        "score",
        help="score every image in a folder and write a CSV",
        description=(
            "Score every image under DIR with a saved model. Images are converted to "
            "the model's mode and resized to its size. The CSV has one row per image: "
            "path, anomaly_score (higher = more abnormal; a robust z-score against "
            "the training images) and is_anomaly (1 or 0). Shows a progress bar while "
            "scoring."
        ),
    )
    _add_folder_and_model(parser, "folder of images to score")
    parser.add_argument("--csv", required=True, metavar="OUT", help="CSV file, - for stdout")
    _add_threshold(parser)
    parser.set_defaults(handler=_score)


def _add_report(subparsers):
    parser = subparsers.add_parser(
        "report",
        help="write PNG figures of the scores of a folder of images",
        description=(
            "Score every image under DIR and write to REPORT_DIR: score_histogram.png "
            "(scores with the threshold), extremes.png (input, reconstruction and "
            "residual |x - x_hat| of the k most and k least anomalous images), "
            "residual_heatmaps.png (residuals of the k most anomalous), "
            "attribution_maps.png (for the k most anomalous, the gradient of the "
            "quantity the score reads - the latent distance, or the code's distance "
            "to the training codes - with respect to each pixel: the pixels that "
            "move the score) and scores.csv. Shows a progress bar while scoring. "
            "Needs matplotlib (the 'plot' extra)."
        ),
    )
    _add_folder_and_model(parser, "folder of images")
    parser.add_argument("--out", required=True, metavar="REPORT_DIR", help="folder to write")
    parser.add_argument(
        "-k",
        type=bounded_int(1, MAX_K),
        default=5,
        help=f"images shown at each end of the ranking, 1 to {MAX_K} (default 5)",
    )
    parser.add_argument(
        "--dpi",
        type=bounded_int(10, MAX_DPI),
        default=100,
        help=f"PNG resolution, 10 to {MAX_DPI} (default 100)",
    )
    _add_threshold(parser)
    parser.set_defaults(handler=_report)


def build_parser() -> argparse.ArgumentParser:
    """The ``sklearn-ganomaly`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="GANomaly anomaly detection on folders of images: train on normal "
        "images, score new ones, and draw their scores, reconstructions and the pixels "
        "that move their scores.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_train(subparsers)
    _add_score(subparsers)
    _add_report(subparsers)
    add_benchmark(subparsers)
    add_benchmark_tables(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 for a user mistake (one line on stderr), 2 for a usage
        error (from argparse), 130 when interrupted (Ctrl-C).
    """
    written: list[str] = []
    flags: dict[str, str] = {}
    try:
        args = build_parser().parse_args(argv)
        args.written = written  # the outputs in place, for the message on Ctrl-C
        args.argv = list(sys.argv[1:] if argv is None else argv)  # for the reports
        flags = getattr(args, "parameter_flags", {})
        with one_line_warnings(flags):
            return int(args.handler(args) or 0)
    except (UserError, OSError, ValueError, MemoryError) as error:
        # Input mistakes (also those of extension subcommands) are one line, not
        # a traceback: the message names the file or the value at fault.
        done = f" ({written_before(written)})" if written else ""
        print(f"{PROG}: error: {as_flags(one_line(error), flags)}{done}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        done = written_before(written) if written else "no output was written"
        print(f"{PROG}: interrupted; {done}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
