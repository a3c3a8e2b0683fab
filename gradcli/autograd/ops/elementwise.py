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

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def unary(name, grad_fn, forward, vjp, *, saves, sympy, derivative, undefined=None):
    return register(name=name, grad_fn=grad_fn, forward=forward, vjps=(vjp,), saves=saves,
                    sympy=sympy, elementwise=True, derivative=(derivative,),
                    syntax=f"{name}(x)", undefined=undefined)


def _erf(x):
    # numpy has no erf; libm's (through math.erf) is correctly rounded to about 1 ulp.
    # (np.asarray: on a 0-d array frompyfunc returns a plain float, not an array)
    x = np.asarray(x)
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x),
                      dtype=x.dtype if x.dtype.kind == "f" else float)


def _softplus(x):
    # PyTorch (beta=1, threshold=20): x itself above the threshold, log1p(exp(x)) below.
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


def _softplus_vjp(F, g, x, out):
    z = F.exp(F.clamp(x, max=20.0))
    return F.where(F.value(x) > 20, g, g * z / (z + 1))


def _silu_vjp(F, g, x, out):
    s = F.sigmoid(x)
    return g * s * (1 + x * (1 - s))


# ---- arithmetic ----------------------------------------------------------------------

register(name="add", grad_fn="AddBackward0", forward=np.add, broadcasts=True,
         vjps=(lambda F, g, a, b, out: g, lambda F, g, a, b, out: g),
         sympy=lambda sp, a, b: a + b, elementwise=True, derivative=("1", "1"),
         syntax="a + b")
register(name="sub", grad_fn="SubBackward0", forward=np.subtract, broadcasts=True,
         vjps=(lambda F, g, a, b, out: g, lambda F, g, a, b, out: -g),
         sympy=lambda sp, a, b: a - b, elementwise=True, derivative=("1", "-1"),
         syntax="a - b")
register(name="rsub", grad_fn="RsubBackward1", forward=lambda x, c: c - x,
         vjps=(lambda F, g, x, c, out: -g, None),
         sympy=lambda sp, x, c: c - x, elementwise=True, derivative=("-1",),
         syntax="NUMBER - t")
register(name="mul", grad_fn="MulBackward0", forward=np.multiply, broadcasts=True, saves="ab",
         needs=("b", "a"),
         vjps=(lambda F, g, a, b, out: g * b, lambda F, g, a, b, out: g * a),
         sympy=lambda sp, a, b: a * b, elementwise=True, derivative=("b", "a"),
         syntax="a * b")
register(name="div", grad_fn="DivBackward0", forward=np.true_divide, broadcasts=True,
         saves="ab", needs=("b", "ab"),
         vjps=(lambda F, g, a, b, out: g / b, lambda F, g, a, b, out: -g * ((a / b) / b)),
         sympy=lambda sp, a, b: a / b, elementwise=True, derivative=("1/b", "-a/b**2"),
         syntax="a / b")
register(name="neg", grad_fn="NegBackward0", forward=np.negative,
         vjps=(lambda F, g, x, out: -g,),
         sympy=lambda sp, x: -x, elementwise=True, derivative=("-1",), syntax="-x")

# ---- powers --------------------------------------------------------------------------

register(name="pow", grad_fn="PowBackward0", forward=np.power, saves="a",
         vjps=(lambda F, g, x, n, out: F.zeros_like(g) if n == 0 else g * (n * x ** (n - 1)),
               None),
         sympy=lambda sp, x, n: x ** n, elementwise=True, derivative=("n*x**(n - 1)",),
         syntax="x ** NUMBER, x ^ NUMBER")


def _pow_exponent_vjp(F, g, a, b, out):
    av, bv = F.value(a), F.value(b)
    return F.where((av == 0) & (bv >= 0), 0.0, g * (out * F.log(a)))


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
    return np.power(a, b).reshape(shape)


register(name="pow_tensor", grad_fn="PowBackward1", forward=_power_of_tensors,
         broadcasts=True, saves="abo",
         vjps=(lambda F, g, a, b, out: F.where(F.value(b) == 0, 0.0,
                                               g * (b * F.pow_tensor(a, b - 1))),
               _pow_exponent_vjp),
         sympy=lambda sp, a, b: a ** b, elementwise=True,
         derivative=("b*a**(b - 1)", "a**b*log(a)"), syntax="a ** b (both tensors)")


def _pow_base_vjp(F, g, c, x, out):
    log_c = math.log(c) if c > 0 else (-math.inf if c == 0 else math.nan)
    grad = g * (out * log_c)
    return F.where(F.value(x) >= 0, 0.0, grad) if c == 0 else grad


register(name="pow_base", grad_fn="PowBackward2", forward=np.power, saves="bo",
         vjps=(None, _pow_base_vjp),
         sympy=lambda sp, c, x: c ** x, elementwise=True, derivative=(None, "c**x*log(c)"),
         syntax="NUMBER ** x")
unary("square", "PowBackward0", np.square, lambda F, g, x, out: g * (2 * x), saves="a",
      sympy=lambda sp, x: x ** 2, derivative="2*x")

# ---- exponentials and logarithms -----------------------------------------------------

unary("exp", "ExpBackward0", np.exp, lambda F, g, x, out: g * out, saves="o",
      sympy=lambda sp, x: sp.exp(x), derivative="exp(x)")
unary("exp2", "Exp2Backward0", np.exp2, lambda F, g, x, out: g * out * LN2, saves="o",
      sympy=lambda sp, x: 2 ** x, derivative="2**x*log(2)")
unary("expm1", "Expm1Backward0", np.expm1, lambda F, g, x, out: g * (out + 1), saves="o",
      sympy=lambda sp, x: sp.exp(x) - 1, derivative="exp(x)")
unary("log", "LogBackward0", np.log, lambda F, g, x, out: g / x, saves="a",
      sympy=lambda sp, x: sp.log(x), derivative="1/x")
unary("log2", "Log2Backward0", np.log2, lambda F, g, x, out: g / (x * LN2), saves="a",
      sympy=lambda sp, x: sp.log(x, 2), derivative="1/(x*log(2))")
unary("log10", "Log10Backward0", np.log10, lambda F, g, x, out: g / (x * LN10), saves="a",
      sympy=lambda sp, x: sp.log(x, 10), derivative="1/(x*log(10))")
unary("log1p", "Log1PBackward0", np.log1p, lambda F, g, x, out: g / (x + 1), saves="a",
      sympy=lambda sp, x: sp.log(1 + x), derivative="1/(x + 1)")
unary("sqrt", "SqrtBackward0", np.sqrt, lambda F, g, x, out: g / (2 * out), saves="o",
      sympy=lambda sp, x: sp.sqrt(x), derivative="1/(2*sqrt(x))")
unary("rsqrt", "RsqrtBackward0", lambda x: 1 / np.sqrt(x),
      lambda F, g, x, out: -0.5 * g * out ** 3, saves="o",
      sympy=lambda sp, x: 1 / sp.sqrt(x), derivative="-1/(2*x**(3/2))")
unary("reciprocal", "ReciprocalBackward0", np.reciprocal,
      lambda F, g, x, out: -g * (out * out), saves="o",
      sympy=lambda sp, x: 1 / x, derivative="-1/x**2")

# ---- trigonometric and hyperbolic ----------------------------------------------------

unary("sin", "SinBackward0", np.sin, lambda F, g, x, out: g * F.cos(x), saves="a",
      sympy=lambda sp, x: sp.sin(x), derivative="cos(x)")
unary("cos", "CosBackward0", np.cos, lambda F, g, x, out: g * -F.sin(x), saves="a",
      sympy=lambda sp, x: sp.cos(x), derivative="-sin(x)")
unary("tan", "TanBackward0", np.tan, lambda F, g, x, out: g * (1 + out * out), saves="o",
      sympy=lambda sp, x: sp.tan(x), derivative="1 + tan(x)**2")
unary("asin", "AsinBackward0", np.arcsin,
      lambda F, g, x, out: g / F.sqrt(1 - x * x), saves="a",
      sympy=lambda sp, x: sp.asin(x), derivative="1/sqrt(1 - x**2)")
unary("acos", "AcosBackward0", np.arccos,
      lambda F, g, x, out: -g / F.sqrt(1 - x * x), saves="a",
      sympy=lambda sp, x: sp.acos(x), derivative="-1/sqrt(1 - x**2)")
unary("atan", "AtanBackward0", np.arctan, lambda F, g, x, out: g / (x * x + 1), saves="a",
      sympy=lambda sp, x: sp.atan(x), derivative="1/(x**2 + 1)")
unary("sinh", "SinhBackward0", np.sinh, lambda F, g, x, out: g * F.cosh(x), saves="a",
      sympy=lambda sp, x: sp.sinh(x), derivative="cosh(x)")
unary("cosh", "CoshBackward0", np.cosh, lambda F, g, x, out: g * F.sinh(x), saves="a",
      sympy=lambda sp, x: sp.cosh(x), derivative="sinh(x)")
unary("tanh", "TanhBackward0", np.tanh, lambda F, g, x, out: g * (1 - out * out), saves="o",
      sympy=lambda sp, x: sp.tanh(x), derivative="1 - tanh(x)**2")
unary("asinh", "AsinhBackward0", np.arcsinh,
      lambda F, g, x, out: g / F.sqrt(x * x + 1), saves="a",
      sympy=lambda sp, x: sp.asinh(x), derivative="1/sqrt(x**2 + 1)")

# ---- piecewise and special -----------------------------------------------------------

unary("abs", "AbsBackward0", np.abs, lambda F, g, x, out: g * F.sign(x), saves="a",
      sympy=lambda sp, x: sp.Abs(x), derivative="sign(x)",
      undefined=lambda x, out: where_any(x == 0, "abs has a kink at 0 (PyTorch uses 0)"))
unary("sign", "SignBackward0", np.sign, lambda F, g, x, out: F.zeros_like(g), saves="",
      sympy=lambda sp, x: sp.sign(x), derivative="0",
      undefined=lambda x, out: where_any(x == 0, "sign jumps at 0 (PyTorch uses 0)"))
unary("erf", "ErfBackward0", _erf,
      lambda F, g, x, out: TWO_OVER_SQRT_PI * F.exp(-(x * x)) * g, saves="a",
      sympy=lambda sp, x: sp.erf(x), derivative="2*exp(-x**2)/sqrt(pi)")
unary("sigmoid", "SigmoidBackward0", lambda x: 1 / (1 + np.exp(-x)),
      lambda F, g, x, out: g * (1 - out) * out, saves="o",
      sympy=lambda sp, x: 1 / (1 + sp.exp(-x)), derivative="sigmoid(x)*(1 - sigmoid(x))")
unary("relu", "ReluBackward0", lambda x: np.maximum(x, 0),
      lambda F, g, x, out: F.where(F.value(out) > 0, g, 0.0), saves="o",
      sympy=lambda sp, x: sp.Max(x, 0), derivative="1 if x > 0 else 0",
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
        return F.where(loses, 0.0, F.where(av == bv, g / 2, g))
    return vjp


def _swap(vjp):
    return lambda F, g, a, b, out: vjp(F, g, b, a, out)


for _name, _fn, _grad_fn, _sign, _sym in (
        ("maximum", np.maximum, "MaximumBackward0", 1, "Max"),
        ("minimum", np.minimum, "MinimumBackward0", -1, "Min")):
    register(name=_name, grad_fn=_grad_fn, forward=_fn, broadcasts=True, saves="ab",
             vjps=(_tie_vjp(_sign), _swap(_tie_vjp(_sign))),
             sympy=(lambda sym: lambda sp, a, b: getattr(sp, sym)(a, b))(_sym),
             elementwise=True, syntax=f"{_name}(a, b)",
             derivative=("1 where a wins, 1/2 on a tie", "1 where b wins, 1/2 on a tie"),
             undefined=lambda a, b, out: where_any(a == b, "a tie (PyTorch gives 1/2 to each)"))

def _atan2_recip(F, a, b):
    """1/(a**2 + b**2), 0 at the origin (as PyTorch: both gradients of atan2(0, 0) are 0)."""
    den = a * a + b * b
    return F.where(F.value(den) == 0, 0.0, F.reciprocal(den))


register(name="atan2", grad_fn="Atan2Backward0", forward=np.arctan2, broadcasts=True,
         saves="ab",
         vjps=(lambda F, g, a, b, out: g * b * _atan2_recip(F, a, b),
               lambda F, g, a, b, out: g * -a * _atan2_recip(F, a, b)),
         sympy=lambda sp, a, b: sp.atan2(a, b), elementwise=True,
         derivative=("b/(a**2 + b**2)", "-a/(a**2 + b**2)"), syntax="atan2(a, b)",
         undefined=lambda a, b, out: where_any((a == 0) & (b == 0),
                                               "atan2 has no derivative at (0, 0) "
                                               "(PyTorch uses 0)"))
register(name="hypot", grad_fn="HypotBackward0", forward=np.hypot, broadcasts=True,
         saves="abo", needs=("a", "b"),
         vjps=(lambda F, g, a, b, out: g * a / out, lambda F, g, a, b, out: g * b / out),
         sympy=lambda sp, a, b: sp.sqrt(a ** 2 + b ** 2), elementwise=True,
         derivative=("a/hypot(a, b)", "b/hypot(a, b)"), syntax="hypot(a, b)",
         undefined=lambda a, b, out: where_any((a == 0) & (b == 0),
                                               "hypot has a kink at (0, 0)"))

# ---- used by VJPs ----------------------------------------------------------------------

register(name="where", grad_fn="WhereBackward0", internal=True, broadcasts=True,
         forward=lambda cond, a, b: np.where(cond, a, b),
         vjps=(None,
               lambda F, g, c, a, b, out: F.where(c, g, 0.0),
               lambda F, g, c, a, b, out: F.where(c, 0.0, g)),
         sympy=lambda sp, c, a, b: a if c else b, elementwise=True,
         syntax="where(mask, a, b)")
