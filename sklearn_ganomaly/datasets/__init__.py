"""Data loaders: embedded benchmark data, local MNIST/CIFAR-10 files, image folders."""

import importlib

# name -> submodule; resolved lazily so that each loader's imports stay local.
_EXPORTS = {
    "load_image_folder": "._image_folder",
    "load_mnist5k": "._benchmark_data",
    "load_digits_images": "._benchmark_data",
    "load_mnist_idx": "._benchmark_data",
    "load_cifar10": "._benchmark_data",
    "one_class_split": "._benchmark_data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)


def __dir__():
    return __all__
