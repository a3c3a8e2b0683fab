"""The Python API function of an op-table entry, made from its parameter list.

An entry with a forward and no hand-written function gets one made here: it binds its
arguments as Python binds a call (PyTorch's parameter names and defaults), converts
each by its kind (:mod:`.ops.params`), and applies the op to the tensor arguments with
the rest as the node's parameters.  An entry whose function is written elsewhere names
it ``"module:function"`` (a module of this package), imported on first call.
"""

from __future__ import annotations

import importlib
import numbers

import numpy as np

from ..errors import InputError
from .function import apply
from .ops.core import norm_dim
from .ops.params import REQUIRED
from .tensor import Tensor, tensor, wrapped_number


class ArgumentError(InputError):
    """A call that does not fit the function's parameters (Python's TypeError)."""

    python_type = "TypeError"


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """A Tensor for ``x``: tensors pass through; a Python number becomes a wrapped
    number (weakly typed, as PyTorch treats numbers); lists and arrays become constants
    (of ``like``'s dtype when given)."""
    if isinstance(x, Tensor):
        return x
    if is_number(x):
        return wrapped_number(plain(x))
    dtype = like.data.dtype if like is not None else None
    return tensor(x, dtype=dtype)


def is_number(x) -> bool:
    cls = type(x)
    if cls is float or cls is int or cls is bool:
        return True
    return isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, Tensor)


def plain(x):
    """A Python bool, int or float for any number (numpy scalars included)."""
    return x.item() if isinstance(x, np.generic) else x


# ---- binding ----------------------------------------------------------------------------

def bind(op, args: tuple, kwargs: dict) -> dict:
    """name -> argument, defaults filled in, with Python's errors for a bad call."""
    params = op.params
    bound = {}
    varargs = params[-1] if params and params[-1].varargs else None
    fixed = params[:-1] if varargs else params
    if len(args) > len(fixed) and varargs is None:
        raise ArgumentError(f"{op.name}() takes {len(fixed)} positional argument"
                            f"{'s' if len(fixed) != 1 else ''} but {len(args)} were given")
    for p, value in zip(fixed, args):
        bound[p.name] = value
    if varargs is not None:
        rest = args[len(fixed):]
        if rest:
            bound[varargs.name] = rest
    names = {p.name for p in params}
    for key, value in kwargs.items():
        if key not in names:
            raise ArgumentError(f"{op.name}() got an unexpected keyword argument '{key}'")
        if key in bound:
            raise ArgumentError(f"{op.name}() got multiple values for argument '{key}'")
        bound[key] = value
    for p in params:
        if p.name not in bound:
            if p.default is REQUIRED:
                raise ArgumentError(f"{op.name}() missing required argument '{p.name}'")
            bound[p.name] = p.default
    return bound


# ---- converting, kind by kind ---------------------------------------------------------------

def _number(op, p, v, x):
    if v is None and p.kind.endswith("?"):
        return None
    if isinstance(v, Tensor):
        if v.data.size != 1:
            raise ArgumentError(f"{op.name}(): argument '{p.name}' must be a number, got a "
                                f"tensor of shape {list(v.shape)}")
        v = v.data.reshape(()).item()
    if isinstance(v, bool) or not is_number(v):
        raise ArgumentError(f"{op.name}(): argument '{p.name}' must be a number, not "
                            f"{type(v).__name__}")
    return float(v)


def _integer(op, p, v, x):
    if v is None and p.kind.endswith("?"):
        return None
    if isinstance(v, Tensor) and v.data.size == 1:
        v = v.data.reshape(()).item()
    if isinstance(v, (bool, np.bool_)) or not is_number(v) or not float(v).is_integer():
        raise ArgumentError(f"{op.name}(): argument '{p.name}' must be int, not "
                            f"{type(v).__name__}")
    return int(v)


def _dim(op, p, v, x):
    if v is None and p.default is None:
        return None
    return norm_dim(_integer(op, p, v, x), x.ndim if x is not None else 0)


def dims_of(x: Tensor, dim) -> tuple:
    """One dim or several, each in range, none repeated (a 0-d tensor: none)."""
    from ..errors import ShapeError
    dims = tuple(norm_dim(d, x.ndim) for d in dim) if isinstance(dim, (list, tuple)) \
        else (norm_dim(dim, x.ndim),)
    repeated = [d for k, d in enumerate(dims) if d in dims[:k]]
    if repeated:
        raise ShapeError(f"dim {repeated[0]} appears multiple times in the list of dims")
    return () if x.ndim == 0 else dims


def _dims(op, p, v, x):
    if v is None:
        return None
    return dims_of(x, v)


def _ints(op, p, v, x):
    values = v
    if isinstance(values, Tensor):
        values = values.tolist()
    if isinstance(values, (int, float, np.integer)):
        values = (values,)
    if len(values) == 1 and isinstance(values[0], (list, tuple)):
        values = tuple(values[0])
    out = []
    for item in values:
        if isinstance(item, Tensor) and item.data.size == 1:
            item = item.data.reshape(()).item()
        if isinstance(item, bool) or not is_number(item) or not float(item).is_integer():
            raise ArgumentError(f"{op.name}(): argument '{p.name}' must be a sequence of "
                                f"ints, got {item!r}")
        out.append(int(item))
    return tuple(out)


def _bool(op, p, v, x):
    if isinstance(v, Tensor) and v.data.size == 1:
        v = v.data.reshape(()).item()
    if v is None and p.default is None:
        return None
    if not isinstance(v, (bool, np.bool_, int)) or v not in (0, 1):
        raise ArgumentError(f"{op.name}(): argument '{p.name}' must be bool, not "
                            f"{type(v).__name__}")
    return bool(v)


def _str(op, p, v, x):
    if not isinstance(v, str):
        raise ArgumentError(f"{op.name}(): argument '{p.name}' must be str, not "
                            f"{type(v).__name__}")
    if p.choices and v not in p.choices:
        raise InputError(f"{op.name}(): {p.name} must be one of "
                         f"{', '.join(repr(c) for c in p.choices)}, got {v!r}")
    return v


def _array(v, what: str) -> np.ndarray:
    """A tensor's data, or a (nested) list as an array: a ragged one is a clear error."""
    if isinstance(v, Tensor):
        return v.data
    try:
        return np.asarray(v)
    except ValueError:
        raise InputError(f"{what}: the nested lists are ragged (every row needs the same "
                         "length)") from None


def index_array(v, what: str = "index") -> np.ndarray:
    """Integers as an int64 array; whole floats are accepted (grad programs' numbers
    are floats), anything else is PyTorch's dtype error."""
    arr = _array(v, what)
    whole = arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(np.isfinite(arr))
                                       and np.all(arr == np.round(arr)))
    if not whole:
        raise InputError(f"{what} must be integers (torch.int64), got {arr.dtype}")
    return arr.astype(np.int64)


def _index(op, p, v, x):
    return index_array(v, f"{op.name}(): {p.name}")


def _mask(op, p, v, x):
    arr = _array(v, f"{op.name}(): {p.name}")
    if arr.dtype != bool:
        raise InputError(f"{op.name}(): {p.name} must be a bool tensor, got "
                         f"{'float' if arr.dtype.kind == 'f' else arr.dtype}")
    return arr


def _const(op, p, v, x):
    if v is None:
        return None
    arr = _array(v, f"{op.name}(): {p.name}")
    return arr.astype(x.data.dtype if x is not None else np.float64)


def _tensor(op, p, v, x):
    if v is None and p.kind == "tensor?":
        return None
    if p.kind == "scalar" and is_number(v):
        return plain(v)
    return as_tensor(v, like=x)


def _tensors(op, p, v, x):
    if isinstance(v, Tensor) or not isinstance(v, (list, tuple)):
        raise ArgumentError(f"{op.name}(): argument '{p.name}' must be a list of tensors")
    like = next((t for t in v if isinstance(t, Tensor)), None)
    return [as_tensor(t, like=like) for t in v]


CONVERT = {"tensor": _tensor, "tensor?": _tensor, "scalar": _tensor, "tensors": _tensors,
           "number": _number, "number?": _number, "int": _integer, "int?": _integer,
           "dim": _dim, "dims": _dims, "ints": _ints, "bool": _bool, "str": _str,
           "index": _index, "mask": _mask, "const": _const, "const?": _const,
           "any": lambda op, p, v, x: v}


def convert(op, bound: dict) -> tuple:
    """(tensor arguments in order, node parameters): tensors first, so that dims and
    constants can follow the first tensor."""
    x = None
    tensors = []
    for p in op.params:
        if p.is_tensor:
            value = CONVERT[p.kind](op, p, bound[p.name], x)
            if x is None and isinstance(value, Tensor):
                x = value
            tensors.append(value)
    if x is None:
        x = next((t for t in tensors if isinstance(t, Tensor)), None)
    params = {p.name: CONVERT[p.kind](op, p, bound[p.name], x)
              for p in op.params if not p.is_tensor and p.name != "inplace"}
    return tensors, params


# ---- the functions ----------------------------------------------------------------------

def generated(op):
    """The function of an entry that has a forward and no hand-written function."""
    names = tuple(p.name for p in op.params)
    if names == ("input",) and op.params[0].kind == "tensor":
        def fn(input) -> Tensor:
            return apply(op, as_tensor(input))
    elif names == ("input", "other") and op.params[1].kind == "tensor":
        def fn(input, other) -> Tensor:
            a = as_tensor(input, like=other if isinstance(other, Tensor) else None)
            return apply(op, a, as_tensor(other, like=a))
    else:
        inplace = "inplace" in names

        def fn(*args, **kwargs) -> Tensor:
            bound = bind(op, args, kwargs)
            tensors, params = convert(op, bound)
            if inplace and bound["inplace"]:
                from .inplace import apply_inplace
                return apply_inplace(tensors[0], lambda t: apply(op, t, *tensors[1:],
                                                                 **params))
            return apply(op, *tensors, **params)
    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = f"{op.syntax}: records {op.grad_fn}"
    return fn


def _load(ref: str, op=None):
    module, _, name = ref.partition(":")
    fn = getattr(importlib.import_module(f"gradcli.autograd.{module}"), name)
    if op is not None:
        check_parameters(op, fn)
    return fn


def parameter_names(fn) -> tuple:
    """A Python function's parameters in order, ``*args`` as ``*name``."""
    code = fn.__code__
    n = code.co_argcount
    names = list(code.co_varnames[:n])
    if code.co_flags & 0x04:                                  # CO_VARARGS
        names.append("*" + code.co_varnames[n + code.co_kwonlyargcount])
    names.extend(code.co_varnames[n:n + code.co_kwonlyargcount])
    return tuple(names)


def check_parameters(op, fn) -> None:
    """A hand-written function must take its entry's parameters, by the same names in
    the same order (programs and scripts call it by them); beyond them, only private
    (``_name``) or keyword-only ones (``x.to(..., copy=True)``)."""
    want = tuple(("*" if p.varargs else "") + p.name for p in op.params)
    have = parameter_names(fn)
    code = fn.__code__
    keyword_only = set(code.co_varnames[code.co_argcount:
                                        code.co_argcount + code.co_kwonlyargcount])
    if have[:len(want)] != want or any(not name.startswith("_") and name not in keyword_only
                                       for name in have[len(want):]):
        raise ValueError(f"op table entry {op.name!r}: its function {fn.__module__}."
                         f"{fn.__name__}{have} does not take the parameters {want}")


def _varargs_by_name(op, fn):
    """A hand-written ``f(input, *dims)`` that also takes ``dims=...`` by name, as
    PyTorch's do (``x.flip(dims=[0])``, ``x.permute(dims=(1, 0))``)."""
    params = op.params or ()
    if not params or not params[-1].varargs:
        return fn
    name, fixed = params[-1].name, len(params) - 1

    def call(*args, **kwargs):
        if name in kwargs:
            if len(args) != fixed:
                raise ArgumentError(f"{op.name}() got multiple values for argument "
                                    f"'{name}'" if len(args) > fixed else
                                    f"{op.name}() missing required argument "
                                    f"'{params[len(args)].name}'")
            args += (kwargs.pop(name),)
        return fn(*args, **kwargs)
    call.__name__ = call.__qualname__ = op.name
    call.__doc__ = fn.__doc__
    return call


def function_of(op, eager=()):
    """The Python API function of a public entry: hand-written (imported now when its
    module is among ``eager``, else on first call) or generated."""
    fn = op.function
    if fn is None:
        return generated(op)
    if callable(fn):
        return _varargs_by_name(op, fn)
    module = fn.partition(":")[0]
    if module in eager:
        return _varargs_by_name(op, _load(fn, op))
    cell = []

    def lazy(*args, **kwargs):
        if not cell:
            cell.append(_load(fn, op))
        return cell[0](*args, **kwargs)
    lazy.__name__ = lazy.__qualname__ = op.name
    lazy.__doc__ = f"{op.syntax} (see gradcli.autograd.{module})"
    return _varargs_by_name(op, lazy)


__all__ = ["ArgumentError", "as_tensor", "bind", "convert", "dims_of", "function_of",
           "generated", "index_array", "is_number"]
