"""SPEC 3.9's special functions: erfinv, lgamma, digamma, sinc (and polygamma, which
digamma's derivative records), with PyTorch's derivatives (derivatives.yaml):

* erfinv' = 0.5 sqrt(pi) exp(erfinv(x)**2) (it records erfinv again);
* lgamma' = digamma, digamma' = polygamma(1, x), polygamma(n)' = polygamma(n + 1);
* sinc(x) = sin(pi x)/(pi x), 1 at 0; sinc_backward's formula, 0 at x = 0.

The numerics are in :mod:`.gamma`.  lgamma and digamma have poles at 0 and the negative
integers (PyTorch: lgamma inf; digamma NaN, or -inf/inf at +0/-0); erfinv is NaN
outside [-1, 1].
"""

from __future__ import annotations

import math

import numpy as np

from . import gamma
from .core import register, where_any

HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _unary(name, grad_fn, forward, vjp, sympy, derivative, **fields):
    register(name, grad_fn, forward, (vjp,), params="input", group="elementwise",
             elementwise=True, dtype_rule="float", sympy=sympy, derivative=(derivative,),
             **fields)


def _poles(name):
    def undefined(x, out):
        return where_any((x <= 0) & (x == np.floor(x)),
                         f"{name} has a pole at 0 and at the negative integers")
    return undefined


_unary("erfinv", "ErfinvBackward0", gamma.erfinv,
       lambda F, g, x, out: F.mul_scalar(F.exp(F.pow(F.erfinv(x), 2)), HALF_SQRT_PI) * g,
       lambda sp, x: sp.erfinv(x), "sqrt(pi)*exp(erfinv(x)**2)/2",
       numeric={"erfinv": gamma.erfinv, "exp": np.exp}, domain_edges=True)


def _lgamma_sympy(sp, x):
    """log|Gamma(x)|: SymPy's loggamma is complex for x < 0."""
    return sp.Piecewise((sp.loggamma(x), x > 0), (sp.log(sp.Abs(sp.gamma(x))), True))


def _gamma(x):
    return np.asarray(np.frompyfunc(_gamma_scalar, 1, 1)(x), dtype=np.float64)


def _gamma_scalar(v):
    try:
        return math.gamma(v)
    except (ValueError, OverflowError):
        return math.nan if v <= 0 and v == math.floor(v) else math.copysign(math.inf, v)


def _polygamma_numeric(n, x):
    """SymPy's polygamma(n, x) for the formula compiler (n a whole number)."""
    n = np.asarray(n, dtype=np.float64)
    return np.vectorize(lambda k, v: float(gamma.polygamma(np.float64(v), int(k))),
                        otypes=[np.float64])(n, x)


GAMMA_NUMERIC = {"loggamma": gamma.lgamma, "polygamma": _polygamma_numeric,
                 "gamma": _gamma, "log": np.log, "Abs": np.abs, "sign": np.sign}

_unary("lgamma", "LgammaBackward0", gamma.lgamma,
       lambda F, g, x, out: g * F.digamma(x), _lgamma_sympy, "digamma(x)",
       numeric=GAMMA_NUMERIC, undefined=_poles("lgamma"), domain_edges=True)
_unary("digamma", "DigammaBackward0", gamma.digamma,
       lambda F, g, x, out: g * F.polygamma(x, n=1), lambda sp, x: sp.polygamma(0, x),
       "polygamma(x, 1)", numeric=GAMMA_NUMERIC, undefined=_poles("digamma"),
       domain_edges=True)
register("polygamma", "PolygammaBackward0", gamma.polygamma,
         (lambda F, g, x, out, n: g * F.polygamma(x, n=n + 1),), internal=True,
         params="input, n: int",
         elementwise=True, dtype_rule="float",
         sympy=lambda sp, x, n: sp.polygamma(n, x), numeric=GAMMA_NUMERIC,
         derivative=("polygamma(x, n + 1)",), undefined=_poles("polygamma"),
         syntax="polygamma(n, x)")


# ---- sinc --------------------------------------------------------------------------------

def _sinc(x):
    with np.errstate(invalid="ignore"):
        product = math.pi * x
        out = np.sin(product) / np.where(x == 0, 1.0, product)
    return np.where(x == 0, 1.0, out).astype(x.dtype, copy=False)


def _sinc_vjp(F, g, x, out):
    """PyTorch's sinc_backward: g * ((pi x cos(pi x) - sin(pi x)) / (pi x**2)), 0 at 0
    (where its second derivative is NaN, as PyTorch's)."""
    self_pi = F.mul_scalar(x, math.pi)
    squared_pi = F.mul_scalar(x * x, math.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        grad = g * ((self_pi * F.cos(self_pi) - F.sin(self_pi)) / squared_pi)
    return F.where(F.value(squared_pi) == 0, 0.0, grad)


def _sinc_sympy(sp, x):
    return sp.Piecewise((sp.sin(sp.pi * x) / (sp.pi * x), sp.Ne(x, 0)), (1, True))


_unary("sinc", "SincBackward0", _sinc, _sinc_vjp, _sinc_sympy,
       "(cos(pi*x) - sinc(x))/x", numeric={"sin": np.sin, "cos": np.cos})
