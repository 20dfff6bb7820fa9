"""Data loaders: embedded benchmark data, MNIST/CIFAR-10 files, ADBench tables, image folders."""

from ._benchmark_data import (
    load_cifar10,
    load_digits_images,
    load_mnist5k,
    load_mnist_idx,
    one_class_split,
)
from ._image_folder import load_image_folder
from ._tables import (
    list_adbench_tables,
    load_adbench_table,
    semi_supervised_split,
    table_number,
)

__all__ = [
    "load_cifar10",
    "load_digits_images",
    "list_adbench_tables",
    "load_adbench_table",
    "load_image_folder",
    "load_mnist5k",
    "load_mnist_idx",
    "one_class_split",
    "semi_supervised_split",
    "table_number",
]
