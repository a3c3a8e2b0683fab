"""The functions of the Python API (``gradcli.exp(x)``, ``x.exp()``, operators).

Every public op-table entry is a function of this module and, where PyTorch has the
method, a Tensor method: made from its parameter list (:mod:`.signatures`) or, for
entries that dispatch, written by hand -- here for the arithmetic, products and
reductions of SPEC 3.2, which check their arguments the way PyTorch does (with
PyTorch's messages) and pick the entry PyTorch would record (``2 - x`` is
RsubBackward1, ``2 / x`` is a MulBackward0 fed by ReciprocalBackward0, ``1-D @ 2-D``
goes through Unsqueeze/Mm/SqueezeBackward4, ...).
"""

from __future__ import annotations


import numpy as np

from ..errors import AutogradError, InputError, ShapeError
from .function import apply
from .ops import REGISTRY
from .ops.core import norm_dim
from .dtypes import SCALAR_NAME
from .signatures import as_tensor, dims_of, function_of, is_number, plain
from .tensor import Tensor, tensor

OPS = REGISTRY
_plain = plain


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


_dims = dims_of


def _is_bool(x) -> bool:
    return isinstance(x, (bool, np.bool_)) or (isinstance(x, Tensor) and x.data.dtype == bool)


# ---- arithmetic ------------------------------------------------------------------------

def add(input, other) -> Tensor:
    input, other = _operand(input), _operand(other)
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            return tensor(input + other)
        input, other = other, input
    return apply(OPS["add"], input, other)


def sub(input, other) -> Tensor:
    input, other = _operand(input), _operand(other)
    if _is_bool(input) or _is_bool(other):
        if _is_bool(input) and _is_bool(other):
            raise InputError("Subtraction, the `-` operator, with two bool tensors is not "
                             "supported. Use the `^` or `logical_xor()` operator instead.")
        raise InputError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                         "If you are trying to invert a mask, use the `~` or `logical_not()` "
                         "operator instead.")
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            return tensor(input - other)
        return apply(OPS["rsub"], other, input)
    return apply(OPS["sub"], input, other)


def mul(input, other) -> Tensor:
    input, other = _operand(input), _operand(other)
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            return tensor(input * other)
        input, other = other, input
    return apply(OPS["mul"], input, other)


def div(input, other) -> Tensor:
    input, other = _operand(input), _operand(other)
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):
            return tensor(np.true_divide(input, other))
        return mul(apply(OPS["reciprocal"], other), input)   # as PyTorch records NUMBER / t
    return apply(OPS["div"], input, other)


def pow(input, exponent) -> Tensor:  # noqa: A001 - the name users know
    input, exponent = _operand(input), _operand(exponent)
    if isinstance(input, Tensor):
        if isinstance(exponent, Tensor):
            return apply(OPS["pow_tensor"], input, exponent)
        if input.data.dtype.kind in "ib" and isinstance(exponent, int) and not isinstance(exponent, bool) \
                and exponent < 0:
            raise InputError("Integers to negative integer powers are not allowed.")
        return apply(OPS["pow"], input, exponent)
    if isinstance(exponent, Tensor):
        return apply(OPS["pow_base"], input, exponent)
    if isinstance(input, int) and isinstance(exponent, int) and exponent < 0:
        input = float(input)         # numpy refuses int ** -int; a program's numbers are reals
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return tensor(np.power(input, exponent))


def neg(input) -> Tensor:
    input = as_tensor(input)
    if input.data.dtype == bool:
        raise InputError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                         "are trying to invert a mask, use the `~` or `logical_not()` operator "
                         "instead.")
    return apply(OPS["neg"], input)


def _same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a.data.dtype == b.data.dtype:
        return
    da, db = a.data.dtype, b.data.dtype
    if name == "dot":
        raise InputError(f"dot : expected both vectors to have same dtype, but found "
                         f"{SCALAR_NAME[da]} and {SCALAR_NAME[db]}")
    if name == "mv":                  # (PyTorch's addmv names the vector's dtype twice)
        raise InputError(f"addmv input tensors must have the same dtype, but got "
                         f"{SCALAR_NAME[db]}, {SCALAR_NAME[da]}, and {SCALAR_NAME[db]}")
    raise InputError(f"expected m1 and m2 to have the same dtype, but got: {_C_NAME[da]} != "
                     f"{_C_NAME[db]}")


_C_NAME = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
           np.dtype(np.int64): "long int", np.dtype(np.bool_): "bool"}


# ---- products ----------------------------------------------------------------------

def matmul(input, other) -> Tensor:
    input = as_tensor(input, like=other if isinstance(other, Tensor) else None)
    other = as_tensor(other, like=input)
    if input.ndim == 0 or other.ndim == 0:
        raise ShapeError("both arguments to matmul need to be at least 1D, but they are "
                         f"{input.ndim}D and {other.ndim}D")
    if input.ndim > 2 or other.ndim > 2:
        from .ops.linalg import matmul_nd
        return matmul_nd(input, other)
    _same_dtype("dot" if input.ndim == 1 and other.ndim == 1 else
                "mv" if input.ndim == 2 and other.ndim == 1 else "mm", input, other)
    if input.ndim == 1 and other.ndim == 1:
        return dot(input, other)
    if input.ndim == 2 and other.ndim == 1:
        if input.shape[1] != other.shape[0]:
            raise ShapeError(f"size mismatch, got input ({input.shape[0]}), mat "
                             f"({input.shape[0]}x{input.shape[1]}), vec ({other.shape[0]})")
        return apply(OPS["mv"], input, other)
    if input.ndim == 1:
        # PyTorch: mm(a.unsqueeze(0), b).squeeze_(0) -- squeezed in place, so the result
        # is no view (of a product nobody else holds) and is at version 1
        out = apply(OPS["squeeze_dims"], mm(unsqueeze(input, 0), other), dims=(0,))
        out._view = None
        out._counter().value += 1
        return out
    return mm(input, other)


def mm(input, mat2) -> Tensor:
    input = as_tensor(input, like=mat2 if isinstance(mat2, Tensor) else None)
    mat2 = as_tensor(mat2, like=input)
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: expected 2D tensors, got {input.ndim}D and {mat2.ndim}D")
    _same_dtype("mm", input, mat2)
    if input.shape[1] != mat2.shape[0]:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied "
                         f"({input.shape[0]}x{input.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    return apply(OPS["mm"], input, mat2)


def mv(input, vec) -> Tensor:
    input = as_tensor(input, like=vec if isinstance(vec, Tensor) else None)
    vec = as_tensor(vec, like=input)
    if input.ndim != 2 or vec.ndim != 1:
        raise ShapeError(f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}, "
                         f"{vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise ShapeError(f"size mismatch, got input ({input.shape[0]}), mat "
                         f"({input.shape[0]}x{input.shape[1]}), vec ({vec.shape[0]})")
    _same_dtype("mv", input, vec)
    return apply(OPS["mv"], input, vec)


def dot(input, tensor) -> Tensor:
    input = as_tensor(input, like=tensor if isinstance(tensor, Tensor) else None)
    tensor = as_tensor(tensor, like=input)
    if input.ndim != 1 or tensor.ndim != 1:
        raise ShapeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    _same_dtype("dot", input, tensor)
    if input.shape != tensor.shape:
        raise ShapeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                         f"[{tensor.shape[0]}] to have the same number of elements, but got "
                         f"{input.shape[0]} and {tensor.shape[0]} elements respectively")
    return apply(OPS["dot"], input, tensor)


def trace(input) -> Tensor:
    input = as_tensor(input)
    if input.ndim != 2:
        raise ShapeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return apply(OPS["trace"], input)


# ---- reductions ----------------------------------------------------------------------

def _reduction(full: str, by_dim: str):
    def reduce(input, dim=None, keepdim=False) -> Tensor:
        x = as_tensor(input)
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


def prod(input) -> Tensor:
    return apply(OPS["prod"], as_tensor(input))


def max(input, other=None, keepdim=False, dim=None):  # noqa: A001
    """max(x): the largest element; max(x, dim, keepdim=False): (values, indices) along
    dim, as torch.return_types.max; max(a, b) with two tensors is maximum(a, b)."""
    return _extreme("max", "maximum", input, other, keepdim, dim)


def min(input, other=None, keepdim=False, dim=None):  # noqa: A001
    return _extreme("min", "minimum", input, other, keepdim, dim)


def _extreme(name: str, elementwise: str, input, other, keepdim, dim):
    if dim is None and isinstance(other, (int, np.integer)) and not isinstance(other, bool):
        dim, other = other, None                   # max(x, 1): a dimension, not a number
    if dim is not None:
        if other is not None:
            raise InputError(f"{name}() received an invalid combination of arguments: a "
                             "dim and another tensor", python_type="TypeError")
        return _along(name, as_tensor(input), dim, bool(keepdim))
    if other is not None:
        if not isinstance(other, Tensor):
            raise InputError(f"{name}() received an invalid combination of arguments - got "
                             f"(Tensor, {type(other).__name__}): the second argument is a "
                             f"dim (int) or a tensor ({elementwise})", python_type="TypeError")
        return NAMESPACE[elementwise](input, other)
    return apply(OPS[name], _nonempty(name, as_tensor(input)))


def _along(name: str, x: Tensor, dim, keepdim: bool):
    from .return_types import return_type
    d = norm_dim(dim, x.ndim if x.ndim else 1)
    if x.ndim == 0:
        values = apply(OPS["alias"], x)
        indices = np.zeros((), dtype=np.int64)
    else:
        if x.shape[d] == 0:
            raise InputError(f"{name}(): Expected reduction dim {d} to have non-zero size.",
                             python_type="IndexError")
        values = apply(OPS[f"{name}_dim"], x, dim=d, keepdim=keepdim)
        indices = (np.argmax if name == "max" else np.argmin)(x.data, axis=d)
        if keepdim:
            indices = np.expand_dims(indices, d)
    return return_type(name)(values, tensor(indices.astype(np.int64)))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
    """torch.norm: the 2-norm of all elements (LinalgVectorNormBackward0), or the
    vector p-norm along ``dim`` ('fro' is 2)."""
    input = as_tensor(input)
    if dtype is not None:
        input = input.to(dtype)
    p = 2.0 if isinstance(p, str) and p == "fro" or p is None else p
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        what = repr(p) if isinstance(p, str) else "list" if hasattr(p, "__iter__") \
            else type(p).__name__
        raise InputError(f"norm(): argument 'p' must be a number or 'fro', not {what}",
                         python_type="TypeError")
    p = float(p)
    if dim is None and p == 2.0 and not keepdim:
        return apply(OPS["norm"], input)
    dims = tuple(range(input.ndim)) if dim is None else _dims(input, dim)
    return apply(OPS["vector_norm"], input, ord=p, dim=dims, keepdim=bool(keepdim))


def vector_norm(x, ord=2, dim=None, keepdim=False, dtype=None) -> Tensor:
    """torch.linalg.vector_norm: the ord-norm of the elements along ``dim`` (all of
    them by default), whatever the shape."""
    if isinstance(ord, (str, bool)) or not isinstance(ord, (int, float, np.integer,
                                                                np.floating)):
        raise InputError(f"linalg.vector_norm(): argument 'ord' must be a number, not "
                         f"{type(ord).__name__}", python_type="TypeError")
    return norm(x, float(ord), dim, keepdim, dtype)


def linalg_norm(input, ord=None, dim=None, keepdim=False, dtype=None) -> Tensor:
    """torch.linalg.norm: without ``ord`` the 2-norm of the elements (along ``dim``);
    a number, a vector norm (of a 1-D input, or along one dim); 'fro', the Frobenius
    norm of matrices.  PyTorch's other matrix norms ('nuc', and numbers over two dims)
    are not in gradcli: a clear error."""
    x = as_tensor(input)
    if ord is None:
        return norm(x, 2.0, dim, keepdim, dtype)
    dims = None if dim is None else _dims(x, dim)
    if dims is None and x.ndim not in (1, 2):
        raise AutogradError("linalg.norm: If dim is not specified but ord is, the input "
                            f"must be 1D or 2D. Got {x.ndim}D.")
    matrix = len(dims) == 2 if dims is not None else x.ndim == 2
    if not matrix and not isinstance(ord, str):
        return vector_norm(x, ord, dim, keepdim, dtype)
    if ord == "fro":
        return norm(x, 2.0, dims if dims is not None else (-2, -1), keepdim, dtype)
    raise InputError(f"linalg.norm: ord={ord!r} over {'two dims' if matrix else 'a vector'} "
                     "is not in gradcli (it has the vector norms and 'fro')",
                     python_type="NotImplementedError")


def logsumexp(input, dim, keepdim=False) -> Tensor:
    input = as_tensor(input)
    return apply(OPS["logsumexp"], input, dim=_dims(input, dim), keepdim=bool(keepdim))


def softmax(input, dim) -> Tensor:
    input = as_tensor(input)
    return apply(OPS["softmax"], input, dim=norm_dim(dim, input.ndim))


def log_softmax(input, dim) -> Tensor:
    input = as_tensor(input)
    return apply(OPS["log_softmax"], input, dim=norm_dim(dim, input.ndim))


def clamp(input, min=None, max=None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise InputError("clamp: at least one of 'min' or 'max' must not be None")
    return apply(OPS["clamp"], as_tensor(input), min=None if min is None else float(min),
                 max=None if max is None else float(max))


# ---- the namespace: every public entry of the table ---------------------------------------

from . import comparisons, copies, shaping  # noqa: E402  (they use the functions above)
from .comparisons import (all_, allclose, any_, eq, equal, ge, gt, isclose,  # noqa: E402,F401
                          le, lt, ne)
from .copies import (clone, copy, fill, to, to_bool, to_double, to_float,  # noqa: E402,F401
                     to_long, zero)
from .shaping import (cat, detach, diagonal, expand, flatten, index,  # noqa: E402,F401
                      index_put, is_advanced_key, narrow, ones, ones_like, permute, reshape, select, squeeze, stack, t,
                      transpose, transpose_all, unsqueeze, view, zeros, zeros_like)

_EAGER = ("functional", "shaping", "copies", "comparisons")
# name -> function, for every public entry (module attributes too, except names that
# would shadow a builtin this module's own code uses: those through __getattr__)
NAMESPACE = {op.name: function_of(op, _EAGER) for op in REGISTRY.values() if not op.internal}
_BUILTIN_NAMES = frozenset(("abs", "all", "any", "max", "min", "pow", "round", "sum"))
globals().update({k: v for k, v in NAMESPACE.items() if k not in _BUILTIN_NAMES})


def __getattr__(name: str):
    fn = NAMESPACE.get(name)
    if fn is None:
        raise AttributeError(f"module 'gradcli.autograd.functional' has no attribute {name!r}")
    return fn


# ---- methods: x.exp(), x.sum(1), x.reshape(2, 3), ... ----------------------------------

METHODS = [op.name for op in REGISTRY.values() if not op.internal and "method" in op.api]
RENAMED = {"float": to_float, "double": to_double, "long": to_long, "bool": to_bool}
__all__ = sorted(set(NAMESPACE) | {
    "as_tensor", "tensor", "Tensor", "is_number", "detach", "index", "ones", "ones_like",
    "transpose_all", "zeros", "zeros_like", "zero", "fill", "copy", "to_float", "to_double",
    "to_long", "to_bool"})
# The Python API's Tensor has every op as a method (SPEC 6: x.softplus() too); scripts
# see PyTorch's methods only (METHODS, lang.attributes).
for _op in REGISTRY.values():
    if not _op.internal and not hasattr(Tensor, _op.name):
        setattr(Tensor, _op.name, _op.method or NAMESPACE[_op.name])
for _name, _fn in RENAMED.items():
    setattr(Tensor, _name, _fn)
# x.relu_(), x.exp_(), ...: the in-place form of each elementwise method of one tensor
# (PyTorch records the same node as the out-of-place op)
INPLACE_METHODS = sorted(f"{op.name}_" for op in REGISTRY.values()
                         if not op.internal and "method" in op.api and op.elementwise
                         and op.arity == 1 and op.forward is not None)
for _name in INPLACE_METHODS:
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, (lambda fn: lambda self, *args, **kwargs: _apply_inplace(
            self, lambda value: fn(value, *args, **kwargs)))(NAMESPACE[_name[:-1]]))
del _name, _fn, _op


def _apply_inplace(target, fn):
    from .inplace import apply_inplace
    return apply_inplace(target, fn)
