"""What the image and table benchmarks share: PyOD's detectors, scoped seeding, the machine.

Nothing here looks at test labels: it builds detectors, seeds the global
generators around the fits of those that draw from them, and describes the
machine for the reports.
"""

import argparse
import contextlib
import os
import platform
import random
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "MAX_LIST_ITEMS",
    "PYOD_DETECTORS",
    "describe_machine",
    "int_list",
    "listed",
    "make_pyod_detector",
    "move_into_place",
    "seeded_globals",
]


def make_pyod_detector(name, seed, n_features):
    """A PyOD detector by name (imported lazily: pyod is an optional extra)."""
    if name == "LOF":
        from pyod.models.lof import LOF

        return LOF()
    if name == "KNN":
        from pyod.models.knn import KNN

        return KNN()
    if name == "IForest":
        from pyod.models.iforest import IForest

        return IForest(random_state=seed)
    if name == "OCSVM":
        from pyod.models.ocsvm import OCSVM

        return OCSVM()
    if name == "AutoEncoder":
        from pyod.models.auto_encoder import AutoEncoder

        # No per-pixel z-scoring: it blows up pixels never lit in training.
        return AutoEncoder(preprocessing=False, random_state=seed, verbose=0)
    if name == "DeepSVDD":
        from pyod.models.deep_svdd import DeepSVDD

        return DeepSVDD(n_features=n_features, random_state=seed, verbose=0)
    if name == "ALAD":
        from pyod.models.alad import ALAD

        # ALAD takes no random_state; seeded_globals seeds what it draws from.
        return ALAD(verbose=0)
    if name == "CBLOF":
        from pyod.models.cblof import CBLOF

        return CBLOF(random_state=seed)
    if name == "LUNAR":
        from pyod.models.lunar import LUNAR

        return LUNAR()
    raise ValueError(f"Unknown detector {name!r}; choose from {', '.join(PYOD_DETECTORS)}")


PYOD_DETECTORS = (
    "LOF",
    "KNN",
    "IForest",
    "OCSVM",
    "AutoEncoder",
    "DeepSVDD",
    "ALAD",
    "CBLOF",
    "LUNAR",
)


@contextlib.contextmanager
def seeded_globals(seed):
    """Seed numpy's, Python's and torch's global generators for one PyOD fit.

    Some PyOD detectors (ALAD) take no ``random_state`` and draw from the
    global generators; seeding them makes a rerun give the same numbers. The
    previous states are restored on exit, so the caller's generators are left
    as they were. GANomaly never needs this: its ``random_state`` seeds
    private generators.
    """
    numpy_state, python_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        np.random.seed(seed)
        random.seed(seed)
        torch.manual_seed(seed)
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)


def describe_machine():
    """CPU model, core count, torch threads and platform, for the report."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux: keep platform's answer
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads{gpu}, {platform.platform()}"
    )


def move_into_place(source, target):
    """Rename a finished file onto ``target``, flushed first (as ``atomic_path`` does)."""
    with open(source, "rb+") as file:
        os.fsync(file.fileno())
    os.replace(source, target)


def listed(values, what):
    values = list(values)
    if not values:
        raise ValueError(f"No {what} given: the benchmark needs at least one.")
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{what.capitalize()} {', '.join(repeated)} given more than once.")
    return values


#: Most items a ``--classes`` or ``--seeds`` list may hold: a range is
#: checked against it before it is built.
MAX_LIST_ITEMS = 1000


def int_list(low, high):
    """An argparse type: ``'2'``, ``'0,1,2'`` or ``'0-9'``, integers from ``low`` to ``high``."""

    def parse(text):
        values = []
        for part in text.split(","):
            first, dash, last = part.strip().partition("-")
            try:
                start = int(first)
                stop = int(last) if dash else start
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected integers or ranges like 0-9, separated by commas, got {text!r}"
                ) from None
            if stop < start:
                raise argparse.ArgumentTypeError(f"the range {part!r} is empty in {text!r}")
            if not low <= start <= stop <= high:
                raise argparse.ArgumentTypeError(
                    f"expected values from {low} to {high}, got {text!r}"
                )
            if len(values) + stop - start + 1 > MAX_LIST_ITEMS:
                raise argparse.ArgumentTypeError(
                    f"{text!r} lists more than {MAX_LIST_ITEMS} values"
                )
            values += range(start, stop + 1)
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise argparse.ArgumentTypeError(
                f"{', '.join(map(str, repeated))} listed more than once in {text!r}"
            )
        return values

    return parse
