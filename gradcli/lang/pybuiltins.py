"""Python's builtin functions as a program sees them (print, range, len, ...).

Each works on the values of :mod:`gradcli.lang.pyops`; those that call back into the
program (``sorted(key=f)``, ``map``) or write output (``print``) take the interpreter.
"""

from __future__ import annotations

import numpy as np

from ..autograd import functional as F
from ..autograd.node import Node
from ..autograd.tensor import Tensor
from ..errors import LimitError
from .objects import EXCEPTIONS, Builtin, ScriptCallable, Size
from .pyformat import format_value, to_repr, to_str
from .pyops import (MAX_SEQUENCE, ScriptError, binary, compare, index_key, is_number,
                    iterate, to_float, truth, type_name)


def _print(interp, *args, sep=" ", end="\n", file=None, flush=False):
    if file is not None:
        raise ScriptError("TypeError", "print(file=...) is not supported: gradcli prints "
                          "to standard output")
    for name, value in (("sep", sep), ("end", end)):
        if value is not None and not isinstance(value, str):
            raise ScriptError("TypeError", f"{name} must be None or a string, not "
                              f"{type_name(value)}")
    sep = " " if sep is None else sep
    end = "\n" if end is None else end
    interp.write(sep.join(to_str(a) for a in args) + end)


def _range(*args):
    ints = []
    for a in args:
        a = index_key(a)
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise ScriptError("TypeError", f"'{type_name(a)}' object cannot be interpreted "
                              "as an integer")
        ints.append(int(a))
    if not 1 <= len(ints) <= 3:
        raise ScriptError("TypeError", f"range expected at most 3 arguments, got {len(ints)}")
    return range(*ints)


def _len(value):
    if isinstance(value, Tensor):
        if value.ndim == 0:
            raise ScriptError("TypeError", "len() of a 0-d tensor")
        return value.shape[0]
    if isinstance(value, (list, tuple, str, dict, range, np.ndarray)):
        return len(value)
    from .hostobjects import Module
    if isinstance(value, Module) and hasattr(type(value), "__len__"):
        return len(value)
    raise ScriptError("TypeError", f"object of type '{type_name(value)}' has no len()")


def _int(value=0, base=None):
    if base is not None:
        return int(value, base)
    if isinstance(value, Tensor):
        return int(to_float(value)) if value.data.dtype.kind == "f" else \
            int(value.data.reshape(()))
    if isinstance(value, str):
        return int(value)
    if is_number(value):
        return int(value)
    raise ScriptError("TypeError", "int() argument must be a string, a bytes-like object "
                      f"or a real number, not '{type_name(value)}'")


def _float(value=0.0):
    if isinstance(value, str):
        return float(value)
    return to_float(value)


def _list(iterable=()):
    items = list(iterate(iterable))
    if len(items) > MAX_SEQUENCE:
        raise LimitError(f"a list of {len(items)} elements; the limit is {MAX_SEQUENCE}")
    return items


def _sized(iterable):
    if isinstance(iterable, range) and len(iterable) > MAX_SEQUENCE:
        raise LimitError(f"a list of {len(iterable)} elements; the limit is {MAX_SEQUENCE}")
    return iterable


def _abs(value):
    return F.abs(value) if isinstance(value, Tensor) else abs(value)


def _extreme(interp, op, args, key=None, default=None):
    items = list(iterate(args[0])) if len(args) == 1 else list(args)
    if not items:
        if default is not None:
            return default
        raise ScriptError("ValueError", "max() arg is an empty sequence" if op == ">" else
                          "min() arg is an empty sequence")
    best = items[0]
    best_key = best if key is None else interp.call_value(key, [best], {})
    for item in items[1:]:
        k = item if key is None else interp.call_value(key, [item], {})
        if truth(compare(op, k, best_key)):
            best, best_key = item, k
    return best


def _max(interp, *args, key=None, default=None):
    return _extreme(interp, ">", args, key, default)


def _min(interp, *args, key=None, default=None):
    return _extreme(interp, "<", args, key, default)


def _sum(interp, iterable, start=0):
    total = start
    for item in iterate(iterable):
        interp.count()
        total = binary("+", total, item)
    return total


def _round(value, ndigits=None):
    if isinstance(value, Tensor):       # PyTorch 2.13's Tensor has no __round__
        raise ScriptError("TypeError", "type Tensor doesn't define __round__ method")
    return round(value) if ndigits is None else round(value, ndigits)


def _sorted(interp, iterable, key=None, reverse=False):
    from .attributes import _sort
    items = _list(iterable)
    _sort(interp, items, key, reverse)
    return items


def _map(interp, fn, *iterables):
    return [interp.call_value(fn, list(args), {}) for args in zip(
        *(iterate(i) for i in iterables))]


def _filter(interp, fn, iterable):
    return [x for x in iterate(iterable)
            if truth(x if fn is None else interp.call_value(fn, [x], {}))]


def _any(iterable):
    return any(truth(x) for x in iterate(iterable))


def _all(iterable):
    return all(truth(x) for x in iterate(iterable))


def _dict(*args, **kwargs):
    out = dict(*(list(iterate(a)) if not isinstance(a, dict) else a for a in args))
    out.update(kwargs)
    return out


def _divmod(a, b):
    return binary("//", a, b), binary("%", a, b)


class TypeObject:
    """What type(x) returns: prints as Python does, ``<class 'torch.Tensor'>``."""

    python_name = "type"

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<class '{self.name}'>"

    def __eq__(self, other) -> bool:
        return isinstance(other, TypeObject) and other.name == self.name

    __hash__ = object.__hash__


def _type(value):
    if isinstance(value, Tensor):
        name = "torch.nn.parameter.Parameter" if type(value).__name__ == "Parameter" \
            else "torch.Tensor"
    elif isinstance(value, Size):
        name = "torch.Size"
    elif isinstance(value, Node):           # a grad_fn: PyTorch's class is its name
        name = value.name
    elif hasattr(value, "python_type_label"):
        name = value.python_type_label
    else:
        name = {"NoneType": "NoneType", "dtype": "torch.dtype"}.get(
            type_name(value), type_name(value))
    return TypeObject(name)


_HOST_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list,
               "tuple": tuple, "dict": dict, "range": range}


def _isinstance(value, kinds):
    from .torchns import TENSOR_TYPE
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    for kind in kinds:
        if isinstance(kind, type(TENSOR_TYPE)):      # torch.Tensor, torch.FloatTensor, ...
            if kind.covers(value):
                return True
        elif isinstance(kind, Builtin) and kind.name in _HOST_TYPES:
            host = _HOST_TYPES[kind.name]
            if isinstance(value, host) and not (host is int and isinstance(value, bool)
                                                and kind.name == "float"):
                return True
        elif isinstance(kind, Builtin) and isinstance(kind.fn, type):
            if isinstance(value, kind.fn):
                return True
        elif isinstance(kind, TypeObject):
            if _type(value) == kind:
                return True
        else:
            raise ScriptError("TypeError", "isinstance() arg 2 must be a type, a tuple of "
                              "types, or a union")
    return False


def _callable(value):
    return isinstance(value, ScriptCallable) or hasattr(value, "script_call")


_NO_DEFAULT = object()


def _getattr(interp, value, name, default=_NO_DEFAULT):
    """getattr through the same attribute tables as ``value.name`` (never a name with a
    leading underscore: the tokenizer refuses those in source, and so does this)."""
    from .attributes import get_attribute
    if not isinstance(name, str):
        raise ScriptError("TypeError", "attribute name must be string, not "
                          f"'{type_name(name)}'")
    try:
        if name.startswith("_"):
            raise ScriptError("AttributeError", f"'{type_name(value)}' object has no "
                              f"attribute '{name}' (gradcli run refuses names starting "
                              "with '_')")
        return get_attribute(interp, value, name, interp.stmt)
    except ScriptError as exc:
        if default is _NO_DEFAULT or exc.python_name != "AttributeError":
            raise
        return default


def _hasattr(interp, value, name) -> bool:
    missing = object()
    return _getattr(interp, value, name, missing) is not missing


def python_builtins() -> dict:
    plain = {
        "range": _range, "len": _len, "int": _int, "float": _float, "str": to_str,
        "repr": to_repr, "bool": truth, "list": _list, "tuple": lambda it=(): tuple(
            _list(it)), "dict": _dict, "abs": _abs, "round": _round, "any": _any,
        "all": _all, "enumerate": lambda it, start=0: enumerate(iterate(_sized(it)), start),
        "zip": lambda *its: zip(*(iterate(i) for i in its)),
        "reversed": lambda seq: reversed(_list(seq)), "isinstance": _isinstance,
        "type": _type, "format": format_value, "divmod": _divmod,
        "pow": lambda a, b: binary("**", a, b), "callable": _callable,
    }
    with_interpreter = {"print": _print, "max": _max, "min": _min, "sum": _sum,
                        "sorted": _sorted, "map": _map, "filter": _filter,
                        "getattr": _getattr, "hasattr": _hasattr}
    out = {name: Builtin(name, fn) for name, fn in plain.items()}
    out.update({name: Builtin(name, fn, needs_interpreter=True)
                for name, fn in with_interpreter.items()})
    out.update(EXCEPTIONS)
    out.update({"True": True, "False": False, "None": None, "__name__": "__main__"})
    return out
