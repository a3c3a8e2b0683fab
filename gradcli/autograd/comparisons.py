"""Comparisons (``a == b``, ``a < b``, ...) and ``all``/``any``: bool results, which no
gradient passes through (PyTorch's ``eq``, ``lt``, ...; the Tensor operators)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ShapeError
from .dtypes import SCALAR_NAME
from .function import apply
from .functional import _operand, as_tensor
from .ops import REGISTRY as OPS
from .tensor import Tensor


def _comparison(name: str):
    def compare(input, other) -> Tensor:
        a, b = _operand(input), _operand(other)
        if not isinstance(a, Tensor):
            a = as_tensor(a)
        return apply(OPS[name], a, b)
    compare.__name__ = name
    compare.__doc__ = f"{OPS[name].syntax} elementwise: a bool tensor"
    return compare


eq, ne, lt, le, gt, ge = (_comparison(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))


def all_(input) -> Tensor:
    """``x.all()``: whether every element is nonzero (a 0-d bool tensor)."""
    return apply(OPS["all"], as_tensor(input))


def any_(input) -> Tensor:
    """``x.any()``: whether some element is nonzero (a 0-d bool tensor)."""
    return apply(OPS["any"], as_tensor(input))


def _pair(name: str, input, other) -> tuple:
    """Both arguments must be tensors, as in PyTorch (no number is promoted here)."""
    for position, (label, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor):
            raise InputError(f"{name}(): argument '{label}' (position {position}) must be "
                             f"Tensor, not {type(value).__name__}", python_type="TypeError")
    return input, other


def _same_dtype(a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise ShapeError(f"{SCALAR_NAME[a.dtype]} did not match {SCALAR_NAME[b.dtype]}")


def _tolerances(rtol, atol) -> dict:
    for label, value in (("rtol", rtol), ("atol", atol)):
        if value < 0:
            raise ShapeError(f"{label} must be greater than or equal to zero, but got "
                             f"{value:g}")
    return {"rtol": float(rtol), "atol": float(atol)}


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (a bool tensor); the
    two must be tensors of one dtype."""
    a, b = _pair("isclose", input, other)
    _same_dtype(a, b)
    return apply(OPS["isclose"], a, b, equal_nan=bool(equal_nan), **_tolerances(rtol, atol))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element is close (isclose), as a Python bool."""
    a, b = _pair("allclose", input, other)
    _same_dtype(a, b)
    return bool(apply(OPS["allclose"], a, b, equal_nan=bool(equal_nan),
                      **_tolerances(rtol, atol)).data)


def equal(input, other) -> bool:
    """Same shape, same dtype and the same values (NaN equals nothing), as a Python
    bool."""
    a, b = _pair("equal", input, other)
    if a.dtype != b.dtype:
        return False
    return bool(np.asarray(apply(OPS["equal"], a, b).data))
