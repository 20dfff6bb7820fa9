"""Where and in what precision the networks run: the package's one device policy.

``device='auto'`` is kept as given and resolved when a detector is fitted
(cuda, then mps, then cpu); an explicit device is checked for availability
with a message that says what to use instead. Mixed precision (bfloat16
autocast) and the channels-last memory layout are chosen here from the
estimator's ``precision`` and ``channels_last`` parameters, the device and
the kind of input.
"""

import functools

import torch

__all__ = [
    "autocast_dtype",
    "check_device",
    "cpu_has_native_bf16",
    "resolve_device",
    "use_channels_last",
]

_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")


def resolve_device(device):
    """Resolve ``'auto'`` to cuda, then mps, then cpu; pass others through as strings."""
    if device != "auto":
        return str(device)
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def check_device(device, name="device"):
    """Raise a ValueError unless ``device`` is 'auto' or a usable torch device."""
    if isinstance(device, str) and device == "auto":
        return
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(
            f"{name}={device!r} is not a torch device; use 'auto', 'cpu', 'cuda', "
            "'cuda:N' or 'mps'."
        ) from None
    if parsed.type not in _DEVICE_TYPES:
        raise ValueError(
            f"{name}={device!r}: the {parsed.type!r} device cannot train or score a "
            f"model here; use one of {', '.join(_DEVICE_TYPES)} or 'auto'."
        )
    if parsed.type == "cpu":
        return
    backend = {"cuda": torch.cuda, "mps": torch.backends.mps}.get(parsed.type)
    backend = backend or getattr(torch, parsed.type, None)
    if backend is None or not backend.is_available():
        raise ValueError(
            f"{name}={device!r} is not available on this machine (torch finds no "
            f"{parsed.type} device); use 'cpu' or 'auto'."
        )
    count = getattr(backend, "device_count", lambda: 1)()
    if parsed.index is not None and parsed.index >= count:
        raise ValueError(
            f"{name}={device!r}: this machine has {count} {parsed.type} device(s), "
            f"numbered from 0."
        )


@functools.cache
def cpu_has_native_bf16():
    """Whether this CPU computes bfloat16 natively (AMX or AVX-512-BF16).

    Read from the Linux CPU flags; elsewhere the answer is False, which only
    means that ``precision='auto'`` keeps float32 there.
    """
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


def autocast_dtype(precision, device, is_image):
    """The autocast dtype that training runs under, or None for float32.

    ``'auto'`` trains images in bfloat16 on CUDA devices that support it and
    on CPUs that compute it natively; tables stay in float32, since their
    small multilayer perceptrons gain nothing from it (casting costs more
    than the matrix products save: about 10% slower on a CPU with AMX).
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if not is_image:
        return None
    kind = torch.device(device).type
    if kind == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if kind == "cpu" and cpu_has_native_bf16() else None


def use_channels_last(channels_last, device, is_image):
    """Whether image tensors and convolution weights are stored channels-last."""
    if not is_image:
        return False
    if channels_last == "auto":
        return torch.device(device).type == "cuda"
    return bool(channels_last)
