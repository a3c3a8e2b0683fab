"""Formula trees evaluated in float64 with a bound on their error, over whole batches.

Each node yields its computed value ``v`` and a bound ``e`` on ``|v - exact|``, where
exact is the formula's value at the point's exact coordinates: every operation adds its
own rounding (half an ulp for + * / sqrt, ``K`` ulps for library functions) to the
error of its inputs carried through it (by the largest slope of the function over the
input's error interval).  Where that carrying is not safe (an error interval that
reaches a pole, a jump, or the edge of a domain, or is too wide for the linear bound
to hold) or a value overflows, ``e`` is NaN: float64 cannot decide there, and the
exact route (:mod:`.exact`) takes over.  Arguments are exact (``e = 0``).
"""

from __future__ import annotations

import math

import numpy as np

U = 2.0 ** -53                 # unit roundoff
K = 64 * U                     # a library function's rounding: 32 ulps (generous)
TINY = 2.0 ** -1074            # absolute slack per operation (underflow)
WIDE = 0.01                    # relative input error above which the linear bound stops
NAN = float("nan")


def _rel(v, e):
    """e / |v| (0 where both are 0, inf where only v is)."""
    with np.errstate(all="ignore"):
        return np.where(e == 0, 0.0, e / np.abs(v))


def _add(args):
    v = args[0][0]
    total_e = args[0][1]
    magnitude = np.abs(v)
    for x, e in args[1:]:
        v = v + x
        total_e = total_e + e
        magnitude = magnitude + np.abs(x)
    return v, total_e + (len(args) - 1) * 1.01 * U * magnitude + TINY


def _mul(args):
    v, e = args[0]
    for x, ex in args[1:]:
        p = v * x
        e = np.abs(v) * ex + np.abs(x) * e + e * ex + U * np.abs(p) + TINY
        v = p
    return v, e


def _pow(args, exponent_node):
    (a, ea), (b, eb) = args
    if exponent_node[0] == "num" and exponent_node[1] % exponent_node[2] == 0:
        n = abs(exponent_node[1] // exponent_node[2])
        v = np.power(a, b)
        t = n * _rel(a, ea)
        return v, np.where(t <= WIDE, np.abs(v) * 1.02 * t, NAN) + K * np.abs(v) + TINY
    v = np.power(a, b)
    r = _rel(a, ea)
    with np.errstate(all="ignore"):
        t = np.abs(b) * 1.006 * r + eb * (np.abs(np.log(a)) + 1.006 * r)
    ok = (a > 0) & (r <= WIDE) & (t <= WIDE)
    return v, np.where(ok, np.abs(v) * 1.02 * t, NAN) + K * np.abs(v) + TINY


def _lipschitz(f, slope):
    """A function whose error is its slope bound (over the error interval) times the
    input's error, plus its own rounding; ``slope(a, ea)`` is NaN where unsafe."""
    def evaluate(args):
        (a, ea), = args
        v = f(a)
        carried = np.where(ea == 0, 0.0, slope(a, ea) * ea)
        return v, carried + K * np.abs(v) + TINY
    return evaluate


def _low(a, ea):
    return np.maximum(np.abs(a) - ea, 0.0)


def _exp_slope(a, ea):
    return np.where(ea <= WIDE, np.exp(a + ea), NAN)


def _log_slope(a, ea):
    return np.where((a > 0) & (ea <= WIDE * a), 1.0 / (a - ea), NAN)


def _sqrt_slope(a, ea):
    return np.where((a > 0) & (ea <= WIDE * a), 0.5 / np.sqrt(a - ea), NAN)


def _tan_slope(a, ea):
    lo, hi = np.tan(a - ea), np.tan(a + ea)
    return np.where((ea <= WIDE) & (lo <= hi), 1.0 + np.maximum(lo * lo, hi * hi), NAN)


def _arc_slope(a, ea):
    m = np.abs(a) + ea
    return np.where(m < 1, 1.0 / np.sqrt(1.0 - m * m), NAN)


def _atan2(args):
    (y, ey), (x, ex) = args
    v = np.arctan2(y, x)
    r = np.hypot(x, y) - np.hypot(ex, ey)
    carried = np.where((ex == 0) & (ey == 0), 0.0, np.where(r > 0, (ex + ey) / r, NAN))
    return v, carried + K * np.abs(v) + TINY


def _step(f):
    """sign, heaviside and DiracDelta: exact away from 0; undecided where the error
    interval reaches 0."""
    def evaluate(args):
        (a, ea), = args
        v = f(a)
        return v, np.where(np.abs(a) > ea, 0.0, NAN)
    return evaluate


def _extreme(f):
    def evaluate(args):
        values = [v for v, _ in args]
        errors = [e for _, e in args]
        return f.reduce(np.broadcast_arrays(*values)), np.maximum.reduce(
            np.broadcast_arrays(*errors))
    return evaluate


def _erf(a):
    from .formula import FUNCTIONS
    return FUNCTIONS["erf"](a)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

FUNCTIONS = {
    "add": _add, "mul": _mul,
    "exp": _lipschitz(np.exp, _exp_slope),
    "log": _lipschitz(np.log, _log_slope),
    "sqrt": _lipschitz(np.sqrt, _sqrt_slope),
    "sin": _lipschitz(np.sin, lambda a, ea: 1.0),
    "cos": _lipschitz(np.cos, lambda a, ea: 1.0),
    "tan": _lipschitz(np.tan, _tan_slope),
    "asin": _lipschitz(np.arcsin, _arc_slope),
    "acos": _lipschitz(np.arccos, _arc_slope),
    "atan": _lipschitz(np.arctan, lambda a, ea: 1.0 / (1.0 + _low(a, ea) ** 2)),
    "sinh": _lipschitz(np.sinh, lambda a, ea: np.cosh(np.abs(a) + ea)),
    "cosh": _lipschitz(np.cosh, lambda a, ea: np.cosh(np.abs(a) + ea)),
    "tanh": _lipschitz(np.tanh, lambda a, ea: 1.0 / np.cosh(_low(a, ea)) ** 2),
    "asinh": _lipschitz(np.arcsinh, lambda a, ea: 1.0 / np.sqrt(1.0 + _low(a, ea) ** 2)),
    "erf": _lipschitz(_erf, lambda a, ea: _TWO_OVER_SQRT_PI * np.exp(-_low(a, ea) ** 2)),
    "abs": _lipschitz(np.abs, lambda a, ea: 1.0),
    "atan2": _atan2,
    "sign": _step(np.sign),
    "heaviside": _step(lambda a: np.heaviside(a, 0.5)),
    "diracdelta": _step(lambda a: np.where(a == 0, NAN, 0.0)),
    "max": _extreme(np.maximum), "min": _extreme(np.minimum),
}
_CONSTANTS = {"pi": math.pi, "E": math.e, "true": 1.0, "false": 0.0}


def _compare(f):
    """A condition of a Piecewise: decided (error 0) where the operands' error intervals
    do not meet, or both are exact; undecided (NaN) elsewhere."""
    def evaluate(args):
        (a, ea), (b, eb) = args
        e = ea + eb
        return f(a, b).astype(np.float64), np.where((np.abs(a - b) > e) | (e == 0), 0.0, NAN)
    return evaluate


def _logical(f):
    def evaluate(args):
        values = [np.asarray(v, dtype=bool) for v, _ in args]
        error = sum(e for _, e in args)          # NaN if any is undecided
        return f.reduce(np.broadcast_arrays(*values)).astype(np.float64), error
    return evaluate


def _not(args):
    (a, ea), = args
    return 1.0 - np.asarray(a, dtype=bool), ea


def _piecewise(args):
    """The first branch whose condition holds; undecided where a condition is."""
    shape = np.broadcast_shapes(*(np.shape(v) for pair in args for v in pair))
    value, error = np.full(shape, NAN), np.full(shape, NAN)
    taken, unsure = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    for (v, e), (c, ec) in zip(args[0::2], args[1::2]):
        unsure |= ~taken & np.isnan(ec)
        pick = np.asarray(c, dtype=bool) & ~taken
        value, error = np.where(pick, v, value), np.where(pick, e, error)
        taken |= pick
    return value, np.where(unsure, NAN, error)


def _unbounded(f):
    """A function of the op table without an error model here: its value, no bound (the
    exact route decides those records)."""
    def evaluate(args):
        v = f(*[a for a, _ in args])
        return v, np.full(np.shape(v), NAN)
    return evaluate


FUNCTIONS.update({
    "lt": _compare(np.less), "le": _compare(np.less_equal), "gt": _compare(np.greater),
    "ge": _compare(np.greater_equal), "eq": _compare(np.equal),
    "ne": _compare(np.not_equal), "and": _logical(np.logical_and),
    "or": _logical(np.logical_or), "not": _not, "piecewise": _piecewise,
})


def evaluate(tree: list, args: list) -> tuple:
    """(value, error bound) of a tree over the arguments (floats or 1-d arrays)."""
    from fractions import Fraction
    values: dict = {}
    stack = [(tree, False)]
    with np.errstate(all="ignore"):
        while stack:
            node, expanded = stack.pop()
            key = id(node)
            if key in values:
                continue
            head = node[0]
            if head == "sym":           # (numpy floats: x/0 is inf, never an exception)
                values[key] = (np.asarray(args[node[1]], dtype=np.float64), 0.0)
            elif head == "num":
                v = float(Fraction(node[1], node[2]))
                exact = Fraction(v) == Fraction(node[1], node[2])
                values[key] = (np.float64(v), 0.0 if exact else U * abs(v))
            elif head == "const":
                v = np.float64(_CONSTANTS.get(node[1], NAN))
                values[key] = (v, U * abs(v))
            elif expanded:
                children = [values[id(child)] for child in node[1:]]
                if head == "pow":
                    values[key] = _pow(children, node[2])
                else:
                    fn = FUNCTIONS.get(head)
                    if fn is None:
                        from .formula import FUNCTIONS as TABLE
                        fn = FUNCTIONS[head] = _unbounded(TABLE[head])
                    values[key] = fn(children)
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in node[1:])
    return values[id(tree)]


def decide(actual, value, error, rtol: float, atol: float, limit: float) -> tuple:
    """Per element: (passes for certain, fails for certain); neither where the bound
    cannot settle it (or anything is not finite)."""
    with np.errstate(all="ignore"):
        a = np.asarray(actual, dtype=np.float64)
        v = np.asarray(value, dtype=np.float64)
        e = np.asarray(error, dtype=np.float64)
        known = np.isfinite(v) & np.isfinite(e) & (np.abs(v) + e <= limit)
        err = np.abs(a - v) * (1 + 4 * U)
        low = (atol + rtol * np.maximum(np.abs(v) - e, 0.0)) * (1 - 4 * U)
        high = (atol + rtol * (np.abs(v) + e)) * (1 + 4 * U)
        passes = known & np.isfinite(a) & (err + e <= low)
        fails = known & (~np.isfinite(a) | (err - e > high))
    return passes, fails
