"""``value.name``: the attributes and methods a program may reach, type by type.

This is the boundary of what a program can touch: an attribute not listed here does
not exist for it (``getattr`` on an arbitrary Python object could lead anywhere, e.g.
from a generator's frame to a module's globals).  Names starting with ``__`` never
reach this far (the parser refuses them), but for a type's ``__name__``.
"""

from __future__ import annotations

import numpy as np

from ..autograd.copies import Device, to
from ..autograd.node import AccumulateGrad, Node
from ..autograd.return_types import ReturnType
from ..autograd.tensor import RemovableHandle, Tensor
from .dtypes import dtype_of
from .objects import (BoundMethod, Builtin, ExceptionValue, Namespace,
                      Size)
from .pyops import MAX_SEQUENCE, ScriptError, type_name
from .suggest import closest

# Tensor methods that are not ops of the table (the table's own come from its entries),
# and PyTorch's methods gradcli lacks (so that the error can say so).
_OWN_METHODS = frozenset("""
    backward retain_grad register_hook requires_grad_ detach detach_ clone zero_ fill_ add_ sub_ mul_
    div_ pow_ clamp_ copy_ item tolist numpy size dim numel view_as reshape_as expand_as
    float double long int bool half type type_as is_floating_point element_size contiguous
    is_contiguous new_tensor new_ones new_zeros new_full remainder_ masked_fill_ uniform_
    normal_
""".split())
_NOT_IN_GRADCLI = frozenset("""
    nan_to_num isnan isinf isfinite logical_not logical_and logical_or sort topk unique
    max_pool
""".split())


def _table_methods() -> frozenset:
    from ..autograd.functional import INPLACE_METHODS
    from ..autograd.ops import REGISTRY
    return frozenset(op.name for op in REGISTRY.values()
                     if not op.internal and "method" in op.api) | frozenset(INPLACE_METHODS)


TENSOR_METHODS = _OWN_METHODS | _NOT_IN_GRADCLI | _table_methods()
_LIST = frozenset("append extend insert pop remove index count reverse sort copy clear"
                  .split())
_DICT = frozenset("keys values items get pop update setdefault copy clear".split())
_STR = frozenset("""format join split rsplit strip lstrip rstrip upper lower replace
    startswith endswith ljust rjust center zfill title capitalize find rfind count index
    isdigit isalpha isalnum isspace isupper islower splitlines""".split())
_TUPLE = frozenset("index count".split())
_NDARRAY = frozenset("tolist sum mean max min reshape item copy flatten argmax argmin"
                     .split())


def get_attribute(interp, value, name: str, node):
    """``value.name`` as a program sees it (methods come back bound)."""
    if isinstance(value, Tensor):
        return _tensor_attribute(interp, value, name, node)
    if isinstance(value, ReturnType):            # torch.return_types.max: .values, ...
        if name in value.fields:
            return getattr(value, name)
        raise _missing(f"'torch.return_types.{value.kind}' object has no attribute "
                       f"'{name}'", name, value.fields)
    if isinstance(value, Namespace):
        member = value.members.get(name)
        if member is None:
            raise _missing(f"module '{value.name}' has no attribute '{name}'", name,
                           value.members, f"{value.name}.")
        return member
    if name == "__name__":
        return _type_name(value)
    getter = _GETTERS.get(type(value))
    if getter is None:
        getter = next((g for base, g in _BASES if isinstance(value, base)), None)
    if getter is not None:
        return getter(interp, value, name)
    from .hostobjects import host_attribute, is_host_object
    if is_host_object(value):                             # nn modules, optimizers
        return host_attribute(value, name)
    return _host_attribute(value, name)


def _type_name(value) -> str:
    """``type(e).__name__``: the name of a type (what type() returns), the one dunder
    attribute a program may read."""
    from .pybuiltins import TypeObject
    if isinstance(value, TypeObject):
        return value.name.rsplit(".", 1)[-1]
    raise ScriptError("AttributeError", f"'{type_name(value)}' object has no attribute "
                      "'__name__'")


def _missing(message: str, name: str, known, prefix: str = "") -> ScriptError:
    if name in known:                   # PyTorch has it; gradcli does not (yet)
        return ScriptError("AttributeError", message + " (gradcli does not support it; "
                           "`gradcli ops` lists what it does)")
    close = closest(name, known)
    hint = f"; did you mean '{prefix}{close}'?" if close else ""
    return ScriptError("AttributeError", message + hint)


def _tensor_attribute(interp, t: Tensor, name: str, node):
    hook = interp.tensor_hook(t, name)
    if hook is not None:
        return hook
    if name == "grad":
        return interp.read_grad(t, node)
    if name == "data":
        return data_alias(t)
    if name == "shape":
        return Size(t.shape)
    if name == "dtype":
        return dtype_of(t)
    if name in ("grad_fn", "is_leaf", "requires_grad", "ndim", "retains_grad", "_version"):
        return getattr(t, name)           # (_version: the in-place counter, SPEC 3.8)
    if name == "T":
        return t.T
    if name in ("mT", "mH"):              # the last two dims swapped (real tensors: mH = mT)
        if t.ndim < 2:
            raise ScriptError("RuntimeError", f"tensor.{name} is only supported on matrices "
                              f"or batches of matrices. Got {t.ndim}-D tensor.")
        from ..autograd import functional as F
        return F.transpose(t, -2, -1)
    if name == "device":
        return Device("cpu")
    if name == "type":
        return BoundMethod(t, Builtin("Tensor.type", _legacy_type))
    if name in ("cpu", "cuda"):           # gradcli's one device; cuda is PyTorch's error
        return BoundMethod(t, Builtin(f"Tensor.{name}", lambda x, *a, **k: to(x, name)))
    if name == "size":
        return BoundMethod(t, Builtin("Tensor.size", _size))
    if name in TENSOR_METHODS:
        fn = getattr(Tensor, name, None) or _functional(name)
        if fn is not None:
            return BoundMethod(t, Builtin(f"Tensor.{name}", fn))
    known = TENSOR_METHODS | {"grad", "data", "shape", "dtype", "grad_fn", "is_leaf",
                              "requires_grad", "ndim", "T", "device", "cpu", "cuda",
                              "_version"}
    raise _missing(f"'Tensor' object has no attribute '{name}'", name, known)


def _size(t: Tensor, dim=None):
    """``t.size()`` is a torch.Size; ``t.size(d)`` an int."""
    return Size(t.shape) if dim is None else t.size(dim)


def _functional(name: str):
    """A function of the engine's API taking the tensor first (``x.cumsum(0)``)."""
    from ..autograd import functional
    return getattr(functional, name, None) if name in getattr(functional, "__all__", ()) \
        else None


def data_alias(t: Tensor) -> Tensor:
    """``t.data``: PyTorch's .data, a tensor on t's storage outside the graph (with its
    own version counter)."""
    return t.torch_data


_LEGACY_TYPES = {"float32": "torch.FloatTensor", "float64": "torch.DoubleTensor",
                 "int64": "torch.LongTensor", "int32": "torch.IntTensor",
                 "bool": "torch.BoolTensor", "float16": "torch.HalfTensor"}


def _legacy_type(t: Tensor, dtype=None):
    """``t.type()``: PyTorch's legacy type name; ``t.type(dtype or that name)``: to."""
    if dtype is None:
        return _LEGACY_TYPES.get(t.data.dtype.name, "torch.Tensor")
    dtype = getattr(dtype, "label", dtype)         # torch.FloatTensor, as its name
    if isinstance(dtype, str):
        names = {v: k for k, v in _LEGACY_TYPES.items()}
        if dtype not in names:
            raise ScriptError("ValueError", f"invalid type: '{dtype}'")
        dtype = names[dtype]
    return to(t, dtype)


def _bound(value, name: str, allowed: frozenset, type_label: str):
    if name not in allowed:
        raise _missing(f"'{type_label}' object has no attribute '{name}'", name, allowed)
    return BoundMethod(value, Builtin(f"{type_label}.{name}", _WRAPPED.get(
        (type_label, name)) or getattr(type(value), name)))


def _list_attribute(interp, value, name):
    if name == "sort":
        return BoundMethod(value, Builtin("list.sort", _sort, needs_interpreter=True))
    return _bound(value, name, _LIST, "list")


def _dict_attribute(interp, value, name):
    return _bound(value, name, _DICT, "dict")


def _str_attribute(interp, value, name):
    return _bound(value, name, _STR, "str")


def _tuple_attribute(interp, value, name):
    return _bound(value, name, _TUPLE, type_name(value))


def _size_attribute(interp, value, name):
    return _bound(value, name, _TUPLE | {"numel"}, "Size")


def _number_attribute(interp, value, name):
    if name in ("real", "imag"):
        return value if name == "real" else 0
    allowed = frozenset(("is_integer",) if isinstance(value, float) else ("bit_length",))
    return _bound(value, name, allowed, type_name(value))


def _node_attribute(interp, value, name):
    if name == "name":
        return BoundMethod(value, Builtin("name", lambda node: node.qualified_name))
    if name == "next_functions":
        return value.next_functions
    if name == "variable" and isinstance(value, AccumulateGrad):
        return value.variable
    if name == "metadata":
        return {}
    raise _missing(f"'{value.name}' object has no attribute '{name}'", name,
                   ("name", "next_functions", "metadata"))


def _handle_attribute(interp, value, name):
    return _bound(value, name, frozenset(("remove",)), "RemovableHandle")


def _exception_attribute(interp, value, name):
    if name == "args":
        return value.args
    raise ScriptError("AttributeError", f"'{value.type_name}' object has no attribute "
                      f"'{name}'")


def _ndarray_attribute(interp, value, name):
    if name in ("shape", "ndim", "size", "T", "dtype"):
        return getattr(value, name)
    return _bound(value, name, _NDARRAY, "numpy.ndarray")


def _host_attribute(value, name: str):
    raise ScriptError("AttributeError", f"'{type_name(value)}' object has no attribute "
                      f"'{name}'")


# -- methods that need a bound or a callback ----------------------------------------------

def _sort(interp, items: list, key=None, reverse=False):
    if key is None:
        try:
            items.sort(reverse=bool(reverse))
        except TypeError as exc:
            raise ScriptError("TypeError", str(exc)) from None
        return None
    keys = [interp.call_value(key, [item], {}) for item in items]
    order = sorted(range(len(items)), key=keys.__getitem__, reverse=bool(reverse))
    items[:] = [items[i] for i in order]
    return None


def _guarded(method, size_of):
    def guarded(*args):
        size = size_of(*args)
        if size > MAX_SEQUENCE:
            from ..errors import LimitError
            raise LimitError(f"the result would have {size} elements; the limit is "
                             f"{MAX_SEQUENCE}")
        return method(*args)
    return guarded


def _format(template, *args, **kwargs):
    from .pyformat import format_method
    return format_method(template, args, kwargs)


def _width(s, width, *rest):
    return width if isinstance(width, int) else 0


_WRAPPED = {
    ("str", "format"): _format,
    ("str", "ljust"): _guarded(str.ljust, _width),
    ("str", "rjust"): _guarded(str.rjust, _width),
    ("str", "center"): _guarded(str.center, _width),
    ("str", "zfill"): _guarded(str.zfill, _width),
    ("str", "replace"): _guarded(str.replace, lambda s, old, new, *c:
                                 len(s) + (len(new) - len(old)) * s.count(old)
                                 if old else len(s) * (len(new) + 1)),
    ("str", "join"): _guarded(str.join, lambda s, items:
                              len(items) * (len(s) + 1) if hasattr(items, "__len__") else 0),
    ("list", "extend"): _guarded(list.extend, lambda lst, items:
                                 len(lst) + (len(items) if hasattr(items, "__len__") else 0)),
    ("list", "insert"): list.insert,
}

_GETTERS = {list: _list_attribute, dict: _dict_attribute, str: _str_attribute,
            tuple: _tuple_attribute, Size: _size_attribute, int: _number_attribute,
            float: _number_attribute, Node: _node_attribute,
            AccumulateGrad: _node_attribute, ExceptionValue: _exception_attribute,
            RemovableHandle: _handle_attribute,
            np.ndarray: _ndarray_attribute}

_BASES = ((list, _list_attribute), (dict, _dict_attribute), (str, _str_attribute),
          (tuple, _tuple_attribute))


# -- assignment ------------------------------------------------------------------------

def set_attribute(interp, obj, name: str, value) -> None:
    if isinstance(obj, Tensor):
        _set_tensor_attribute(interp, obj, name, value)
        return
    from .hostobjects import is_host_object, set_host_attribute
    if is_host_object(obj):                               # nn modules
        set_host_attribute(obj, name, value)
        return
    raise ScriptError("AttributeError", f"'{type_name(obj)}' object attribute '{name}' "
                      "cannot be set")


def _set_tensor_attribute(interp, t: Tensor, name: str, value) -> None:
    if name == "requires_grad":
        if not isinstance(value, bool):
            raise ScriptError("TypeError", "requires_grad must be a bool")
        t.requires_grad_(value)
    elif name == "grad":
        if value is not None and not isinstance(value, Tensor):
            raise ScriptError("TypeError", "assigned grad expected to be a Tensor or None "
                              f"but got grad of type {type_name(value)}")
        if value is not None and value.shape != t.shape:
            raise ScriptError("RuntimeError", "assigned grad has data of a different size")
        t.grad = value
    elif name == "data":
        if not isinstance(value, Tensor):
            raise ScriptError("TypeError", "Variable data has to be a tensor, but got "
                              f"{type_name(value)}")
        t.torch_data = value
    else:
        raise ScriptError("AttributeError", f"attribute '{name}' of 'Tensor' objects is "
                          "not writable by gradcli programs (requires_grad, grad and data "
                          "are)")
