"""The functions of the Python API (``gradcli.exp(x)``, ``x.exp()``, operators).

Each checks its arguments the way PyTorch does (with PyTorch's messages), picks the
op-table entry PyTorch would record (``2 - x`` is RsubBackward1, ``2 / x`` is a
MulBackward0 fed by ReciprocalBackward0, ``1-D @ 2-D`` goes through
Unsqueeze/Mm/SqueezeBackward4, ...) and applies it.  Elementwise unary and binary
functions are generated from the table; only dispatching functions are written here.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..errors import InputError, ShapeError
from .function import apply
from .ops import REGISTRY
from .ops.core import norm_dim
from .dtypes import SCALAR_NAME
from .tensor import Tensor, tensor, wrapped_number

OPS = REGISTRY
_NUMBER_TYPES = (numbers.Real, np.bool_)


def is_number(x) -> bool:
    cls = type(x)
    if cls is float or cls is int or cls is bool:
        return True
    return isinstance(x, _NUMBER_TYPES) and not isinstance(x, Tensor)


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """A Tensor for ``x``: tensors pass through; a Python number becomes a wrapped
    number (weakly typed, as PyTorch treats numbers); lists and arrays become constants
    (of ``like``'s dtype when given)."""
    if isinstance(x, Tensor):
        return x
    if is_number(x):
        return wrapped_number(_plain(x))
    dtype = like.data.dtype if like is not None else None
    return tensor(x, dtype=dtype)


def _plain(x):
    """A Python bool, int or float for any number (numpy scalars included)."""
    return x.item() if isinstance(x, (np.generic,)) else x


def _operand(x):
    """Binary-op operand: a Tensor, or a Python number (weakly typed)."""
    cls = type(x)
    if cls is Tensor or cls is float or cls is int:
        return x
    if isinstance(x, Tensor):
        return x
    if is_number(x):
        return _plain(x)
    return as_tensor(x)


def _dims(x: Tensor, dim) -> tuple:
    if isinstance(dim, (list, tuple)):
        dims = tuple(norm_dim(d, x.ndim) for d in dim)
    else:
        dims = (norm_dim(dim, x.ndim),)
    if len(set(dims)) != len(dims):
        raise ShapeError(f"dim {dims} appears multiple times in the list of dims")
    if x.ndim == 0:
        return ()       # PyTorch accepts dim 0 / -1 of a 0-d tensor: nothing is reduced
    return dims


def _is_bool(x) -> bool:
    return isinstance(x, (bool, np.bool_)) or (isinstance(x, Tensor) and x.data.dtype == bool)


# ---- arithmetic ------------------------------------------------------------------------

def add(a, b) -> Tensor:
    a, b = _operand(a), _operand(b)
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            return tensor(a + b)
        a, b = b, a
    return apply(OPS["add"], a, b)


def sub(a, b) -> Tensor:
    a, b = _operand(a), _operand(b)
    if _is_bool(a) or _is_bool(b):
        if _is_bool(a) and _is_bool(b):
            raise InputError("Subtraction, the `-` operator, with two bool tensors is not "
                             "supported. Use the `^` or `logical_xor()` operator instead.")
        raise InputError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                         "If you are trying to invert a mask, use the `~` or `logical_not()` "
                         "operator instead.")
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            return tensor(a - b)
        return apply(OPS["rsub"], b, a)
    return apply(OPS["sub"], a, b)


def mul(a, b) -> Tensor:
    a, b = _operand(a), _operand(b)
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            return tensor(a * b)
        a, b = b, a
    return apply(OPS["mul"], a, b)


def div(a, b) -> Tensor:
    a, b = _operand(a), _operand(b)
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            return tensor(np.true_divide(a, b))
        return mul(GENERATED["reciprocal"](b), a)    # as PyTorch records NUMBER / t
    return apply(OPS["div"], a, b)


def pow(a, b) -> Tensor:  # noqa: A001 - the name users know
    a, b = _operand(a), _operand(b)
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return apply(OPS["pow_tensor"], a, b)
        if a.data.dtype.kind in "ib" and isinstance(b, int) and not isinstance(b, bool) \
                and b < 0:
            raise InputError("Integers to negative integer powers are not allowed.")
        return apply(OPS["pow"], a, b)
    if isinstance(b, Tensor):
        return apply(OPS["pow_base"], a, b)
    return tensor(np.power(a, b))


def neg(x) -> Tensor:
    x = as_tensor(x)
    if x.data.dtype == bool:
        raise InputError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                         "are trying to invert a mask, use the `~` or `logical_not()` operator "
                         "instead.")
    return apply(OPS["neg"], x)


def _same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a.data.dtype == b.data.dtype:
        return
    da, db = a.data.dtype, b.data.dtype
    if name == "dot":
        raise InputError(f"dot : expected both vectors to have same dtype, but found "
                         f"{SCALAR_NAME[da]} and {SCALAR_NAME[db]}")
    raise InputError(f"expected m1 and m2 to have the same dtype, but got: {_C_NAME[da]} != "
                     f"{_C_NAME[db]}")


_C_NAME = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
           np.dtype(np.int64): "long int", np.dtype(np.bool_): "bool"}


# ---- products ----------------------------------------------------------------------

def matmul(a, b) -> Tensor:
    a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
    b = as_tensor(b, like=a)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("both arguments to matmul need to be at least 1D, but they are "
                         f"{a.ndim}D and {b.ndim}D")
    if a.ndim > 2 or b.ndim > 2:
        raise ShapeError(f"matmul of {a.ndim}D and {b.ndim}D tensors is not supported "
                         "(gradcli handles 1-D and 2-D operands)")
    _same_dtype("dot" if a.ndim == 1 and b.ndim == 1 else "mm", a, b)
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    if a.ndim == 2 and b.ndim == 1:
        if a.shape[1] != b.shape[0]:
            raise ShapeError(f"size mismatch, got input ({a.shape[0]}), mat "
                             f"({a.shape[0]}x{a.shape[1]}), vec ({b.shape[0]})")
        return apply(OPS["mv"], a, b)
    if a.ndim == 1:
        # PyTorch: mm(a.unsqueeze(0), b).squeeze_(0) -- squeezed in place, so the result
        # is no view (of a product nobody else holds) and is at version 1
        out = apply(OPS["squeeze_dims"], mm(unsqueeze(a, 0), b), dims=(0,))
        out._view = None
        out._counter().value += 1
        return out
    return mm(a, b)


def mm(a, b) -> Tensor:
    a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
    b = as_tensor(b, like=a)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm: expected 2D tensors, got {a.ndim}D and {b.ndim}D")
    _same_dtype("mm", a, b)
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied "
                         f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")
    return apply(OPS["mm"], a, b)


def mv(a, b) -> Tensor:
    a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
    b = as_tensor(b, like=a)
    if a.ndim != 2 or b.ndim != 1:
        raise ShapeError(f"vector + matrix @ vector expected, got {a.ndim}, {b.ndim}, "
                         f"{b.ndim}")
    if a.shape[1] != b.shape[0]:
        raise ShapeError(f"size mismatch, got input ({a.shape[0]}), mat "
                         f"({a.shape[0]}x{a.shape[1]}), vec ({b.shape[0]})")
    _same_dtype("mm", a, b)
    return apply(OPS["mv"], a, b)


def dot(a, b) -> Tensor:
    a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
    b = as_tensor(b, like=a)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    _same_dtype("dot", a, b)
    if a.shape != b.shape:
        raise ShapeError(f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                         f"[{b.shape[0]}] to have the same number of elements, but got "
                         f"{a.shape[0]} and {b.shape[0]} elements respectively")
    return apply(OPS["dot"], a, b)


def trace(x) -> Tensor:
    x = as_tensor(x)
    if x.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    return apply(OPS["trace"], x)


# ---- reductions ----------------------------------------------------------------------

def _reduction(full: str, by_dim: str):
    def reduce(x, dim=None, keepdim=False) -> Tensor:
        x = as_tensor(x)
        if dim is None and not keepdim:
            return apply(OPS[full], x)
        dims = tuple(range(x.ndim)) if dim is None else _dims(x, dim)
        return apply(OPS[by_dim], x, dim=dims, keepdim=bool(keepdim))
    reduce.__name__ = full
    reduce.__doc__ = f"{full}(x) or {full}(x, dim, keepdim=False)"
    return reduce


sum = _reduction("sum", "sum_dim")  # noqa: A001
mean = _reduction("mean", "mean_dim")


def _nonempty(name: str, x: Tensor) -> Tensor:
    if x.data.size == 0:
        raise ShapeError(f"{name}(): Expected reduction dim to be specified for "
                         "input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
    return x


def prod(x) -> Tensor:
    return apply(OPS["prod"], as_tensor(x))


def max(x, other=None) -> Tensor:  # noqa: A001
    """max(x): the largest element; max(a, b) with two tensors is maximum(a, b)."""
    if other is not None:
        return GENERATED["maximum"](x, other)
    return apply(OPS["max"], _nonempty("max", as_tensor(x)))


def min(x, other=None) -> Tensor:  # noqa: A001
    if other is not None:
        return GENERATED["minimum"](x, other)
    return apply(OPS["min"], _nonempty("min", as_tensor(x)))


def norm(x) -> Tensor:
    return apply(OPS["norm"], as_tensor(x))


def logsumexp(x, dim, keepdim=False) -> Tensor:
    x = as_tensor(x)
    return apply(OPS["logsumexp"], x, dim=_dims(x, dim), keepdim=bool(keepdim))


def softmax(x, dim) -> Tensor:
    x = as_tensor(x)
    return apply(OPS["softmax"], x, dim=norm_dim(dim, x.ndim))


def log_softmax(x, dim) -> Tensor:
    x = as_tensor(x)
    return apply(OPS["log_softmax"], x, dim=norm_dim(dim, x.ndim))


def mse_loss(a, b) -> Tensor:
    a = as_tensor(a)
    return apply(OPS["mse_loss"], a, as_tensor(b, like=a))


def clamp(x, min=None, max=None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise InputError("clamp: at least one of 'min' or 'max' must not be None")
    return apply(OPS["clamp"], as_tensor(x), min=None if min is None else float(min),
                 max=None if max is None else float(max))


# ---- generated from the table: elementwise math -------------------------------------

def _unary(op):
    def fn(x) -> Tensor:
        return apply(op, as_tensor(x))
    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = f"{op.syntax}: records {op.grad_fn}; d/dx = {op.derivative[0]}"
    return fn


def _binary(op):
    def fn(a, b) -> Tensor:
        a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
        return apply(op, a, as_tensor(b, like=a))
    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = f"{op.syntax}: records {op.grad_fn}"
    return fn


UNARY = [op.name for op in OPS.values()
         if op.elementwise and len(op.vjps) == 1 and not op.internal and op.name != "neg"
         and op.name != "clamp"]
BINARY = ["maximum", "minimum", "atan2", "hypot"]
# exp, log, sin, ..., maximum, atan2, ...: one function per table entry, as module names
GENERATED = {**{n: _unary(OPS[n]) for n in UNARY}, **{n: _binary(OPS[n]) for n in BINARY}}
globals().update(GENERATED)


from .comparisons import all_, any_, eq, ge, gt, le, lt, ne  # noqa: E402,F401
from .copies import (clone, copy, fill, to, to_bool, to_double, to_float,  # noqa: E402,F401
                     to_long, zero)
from .shaping import (cat, detach, diagonal, expand, flatten, index, narrow,  # noqa: E402,F401
                      ones, ones_like, permute, reshape, select, squeeze, stack, t,
                      transpose, transpose_all, unsqueeze, view, zeros, zeros_like)
# (re-exported: the Python API and the language call them)

# ---- methods: x.exp(), x.sum(1), x.reshape(2, 3), ... ----------------------------------

METHODS = UNARY + BINARY + [
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "dot", "mm", "mv", "trace", "sum",
    "mean",
    "prod", "max", "min", "norm", "logsumexp", "softmax", "log_softmax", "clamp", "reshape",
    "flatten", "permute", "t", "unsqueeze", "squeeze", "mse_loss", "eq", "ne", "lt", "le",
    "gt", "ge", "clone", "to", "expand", "transpose", "diagonal", "narrow", "view"]
RENAMED = {"float": to_float, "double": to_double, "long": to_long, "bool": to_bool,
           "all": all_, "any": any_}
__all__ = sorted(set(METHODS) | set(f.__name__ for f in RENAMED.values()) | {
    "as_tensor", "tensor", "Tensor", "is_number", "cat", "detach", "flatten", "index",
    "ones", "ones_like", "select", "stack", "transpose_all", "zeros", "zeros_like", "zero",
    "fill", "copy"})
for _name in METHODS:
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
for _name, _fn in RENAMED.items():
    setattr(Tensor, _name, _fn)
del _name, _fn
