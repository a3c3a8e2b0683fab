"""SPEC 3.9's further elementwise functions: atanh, acosh, erfc, logit, xlogy, logaddexp,
clamp_min, clamp_max -- forwards and gradients as PyTorch's kernels and
derivatives.yaml compute them (values at the edges included: logit's NaN outside
[0, 1], xlogy's 0 at x = 0)."""

from __future__ import annotations

import math

import numpy as np

from .core import exact, register, where_any
from .elementwise import EXP_LOG, MAX_MIN, TRIG

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erfc(x):
    x = np.asarray(x)
    return np.asarray(np.frompyfunc(math.erfc, 1, 1)(x),
                      dtype=x.dtype if x.dtype.kind == "f" else float)


def _unary(name, grad_fn, forward, vjp, group, sympy, derivative, **fields):
    register(name, grad_fn, forward, (vjp,), params=fields.pop("params", "input"),
             group=group, api=fields.pop("api", "torch method"), elementwise=True,
             dtype_rule="float", sympy=sympy, derivative=(derivative,), **fields)


_unary("atanh", "AtanhBackward0", np.arctanh,
       lambda F, g, x, out: g / F.add_scalar(-F.pow(x, 2), 1), TRIG,
       lambda sp, x: sp.atanh(x), "1/(1 - x**2)", numeric={"atanh": np.arctanh},
       domain_edges=True)
_unary("acosh", "AcoshBackward0", np.arccosh,
       lambda F, g, x, out: g * F.rsqrt(F.sub_scalar(F.pow(x, 2), 1)), TRIG,
       lambda sp, x: sp.acosh(x), "1/sqrt(x**2 - 1)", numeric={"acosh": np.arccosh},
       domain_edges=True)
_unary("erfc", "ErfcBackward0", _erfc,
       lambda F, g, x, out: F.mul_scalar(F.exp(-F.pow(x, 2)), -TWO_OVER_SQRT_PI) * g,
       "elementwise", lambda sp, x: sp.erfc(x), "-2*exp(-x**2)/sqrt(pi)",
       numeric={"erfc": _erfc})


def _logit(x, eps):
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _logit_vjp(F, g, x, out, eps):
    """PyTorch's logit_backward: NaN outside [0, 1] (no eps), 0 outside [eps, 1-eps]."""
    xv = F.value(x)
    grad = g / (x * F.add_scalar(-x, 1))
    if eps is None:
        return F.where((xv < 0) | (xv > 1), math.nan, grad)
    return F.where((xv < eps) | (xv > 1 - eps), 0.0, grad)


def _logit_sympy(sp, x, eps):
    if eps is not None:
        x = sp.Min(sp.Max(x, exact(sp, eps)), 1 - exact(sp, eps))
    return sp.log(x / (1 - x))


_unary("logit", "LogitBackward0", _logit, _logit_vjp, EXP_LOG, _logit_sympy,
       "1/(x*(1 - x))", params="input, eps: number? = None",
       numeric={"log": np.log, **MAX_MIN}, domain_edges=True,
       undefined=lambda x, out, eps: None if eps is None else where_any(
           (x == eps) | (x == 1 - eps), "logit is clamped from eps on (a kink there)"))


def _xlogy(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(x == 0, 0.0, x * np.log(y))
    return np.where(np.isnan(y), np.nan, out).astype(np.result_type(x, y, 1.0))


def _xlogy_self_vjp(F, g, x, y, out):
    """grad * xlogy(self != 0, other)"""
    nonzero = F.const((F.value(x) != 0).astype(F.value(g).dtype))
    return g * F.xlogy(nonzero, y)


register("xlogy", "XlogyBackward0", _xlogy,
         (_xlogy_self_vjp, lambda F, g, x, y, out: g * x / y),
         params="input, other", group=EXP_LOG, broadcasts=True, elementwise=True,
         dtype_rule="float", vjp_order=(1, 0), sympy=lambda sp, x, y: x * sp.log(y),
         numeric={"log": np.log}, derivative=("log(y)", "x/y"), domain_edges=True,
         undefined=lambda x, y, out: where_any(x == 0, "xlogy at x = 0 (PyTorch: 0)"))


def _log_add(exp, ln_base: float):
    """log_base(base**a + base**b), stably: logaddexp (e) and logaddexp2 (2)."""
    def forward(a, b):
        m = np.maximum(a, b)
        with np.errstate(invalid="ignore"):
            out = m + np.log1p(exp(-np.abs(a - b))) / ln_base
        return np.where(np.isinf(a) & (a == b), a, out)
    return forward


register("logaddexp", "LogaddexpBackward0", _log_add(np.exp, 1.0),
         (lambda F, g, a, b, out: g / F.add_scalar(F.exp(b - a), 1),
          lambda F, g, a, b, out: g / F.add_scalar(F.exp(a - b), 1)),
         params="input, other", group=EXP_LOG, broadcasts=True, elementwise=True,
         dtype_rule="float", vjp_order=(1, 0),
         sympy=lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b)), numeric={"exp": np.exp},
         derivative=("1/(1 + exp(b - a))", "1/(1 + exp(a - b))"))
register("logaddexp2", "Logaddexp2Backward0", _log_add(np.exp2, math.log(2.0)),
         (lambda F, g, a, b, out: g / F.add_scalar(F.exp2(b - a), 1),
          lambda F, g, a, b, out: g / F.add_scalar(F.exp2(a - b), 1)),
         params="input, other", group=EXP_LOG, broadcasts=True, elementwise=True,
         dtype_rule="float", vjp_order=(1, 0),
         sympy=lambda sp, a, b: sp.log(2 ** a + 2 ** b, 2),
         derivative=("1/(1 + 2**(b - a))", "1/(1 + 2**(a - b))"))

register("clamp_min", "ClampMinBackward0", lambda x, min: np.maximum(x, min),
         (lambda F, g, x, out, min: F.where(F.value(x) >= min, g, 0.0),),
         params="input, min: number", group="elementwise", elementwise=True,
         sympy=lambda sp, x, min: sp.Max(x, exact(sp, min)), numeric=MAX_MIN,
         derivative=("1 if x >= min else 0",),
         undefined=lambda x, out, min: where_any(x == min, "clamp_min has a kink at min "
                                                           "(PyTorch uses 1)"))
register("clamp_max", "ClampMaxBackward0", lambda x, max: np.minimum(x, max),
         (lambda F, g, x, out, max: F.where(F.value(x) <= max, g, 0.0),),
         params="input, max: number", group="elementwise", elementwise=True,
         sympy=lambda sp, x, max: sp.Min(x, exact(sp, max)), numeric=MAX_MIN,
         derivative=("1 if x <= max else 0",),
         undefined=lambda x, out, max: where_any(x == max, "clamp_max has a kink at max "
                                                           "(PyTorch uses 1)"))
