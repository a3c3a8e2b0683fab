"""Comparisons (``a == b``, ``a < b``, ...) and ``all``/``any``: bool results, which no
gradient passes through (PyTorch's ``eq``, ``lt``, ...; the Tensor operators)."""

from __future__ import annotations

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
