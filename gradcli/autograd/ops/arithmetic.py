"""Arithmetic and powers: ``+ - * / **``, negation, square; comparisons; ``where``.

The operators dispatch in :mod:`..functional` (``2 - x`` is RsubBackward1, ``2 / x`` a
MulBackward0 fed by ReciprocalBackward0, ``x ** 2`` / ``a ** b`` / ``2 ** x`` are
PowBackward0/1/2), so their entries name those functions.  VJP formulas follow PyTorch's
derivatives.yaml, in its order of operations where it matters.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InputError
from .core import STRUCTURAL, prose, register

OTHER_FIRST = (1, 0)      # PyTorch computes "other" (or "exponent") before "self"
BINARY = "input, other"

# PyTorch's formulas are C++ expressions; its compiler evaluates the right operand of a
# product first, so where both operands record nodes, the VJPs below do so too (the
# order decides the nodes' sequence numbers, hence how later gradients are summed).


def _div_other_vjp(F, g, a, b, out):
    """-grad * ((self / other) / other)"""
    q = (a / b) / b
    return -g * q


register("add", "AddBackward0", np.add,
         (lambda F, g, a, b, out: g, lambda F, g, a, b, out: g),
         params=BINARY, group="arithmetic", function="functional:add", display="{0} + {1}",
         broadcasts=True, vjp_order=OTHER_FIRST, elementwise=True,
         sympy=lambda sp, a, b: a + b, derivative=("1", "1"))
register("sub", "SubBackward0", np.subtract,
         (lambda F, g, a, b, out: g, lambda F, g, a, b, out: -g),
         params=BINARY, group="arithmetic", function="functional:sub", display="{0} - {1}",
         records=("RsubBackward1",), broadcasts=True, vjp_order=OTHER_FIRST,
         elementwise=True, sympy=lambda sp, a, b: a - b, derivative=("1", "-1"))
register("rsub", "RsubBackward1", lambda x, c: c - x, (lambda F, g, x, c, out: -g, None),
         internal=True, display="{1} - {0}", scalar_args=(1,), elementwise=True,
         sympy=lambda sp, x, c: c - x, derivative=("-1",), syntax="NUMBER - t")
register("mul", "MulBackward0", np.multiply,
         (lambda F, g, a, b, out: g * b, lambda F, g, a, b, out: g * a),
         params=BINARY, group="arithmetic", function="functional:mul", display="{0}*{1}",
         broadcasts=True, vjp_order=OTHER_FIRST, elementwise=True,
         sympy=lambda sp, a, b: a * b, derivative=("b", "a"))
register("div", "DivBackward0", np.true_divide,
         (lambda F, g, a, b, out: g / b, _div_other_vjp),
         params=BINARY, group="arithmetic", function="functional:div", display="{0}/{1}",
         records=("MulBackward0", "ReciprocalBackward0"), broadcasts=True,
         vjp_order=OTHER_FIRST, elementwise=True, dtype_rule="float",
         sympy=lambda sp, a, b: a / b, derivative=("1/b", "-a/b**2"), domain_edges=True)
register("neg", "NegBackward0", np.negative, (lambda F, g, x, out: -g,),
         params="input", group="arithmetic", function="functional:neg", display="-{0}",
         elementwise=True, dtype_rule="promote", sympy=lambda sp, x: -x, derivative=("-1",))


# ---- powers --------------------------------------------------------------------------

def _pow_scalar(x, n):
    """x ** n with PyTorch's special cases for floats (x*x, x*x*x, sqrt, 1/sqrt, 1/x,
    1/(x*x): what its kernel computes for those exponents, rounding included)."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        if n == 2:
            return x * x
        if n == 3:
            return x * x * x
        if n == 0.5:
            return np.sqrt(x)
        if n == -0.5:
            return 1 / np.sqrt(x)
        if n == -1:
            return 1 / x
        if n == -2:
            return 1 / (x * x)
    return np.power(x, n)


def _pow_vjp(F, g, x, n):
    """PyTorch's pow_backward: grad * (n * x.pow(n - 1)), zeros for n = 0."""
    if n == 0:
        return F.zeros_like(g)
    return g * F.mul_scalar(F.pow(x, n - 1), n)


register("pow", "PowBackward0", _pow_scalar,
         (lambda F, g, x, n, out: _pow_vjp(F, g, x, n), None),
         params="input, exponent: scalar", group="arithmetic", function="functional:pow",
         display="{0}**{1}", records=("PowBackward1", "PowBackward2"), scalar_args=(1,),
         elementwise=True, sympy=lambda sp, x, n: x ** n, derivative=("n*x**(n - 1)",),
         syntax="pow(input, exponent), x ** y, x ^ y", grows="broadcast", domain_edges=True)


def _pow_exponent_vjp(F, g, a, b, out):
    av, bv = F.value(a), F.value(b)
    return g * F.where((av == 0) & (bv >= 0), 0.0, out * F.log(a))


def _power_of_tensors(a, b):
    """np.power of two arrays, always through numpy's loop for two contiguous 1-d
    arrays: numpy computes a 0-d power (or a broadcast one) in another loop, which
    differs in the last bit at some points (710**0.5) and in a limit ((-inf)**0.5: NaN
    there, inf here as in C99 and PyTorch).  So a point gives the same bits alone as
    in a batch of points."""
    a, b = np.broadcast_arrays(a, b)
    shape = a.shape
    a = np.ascontiguousarray(a).reshape(-1)
    b = np.ascontiguousarray(b).reshape(-1)
    if a.dtype.kind in "bi":
        return _integer_power(a, b).reshape(shape)
    return np.power(a, b).reshape(shape)


def _integer_power(a, b):
    """PyTorch's integer power: a negative exponent gives 0 (but for bases 1 and -1)."""
    if a.dtype == bool:
        raise InputError("\"pow\" not implemented for 'Bool'")
    negative = b < 0
    out = np.power(a, np.where(negative, 0, b))
    odd = (b % 2) != 0
    at_negative = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, at_negative, out).astype(a.dtype)


register("pow_tensor", "PowBackward1", _power_of_tensors,
         (lambda F, g, a, b, out: F.where(F.value(b) == 0, 0.0,
                                          g * (b * F.pow_tensor(a, F.sub_scalar(b, 1)))),
          _pow_exponent_vjp),
         internal=True, display="{0}**{1}", shown_as="pow", vjp_order=OTHER_FIRST,
         broadcasts=True, elementwise=True, sympy=lambda sp, a, b: a ** b,
         numeric={"log": np.log},
         derivative=("b*a**(b - 1)", "a**b*log(a)"), syntax="a ** b (both tensors)")


def _pow_base_vjp(F, g, c, x, out):
    log_c = math.log(c) if c > 0 else (-math.inf if c == 0 else math.nan)
    if c == 0:
        return g * F.where(F.value(x) >= 0, 0.0, F.mul_scalar(out, log_c))
    return g * F.mul_scalar(out, log_c)


register("pow_base", "PowBackward2", np.power, (None, _pow_base_vjp), internal=True,
         display="{0}**{1}", shown_as="pow", scalar_args=(0,), elementwise=True,
         sympy=lambda sp, c, x: c ** x, derivative=(None, "c**x*log(c)"),
         syntax="NUMBER ** x")


def _square(x):
    return np.square(x.astype(np.int64) if x.dtype == bool else x)


register("square", "PowBackward0", _square, (lambda F, g, x, out: _pow_vjp(F, g, x, 2),),
         params="input", group="arithmetic", display="{0}**2", elementwise=True,
         dtype_rule="keep", sympy=lambda sp, x: x ** 2, derivative=("2*x",))


# ---- comparisons: bool results, never differentiated -----------------------------------

for _name, _fn, _sym in (("eq", np.equal, "=="), ("ne", np.not_equal, "!="),
                         ("lt", np.less, "<"), ("le", np.less_equal, "<="),
                         ("gt", np.greater, ">"), ("ge", np.greater_equal, ">=")):
    register(_name, f"{_name.capitalize()}Backward0", _fn, (None, None), params=BINARY,
             group="comparisons", function=f"comparisons:{_name}",
             display="{0} %s {1}" % _sym, broadcasts=True, elementwise=True,
             dtype_rule="compare", syntax=f"{_name}(input, other), a {_sym} b",
             derivative=(prose("none (a bool result)"),))



def _isclose(a, b, rtol, atol, equal_nan):
    """|a - b| <= atol + rtol * |b|, or equal (inf == inf), elementwise; NaNs are close
    to each other only with ``equal_nan``."""
    if a.dtype == bool:
        return np.equal(a, b)
    x, y = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        close = (x == y) | (np.abs(x - y) <= atol + rtol * np.abs(y))
    if equal_nan:
        close |= np.isnan(x) & np.isnan(y)
    return close


register("isclose", "IscloseBackward0", _isclose, (None, None),
         params="input, other, rtol: number = 1e-05, atol: number = 1e-08, "
                "equal_nan: bool = False",
         group="comparisons", function="comparisons:isclose", broadcasts=True,
         elementwise=True, dtype_rule="compare",
         syntax="isclose(input, other, rtol, atol, equal_nan)",
         derivative=(prose("none (a bool result)"),) * 2)
register("allclose", "AllcloseBackward0", lambda a, b, **p: np.all(_isclose(a, b, **p)),
         (None, None),
         params="input, other, rtol: number = 1e-05, atol: number = 1e-08, "
                "equal_nan: bool = False",
         group="comparisons", function="comparisons:allclose", broadcasts=True,
         dtype_rule="compare", syntax="allclose(input, other, rtol, atol, equal_nan)",
         derivative=(prose("none (a Python bool)"),) * 2)
register("equal", "EqualBackward0",
         lambda a, b: np.asarray(a.shape == b.shape and bool(np.array_equal(a, b))),
         (None, None), params="input, other", group="comparisons",
         function="comparisons:equal", dtype_rule="compare", syntax="equal(input, other)",
         derivative=(prose("none (a Python bool)"),) * 2)


# ---- where: the one op that picks between its inputs by a mask --------------------------

register("where", "WhereBackward0", lambda input, other, condition: np.where(
             condition, input, other),
         (lambda F, g, a, b, out, condition: F.where(condition, g, 0.0),
          lambda F, g, a, b, out, condition: F.where(condition, 0.0, g)),
         params="condition: mask, input, other", group="elementwise", api="torch",
         broadcasts=True, vjp_order=OTHER_FIRST, elementwise=True, sympy=STRUCTURAL,
         derivative=(prose("1 where the condition holds, else 0"),
                     prose("1 where it does not, else 0")))
