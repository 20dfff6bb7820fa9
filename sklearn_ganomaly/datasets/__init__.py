"""Data loaders: embedded benchmark data, local MNIST/CIFAR-10 files, image folders."""

from ._benchmark_data import (
    load_cifar10,
    load_digits_images,
    load_mnist5k,
    load_mnist_idx,
    one_class_split,
)
from ._image_folder import load_image_folder

__all__ = [
    "load_cifar10",
    "load_digits_images",
    "load_image_folder",
    "load_mnist5k",
    "load_mnist_idx",
    "one_class_split",
]
