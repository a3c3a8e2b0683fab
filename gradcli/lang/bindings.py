"""Turning bound values into the program's leaf tensors (SPEC 3.1)."""

from __future__ import annotations

import re

import numpy as np

from ..autograd.tensor import Tensor
from ..errors import BindError, LimitError

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_DIMS = 32     # numpy's limit on dimensions (32 in numpy 1.x, 64 in 2.x)


def to_array(name: str, value, dtype, max_elements: int, copy: bool = True) -> np.ndarray:
    """A bound value (number, nested list, ndarray, Tensor) as a float array.  An
    ndarray of that dtype, contiguous, is not copied when ``copy`` is False (used as it
    is, writeable: the caller lets the program change it in place) or "borrow" (used
    through a read-only view: see :func:`gradcli.autograd.inplace.borrowing`)."""
    if isinstance(value, Tensor):
        value = value.data
    _check_numbers(name, value, max_elements)
    if copy is not True and isinstance(value, np.ndarray) and value.dtype == dtype and \
            value.flags.c_contiguous and (value.flags.writeable or copy == "borrow"):
        if value.size > max_elements:
            raise LimitError(f"--{name}: {value.size} elements; the limit is {max_elements}")
        if copy != "borrow":
            return value
        view = value.view(np.ndarray)
        view.flags.writeable = False
        return view
    try:
        array = np.array(value, dtype=dtype)
    except (ValueError, TypeError):
        raise BindError(f"--{name}: expected a number or a rectangular array of numbers "
                        "(rows of equal length)") from None
    except OverflowError:
        raise BindError(f"--{name}: a number is too large for {np.dtype(dtype)}") from None
    if array.size > max_elements:
        raise LimitError(f"--{name}: {array.size} elements; the limit is {max_elements}")
    return array


def _check_numbers(name: str, value, max_elements: int) -> None:
    """Every element must be a real number (not a bool, string or None, which numpy would
    quietly turn into 1.0, a parsed number or nan); iterative, counting elements."""
    stack, count = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, tuple)):
            if depth >= MAX_DIMS:
                raise LimitError(f"--{name}: over {MAX_DIMS} dimensions; the limit is "
                                 f"{MAX_DIMS}")
            stack.extend((x, depth + 1) for x in reversed(item))   # left to right
            continue
        if isinstance(item, Tensor):
            item = item.data
        if isinstance(item, np.ndarray):
            if item.dtype.kind not in "iuf":
                raise BindError(f"--{name}: expected numbers, got an array of {item.dtype}")
            count += item.size
        elif isinstance(item, (bool, np.bool_)) or \
                not isinstance(item, (int, float, np.integer, np.floating)):
            shown = repr(item) if len(repr(item)) <= 40 else repr(item)[:37] + "..."
            what = "" if item is value else " in the array"
            raise BindError(f"--{name}: expected a number or an array of numbers, got "
                            f"{shown}{what}")
        else:
            count += 1
        if count > max_elements:
            many = f"{count}" if not stack else f"over {max_elements}"
            raise LimitError(f"--{name}: {many} elements; the limit is {max_elements}")


def check_name(name: str) -> None:
    if not NAME.match(name) or name.startswith("__"):
        raise BindError(f"'{name}' is not a valid variable name (letters, digits and _; "
                        "not starting with __)")


def bind_all(bindings: dict, const: dict, wrt, dtype, max_elements: int,
             copy: bool = True) -> dict:
    """name -> leaf Tensor: requires_grad unless constant or left out of ``wrt``
    (``copy``: see :func:`to_array`)."""
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise BindError(f"dtype must be float64 or float32, got {dtype}")
    wrt = None if wrt is None else list(wrt)
    leaves: dict = {}
    for name, value in bindings.items():
        check_name(name)
        leaf = Tensor._make(to_array(name, value, dtype, max_elements, copy), None)
        leaf.requires_grad = wrt is None or name in wrt
        leaves[name] = leaf
    for name, value in const.items():
        check_name(name)
        if name in leaves:
            raise BindError(f"'{name}' is bound twice (as a variable and with --const)")
        leaves[name] = Tensor._make(to_array(name, value, dtype, max_elements, copy), None)
    for name in wrt or ():
        if name not in leaves:
            raise BindError(f"--wrt {name}: no variable '{name}' is bound")
        if name in const:
            raise BindError(f"--wrt {name}: '{name}' is bound with --const")
    return leaves
