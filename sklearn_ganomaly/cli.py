"""Command line: train on a folder of normal images, score new ones, draw why.

``sklearn-ganomaly train NORMAL_DIR --out MODEL`` fits a detector on every
image under a folder, ``score DIR --model MODEL --csv OUT`` writes one CSV row
per image, and ``report DIR --model MODEL --out REPORT_DIR`` writes PNG
figures. Models are saved with :func:`sklearn_ganomaly.load`'s safe format.
User mistakes (a missing folder, no images, a bad model file, mismatched
image sizes) end with one line on stderr and exit status 1; argparse's usage
errors exit with 2.

Other modules add subcommands through ``add_subcommand(subparsers)``: it
calls ``subparsers.add_parser(...)`` and sets a ``handler`` default,
``handler(args) -> int``; list the module in :data:`EXTENSIONS`.
"""

import argparse
import csv
import importlib
import sys
from pathlib import Path

import numpy as np

__all__ = ["EXTENSIONS", "build_parser", "main"]

PROG = "sklearn-ganomaly"

#: Modules whose ``add_subcommand(subparsers)`` registers more subcommands
#: (imported when the parser is built; a module not installed is skipped).
EXTENSIONS = ("sklearn_ganomaly.benchmark",)


class UserError(Exception):
    """A mistake in the command's input, reported as one line without traceback."""


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


def _contamination(text):
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 0.5:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a number in (0, 0.5], got {text!r}")
    return value


def _load_images(folder, *, size, mode):
    from .datasets import load_image_folder

    try:
        return load_image_folder(folder, size=size, mode=mode)
    except (OSError, ValueError) as error:
        raise UserError(str(error)) from None


def _load_model(path):
    from ._persistence import load

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


def _scores(detector, X, threshold):
    scores = detector.anomaly_score(X)
    if threshold is None:
        # The model's own threshold: exactly what predict() flags.
        flagged = detector.predict(X) == -1
        threshold = -detector.offset_
    else:
        flagged = scores > threshold
    return scores, flagged, threshold


def _write_csv(out, paths, scores, flagged):
    rows = zip(paths, scores, flagged, strict=True)
    if str(out) == "-":
        _csv_rows(sys.stdout, rows)
        return
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", newline="") as file:
            _csv_rows(file, rows)
    except OSError as error:
        raise UserError(f"Cannot write {out}: {error.strerror or error}") from None


def _csv_rows(file, rows):
    writer = csv.writer(file)
    writer.writerow(["path", "anomaly_score", "is_anomaly"])
    for path, score, flag in rows:
        writer.writerow([path, repr(float(score)), int(flag)])


# ------------------------------------------------------------- subcommands
def _check_device(device):
    import torch

    try:
        kind = torch.device(device).type if device != "auto" else "auto"
    except RuntimeError:
        raise UserError(f"Unknown device {device!r}; use cpu, cuda, cuda:N or mps.") from None
    available = {"cuda": torch.cuda.is_available, "mps": torch.backends.mps.is_available}
    if kind in available and not available[kind]():
        raise UserError(f"Device {device!r} is not available on this machine; use --device cpu.")


def _train(args):
    from . import GANomalyDetector

    _check_device(args.device)
    images, paths = _load_images(args.normal_dir, size=args.size, mode=args.mode)
    if len(images) < 2:
        raise UserError(f"Training needs at least 2 images; {args.normal_dir} has {len(images)}.")
    print(
        f"Training on {len(images)} images of {images.shape[2]}x{images.shape[1]} "
        f"({args.mode}) from {args.normal_dir}",
        file=sys.stderr,
    )
    detector = GANomalyDetector(
        n_epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        latent_dim=args.latent_dim,
        width=args.width,
        contamination=args.contamination,
        device=args.device,
        random_state=args.seed,
        verbose=0 if args.quiet else 1,
    )
    try:
        detector.fit(images)
    except (RuntimeError, FloatingPointError) as error:  # e.g. unknown device, divergence
        raise UserError(f"Training failed: {error}") from None
    try:
        out = detector.save(args.out)
    except OSError as error:
        raise UserError(f"Cannot write {args.out}: {error.strerror or error}") from None
    flagged = int(np.sum(detector.predict(images) == -1))
    print(
        f"Saved model to {out} (best epoch {detector.best_epoch_} of {args.epochs}; "
        f"threshold {-detector.offset_:.3f} flags {flagged} of {len(images)} training images)"
    )
    return 0


def _score(args):
    detector = _load_model(args.model)
    X, paths = _images_for_model(args.dir, detector)
    scores, flagged, threshold = _scores(detector, X, args.threshold)
    _write_csv(args.csv, paths, scores, flagged)
    if str(args.csv) != "-":
        print(
            f"Scored {len(paths)} images: {int(flagged.sum())} flagged as anomalous "
            f"(anomaly_score > {threshold:.3f}); wrote {args.csv}"
        )
    return 0


def _report(args):
    try:
        from . import plotting

        plotting._figure((1, 1))
    except ImportError as error:
        raise UserError(str(error)) from None
    detector = _load_model(args.model)
    X, paths = _images_for_model(args.dir, detector)
    scores, flagged, threshold = _scores(detector, X, args.threshold)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"Cannot create {out}: {error.strerror or error}") from None
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
    }
    for name, figure in figures.items():
        figure.savefig(out / name, dpi=args.dpi)
    _write_csv(out / "scores.csv", paths, scores, flagged)
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
    parser.add_argument("--epochs", type=int, default=15, help="training epochs (default 15)")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    parser.add_argument(
        "--learning-rate", type=float, default=2e-4, help="Adam learning rate (default 2e-4)"
    )
    parser.add_argument(
        "--latent-dim", type=int, default=100, help="size of the latent code (default 100)"
    )
    parser.add_argument(
        "--width", type=int, default=64, help="base number of DCGAN filters (default 64)"
    )
    parser.add_argument(
        "--contamination",
        type=_contamination,
        default="auto",
        help="expected share of anomalies in the training folder, in (0, 0.5], which "
        "sets the threshold; 'auto' (default) flags 1%% of the training images",
    )
    parser.add_argument(
        "--device", default="auto", help="cpu, cuda, cuda:1, mps or auto (default)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed for a repeatable fit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=_train)


def _add_folder_and_model(parser, folder_help):
    """The inputs ``score`` and ``report`` share: a folder of images and a model."""
    parser.add_argument("dir", metavar="DIR", help=folder_help)
    parser.add_argument("--model", required=True, help="model file written by 'train'")


def _add_threshold(parser):
    parser.add_argument(
        "--threshold",
        type=float,
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
            "the training images) and is_anomaly (1 or 0)."
        ),
    )
    _add_folder_and_model(parser, "folder of images to score")
    parser.add_argument("--csv", required=True, metavar="OUT", help="CSV file, - for stdout")
    _add_threshold(parser)
    parser.set_defaults(handler=_score)


def _add_report(subparsers):
    parser = subparsers.add_parser(
        "report",
        help="write PNG figures explaining the scores of a folder of images",
        description=(
            "Score every image under DIR and write to REPORT_DIR: score_histogram.png "
            "(scores with the threshold), extremes.png (input, reconstruction and "
            "residual |x - x_hat| of the k most and k least anomalous images), "
            "residual_heatmaps.png (residuals of the k most anomalous) and scores.csv. "
            "Needs matplotlib (the 'plot' extra)."
        ),
    )
    _add_folder_and_model(parser, "folder of images")
    parser.add_argument("--out", required=True, metavar="REPORT_DIR", help="folder to write")
    parser.add_argument(
        "-k", type=int, default=5, help="images shown at each end of the ranking (default 5)"
    )
    parser.add_argument("--dpi", type=int, default=100, help="PNG resolution (default 100)")
    _add_threshold(parser)
    parser.set_defaults(handler=_report)


def _add_extensions(subparsers):
    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:  # the module exists but one of its imports fails
                raise
            continue
        module.add_subcommand(subparsers)


def build_parser():
    """The ``sklearn-ganomaly`` argument parser with every subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="GANomaly anomaly detection on folders of images: train on normal "
        "images, score new ones, and draw why they score as they do.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    _add_train(subparsers)
    _add_score(subparsers)
    _add_report(subparsers)
    # Subcommands defined elsewhere (the benchmark) register themselves here.
    _add_extensions(subparsers)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 for a user mistake (one line on stderr), 2 for a usage
        error (from argparse).
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (UserError, OSError, ValueError) as error:
        # Input mistakes (also those of extension subcommands) are one line, not a
        # traceback: the message names the file or the value at fault.
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
