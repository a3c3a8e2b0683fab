"""Elementwise math: exponentials, logarithms, trigonometric and hyperbolic functions,
abs/sign/erf, and the two-input functions clamp, maximum, minimum, atan2, hypot.

VJP formulas follow PyTorch's derivatives.yaml (same order of operations where it
matters, same values at kinks: abs'(0)=0, sign'=0, clamp is 1 on its bounds,
maximum/minimum give half to each side of a tie, sqrt'(0)=inf).
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InputError
from . import float32 as f32
from .core import prose, register, where_any

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
OTHER_FIRST = (1, 0)
EXP_LOG = "exponentials and logarithms"
TRIG = "trigonometric"


def unary(name, grad_fn, forward, vjp, *, sympy, derivative, group, numeric=None,
          undefined=None, dtype_rule="float", api="torch method", domain_edges=False,
          forward_f32=None):
    """An elementwise function of one tensor; by default integer and bool inputs give
    the default float dtype (exp, sin, ...), ``dtype_rule="promote"`` keeps them."""
    return register(name, grad_fn, forward, (vjp,), params="input", group=group, api=api,
                    sympy=sympy, numeric=numeric, elementwise=True, derivative=(derivative,),
                    undefined=undefined, dtype_rule=dtype_rule, domain_edges=domain_edges,
                    forward_f32=forward_f32)


def _erf(x):
    # numpy has no erf; libm's (through math.erf) is correctly rounded to about 1 ulp.
    # (np.asarray: on a 0-d array frompyfunc returns a plain float, not an array)
    x = np.asarray(x)
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x),
                      dtype=x.dtype if x.dtype.kind == "f" else float)


def _bool_error(message):
    def check(x):
        if x.dtype == bool:
            raise InputError(message)
        return x
    return check


_not_bool_abs = _bool_error("\"abs_cpu\" not implemented for 'Bool'")


def _sign(x):
    return np.array(x, copy=True) if x.dtype == bool else np.sign(x)


def _diracdelta(x):
    return np.where(x == 0, np.nan, 0.0)


# ---- exponentials and logarithms -----------------------------------------------------

unary("exp", "ExpBackward0", np.exp, lambda F, g, x, out: g * out, group=EXP_LOG,
      sympy=lambda sp, x: sp.exp(x), numeric={"exp": np.exp}, derivative="exp(x)",
      forward_f32=f32.exp)
unary("exp2", "Exp2Backward0", np.exp2, lambda F, g, x, out: F.mul_scalar(g * out, LN2),
      group=EXP_LOG, sympy=lambda sp, x: 2 ** x, derivative="2**x*log(2)",
      forward_f32=f32.via64(np.exp2))
unary("expm1", "Expm1Backward0", np.expm1, lambda F, g, x, out: g * F.add_scalar(out, 1),
      group=EXP_LOG, sympy=lambda sp, x: sp.exp(x) - 1, derivative="exp(x)",
      forward_f32=f32.via64(np.expm1))
unary("log", "LogBackward0", np.log, lambda F, g, x, out: g / x, group=EXP_LOG,
      sympy=lambda sp, x: sp.log(x), numeric={"log": np.log}, derivative="1/x",
      domain_edges=True, forward_f32=f32.via64(np.log))
unary("log2", "Log2Backward0", np.log2, lambda F, g, x, out: g / F.mul_scalar(x, LN2),
      group=EXP_LOG, sympy=lambda sp, x: sp.log(x, 2), derivative="1/(x*log(2))",
      domain_edges=True, forward_f32=f32.via64(np.log2))
unary("log10", "Log10Backward0", np.log10, lambda F, g, x, out: g / F.mul_scalar(x, LN10),
      group=EXP_LOG, sympy=lambda sp, x: sp.log(x, 10), derivative="1/(x*log(10))",
      domain_edges=True, forward_f32=f32.via64(np.log10))
unary("log1p", "Log1PBackward0", np.log1p, lambda F, g, x, out: g / F.add_scalar(x, 1),
      group=EXP_LOG, sympy=lambda sp, x: sp.log(1 + x), derivative="1/(x + 1)",
      domain_edges=True, forward_f32=f32.via64(np.log1p))
unary("sqrt", "SqrtBackward0", np.sqrt, lambda F, g, x, out: g / F.mul_scalar(out, 2),
      group=EXP_LOG, sympy=lambda sp, x: sp.sqrt(x), derivative="1/(2*sqrt(x))",
      domain_edges=True)
unary("rsqrt", "RsqrtBackward0", lambda x: 1 / np.sqrt(x),
      lambda F, g, x, out: F.mul_scalar(g, -0.5) * F.pow(out, 3), group=EXP_LOG,
      sympy=lambda sp, x: 1 / sp.sqrt(x), derivative="-1/(2*x**(3/2))", domain_edges=True)
unary("reciprocal", "ReciprocalBackward0", np.reciprocal,
      lambda F, g, x, out: -g * (out * out), group=EXP_LOG,
      sympy=lambda sp, x: 1 / x, derivative="-1/x**2", domain_edges=True)

# ---- trigonometric and hyperbolic ----------------------------------------------------

unary("sin", "SinBackward0", np.sin, lambda F, g, x, out: g * F.cos(x), group=TRIG,
      sympy=lambda sp, x: sp.sin(x), numeric={"sin": np.sin}, derivative="cos(x)",
      forward_f32=f32.via64(np.sin))
unary("cos", "CosBackward0", np.cos, lambda F, g, x, out: g * -F.sin(x), group=TRIG,
      sympy=lambda sp, x: sp.cos(x), numeric={"cos": np.cos}, derivative="-sin(x)",
      forward_f32=f32.via64(np.cos))
unary("tan", "TanBackward0", np.tan, lambda F, g, x, out: g * F.add_scalar(F.pow(out, 2), 1),
      group=TRIG, sympy=lambda sp, x: sp.tan(x), numeric={"tan": np.tan},
      derivative="1 + tan(x)**2")
unary("asin", "AsinBackward0", np.arcsin,
      lambda F, g, x, out: g * F.rsqrt(F.add_scalar(-x * x, 1)), group=TRIG,
      sympy=lambda sp, x: sp.asin(x), numeric={"asin": np.arcsin},
      derivative="1/sqrt(1 - x**2)", domain_edges=True, forward_f32=f32.via64(np.arcsin))
unary("acos", "AcosBackward0", np.arccos,
      lambda F, g, x, out: g * -F.rsqrt(F.add_scalar(-x * x, 1)), group=TRIG,
      sympy=lambda sp, x: sp.acos(x), numeric={"acos": np.arccos},
      derivative="-1/sqrt(1 - x**2)", domain_edges=True)
unary("atan", "AtanBackward0", np.arctan, lambda F, g, x, out: g / F.add_scalar(x * x, 1),
      group=TRIG, sympy=lambda sp, x: sp.atan(x), numeric={"atan": np.arctan},
      derivative="1/(x**2 + 1)")
unary("sinh", "SinhBackward0", np.sinh, lambda F, g, x, out: g * F.cosh(x), group=TRIG,
      sympy=lambda sp, x: sp.sinh(x), numeric={"sinh": np.sinh}, derivative="cosh(x)",
      forward_f32=f32.via64(np.sinh))
unary("cosh", "CoshBackward0", np.cosh, lambda F, g, x, out: g * F.sinh(x), group=TRIG,
      sympy=lambda sp, x: sp.cosh(x), numeric={"cosh": np.cosh}, derivative="sinh(x)",
      forward_f32=f32.via64(np.cosh))
unary("tanh", "TanhBackward0", np.tanh, lambda F, g, x, out: F.tanh_backward(g, out),
      group=TRIG, sympy=lambda sp, x: sp.tanh(x), numeric={"tanh": np.tanh},
      derivative="1 - tanh(x)**2", forward_f32=f32.via64(np.tanh))
unary("asinh", "AsinhBackward0", np.arcsinh,
      lambda F, g, x, out: g * F.rsqrt(F.add_scalar(F.pow(x, 2), 1)), group=TRIG,
      sympy=lambda sp, x: sp.asinh(x), numeric={"asinh": np.arcsinh},
      derivative="1/sqrt(x**2 + 1)")

# ---- abs, sign, erf --------------------------------------------------------------------

unary("abs", "AbsBackward0", lambda x: np.abs(_not_bool_abs(x)),
      lambda F, g, x, out: g * F.sgn(x), group="elementwise",
      sympy=lambda sp, x: sp.Abs(x), numeric={"Abs": np.abs, "sign": np.sign},
      derivative="sign(x)", dtype_rule="promote",
      undefined=lambda x, out: where_any(x == 0, "abs has a kink at 0 (PyTorch uses 0)"))
unary("sign", "SignBackward0", _sign, lambda F, g, x, out: F.zeros_like(g),
      group="elementwise", sympy=lambda sp, x: sp.sign(x),
      numeric={"sign": np.sign, "DiracDelta": _diracdelta},
      derivative="0", dtype_rule="promote",
      undefined=lambda x, out: where_any(x == 0, "sign jumps at 0 (PyTorch uses 0)"))
unary("erf", "ErfBackward0", _erf,
      lambda F, g, x, out: F.mul_scalar(F.exp(-F.pow(x, 2)), TWO_OVER_SQRT_PI) * g,
      group="elementwise", sympy=lambda sp, x: sp.erf(x),
      numeric={"erf": _erf, "exp": np.exp}, derivative="2*exp(-x**2)/sqrt(pi)")


# ---- clamp, maximum, minimum, atan2, hypot ------------------------------------------------

def _clamp(x, min, max):
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


def _clamp_sympy(sp, x, min, max):
    if min is not None:
        x = sp.Max(x, min)
    return sp.Min(x, max) if max is not None else x


def _clamp_undefined(x, out, min, max):
    on_bound = np.zeros(np.shape(x), dtype=bool)
    for bound in (min, max):
        if bound is not None:
            on_bound |= x == bound
    return where_any(on_bound, "clamp has kinks at its bounds (PyTorch uses 1 there)")


def _heaviside(x):
    return np.heaviside(x, 0.5)


def _max(*xs):
    return np.maximum.reduce(np.broadcast_arrays(*xs)) if len(xs) > 1 else xs[0]


def _min(*xs):
    return np.minimum.reduce(np.broadcast_arrays(*xs)) if len(xs) > 1 else xs[0]


MAX_MIN = {"Max": _max, "Min": _min, "Heaviside": _heaviside, "DiracDelta": _diracdelta}

register("clamp", "ClampBackward1", _clamp,
         (lambda F, g, x, out, min, max: F.where(_clamp_mask(F.value(x), min, max), g, 0.0),),
         params="input, min: number? = None, max: number? = None", group="elementwise",
         function="functional:clamp", sympy=_clamp_sympy, numeric=MAX_MIN, elementwise=True,
         derivative=("1 if min <= x <= max else 0",), undefined=_clamp_undefined)


def _tie_vjp(sign):
    """maximum/minimum: the side that wins gets g, a tie gives half to each side."""
    def vjp(F, g, a, b, out):
        av, bv = F.value(a), F.value(b)
        loses = (av < bv) if sign > 0 else (av > bv)
        return F.written(F.masked_fill(F.where(av == bv, F.div_scalar(g, 2), g), mask=loses,
                                       value=0))
    return vjp


def _swap(vjp):
    # (out is not passed on: a VJP that hands ``out`` to another function reads it, as
    # far as .reads can tell, and its node would save it)
    return lambda F, g, a, b, out: vjp(F, g, b, a, None)


for _name, _fn, _grad_fn, _sign, _sym in (
        ("maximum", np.maximum, "MaximumBackward0", 1, "Max"),
        ("minimum", np.minimum, "MinimumBackward0", -1, "Min")):
    register(_name, _grad_fn, _fn, (_tie_vjp(_sign), _swap(_tie_vjp(_sign))),
             params="input, other", group="elementwise", broadcasts=True,
             vjp_order=OTHER_FIRST, elementwise=True, numeric=MAX_MIN,
             sympy=(lambda sym: lambda sp, a, b: getattr(sp, sym)(a, b))(_sym),
             derivative=(prose("1 where a wins, 1/2 on a tie"),
                         prose("1 where b wins, 1/2 on a tie")),
             undefined=lambda a, b, out: where_any(a == b, "a tie (PyTorch gives 1/2 to each)"))


def _atan2_vjps(F, g, a, b, out, wants):
    """PyTorch's atan2_backward: one reciprocal for both gradients (0 at the origin)."""
    bb = b * b
    den = a * a + bb
    recip = F.masked_fill(F.reciprocal(den), mask=F.value(den) == 0, value=0)
    return (g * b * recip if wants[0] else None,
            g * -a * recip if wants[1] else None)


register("atan2", "Atan2Backward0", np.arctan2, (None, None), joint=_atan2_vjps,
         params="input, other", group=TRIG, broadcasts=True, vjp_order=OTHER_FIRST,
         sympy=lambda sp, a, b: sp.atan2(a, b), numeric={"atan2": np.arctan2},
         elementwise=True, derivative=("b/(a**2 + b**2)", "-a/(a**2 + b**2)"),
         dtype_rule="float",
         undefined=lambda a, b, out: where_any((a == 0) & (b == 0),
                                               "atan2 has no derivative at (0, 0) "
                                               "(PyTorch uses 0)"),
                                               forward_f32=f32.via64(np.arctan2))
register("hypot", "HypotBackward0", np.hypot,
         (lambda F, g, a, b, out: g * a / out, lambda F, g, a, b, out: g * b / out),
         params="input, other", group="elementwise", broadcasts=True,
         vjp_order=OTHER_FIRST, elementwise=True,
         sympy=lambda sp, a, b: sp.sqrt(a ** 2 + b ** 2),
         derivative=("a/hypot(a, b)", "b/hypot(a, b)"), dtype_rule="float",
         undefined=lambda a, b, out: where_any((a == 0) & (b == 0),
                                               "hypot has a kink at (0, 0)"))
