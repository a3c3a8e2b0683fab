"""Python's semantics for the values a program handles: operators, truth, iteration,
indexing -- with a size limit on everything a program can make grow.

Tensors go to the engine (``gradcli.autograd.functional``); Python numbers, strings,
lists, tuples and dicts use Python's own operators (never anything that could run
code: every operand here is a builtin value, a tensor or one of gradcli's objects).
Errors are :class:`ScriptError` with the Python exception a script would see.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..autograd import functional as F
from ..autograd.tensor import Tensor
from ..errors import InputError, LimitError

MAX_SEQUENCE = 10 ** 7          # elements of a list/tuple, characters of a string
MAX_INT_BITS = 10 ** 6          # an int result past this many bits is refused
NUMBER_TYPES = (int, float, np.integer, np.floating, np.bool_)


class ScriptError(InputError):
    """An error a Python program would raise: ``python_type`` names its exception."""

    kind = "input"

    def __init__(self, python_type: str, message: str, **kw):
        super().__init__(message, python_type=python_type, **kw)


def type_name(value) -> str:
    """The type name Python's messages use ('int', 'list', 'Tensor', 'NoneType')."""
    if value is None:
        return "NoneType"
    if isinstance(value, Tensor):
        return "Tensor"
    name = getattr(value, "python_type_label", None) or \
        getattr(type(value), "python_name", None)
    return name or type(value).__name__


def is_number(value) -> bool:
    return isinstance(value, NUMBER_TYPES) and not isinstance(value, Tensor)


# -- arithmetic --------------------------------------------------------------------------

_HOST = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
         "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
         "&": operator.and_, "|": operator.or_, "^": operator.xor,
         "<<": operator.lshift, ">>": operator.rshift, "@": operator.matmul}
_TENSOR = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "@": "matmul",
           "//": "floor_divide", "%": "remainder", "&": "bitwise_and", "|": "bitwise_or",
           "^": "bitwise_xor"}


def binary(op: str, a, b, check_size=None):
    """``a op b`` as Python (with torch's operators for tensors) computes it."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        if check_size is not None:
            check_size(op, a, b)
        return tensor_binary(op, a, b)
    if is_number(a) and is_number(b):
        _guard_int(op, a, b)
    elif isinstance(a, (str, list, tuple)) or isinstance(b, (str, list, tuple)):
        _guard_sequence(op, a, b)
    fn = _HOST.get(op)
    try:
        return fn(a, b)
    except ZeroDivisionError as exc:
        raise ScriptError("ZeroDivisionError", str(exc)) from None
    except OverflowError as exc:
        raise ScriptError("OverflowError", _overflow_message(exc)) from None
    except TypeError:
        raise ScriptError("TypeError", f"unsupported operand type(s) for {op}: "
                          f"'{type_name(a)}' and '{type_name(b)}'") from None
    except ValueError as exc:
        raise ScriptError("ValueError", str(exc)) from None


def tensor_binary(op: str, a, b):
    name = _TENSOR.get(op)
    fn = getattr(F, name, None) if name else None
    if fn is None:
        raise ScriptError("TypeError", f"unsupported operand type(s) for {op}: "
                          f"'{type_name(a)}' and '{type_name(b)}'")
    for value in (a, b):
        if not isinstance(value, Tensor) and not is_number(value):
            raise ScriptError("TypeError", f"unsupported operand type(s) for {op}: "
                              f"'{type_name(a)}' and '{type_name(b)}'")
    try:
        return fn(a, b)
    except OverflowError:
        raise ScriptError("RuntimeError", "Overflow when unpacking long") from None


def _overflow_message(exc: OverflowError) -> str:
    return "(34, 'Numerical result out of range')" if "range" in str(exc) else str(exc)


def _guard_int(op: str, a, b) -> None:
    """Refuse int results too big to compute in bounded time (2**10**9 would hang)."""
    if not (isinstance(a, int) and isinstance(b, int)):
        return
    size = max(abs(a).bit_length(), abs(b).bit_length())
    if op == "**" and b > 0 and abs(a) > 1:
        size = abs(a).bit_length() * b
    elif op == "<<" and b > 0:
        size = abs(a).bit_length() + b
    elif op == "*":
        size = abs(a).bit_length() + abs(b).bit_length()
    if size > MAX_INT_BITS:
        raise LimitError(f"the integer result of {op} would have about {size} bits; the "
                         f"limit is {MAX_INT_BITS}")


def _guard_sequence(op: str, a, b) -> None:
    size = None
    if op == "*":
        seq, n = (a, b) if isinstance(a, (str, list, tuple)) else (b, a)
        if isinstance(n, int) and not isinstance(n, bool):
            size = len(seq) * max(n, 0)
    elif op == "+" and isinstance(a, (str, list, tuple)) and type(a) is type(b):
        size = len(a) + len(b)
    if size is not None and size > MAX_SEQUENCE:
        raise LimitError(f"the result would have {size} elements; the limit is "
                         f"{MAX_SEQUENCE}")


_UNARY = {"-": operator.neg, "+": operator.pos, "~": operator.invert}


def unary(op: str, value):
    """``not v``, ``-v``, ``+v``, ``~v`` as Python (and torch, for tensors) compute them."""
    if op == "not":
        return not truth(value)
    if isinstance(value, Tensor):
        fn = {"-": F.neg, "+": lambda t: t, "~": getattr(F, "bitwise_not", None)}[op]
        if fn is not None:
            return fn(value)
    elif is_number(value) and not (op == "~" and isinstance(value, float)):
        return _UNARY[op](value)
    raise ScriptError("TypeError", f"bad operand type for unary {op}: "
                      f"'{type_name(value)}'")


# -- comparisons -------------------------------------------------------------------------

_COMPARE = {"<": operator.lt, ">": operator.gt, "==": operator.eq, "!=": operator.ne,
            "<=": operator.le, ">=": operator.ge}
_TENSOR_COMPARE = {"<": "lt", ">": "gt", "==": "eq", "!=": "ne", "<=": "le", ">=": "ge"}


def compare(op: str, a, b):
    if op == "is":
        return a is b or (a is None and b is None)
    if op == "is not":
        return not compare("is", a, b)
    if op in ("in", "not in"):
        found = contains(b, a)
        return found if op == "in" else not found
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        fn = getattr(F, _TENSOR_COMPARE[op], None)
        if fn is not None:
            return fn(a, b)
        return _compare_arrays(op, a, b)
    try:
        return _COMPARE[op](a, b)
    except TypeError:
        raise ScriptError("TypeError", f"'{op}' not supported between instances of "
                          f"'{type_name(a)}' and '{type_name(b)}'") from None


def _compare_arrays(op: str, a, b):
    """Elementwise comparison (bool tensor, no grad) when the engine has none."""
    av = a.data if isinstance(a, Tensor) else a
    bv = b.data if isinstance(b, Tensor) else b
    return Tensor._make(np.asarray(_COMPARE[op](av, bv)), None)


def contains(container, item) -> bool:
    if isinstance(container, Tensor):
        if isinstance(item, Tensor) or is_number(item):
            return bool((container.data == (item.data if isinstance(item, Tensor)
                                             else item)).any())
        raise ScriptError("RuntimeError", "Tensor.__contains__ only supports Tensor or "
                          f"scalar, but you passed in a {type_name(item)}.")
    if isinstance(container, (list, tuple, dict, str, range)):
        try:
            return item in container
        except TypeError as exc:
            raise ScriptError("TypeError", str(exc)) from None
    raise ScriptError("TypeError", f"argument of type '{type_name(container)}' is not "
                      "iterable")


# -- truth, iteration, indexing ------------------------------------------------------------

def truth(value) -> bool:
    if isinstance(value, Tensor):
        if value.data.size != 1:
            if value.data.size == 0:
                raise ScriptError("RuntimeError", "Boolean value of Tensor with no values "
                                  "is ambiguous")
            raise ScriptError("RuntimeError", "Boolean value of Tensor with more than one "
                              "value is ambiguous")
        return bool(value.data.reshape(()))
    return bool(value)


def iterate(value):
    """An iterator over ``value`` as a for loop sees it."""
    if isinstance(value, Tensor):
        if value.ndim == 0:
            raise ScriptError("TypeError", "iteration over a 0-d tensor")
        from ..autograd import functional as F
        unbind = getattr(F, "unbind", None)    # Tensor.__iter__ is unbind(0) in PyTorch
        if unbind is not None:
            return iter(unbind(value, 0))
        return iter([value[i] for i in range(value.shape[0])])
    if isinstance(value, (list, tuple, str, dict, range)) or _is_iterator(value):
        return iter(value)
    from .hostobjects import Module
    if isinstance(value, Module) and hasattr(type(value), "__iter__"):
        return iter(value)
    raise ScriptError("TypeError", f"'{type_name(value)}' object is not iterable")


def _is_iterator(value) -> bool:
    return type(value).__name__ in ("enumerate", "zip", "reversed", "map", "filter",
                                    "generator", "list_iterator", "tuple_iterator",
                                    "range_iterator", "dict_keyiterator",
                                    "dict_valueiterator", "dict_itemiterator", "dict_keys",
                                    "dict_values", "dict_items", "list_reverseiterator",
                                    "odict_keys", "odict_values", "odict_items",
                                    "odict_iterator")


def index_key(key):
    """A subscript as Python's containers take it: 0-d integer tensors become ints."""
    if isinstance(key, Tensor) and key.data.size == 1 and key.data.dtype.kind in "iub":
        return int(key.data.reshape(()))
    return key


def getitem(value, key):
    if isinstance(value, Tensor):
        return value[key]
    key = index_key(key)
    if isinstance(value, (list, tuple, str, range)):
        if isinstance(key, Tensor):
            raise ScriptError("TypeError", f"{type_name(value)} indices must be integers "
                              "or slices, not Tensor")
        try:
            return value[key]
        except IndexError:
            raise ScriptError("IndexError", f"{type_name(value)} index out of range") \
                from None
        except TypeError:
            raise ScriptError("TypeError", f"{type_name(value)} indices must be integers "
                              f"or slices, not {type_name(key)}") from None
    if isinstance(value, dict):
        try:
            return value[key]
        except KeyError:
            raise ScriptError("KeyError", repr(key)) from None
        except TypeError:
            raise ScriptError("TypeError", f"unhashable type: '{type_name(key)}'") from None
    from .hostobjects import Module, module_item
    if isinstance(value, Module):
        return module_item(value, key)
    if isinstance(value, np.ndarray):
        try:
            return value[key]
        except (IndexError, TypeError, ValueError) as exc:
            raise ScriptError("IndexError", str(exc)) from None
    raise ScriptError("TypeError", f"'{type_name(value)}' object is not subscriptable")


def setitem(container, key, value) -> None:
    key = index_key(key)
    if isinstance(container, list):
        try:
            container[key] = value
        except IndexError:
            raise ScriptError("IndexError", "list assignment index out of range") from None
        except TypeError:
            raise ScriptError("TypeError", "list indices must be integers or slices, not "
                              f"{type_name(key)}") from None
        if len(container) > MAX_SEQUENCE:
            raise LimitError(f"a list of {len(container)} elements; the limit is "
                             f"{MAX_SEQUENCE}")
    elif isinstance(container, dict):
        try:
            container[key] = value
        except TypeError:
            raise ScriptError("TypeError", f"unhashable type: '{type_name(key)}'") from None
    elif isinstance(container, Tensor):
        container[key] = value
    else:
        raise ScriptError("TypeError", f"'{type_name(container)}' object does not support "
                          "item assignment")


def delitem(container, key) -> None:
    key = index_key(key)
    try:
        if isinstance(container, (list, dict)):
            del container[key]
            return
    except (IndexError, KeyError) as exc:
        raise ScriptError(type(exc).__name__, str(exc)) from None
    raise ScriptError("TypeError", f"'{type_name(container)}' object doesn't support item "
                      "deletion")


def to_float(value) -> float:
    """float(value) as Python computes it (tensors with one element included)."""
    if isinstance(value, Tensor):
        if value.data.size != 1:
            raise ScriptError("RuntimeError", f"a Tensor with {value.data.size} elements "
                              "cannot be converted to Scalar")
        return float(value.data.reshape(()))
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ScriptError(type(exc).__name__, str(exc)) from None
    except OverflowError as exc:
        raise ScriptError("OverflowError", str(exc)) from None


def is_integral(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) or \
        isinstance(value, float) and math.isfinite(value) and value.is_integer()
