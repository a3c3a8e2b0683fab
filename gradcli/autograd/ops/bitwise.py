"""The Tensor operators ``a // b``, ``a & b``, ``a | b``, ``a ^ b`` and ``~a``: PyTorch's
floor_divide and bitwise ops.  Masks are combined with them (``(x > 0) & (x < 1)``).

The bitwise ops take bool and integer tensors only (a float one is PyTorch's
NotImplementedError); no gradient passes through them.  floor_divide records PyTorch's
``NotImplemented`` node: its result requires grad, and a backward through it is
PyTorch's error.  Integer division by zero is PyTorch's ZeroDivisionError; floats give
inf or nan, as numpy does.
"""

from __future__ import annotations

import numpy as np

from ...errors import AutogradError, InputError
from .core import prose, register

_TORCH_DTYPE = {"f": "Float", "d": "Double", "e": "Half"}


def _integral(name: str, *arrays):
    for a in arrays:
        kind = np.asarray(a).dtype
        if kind.kind == "f":
            raise InputError(f'"{name}_cpu" not implemented for '
                             f"'{_TORCH_DTYPE.get(kind.char, 'Float')}'",
                             python_type="NotImplementedError")


def _bitwise(name: str, ufunc, symbol: str) -> None:
    def forward(a, b):
        _integral(name, a, b)
        return ufunc(a, b)
    register(name, f"{name.title().replace('_', '')}Backward0", forward, (None, None),
             params="input, other", group="elementwise", display="{0} %s {1}" % symbol,
             broadcasts=True, elementwise=True, dtype_rule="promote",
             syntax=f"{name}(input, other), a {symbol} b",
             derivative=(prose("none (bool or integer tensors)"),) * 2)


_bitwise("bitwise_and", np.bitwise_and, "&")
_bitwise("bitwise_or", np.bitwise_or, "|")
_bitwise("bitwise_xor", np.bitwise_xor, "^")


def _invert(a):
    if np.asarray(a).dtype.kind == "f":
        raise InputError("~ (operator.invert) is only implemented on integer and "
                         "Boolean-type tensors", python_type="TypeError")
    return np.invert(a)


register("bitwise_not", "BitwiseNotBackward0", _invert, (None,), params="input",
         group="elementwise", display="~{0}", elementwise=True, dtype_rule="keep",
         syntax="bitwise_not(input), ~a", derivative=(prose("none (bool or integer "
                                                            "tensors)"),))


def _floor_divide(a, b):
    if np.asarray(a).dtype.kind in "biu" and np.asarray(b).dtype.kind in "biu" and \
            np.any(np.asarray(b) == 0):
        raise InputError("ZeroDivisionError")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(a, b)


def _not_implemented(F, g, a, b, out):
    raise AutogradError("derivative for aten::floor_divide is not implemented")


register("floor_divide", "NotImplemented", _floor_divide,
         (_not_implemented, _not_implemented), params="input, other",
         group="arithmetic", display="{0} // {1}", broadcasts=True, elementwise=True,
         dtype_rule="promote", syntax="floor_divide(input, other), a // b",
         sympy=lambda sp, a, b: sp.floor(a / b), numeric={"floor": np.floor},
         domain_edges=True,
         derivative=(prose("not implemented in PyTorch (a backward through it is an "
                           "error)"),) * 2)
