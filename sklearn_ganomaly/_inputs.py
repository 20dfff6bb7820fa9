"""Input layouts and scaling: from the caller's arrays to network tensors and back.

Images arrive as ``(n, H, W)``, ``(n, H, W, C)``, ``(n, C, H, W)`` or flat rows
with ``image_shape=(C, H, W)``; tables as ``(n, d)``. ``InputTransform`` records
the layout seen at fit and the scaling learnt from the training data, and maps
any batch to the ``float32`` layout the networks take (``(n, C, H, W)`` in
``[-1, 1]`` for images, standardised ``(n, d)`` for tables) and back. It works
batch by batch, so a numpy memmap is never read whole into memory.
"""

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["InputTransform", "fit_input_transform", "image_layout", "working_dtype"]

_CHANNEL_COUNTS = (1, 2, 3, 4)

#: Input dtypes that float32 holds exactly: scaling them in float32 loses nothing.
_EXACT_IN_FLOAT32 = (
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.float16,
    torch.bfloat16,
    torch.float32,
)


def working_dtype(input_dtype, network_dtype):
    """The dtype in which the offset is removed before the cast to ``network_dtype``.

    Subtracting a large offset (say 1.7e9) after a cast to float32 would keep
    only float32's resolution at that offset (128) of the values' spread, so
    wider inputs (float64, 32- and 64-bit integers) are scaled in float64.
    """
    if input_dtype in _EXACT_IN_FLOAT32 or network_dtype == torch.float64:
        return network_dtype
    return torch.float64


@dataclass
class InputTransform:
    """Fitted mapping between the caller's layout and the networks' layout.

    Attributes
    ----------
    sample_shape : tuple of int
        Shape of one sample as the caller gives it (``X.shape[1:]``).
    network_shape : tuple of int
        ``(C, H, W)`` for images, ``(d,)`` for tables.
    channels_last : bool
        Whether 4-D input is ``(n, H, W, C)``.
    offset, scale : ndarray
        ``network_input = (x - offset) * scale`` (then ``- 1`` for images).
    """

    sample_shape: tuple
    network_shape: tuple
    channels_last: bool
    offset: np.ndarray
    scale: np.ndarray

    @property
    def is_image(self):
        return len(self.network_shape) == 3

    def check_shape(self, X, estimator_name):
        """Raise a ValueError naming both shapes if ``X`` does not match."""
        received = tuple(np.shape(X)[1:])
        if received == self.sample_shape:
            return
        expected = f"samples of shape {self.sample_shape}"
        if self.is_image:
            channels, height, width = self.network_shape
            image = f"{height}x{width}-pixel images of {channels} channel(s)"
            if len(self.sample_shape) == 1:
                expected = f"{image} as flat rows of {self.sample_shape[0]} pixels ({expected})"
            else:
                layout = {
                    2: "(n, H, W)",
                    3: "(n, H, W, C)" if self.channels_last else "(n, C, H, W)",
                }
                expected = f"{image}, laid out {layout[len(self.sample_shape)]}: {expected}"
        raise ValueError(
            f"X has samples of shape {received}, but {estimator_name} was fitted on {expected}."
        )

    def to_network(self, batch, device, dtype=torch.float32, channels_last=False):
        """Map a numpy batch in the caller's layout to a network tensor.

        On CUDA the host batch is pinned and copied asynchronously, so the copy
        overlaps with the previous batch's kernels.
        """
        batch = np.ascontiguousarray(batch)
        if not batch.flags.writeable:  # torch.from_numpy warns on read-only memory
            batch = batch.copy()
        x = torch.from_numpy(batch)
        if torch.device(device).type == "cuda":
            x = x.pin_memory().to(device, non_blocking=True)
        x = x.to(device)
        work = working_dtype(x.dtype, dtype)
        offset = torch.as_tensor(self.offset, dtype=work, device=x.device)
        scale = torch.as_tensor(self.scale, dtype=work, device=x.device)
        return self.scale_tensor(x, offset, scale, dtype, channels_last)

    def scale_tensor(self, x, offset, scale, dtype=torch.float32, channels_last=False):
        """The networks' input from a tensor in the caller's layout and units.

        ``(x - offset) * scale`` (then ``- 1`` for images), in the precision
        of :func:`working_dtype`, cast to ``dtype`` only afterwards; then
        channels-last images are moved to channels-first and flat pixel rows
        reshaped. The one implementation of the input scaling: training
        batches, the scoring graph and its ONNX export all go through it.
        """
        x = (x.to(offset.dtype) - offset) * scale
        if self.is_image:
            x = x - 1.0
            if self.channels_last:
                x = x.permute(0, 3, 1, 2)
            else:
                x = x.reshape((x.shape[0], *self.network_shape))
        x = x.to(dtype)
        if not self.is_image:
            return x
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        return x.contiguous(memory_format=memory_format)

    def unscale_tensor(self, x, offset, scale):
        """A network tensor back in the caller's layout and units (inverse of ``scale_tensor``)."""
        x = x.to(offset.dtype)
        if self.is_image:
            x = x + 1.0
            if self.channels_last:
                x = x.permute(0, 2, 3, 1)
            x = x.reshape((x.shape[0], *self.sample_shape))
        return x / scale + offset


def image_layout(sample_shape, image_shape):
    """Return ``(network_shape, channels_last)`` for an image sample shape."""
    if len(sample_shape) == 1:
        if image_shape is None:
            return (sample_shape[0],), False
        image_shape = tuple(int(s) for s in image_shape)
        if len(image_shape) != 3 or int(np.prod(image_shape)) != sample_shape[0]:
            raise ValueError(
                f"image_shape={image_shape} must be (C, H, W) with C*H*W equal "
                f"to the number of features, {sample_shape[0]}."
            )
        return image_shape, False
    if len(sample_shape) == 2:
        return (1, *sample_shape), False
    if len(sample_shape) != 3:
        raise ValueError(
            "X must be 2-D (n, d), 3-D (n, H, W) or 4-D (n, C, H, W) / "
            f"(n, H, W, C); got {len(sample_shape) + 1} dimensions."
        )
    first, _, last = sample_shape
    if image_shape is not None:
        image_shape = tuple(int(s) for s in image_shape)
        if image_shape == sample_shape:
            return image_shape, False
        if image_shape == (last, *sample_shape[:2]):
            return image_shape, True
        raise ValueError(
            f"image_shape={image_shape} matches neither (n, C, H, W) nor "
            f"(n, H, W, C) for samples of shape {sample_shape}."
        )
    # PyTorch's channels-first convention wins when both ends look like channels.
    if first in _CHANNEL_COUNTS:
        return sample_shape, False
    if last in _CHANNEL_COUNTS:
        return (last, *sample_shape[:2]), True
    raise ValueError(
        f"Cannot tell the channel axis of samples of shape {sample_shape}: "
        "neither the first nor the last axis has 1-4 entries. Pass "
        "image_shape=(C, H, W)."
    )


def _chunks(X, rows=16384):
    """Row chunks of ``X``: statistics of a memmap without reading it whole."""
    for start in range(0, len(X), rows):
        yield X[start : start + rows]


def _column_mean_std(X):
    """Per-column mean and standard deviation in float64, chunk by chunk."""
    mean = sum(np.sum(c, axis=0, dtype=np.float64) for c in _chunks(X)) / len(X)
    squares = sum(np.sum((c - mean) ** 2, axis=0) for c in _chunks(X))
    return mean, np.sqrt(squares / len(X))


def fit_input_transform(X, image_shape=None):
    """Learn the layout and scaling of training data ``X``.

    Images are mapped linearly from the training data's own range
    ``[min, max]`` to ``[-1, 1]``, the range of the decoder's tanh output, so
    pixels may come as 0-255 integers, 0-1 floats or anything else. Tables are
    standardised per feature (constant features keep scale 1).
    """
    sample_shape = tuple(X.shape[1:])
    network_shape, channels_last = image_layout(sample_shape, image_shape)
    if len(network_shape) == 3:
        low = min(float(np.min(chunk)) for chunk in _chunks(X))
        high = max(float(np.max(chunk)) for chunk in _chunks(X))
        span = high - low if high > low else 1.0
        offset, scale = np.array(low), np.array(2.0 / span)
    else:
        mean, std = _column_mean_std(X)
        offset, scale = mean, 1.0 / np.where(std > 0, std, 1.0)
    return InputTransform(sample_shape, network_shape, channels_last, offset, scale)
