"""Copies and dtype conversions (``clone``, ``to``, ``float()``, ...), and the out-of-place
forms of ``zero_``, ``fill_`` and ``copy_`` (:mod:`.inplace` writes their results)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ShapeError
from .dtypes import as_dtype
from .function import apply
from .functional import _plain, as_tensor
from .ops import REGISTRY as OPS
from .tensor import Tensor


def zero(x) -> Tensor:
    return apply(OPS["zero"], as_tensor(x))


def fill(x, value) -> Tensor:
    x = as_tensor(x)
    if isinstance(value, Tensor):
        if value.data.ndim:
            raise InputError("fill_ only supports 0-dimension value tensor but got tensor "
                             f"with {value.data.ndim} dimensions.")
        return apply(OPS["fill_tensor"], x, value)
    return apply(OPS["fill"], x, value=_plain(value))


def copy(x, src) -> Tensor:
    x = as_tensor(x)
    src = as_tensor(src, like=x)
    try:
        np.broadcast_shapes(src.shape, x.shape)
    except ValueError:
        raise ShapeError(f"The size of tensor a ({x.shape[-1] if x.shape else 1}) must match "
                         f"the size of tensor b ({src.shape[-1] if src.shape else 1}) at "
                         "non-singleton dimension") from None
    return apply(OPS["copy"], x, src)


# ---- copies and conversions ------------------------------------------------------------

def clone(input) -> Tensor:
    return apply(OPS["clone"], as_tensor(input))


def to(input, *args, dtype=None, device=None, non_blocking=False, copy=False) -> Tensor:
    """``x.to(dtype)``, ``x.to(device)``, ``x.to(other)``: ``x`` itself when nothing
    changes, else a copy (ToCopyBackward0 between float dtypes; no history for integer
    and bool results).  gradcli runs on the CPU: any other device is PyTorch's error
    for a build without CUDA."""
    input = as_tensor(input)
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.data.dtype
        elif isinstance(arg, Device) or (isinstance(arg, str) and
                                         arg.partition(":")[0] in Device.KNOWN):
            device = arg                      # (other strings: dtype names, "float32")
        else:
            dtype = arg
    if device is not None:
        Device(device).require_cpu()
    dtype = input.data.dtype if dtype is None else as_dtype(dtype)
    if input.data.dtype == dtype:
        return clone(input) if copy else input
    return apply(OPS["to_copy"], input, dtype=dtype)


class Device:
    """torch.device: ``cpu`` (gradcli's only one), or a name PyTorch knows."""

    __slots__ = ("type", "index")
    python_name = "device"
    KNOWN = ("cpu", "cuda", "mps", "xpu", "meta")

    def __init__(self, spec, index=None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index if index is None else index
        if not isinstance(spec, str):
            raise InputError(f"device(): expected a string, got {type(spec).__name__}",
                             python_type="TypeError")
        name, _, number = spec.partition(":")
        if name not in self.KNOWN or (number and not number.isdigit()):
            raise InputError(f"Expected one of {', '.join(self.KNOWN)} device type at "
                             f"start of device string: {spec}")
        self.type = name
        self.index = int(number) if number else index

    def require_cpu(self) -> None:
        if self.type != "cpu":
            raise InputError("Torch not compiled with CUDA enabled" if self.type == "cuda"
                             else f"gradcli runs on the CPU only, not {self.type}",
                             python_type="AssertionError")

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):            # torch.device("cpu") == "cpu"
            try:
                other = Device(other)
            except InputError:
                return False
        return isinstance(other, Device) and (self.type, self.index) == \
            (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


def to_float(x) -> Tensor:
    return to(x, "float32")


def to_double(x) -> Tensor:
    return to(x, "float64")


def to_long(x) -> Tensor:
    return to(x, "int64")


def to_bool(x) -> Tensor:
    return to(x, "bool")
