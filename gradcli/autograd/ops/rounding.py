"""Rounding and remainders: floor, ceil, trunc, round (decimals), frac, fmod, remainder.

Gradients are PyTorch's (derivatives.yaml): 0 for the rounding functions (zeros, no
graph), 1 for frac, and for fmod/remainder 1 for the dividend and
``-g * div(a, b, rounding_mode)`` for a tensor divisor (trunc for fmod, floor for
remainder: NegBackward0, DivBackward2).  Where a result jumps (an integer for floor,
a half for round, a/b an integer for fmod and remainder) the derivative is undefined and
the check says skipped.  Integers keep their dtype (bools are PyTorch's error).

SymPy writes them with floor only (ceil(x) = -floor(-x), trunc by sign; round is
floor(x + 1/2), exact away from the halves, where it jumps): the check's chain rule
knows floor is flat.
"""

from __future__ import annotations

import numpy as np

from ...errors import AutogradError, InputError
from .core import REGISTRY, exact, prose, register, where_any

ELEM = "elementwise"
FLOOR = {"floor": np.floor}


def _not_for_bool(kernel: str, fn):
    """PyTorch has no bool kernel for these: its error, else ``fn``."""
    def forward(x, *args, **params):
        if np.asarray(x).dtype == bool:
            raise InputError(f"\"{kernel}\" not implemented for 'Bool'",
                             python_type="NotImplementedError")
        return fn(x, *args, **params)
    return forward


def _keep_ints(fn):
    """Integers are already whole: a copy (PyTorch returns them unchanged)."""
    return lambda x: np.array(x, copy=True) if x.dtype.kind in "iu" else fn(x)


def _trunc_sympy(sp, u):
    return sp.Piecewise((sp.floor(u), u >= 0), (-sp.floor(-u), True))


def _at_integers(name):
    def undefined(x, out):
        return where_any(np.isfinite(x) & (x == np.floor(x)),
                         f"{name} jumps at the integers (PyTorch's gradient: 0)")
    return undefined


def _rounding(name, grad_fn, fn, sympy, kernel=None, **fields):
    fields.setdefault("params", "input")
    register(name, grad_fn, _not_for_bool(kernel or f"{name}_vml_cpu", _keep_ints(fn)),
             (lambda F, g, x, out: F.zeros_like(g),), group=ELEM,
             elementwise=True, sympy=sympy, numeric=FLOOR, derivative=("0",),
             dtype_rule="keep", **fields)


_rounding("floor", "FloorBackward0", np.floor, lambda sp, x: sp.floor(x),
          undefined=_at_integers("floor"))
_rounding("ceil", "CeilBackward0", np.ceil, lambda sp, x: -sp.floor(-x),
          undefined=_at_integers("ceil"))
_rounding("trunc", "TruncBackward0", np.trunc, _trunc_sympy,
          undefined=_at_integers("trunc"))


# ---- round: half to even; with decimals, PyTorch's scaling ------------------------------

def _round_decimals(x, decimals):
    """PyTorch's: nearbyint(x * 10**d) / 10**d, or for d < 0 nearbyint(x / 10**-d) *
    10**-d (the power exact in floating point; inf past the range: NaN results)."""
    with np.errstate(over="ignore", invalid="ignore"):
        scale = x.dtype.type(np.power(10.0, float(abs(decimals))))
        if decimals >= 0:
            return np.rint(x * scale) / scale
        return np.rint(x / scale) * scale


def _round_sympy(sp, x, decimals=0):
    if abs(decimals) > 400:           # past float's range: PyTorch's NaN (not 10**huge)
        return sp.nan
    scale = sp.Integer(10) ** decimals
    return sp.floor(x * scale + sp.Rational(1, 2)) / scale


def _at_halves(x, out, decimals=0):
    with np.errstate(over="ignore", invalid="ignore"):
        scale = np.power(10.0, float(abs(decimals)))
        scaled = x * scale if decimals >= 0 else x / scale
        return where_any(np.isfinite(scaled) & (scaled - np.floor(scaled) == 0.5),
                         "round jumps at the halves (PyTorch's gradient: 0)")


def round(input, decimals=None):  # noqa: A001 - PyTorch's name
    """round(x) (RoundBackward0), or round(x, decimals=d) (RoundBackward1, even for
    d = 0, as PyTorch picks its overload by the keyword)."""
    from ..function import apply
    from ..signatures import as_tensor
    x = as_tensor(input)
    if decimals is None:
        return apply(REGISTRY["round"], x)
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise InputError(f"round(): argument 'decimals' must be int, not "
                         f"{type(decimals).__name__}", python_type="TypeError")
    if not -2 ** 63 <= decimals < 2 ** 63:
        raise InputError("Overflow when unpacking long long", python_type="ValueError")
    return apply(REGISTRY["round_decimals"], x, decimals=int(decimals))


_rounding("round", "RoundBackward0", np.rint, _round_sympy, undefined=_at_halves,
          params="input, decimals: int? = None", function=round,
          records=("RoundBackward1",))
register("round_decimals", "RoundBackward1", _not_for_bool("round_cpu", _round_decimals),
         (lambda F, g, x, out, decimals: F.zeros_like(g),), internal=True, shown_as="round",
         elementwise=True, sympy=_round_sympy, numeric=FLOOR, derivative=("0",),
         dtype_rule="float_only", float_only="\"round_cpu\" not implemented for '{dtype}'",
         undefined=_at_halves, syntax="round(x, decimals=d)")


# ---- frac: x - trunc(x) -----------------------------------------------------------------

register("frac", "FracBackward0", lambda x: x - np.trunc(x), (lambda F, g, x, out: g,),
         params="input", group=ELEM, elementwise=True,
         sympy=lambda sp, x: x - _trunc_sympy(sp, x), numeric=FLOOR, derivative=("1",),
         dtype_rule="float_only", float_only="\"frac_cpu\" not implemented for '{dtype}'",
         undefined=_at_integers("frac"))


# ---- fmod / remainder ---------------------------------------------------------------------

def _dividing(kernel: str, fn):
    """PyTorch's errors: no bool kernel; an integer division by zero."""
    def forward(a, b):
        a, b = np.asarray(a), np.asarray(b)
        kind = np.result_type(a, b).kind
        if kind == "b":
            raise InputError(f"\"{kernel}\" not implemented for 'Bool'",
                             python_type="NotImplementedError")
        if kind in "iu" and np.any(b == 0):
            raise InputError("ZeroDivisionError", python_type="RuntimeError")
        with np.errstate(invalid="ignore", divide="ignore"):
            return fn(a, b)
    return forward


def _remainder(a, b):
    """PyTorch's: fmod, moved by b where its sign differs from b's (Python's %)."""
    m = np.fmod(a, b)
    return np.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)


def _divided(mode: str):
    def divide(a, b, rounding_mode=mode):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.trunc(a / b) if rounding_mode == "trunc" else np.floor_divide(a, b)
    return divide


def _quotient_sympy(sp, a, b, rounding_mode):
    return _trunc_sympy(sp, a / b) if rounding_mode == "trunc" else sp.floor(a / b)


# div(a, b, rounding_mode=...) as fmod's and remainder's derivatives record it
register("div_rounding", "DivBackward2",
         lambda a, b, rounding_mode: _divided(rounding_mode)(a, b),
         (lambda F, g, a, b, out, rounding_mode: F.zeros_like(g),
          lambda F, g, a, b, out, rounding_mode: F.zeros_like(g)),
         internal=True, shown_as="div", broadcasts=True, elementwise=True,
         vjp_order=(1, 0), sympy=_quotient_sympy, numeric=FLOOR, derivative=("0", "0"),
         syntax="div(a, b, rounding_mode='trunc'|'floor')")


def _jumps(name):
    def undefined(a, b, out):
        return where_any(out == 0, f"{name} jumps where a/b is an integer")
    return undefined


def _dispatch(name: str):
    def fn(input, other):
        """NAME(tensor, tensor) or NAME(tensor, number) (PyTorch's Scalar overload)."""
        from ..function import apply
        from ..signatures import as_tensor, is_number, plain
        from ..tensor import Tensor
        if not isinstance(input, Tensor) and is_number(input):
            if name == "fmod" or not isinstance(other, Tensor):
                raise InputError(f"{name}() received an invalid combination of arguments - "
                                 "got (number, ...): input must be a Tensor",
                                 python_type="TypeError")
            # remainder(number, tensor): PyTorch has no derivative for it
            return apply(REGISTRY["remainder_number"], as_tensor(input), other)
        x = as_tensor(input)
        if is_number(other):
            return apply(REGISTRY[f"{name}_scalar"], x, plain(other))
        return apply(REGISTRY[name], x, as_tensor(other, like=x))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = fn.__doc__.replace("NAME", name)
    return fn


for _name, _grad_fn, _fn, _mode, _sympy in (
        ("fmod", "Fmod", np.fmod, "trunc",
         lambda sp, a, b: a - b * _trunc_sympy(sp, a / b)),
        ("remainder", "Remainder", _remainder, "floor",
         lambda sp, a, b: a - b * sp.floor(a / b))):
    _forward = _dividing(f"{_name}_cpu", _fn)
    register(_name, _grad_fn + "Backward1", _forward,
             (lambda F, g, a, b, out: g,
              (lambda mode: lambda F, g, a, b, out:
               F.neg(g) * F.div_rounding(a, b, rounding_mode=mode))(_mode)),
             params="input, other: scalar", group=ELEM, function=_dispatch(_name),
             records=(_grad_fn + "Backward0",), broadcasts=True, elementwise=True,
             vjp_order=(1, 0), sympy=_sympy, numeric=FLOOR,
             derivative=("1", f"-{_mode}(a/b)" if _mode == "floor" else "-trunc(a/b)"),
             undefined=_jumps(_name), grows="broadcast", domain_edges=True)
    register(_name + "_scalar", _grad_fn + "Backward0", _forward,
             (lambda F, g, x, c, out: g, None), internal=True, shown_as=_name,
             scalar_args=(1,), elementwise=True,
             sympy=(lambda f: lambda sp, x, c: f(sp, x, exact(sp, c)))(_sympy),
             numeric=FLOOR, derivative=("1",), undefined=_jumps(_name),
             syntax=f"{_name}(x, NUMBER)")


def _not_implemented(F, g, a, b, out):
    raise AutogradError("derivative for aten::remainder is not implemented")


# remainder(NUMBER, tensor) (2 % x): PyTorch records its NotImplemented node, and a
# backward through it is its error
register("remainder_number", "NotImplemented", REGISTRY["remainder"].forward,
         (_not_implemented, _not_implemented), internal=True, shown_as="remainder",
         broadcasts=True, elementwise=True, sympy=lambda sp, a, b: a - b * sp.floor(a / b),
         numeric=FLOOR, derivative=(prose("not implemented in PyTorch"),) * 2,
         syntax="remainder(NUMBER, t), NUMBER % t")
