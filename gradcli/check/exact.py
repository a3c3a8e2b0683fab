"""Exact answers about a derivative at a point: is a computed gradient within tolerance?

A derivative is a formula tree (:mod:`.formula`) over the point's coordinates, which are
exact binary numbers.  It is evaluated with mpmath at a working precision, then again at
twice that precision; the difference of the two bounds the error of the second, and the
question "is |actual - exact| <= atol + rtol*|exact|?" is answered only when that bound
cannot change the answer.  Otherwise the precision doubles again (cancellation such as
``1/(x*(x+1)) - log(1+x)/x**2`` at x = 1e-10 needs 40 digits more than the result has),
up to 4096 bits; an answer still open there is no answer (the element is skipped).

Where the formula has no real value (log of a negative number, a coordinate that is
infinite or NaN, a step function at its jump), the element is undefined: skipped with
the reason, never failed.
"""

from __future__ import annotations

import mpmath
from mpmath import mpc, mpf

PRECISIONS = (128, 256, 512, 1024, 2048, 4096)     # bits


class Undefined(Exception):
    """No real value at this point (the message says why)."""


class Imprecise(Exception):
    """Not at this precision: a function whose value swings with the last bits of a
    large argument (tan(1e258) moves by 1 when 1e258 moves by one part in 1e258) needs
    more bits than the argument's magnitude."""


def _real(value):
    """A finite real mpf, or Undefined."""
    if isinstance(value, mpc):
        if value.imag != 0:
            raise Undefined("not a real number")
        value = value.real
    if not isinstance(value, mpf):
        value = mpf(value)
    if not mpmath.isfinite(value):
        raise Undefined("not a finite number")
    return value


def _log(x):
    if x <= 0:
        raise Undefined("log of a number <= 0")
    return mpmath.log(x)


def _sqrt(x):
    if x < 0:
        raise Undefined("sqrt of a negative number")
    return mpmath.sqrt(x)


def _pow(base, exponent):
    if base == 0 and exponent < 0:
        raise Undefined("0 to a negative power")
    if base < 0 and not mpmath.isint(exponent):
        raise Undefined("a negative number to a fractional power")
    if mpmath.isint(exponent) and abs(exponent) < 2 ** 62:
        return base ** int(exponent)
    return mpmath.power(base, exponent)


def _arc(f, name: str):
    def arc(x):
        if abs(x) > 1:
            raise Undefined(f"{name} of a number outside [-1, 1]")
        return f(x)
    return arc


HUGE = 1 << 20            # bits: exp and kin of a number past 2**(2**20) hold no number
_GROWING = frozenset(("exp", "sinh", "cosh", "tanh", "erf", "pow", "asinh", "atan"))
_SENSITIVE = frozenset(("exp", "sin", "cos", "tan", "sinh", "cosh", "pow"))
REDUCIBLE = 1 << 14       # bits: sin/cos of a number past 2**16384 cannot be reduced


def _periodic(f, name: str):
    """sin, cos: refused for arguments so large that reducing them modulo 2*pi would
    need more digits than exist (mpmath would try, for ever)."""
    def periodic(x):
        if mpmath.mag(x) > REDUCIBLE:
            raise Undefined(f"{name} of a number too large to reduce (|x| > "
                            f"2**{REDUCIBLE})")
        return f(x)
    return periodic


_sin, _cos = _periodic(mpmath.sin, "sin"), _periodic(mpmath.cos, "cos")


def _tan(x):
    c = _cos(x)
    if abs(c) < mpf(2) ** (32 - mpmath.mp.prec):     # next to a pole, cos(x) is mostly
        raise Imprecise("tan")                       # the rounding of x: more bits
    return _sin(x) / c


def _atan2(y, x):
    if x == 0 and y == 0:
        raise Undefined("atan2(0, 0)")
    return mpmath.atan2(y, x)


def _sign(x):
    return mpf((x > 0) - (x < 0))


def _heaviside(x):
    if x == 0:
        raise Undefined("a step function at its jump")
    return mpf(1 if x > 0 else 0)


def _diracdelta(x):
    if x == 0:
        raise Undefined("a step function at its jump")
    return mpf(0)


def _sum(*xs):
    """A sum held exactly (however far apart its terms' magnitudes: x + y with x = 7e250,
    y = 1e108 needs 530 bits, and tan of it all of them); rounding it to the working
    precision would absorb the small term the same way at every precision, and doubling
    could not notice."""
    total = xs[0]
    for x in xs[1:]:
        if total and x and abs(mpmath.mag(total) - mpmath.mag(x)) > EXACT_SPAN:
            total = total + x                       # beyond any use: rounded
        else:
            total = mpmath.fadd(total, x, exact=True)
    return total


EXACT_SPAN = 1 << 16      # bits between two terms of a sum kept exactly


FUNCTIONS = {
    "add": _sum, "mul": lambda *xs: mpmath.fprod(xs), "pow": _pow,
    "exp": mpmath.exp, "log": _log, "sqrt": _sqrt, "sin": _sin, "cos": _cos,
    "tan": _tan, "asin": _arc(mpmath.asin, "asin"), "acos": _arc(mpmath.acos, "acos"), "atan": mpmath.atan,
    "sinh": mpmath.sinh, "cosh": mpmath.cosh, "tanh": mpmath.tanh, "asinh": mpmath.asinh,
    "atan2": _atan2, "abs": abs, "sign": _sign, "heaviside": _heaviside,
    "diracdelta": _diracdelta, "erf": mpmath.erf, "max": max, "min": min,
}


def _truth(f):
    return lambda *xs: mpf(1 if f(*xs) else 0)


FUNCTIONS.update({
    "lt": _truth(lambda a, b: a < b), "le": _truth(lambda a, b: a <= b),
    "gt": _truth(lambda a, b: a > b), "ge": _truth(lambda a, b: a >= b),
    "eq": _truth(lambda a, b: a == b), "ne": _truth(lambda a, b: a != b),
    "and": _truth(lambda *xs: all(xs)), "or": _truth(lambda *xs: any(xs)),
    "not": _truth(lambda a: not a),
})


def function(head: str):
    """The mpmath function of a tree head: this module's own, else mpmath's of the same
    name (the op table's SymPy functions are named as mpmath names them: erfc,
    loggamma, ...), else None."""
    fn = FUNCTIONS.get(head)
    if fn is None and head.isidentifier() and not head.startswith("_"):
        fn = getattr(mpmath, head, None)
        if not callable(fn):
            return None
    return fn


def _constant(name: str):
    if name in ("true", "false"):
        return mpf(1 if name == "true" else 0)
    if name == "pi":
        return +mpmath.pi
    if name == "E":
        return +mpmath.e
    raise Undefined("an infinite or NaN constant enters the derivative")


def _opaque(node, args, prec: int):
    """A SymPy subexpression gradcli's table does not cover, evaluated by SymPy."""
    import sympy as sp
    expr, pairs = node[1], node[2]
    dps = int(prec * 0.30103) + 5
    subs = {s: sp.Float(args[i], dps) for s, i in pairs}
    try:
        value = expr.evalf(dps, subs=subs)
        if not value.is_number:
            raise Undefined(f"SymPy cannot evaluate {_short(expr)} here")
        value = complex(value) if not value.is_real else value
        return _real(mpmath.mpmathify(value))
    except Undefined:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever SymPy raises: no value here
        raise Undefined(f"SymPy cannot evaluate {_short(expr)} here ({_short(exc)})") \
            from None


def _short(thing) -> str:
    text = str(thing)
    return text if len(text) <= 80 else text[:77] + "..."


def evaluate(tree, args: list, prec: int):
    """The tree's value at ``args`` (mpf) with ``prec`` bits; raises Undefined."""
    with mpmath.workprec(prec):
        values: dict = {}
        stack = [(tree, False)]
        while stack:
            node, expanded = stack.pop()
            key = id(node)
            if key in values:
                continue
            head = node[0]
            if head == "sym":
                values[key] = mpf(args[node[1]])          # a float's exact value
            elif head == "num":
                values[key] = mpf(node[1]) / node[2]
            elif head == "const":
                values[key] = _constant(node[1])
            elif head == "sympy":
                values[key] = _opaque(node, args, prec)
            elif head == "piecewise":
                _piecewise_step(node, expanded, values, stack)
            elif expanded:
                function = _function(head)
                if function is None:
                    raise Undefined(f"unknown operation {head!r}")
                children = [values[id(child)] for child in node[1:]]
                if head in _GROWING and mpmath.mag(children[-1]) > HUGE:
                    raise Undefined(f"{head} of a number too large to evaluate (|x| > "
                                    f"2**{HUGE})")
                if head in _SENSITIVE and mpmath.mag(children[-1]) > prec - 32:
                    raise Imprecise(head)
                try:
                    value = function(*children)
                except (ZeroDivisionError, ValueError, OverflowError, MemoryError) as exc:
                    raise Undefined(f"{head} has no value here "
                                    f"({type(exc).__name__})") from None
                values[key] = _real(value)
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in node[1:])
        return values[id(tree)]


_function = function


def _piecewise_step(node, phase, values, stack) -> None:
    """Piecewise lazily: its conditions in order until one holds, then that branch only
    (a branch not taken may have no value at the point: log(x) where x < 0).  The
    phases: False (not started), ("cond", k): the condition at ``node[k]`` is known,
    ("pick", k): the branch at ``node[k]`` is known."""
    if phase is False:
        stack.append((node, ("cond", 2)))
        stack.append((node[2], False))
        return
    step, k = phase
    if step == "pick":
        values[id(node)] = values[id(node[k])]
    elif values[id(node[k])]:
        stack.append((node, ("pick", k - 1)))
        stack.append((node[k - 1], False))
    elif k + 2 < len(node):
        stack.append((node, ("cond", k + 2)))
        stack.append((node[k + 2], False))
    else:
        raise Undefined("no branch of a Piecewise holds here")


def used_arguments(tree) -> set:
    """The argument indices a tree reads."""
    used, stack, seen = set(), [tree], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node[0] == "sym":
            used.add(node[1])
        elif node[0] == "sympy":
            used.update(i for _, i in node[2])
        elif node[0] not in ("num", "const"):
            stack.extend(node[1:])
    return used


class Verdict:
    """What the exact evaluation found for one element: status "passed", "failed" or
    "skipped"; the exact value (mpf, None when undefined) and why it was skipped."""

    __slots__ = ("status", "value", "reason")

    def __init__(self, status: str, value=None, reason: str = ""):
        self.status, self.value, self.reason = status, value, reason

    def expected(self) -> float:
        return float("nan") if self.value is None else float(self.value)


def judge(tree, args: list, actual: float, rtol: float, atol: float,
          limit: float = 1.7976931348623157e308, deadline=None) -> Verdict:
    """Is ``actual`` within ``atol + rtol*|exact|`` of the tree's exact value?

    ``args`` are the point's coordinates as floats (exact binary values); ``limit`` is
    the largest finite number of the gradient's dtype (a derivative past it cannot be
    represented: skipped)."""
    import time
    for i in used_arguments(tree):
        if not mpmath.isfinite(mpf(args[i])):
            return Verdict("skipped", reason="the derivative depends on a coordinate that "
                           "is infinite or NaN")
    quick = _in_float64(tree, args, actual, rtol, atol, limit)
    if quick is not None:
        return quick
    point = [mpf(a) for a in args]
    previous, undefined = None, None
    for prec in PRECISIONS:
        if deadline is not None and time.monotonic() > deadline:
            from . import Timeout
            raise Timeout
        try:
            value = evaluate(tree, point, prec)
        except Imprecise:
            previous = undefined = None
            continue
        except Undefined as exc:
            if undefined is not None:
                return Verdict("skipped", reason="the derivative is undefined or infinite "
                               f"at this point ({exc})")
            undefined, previous = exc, None
            continue
        undefined = None
        if previous is not None:
            with mpmath.workprec(prec):
                bound = abs(value - previous) + abs(value) * mpf(2) ** (8 - prec)
                verdict = _decide(value, bound, actual, rtol, atol, limit)
            if verdict is not None:
                return verdict
        previous = value
    return Verdict("skipped", reason="the derivative could not be evaluated precisely "
                   "enough at this point")


def _in_float64(tree, args, actual, rtol, atol, limit):
    """The verdict when float64 with an error bound settles it (most elements: no
    mpmath at all), else None."""
    import numpy as np

    from . import bounds
    try:
        with np.errstate(all="ignore"):
            value, error = bounds.evaluate(tree, [float(a) for a in args])
            passes, fails = bounds.decide(actual, value, error, rtol, atol, limit)
    except (KeyError, TypeError, ArithmeticError, ValueError):
        return None                                  # a node float64 cannot take
    value, error = float(value), float(error)
    if not error <= 2.0 ** -48 * abs(value) + 1e-300:
        return None            # settled, but the value shown would not be the exact one
    if passes:
        return Verdict("passed", value)
    if fails and np.isfinite(value):
        return Verdict("failed", value)
    return None


def _decide(value, bound, actual, rtol, atol, limit):
    """The verdict when ``value`` +- ``bound`` settles it, else None."""
    if abs(value) - bound > limit:
        return Verdict("skipped", value, "the derivative is too large for the gradient's "
                       "dtype at this point")
    if abs(value) + bound > limit:
        return None
    if not mpmath.isfinite(mpf(actual)):
        return Verdict("failed", value)
    err = abs(mpf(actual) - value)
    low = atol + rtol * max(abs(value) - bound, 0)
    high = atol + rtol * (abs(value) + bound)
    if err + bound <= low:
        return Verdict("passed", value)
    if err - bound > high:
        return Verdict("failed", value)
    return None
