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


def to(input, dtype) -> Tensor:
    """``x.to(dtype)``: ``x`` itself when it has that dtype already, else a copy
    (ToCopyBackward0 between float dtypes; no history for integer and bool results)."""
    input = as_tensor(input)
    dtype = as_dtype(dtype)
    if input.data.dtype == dtype:
        return input
    return apply(OPS["to_copy"], input, dtype=dtype)


def to_float(x) -> Tensor:
    return to(x, "float32")


def to_double(x) -> Tensor:
    return to(x, "float64")


def to_long(x) -> Tensor:
    return to(x, "int64")


def to_bool(x) -> Tensor:
    return to(x, "bool")
