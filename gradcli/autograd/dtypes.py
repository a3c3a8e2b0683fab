"""Tensor dtypes, the default float dtype, and PyTorch's type promotion.

gradcli tensors hold numpy arrays of four dtypes: float32, float64, int64 and bool.
Only floating tensors can require grad.  Promotion follows PyTorch's ``result_type``:
operands fall in three priority classes -- tensors with dimensions, zero-dimensional
tensors, and "wrapped numbers" (Python numbers, weakly typed) -- and a lower class
only matters when its category (bool < integer < floating) is higher:

    int64 tensor * 2.5          -> the default float dtype
    float32 tensor + 2.5        -> float32
    float32 [3] + float64 0-d   -> float32         float32 [3] + float64 [3] -> float64
    bool tensor + 1             -> int64

The default float dtype is per thread, like grad mode: ``gradcli run`` sets float32
as PyTorch does, the ``grad`` command keeps float64.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import InputError

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

FLOATS = (float64, float32)
DTYPES = (float32, float64, int64, bool_)

# PyTorch's ScalarType names (error messages) and legacy tensor type names
SCALAR_NAME = {float32: "Float", float64: "Double", int64: "Long", bool_: "Bool"}
TENSOR_TYPE = {float32: "torch.FloatTensor", float64: "torch.DoubleTensor",
               int64: "torch.LongTensor", bool_: "torch.BoolTensor"}
TORCH_NAME = {float32: "torch.float32", float64: "torch.float64", int64: "torch.int64",
              bool_: "torch.bool"}

_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}
_state = threading.local()


def get_default_dtype() -> np.dtype:
    """The dtype of floating tensors made from Python floats (float64 unless set)."""
    return getattr(_state, "dtype", float64)


def default_if_set():
    """The default float dtype if a script or set_default_dtype set one, else None."""
    return getattr(_state, "dtype", None)


def restore_default(previous) -> None:
    """Put back what :func:`default_if_set` returned: a dtype, or None for unset (so a
    script's float32 does not stay behind as an explicit setting)."""
    if previous is None:
        _state.__dict__.pop("dtype", None)
    else:
        _state.dtype = previous


def set_default_dtype(dtype) -> None:
    dtype = as_dtype(dtype)
    if dtype not in FLOATS:
        raise InputError("only floating-point types are supported as the default type")
    _state.dtype = dtype


class default_dtype:
    """``with default_dtype(float32): ...`` sets the default float dtype for a block."""

    def __init__(self, dtype):
        self.dtype = as_dtype(dtype)

    def __enter__(self):
        self._previous = default_if_set()
        set_default_dtype(self.dtype)
        return self

    def __exit__(self, *exc):
        restore_default(self._previous)
        return False


def as_dtype(dtype) -> np.dtype:
    """A supported numpy dtype from a dtype, a numpy type or a name ('float32')."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise InputError(f"unknown dtype {dtype!r}") from None
    if d not in DTYPES:
        raise InputError(f"dtype {d} is not supported (float32, float64, int64, bool)")
    return d


def is_floating(dtype) -> bool:
    return dtype.kind == "f"


def category(dtype) -> int:
    return _CATEGORY[dtype.kind]


def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promote_types for the four dtypes: the higher category wins (int64 and
    float32 give float32, where numpy says float64), within one the wider dtype."""
    if a is b or a == b:
        return a
    ka, kb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ka != kb:
        return a if ka > kb else b
    return a if a.itemsize >= b.itemsize else b


def number_dtype(value) -> np.dtype:
    """The dtype a Python number stands for as a wrapped number."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return get_default_dtype()


def _combine(higher, lower):
    """PyTorch's combine_categories: a lower class counts only if its category is higher."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher == bool_ or lower.kind == "f":
        return promote(higher, lower)
    return higher


def result_type(tensors, numbers=()) -> np.dtype:
    """The dtype PyTorch computes ``op(*tensors, *numbers)`` in.  ``tensors``: pairs
    (dtype, priority) with priority 0 for dimensioned, 1 for zero-dim tensors and 2 for
    wrapped numbers; ``numbers``: Python numbers (wrapped numbers too)."""
    slots = [None, None, None]
    for dtype, priority in tensors:
        if priority == 2 and dtype.kind == "f":
            dtype = get_default_dtype()
        current = slots[priority]
        slots[priority] = dtype if current is None else promote(current, dtype)
    for value in numbers:
        dtype = number_dtype(value)
        current = slots[2]
        slots[2] = dtype if current is None else promote(current, dtype)
    return _combine(slots[0], _combine(slots[1], slots[2]))


def can_cast(source: np.dtype, target: np.dtype) -> bool:
    """PyTorch's canCast for in-place results: not float -> integral, not -> bool."""
    if target == bool_:
        return source == bool_
    if target.kind == "i":
        return source.kind in "ib"
    return True
