"""Comparisons (``a == b``, ``a < b``, ...) and ``all``/``any``: bool results, which no
gradient passes through (PyTorch's ``eq``, ``lt``, ...; the Tensor operators)."""

from __future__ import annotations

from .function import apply
from .functional import _operand, as_tensor
from .ops import REGISTRY as OPS
from .tensor import Tensor


def _comparison(name: str):
    def compare(a, b) -> Tensor:
        a, b = _operand(a), _operand(b)
        if not isinstance(a, Tensor):
            a = as_tensor(a)
        return apply(OPS[name], a, b)
    compare.__name__ = name
    compare.__doc__ = f"a {OPS[name].syntax.split()[1]} b elementwise: a bool tensor"
    return compare


eq, ne, lt, le, gt, ge = (_comparison(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))


def all_(x) -> Tensor:
    """``x.all()``: whether every element is nonzero (a 0-d bool tensor)."""
    return apply(OPS["all"], as_tensor(x))


def any_(x) -> Tensor:
    """``x.any()``: whether some element is nonzero (a 0-d bool tensor)."""
    return apply(OPS["any"], as_tensor(x))
