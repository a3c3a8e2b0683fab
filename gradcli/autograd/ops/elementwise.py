"""Elementwise ops: arithmetic, powers, and the math functions of SPEC 3.2.

VJP formulas follow PyTorch's derivatives.yaml (same order of operations where it
matters, same values at kinks: relu'(0)=0, abs'(0)=0, sign'=0, clamp is 1 on its
bounds, maximum/minimum give half to each side of a tie, sqrt'(0)=inf).
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InputError
from .core import register, where_any
from .float32 import silu_backward

LN2 = math.log(2.0)
OTHER_FIRST = (1, 0)      # PyTorch computes "other" (or "exponent") before "self"
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def unary(name, grad_fn, forward, vjp, *, saves, sympy, derivative, undefined=None,
          dtype_rule="float"):
    """An elementwise function of one tensor; by default integer and bool inputs give
    the default float dtype (exp, sin, ...), ``dtype_rule="promote"`` keeps them."""
    return register(name=name, grad_fn=grad_fn, forward=forward, vjps=(vjp,), saves=saves,
                    sympy=sympy, elementwise=True, derivative=(derivative,),
                    syntax=f"{name}(x)", undefined=undefined, dtype_rule=dtype_rule)


def _erf(x):
    # numpy has no erf; libm's (through math.erf) is correctly rounded to about 1 ulp.
    # (np.asarray: on a 0-d array frompyfunc returns a plain float, not an array)
    x = np.asarray(x)
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x),
                      dtype=x.dtype if x.dtype.kind == "f" else float)


def _softplus(x):
    # PyTorch (beta=1, threshold=20): x itself above the threshold, log1p(exp(x)) below.
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


# PyTorch's formulas are C++ expressions; its compiler evaluates the right operand of a
# product first, so where both operands record nodes, the VJPs below do so too (the
# order decides the nodes' sequence numbers, hence how later gradients are summed).

def _div_other_vjp(F, g, a, b, out):
    """-grad * ((self / other) / other)"""
    q = (a / b) / b
    return -g * q


def _softplus_vjp(F, g, x, out):
    return F.softplus_backward(g, x, 1.0, 20.0)


def _silu_vjp(F, g, x, out):
    """PyTorch's silu_backward kernel in a plain backward; under create_graph its
    infinitely_differentiable_silu_backward."""
    if not F.tensor_mode:
        return silu_backward(g, x)
    s = F.sigmoid(x)
    right = F.add_scalar(x * F.sub(1, s), 1)
    return g * s * right


# ---- arithmetic ----------------------------------------------------------------------

register(name="add", grad_fn="AddBackward0", forward=np.add, broadcasts=True,
         vjp_order=OTHER_FIRST,
         vjps=(lambda F, g, a, b, out: g, lambda F, g, a, b, out: g),
         sympy=lambda sp, a, b: a + b, elementwise=True, derivative=("1", "1"),
         syntax="a + b")
register(name="sub", grad_fn="SubBackward0", forward=np.subtract, broadcasts=True,
         vjp_order=OTHER_FIRST,
         vjps=(lambda F, g, a, b, out: g, lambda F, g, a, b, out: -g),
         sympy=lambda sp, a, b: a - b, elementwise=True, derivative=("1", "-1"),
         syntax="a - b")
register(name="rsub", grad_fn="RsubBackward1", forward=lambda x, c: c - x, scalar_args=(1,),
         vjps=(lambda F, g, x, c, out: -g, None),
         sympy=lambda sp, x, c: c - x, elementwise=True, derivative=("-1",),
         syntax="NUMBER - t")
register(name="mul", grad_fn="MulBackward0", forward=np.multiply, broadcasts=True, saves="ab",
         vjp_order=OTHER_FIRST,
         needs=("b", "a"),
         vjps=(lambda F, g, a, b, out: g * b, lambda F, g, a, b, out: g * a),
         sympy=lambda sp, a, b: a * b, elementwise=True, derivative=("b", "a"),
         syntax="a * b")
register(name="div", grad_fn="DivBackward0", forward=np.true_divide, broadcasts=True,
         vjp_order=OTHER_FIRST,
         saves="ab", needs=("b", "ab"),
         vjps=(lambda F, g, a, b, out: g / b, _div_other_vjp),
         sympy=lambda sp, a, b: a / b, elementwise=True, derivative=("1/b", "-a/b**2"),
         syntax="a / b", dtype_rule="float")
register(name="neg", grad_fn="NegBackward0", forward=np.negative,
         vjps=(lambda F, g, x, out: -g,),
         sympy=lambda sp, x: -x, elementwise=True, derivative=("-1",), syntax="-x",
         dtype_rule="promote")

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


register(name="pow", grad_fn="PowBackward0", forward=_pow_scalar, saves="a", scalar_args=(1,),
         vjps=(lambda F, g, x, n, out: _pow_vjp(F, g, x, n), None),
         sympy=lambda sp, x, n: x ** n, elementwise=True, derivative=("n*x**(n - 1)",),
         syntax="x ** NUMBER, x ^ NUMBER")


def _pow_vjp(F, g, x, n):
    """PyTorch's pow_backward: grad * (n * x.pow(n - 1)), zeros for n = 0."""
    if n == 0:
        return F.zeros_like(g)
    return g * F.mul_scalar(F.pow(x, n - 1), n)


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


def _bool_error(message):
    def check(x):
        if x.dtype == bool:
            raise InputError(message)
        return x
    return check


_not_bool_abs = _bool_error("\"abs_cpu\" not implemented for 'Bool'")
_not_bool_relu = _bool_error("Boolean inputs not supported for relu")


def _square(x):
    return np.square(x.astype(np.int64) if x.dtype == bool else x)


def _sign(x):
    return np.array(x, copy=True) if x.dtype == bool else np.sign(x)


register(name="pow_tensor", grad_fn="PowBackward1", forward=_power_of_tensors,
         vjp_order=OTHER_FIRST,
         broadcasts=True, saves="abo",
         vjps=(lambda F, g, a, b, out: F.where(F.value(b) == 0, 0.0,
                                               g * (b * F.pow_tensor(a, F.sub_scalar(b, 1)))),
               _pow_exponent_vjp),
         sympy=lambda sp, a, b: a ** b, elementwise=True,
         derivative=("b*a**(b - 1)", "a**b*log(a)"), syntax="a ** b (both tensors)")


def _pow_base_vjp(F, g, c, x, out):
    log_c = math.log(c) if c > 0 else (-math.inf if c == 0 else math.nan)
    if c == 0:
        return g * F.where(F.value(x) >= 0, 0.0, F.mul_scalar(out, log_c))
    return g * F.mul_scalar(out, log_c)


register(name="pow_base", grad_fn="PowBackward2", forward=np.power, saves="bo",
         scalar_args=(0,),
         vjps=(None, _pow_base_vjp),
         sympy=lambda sp, c, x: c ** x, elementwise=True, derivative=(None, "c**x*log(c)"),
         syntax="NUMBER ** x")
unary("square", "PowBackward0", _square, lambda F, g, x, out: _pow_vjp(F, g, x, 2), saves="a",
      sympy=lambda sp, x: x ** 2, derivative="2*x", dtype_rule="keep")

# ---- exponentials and logarithms -----------------------------------------------------

unary("exp", "ExpBackward0", np.exp, lambda F, g, x, out: g * out, saves="o",
      sympy=lambda sp, x: sp.exp(x), derivative="exp(x)")
unary("exp2", "Exp2Backward0", np.exp2, lambda F, g, x, out: F.mul_scalar(g * out, LN2),
      saves="o",
      sympy=lambda sp, x: 2 ** x, derivative="2**x*log(2)")
unary("expm1", "Expm1Backward0", np.expm1, lambda F, g, x, out: g * F.add_scalar(out, 1),
      saves="o",
      sympy=lambda sp, x: sp.exp(x) - 1, derivative="exp(x)")
unary("log", "LogBackward0", np.log, lambda F, g, x, out: g / x, saves="a",
      sympy=lambda sp, x: sp.log(x), derivative="1/x")
unary("log2", "Log2Backward0", np.log2, lambda F, g, x, out: g / F.mul_scalar(x, LN2),
      saves="a",
      sympy=lambda sp, x: sp.log(x, 2), derivative="1/(x*log(2))")
unary("log10", "Log10Backward0", np.log10, lambda F, g, x, out: g / F.mul_scalar(x, LN10),
      saves="a",
      sympy=lambda sp, x: sp.log(x, 10), derivative="1/(x*log(10))")
unary("log1p", "Log1PBackward0", np.log1p, lambda F, g, x, out: g / F.add_scalar(x, 1),
      saves="a",
      sympy=lambda sp, x: sp.log(1 + x), derivative="1/(x + 1)")
unary("sqrt", "SqrtBackward0", np.sqrt, lambda F, g, x, out: g / F.mul_scalar(out, 2),
      saves="o",
      sympy=lambda sp, x: sp.sqrt(x), derivative="1/(2*sqrt(x))")
unary("rsqrt", "RsqrtBackward0", lambda x: 1 / np.sqrt(x),
      lambda F, g, x, out: F.mul_scalar(g, -0.5) * F.pow(out, 3), saves="o",
      sympy=lambda sp, x: 1 / sp.sqrt(x), derivative="-1/(2*x**(3/2))")
unary("reciprocal", "ReciprocalBackward0", np.reciprocal,
      lambda F, g, x, out: -g * (out * out), saves="o",
      sympy=lambda sp, x: 1 / x, derivative="-1/x**2")

# ---- trigonometric and hyperbolic ----------------------------------------------------

unary("sin", "SinBackward0", np.sin, lambda F, g, x, out: g * F.cos(x), saves="a",
      sympy=lambda sp, x: sp.sin(x), derivative="cos(x)")
unary("cos", "CosBackward0", np.cos, lambda F, g, x, out: g * -F.sin(x), saves="a",
      sympy=lambda sp, x: sp.cos(x), derivative="-sin(x)")
unary("tan", "TanBackward0", np.tan, lambda F, g, x, out: g * F.add_scalar(F.pow(out, 2), 1),
      saves="o",
      sympy=lambda sp, x: sp.tan(x), derivative="1 + tan(x)**2")
unary("asin", "AsinBackward0", np.arcsin,
      lambda F, g, x, out: g * F.rsqrt(F.add_scalar(-x * x, 1)), saves="a",
      sympy=lambda sp, x: sp.asin(x), derivative="1/sqrt(1 - x**2)")
unary("acos", "AcosBackward0", np.arccos,
      lambda F, g, x, out: g * -F.rsqrt(F.add_scalar(-x * x, 1)), saves="a",
      sympy=lambda sp, x: sp.acos(x), derivative="-1/sqrt(1 - x**2)")
unary("atan", "AtanBackward0", np.arctan, lambda F, g, x, out: g / F.add_scalar(x * x, 1),
      saves="a",
      sympy=lambda sp, x: sp.atan(x), derivative="1/(x**2 + 1)")
unary("sinh", "SinhBackward0", np.sinh, lambda F, g, x, out: g * F.cosh(x), saves="a",
      sympy=lambda sp, x: sp.sinh(x), derivative="cosh(x)")
unary("cosh", "CoshBackward0", np.cosh, lambda F, g, x, out: g * F.sinh(x), saves="a",
      sympy=lambda sp, x: sp.cosh(x), derivative="sinh(x)")
unary("tanh", "TanhBackward0", np.tanh, lambda F, g, x, out: F.tanh_backward(g, out), saves="o",
      sympy=lambda sp, x: sp.tanh(x), derivative="1 - tanh(x)**2")
unary("asinh", "AsinhBackward0", np.arcsinh,
      lambda F, g, x, out: g * F.rsqrt(F.add_scalar(F.pow(x, 2), 1)), saves="a",
      sympy=lambda sp, x: sp.asinh(x), derivative="1/sqrt(x**2 + 1)")

# ---- piecewise and special -----------------------------------------------------------

unary("abs", "AbsBackward0", lambda x: np.abs(_not_bool_abs(x)),
      lambda F, g, x, out: g * F.sgn(x), saves="a",
      sympy=lambda sp, x: sp.Abs(x), derivative="sign(x)", dtype_rule="promote",
      undefined=lambda x, out: where_any(x == 0, "abs has a kink at 0 (PyTorch uses 0)"))
unary("sign", "SignBackward0", _sign, lambda F, g, x, out: F.zeros_like(g), saves="",
      sympy=lambda sp, x: sp.sign(x), derivative="0", dtype_rule="promote",
      undefined=lambda x, out: where_any(x == 0, "sign jumps at 0 (PyTorch uses 0)"))
unary("erf", "ErfBackward0", _erf,
      lambda F, g, x, out: F.mul_scalar(F.exp(-F.pow(x, 2)), TWO_OVER_SQRT_PI) * g,
      saves="a",
      sympy=lambda sp, x: sp.erf(x), derivative="2*exp(-x**2)/sqrt(pi)")
unary("sigmoid", "SigmoidBackward0", lambda x: 1 / (1 + np.exp(-x)),
      lambda F, g, x, out: F.sigmoid_backward(g, out), saves="o",
      sympy=lambda sp, x: 1 / (1 + sp.exp(-x)), derivative="sigmoid(x)*(1 - sigmoid(x))")
unary("relu", "ReluBackward0", lambda x: np.maximum(_not_bool_relu(x), 0),
      lambda F, g, x, out: F.threshold_backward(g, out, 0), saves="o",
      sympy=lambda sp, x: sp.Max(x, 0), derivative="1 if x > 0 else 0", dtype_rule="promote",
      undefined=lambda x, out: where_any(x == 0, "relu has a kink at 0 (PyTorch uses 0)"))
unary("softplus", "SoftplusBackward0", _softplus, _softplus_vjp, saves="a",
      sympy=lambda sp, x: sp.log(1 + sp.exp(x)), derivative="sigmoid(x)")
unary("silu", "SiluBackward0", lambda x: x / (1 + np.exp(-x)), _silu_vjp, saves="a",
      sympy=lambda sp, x: x / (1 + sp.exp(-x)),
      derivative="sigmoid(x)*(1 + x*(1 - sigmoid(x)))")


def _clamp(x, min=None, max=None):
    if min is None and max is None:
        raise InputError("clamp: at least one of 'min' or 'max' must not be None")
    return np.clip(x, min, max)


def _clamp_mask(x, min, max):
    mask = np.ones(np.shape(x), dtype=bool)
    if min is not None:
        mask &= x >= min
    if max is not None:
        mask &= x <= max
    return mask


def _clamp_sympy(sp, x, min=None, max=None):
    if min is not None:
        x = sp.Max(x, min)
    return sp.Min(x, max) if max is not None else x


def _clamp_undefined(x, out, min=None, max=None):
    on_bound = np.zeros(np.shape(x), dtype=bool)
    for bound in (min, max):
        if bound is not None:
            on_bound |= x == bound
    return where_any(on_bound, "clamp has kinks at its bounds (PyTorch uses 1 there)")


register(name="clamp", grad_fn="ClampBackward1", forward=_clamp, saves="a",
         vjps=(lambda F, g, x, out, min=None, max=None:
               F.where(_clamp_mask(F.value(x), min, max), g, 0.0),),
         sympy=_clamp_sympy, elementwise=True, derivative=("1 if min <= x <= max else 0",),
         syntax="clamp(x, min=None, max=None)", undefined=_clamp_undefined)


def _tie_vjp(sign):
    """maximum/minimum: the side that wins gets g, a tie gives half to each side."""
    def vjp(F, g, a, b, out):
        av, bv = F.value(a), F.value(b)
        loses = (av < bv) if sign > 0 else (av > bv)
        return F.written(F.masked_fill(F.where(av == bv, F.div_scalar(g, 2), g), mask=loses,
                                       value=0))
    return vjp


def _swap(vjp):
    return lambda F, g, a, b, out: vjp(F, g, b, a, out)


for _name, _fn, _grad_fn, _sign, _sym in (
        ("maximum", np.maximum, "MaximumBackward0", 1, "Max"),
        ("minimum", np.minimum, "MinimumBackward0", -1, "Min")):
    register(name=_name, grad_fn=_grad_fn, forward=_fn, broadcasts=True, saves="ab",
             vjp_order=OTHER_FIRST,
             vjps=(_tie_vjp(_sign), _swap(_tie_vjp(_sign))),
             sympy=(lambda sym: lambda sp, a, b: getattr(sp, sym)(a, b))(_sym),
             elementwise=True, syntax=f"{_name}(a, b)",
             derivative=("1 where a wins, 1/2 on a tie", "1 where b wins, 1/2 on a tie"),
             undefined=lambda a, b, out: where_any(a == b, "a tie (PyTorch gives 1/2 to each)"))

def _atan2_vjps(F, g, a, b, out, wants):
    """PyTorch's atan2_backward: one reciprocal for both gradients (0 at the origin)."""
    bb = b * b
    den = a * a + bb
    recip = F.masked_fill(F.reciprocal(den), mask=F.value(den) == 0, value=0)
    return (g * b * recip if wants[0] else None,
            g * -a * recip if wants[1] else None)


register(name="atan2", grad_fn="Atan2Backward0", forward=np.arctan2, broadcasts=True,
         saves="ab", vjps=(None, None), joint=_atan2_vjps, vjp_order=OTHER_FIRST,
         sympy=lambda sp, a, b: sp.atan2(a, b), elementwise=True,
         derivative=("b/(a**2 + b**2)", "-a/(a**2 + b**2)"), syntax="atan2(a, b)",
         dtype_rule="float",
         undefined=lambda a, b, out: where_any((a == 0) & (b == 0),
                                               "atan2 has no derivative at (0, 0) "
                                               "(PyTorch uses 0)"))
register(name="hypot", grad_fn="HypotBackward0", forward=np.hypot, broadcasts=True,
         vjp_order=OTHER_FIRST,
         saves="abo", needs=("a", "b"),
         vjps=(lambda F, g, a, b, out: g * a / out, lambda F, g, a, b, out: g * b / out),
         sympy=lambda sp, a, b: sp.sqrt(a ** 2 + b ** 2), elementwise=True,
         derivative=("a/hypot(a, b)", "b/hypot(a, b)"), syntax="hypot(a, b)",
         dtype_rule="float",
         undefined=lambda a, b, out: where_any((a == 0) & (b == 0),
                                               "hypot has a kink at (0, 0)"))

# ---- used by VJPs ----------------------------------------------------------------------

register(name="where", grad_fn="WhereBackward0", internal=True, broadcasts=True,
         vjp_order=OTHER_FIRST,
         forward=lambda a, b, cond: np.where(cond, a, b),
         vjps=(lambda F, g, a, b, out, cond: F.where(cond, g, 0.0),
               lambda F, g, a, b, out, cond: F.where(cond, 0.0, g)),
         sympy=lambda sp, a, b, cond: a if cond else b, elementwise=True,
         syntax="where(mask, a, b)")

# ---- comparisons: bool results, never differentiated -----------------------------------

for _name, _fn, _sym in (("eq", np.equal, "=="), ("ne", np.not_equal, "!="),
                         ("lt", np.less, "<"), ("le", np.less_equal, "<="),
                         ("gt", np.greater, ">"), ("ge", np.greater_equal, ">=")):
    register(name=_name, grad_fn=f"{_name.capitalize()}Backward0", forward=_fn,
             broadcasts=True, vjps=(None, None), elementwise=True, dtype_rule="compare",
             syntax=f"a {_sym} b", derivative=("none (a bool result)",))
