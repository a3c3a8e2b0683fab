"""Random programs and an independent exact oracle for the check (issue 12).

A program is a small expression tree over scalar variables x, y, z, rendered as
gradcli program text.  The oracle evaluates the same tree with forward-mode dual
numbers in mpmath at 80 significant digits (derivative rules written out below, by
hand: no SymPy, nothing of gradcli), and says per variable whether a computed
gradient is within ``atol + rtol*|exact|`` of the exact derivative, or that the
derivative is undefined at the point (outside a function's real domain, a kink, a
tie, infinite), or too large for float64.

Points are chosen to be hard as often as easy: tiny values in cancellations
(``log(1 + x)/x`` at 1e-10), huge ones (1e200 squared), values near domain edges.
Used by tests/test_check_differential.py and benchmarks/check_differential.py.
"""

from __future__ import annotations

import math
import random

import mpmath

DPS = 80
VARIABLES = ("x", "y", "z")
FLOAT_MAX = mpmath.mpf(1.7976931348623157e308)


class Unknowable(Exception):
    """Beyond what the oracle can evaluate (sin of a number with 10**270 digits)."""


class MorePrecision(Exception):
    """sin(x) for a large x moves by 1 when x moves by one part in x: x needs more
    digits than the working precision gives it (sqrt(x**2 + y**2) at x = 1e298,
    y = 1e148 is x + 0.1, which 532 bits round to x)."""


def _reducible(v) -> None:
    if mpmath.mag(v) > 1 << 14:
        raise Unknowable("a periodic function of a number too large to reduce")


def _sensitive(v) -> None:
    if mpmath.mag(v) > mpmath.mp.prec - 32:
        raise MorePrecision


NAN = mpmath.mpf("nan")


class Dual:
    """A value with its partial derivatives by x, y, z (mpmath numbers), the variables
    it is built from (``deps``) and those whose derivative passed through a point where
    a chain rule cannot decide (``amb``: a kink, a tie, an infinite slope).  A value
    outside the reals is NaN, and so are its derivatives by what it is built from: they
    poison only what they enter (x + y, with x's part undefined, keeps d/dy = 1)."""

    __slots__ = ("v", "d", "deps", "amb")

    def __init__(self, v, d, deps=frozenset(), amb=frozenset()):
        self.v, self.deps, self.amb = v, deps, amb
        # a variable the value is not built from has derivative exactly 0 (NaN * 0
        # from an unrelated undefined part is no derivative of it)
        self.d = tuple(e if name in deps else mpmath.mpf(0) for name, e in zip(VARIABLES, d))

    def scale(self, factor, value):
        return Dual(value, tuple(factor * e for e in self.d), self.deps, self.amb)

    def undefined(self):
        return Dual(NAN, tuple(NAN for _ in self.d), self.deps, self.amb)

    def unsure(self, value):
        """The value is defined, its slope is not (an infinite or one-sided one)."""
        return Dual(value, self.d, self.deps, self.amb | self.deps)


def _nan(x) -> bool:
    return mpmath.isnan(x)


def _unary(name: str, a: Dual) -> Dual:
    v = a.v
    mp = mpmath
    if _nan(v):                   # f(undefined) is undefined; -(u) keeps u's derivatives
        return a.scale(-1, v) if name == "neg" else a.undefined()
    if name in ("sin", "cos", "tan"):
        _reducible(v)
    if name in ("sin", "cos", "tan", "exp", "expm1", "sinh", "cosh", "sigmoid", "erf",
                "tanh"):
        _sensitive(v)
    if name == "exp":
        e = mp.exp(v)
        return a.scale(e, e)
    if name == "expm1":
        return a.scale(mp.exp(v), mp.expm1(v))
    if name == "log":
        return a.scale(1 / v, mp.log(v)) if v > 0 else a.undefined()
    if name == "log1p":
        return a.scale(1 / (1 + v), mp.log1p(v)) if v > -1 else a.undefined()
    if name == "sqrt":
        if v < 0:
            return a.undefined()
        if v == 0:
            return a.unsure(v)
        r = mp.sqrt(v)
        return a.scale(1 / (2 * r), r)
    if name == "sin":
        return a.scale(mp.cos(v), mp.sin(v))
    if name == "cos":
        return a.scale(-mp.sin(v), mp.cos(v))
    if name == "tan":
        c = mp.cos(v)
        if abs(c) < mpmath.mpf(2) ** (32 - mpmath.mp.prec):   # at a pole: cos(v) is all
            raise MorePrecision                               # rounding at this precision
        return a.scale(1 / (c * c), mp.tan(v))
    if name == "atan":
        return a.scale(1 / (1 + v * v), mp.atan(v))
    if name == "tanh":
        t = mp.tanh(v)
        return a.scale(1 - t * t, t)
    if name == "sinh":
        return a.scale(mp.cosh(v), mp.sinh(v))
    if name == "cosh":
        return a.scale(mp.sinh(v), mp.cosh(v))
    if name == "asinh":
        return a.scale(1 / mp.sqrt(1 + v * v), mp.asinh(v))
    if name in ("asin", "acos"):
        if abs(v) > 1:
            return a.undefined()
        value = mp.asin(v) if name == "asin" else mp.acos(v)
        if abs(v) == 1:
            return a.unsure(value)
        slope = 1 / mp.sqrt(1 - v * v)
        return a.scale(slope if name == "asin" else -slope, value)
    if name == "erf":
        return a.scale(2 / mp.sqrt(mp.pi) * mp.exp(-v * v), mp.erf(v))
    if name == "sigmoid":
        s = 1 / (1 + mp.exp(-v))
        return a.scale(s * (1 - s), s)
    if name == "abs":
        if v == 0:                     # |w| at w = 0: a kink, unless w's slope is 0 too
            return Dual(v, tuple(0 * e for e in a.d), a.deps,
                        a.amb if all(e == 0 for e in a.d) else a.amb | a.deps)
        return a.scale(mp.sign(v), abs(v))
    if name == "square":
        return a.scale(2 * v, v * v)
    if name == "neg":
        return a.scale(-1, -v)
    raise KeyError(name)


def _add(p, q):
    """p + q exactly (a rounded sum would absorb the smaller term at every precision)."""
    if p and q and abs(mpmath.mag(p) - mpmath.mag(q)) > 1 << 16:
        return p + q
    return mpmath.fadd(p, q, exact=True)


def _binary(op: str, a: Dual, b: Dual) -> Dual:
    mp = mpmath
    deps, amb = a.deps | b.deps, a.amb | b.amb
    if _nan(a.v) or _nan(b.v):
        if op in ("+", "-"):                    # the other side keeps its derivatives
            sign = 1 if op == "+" else -1
            return Dual(NAN, tuple(_add(p, sign * q) for p, q in zip(a.d, b.d)), deps, amb)
        if op == "*":                           # a*b: d/dv = a b_v + b a_v
            return Dual(NAN, tuple(
                _add(a.v * q if v in b.deps else 0, b.v * p if v in a.deps else 0)
                for v, p, q in zip(VARIABLES, a.d, b.d)), deps, amb)
        return Dual(NAN, tuple(NAN for _ in a.d), deps, amb)
    if op == "+":
        return Dual(_add(a.v, b.v), tuple(_add(p, q) for p, q in zip(a.d, b.d)), deps, amb)
    if op == "-":
        return Dual(_add(a.v, -b.v), tuple(_add(p, -q) for p, q in zip(a.d, b.d)), deps,
                    amb)
    if op == "*":           # (a term whose factor's slope is 0 by construction is 0,
        return Dual(a.v * b.v, tuple(                     # whatever the other factor)
            _add(a.v * q if v in b.deps else 0, b.v * p if v in a.deps else 0)
            for v, p, q in zip(VARIABLES, a.d, b.d)), deps, amb)
    if op == "/":
        if b.v == 0:
            return Dual(NAN, tuple(NAN for _ in a.d), deps, amb)
        return Dual(a.v / b.v, tuple(
            _add(p / b.v if v in a.deps else 0, -a.v * q / (b.v * b.v) if v in b.deps else 0)
            for v, p, q in zip(VARIABLES, a.d, b.d)), deps, amb)
    if op in ("maximum", "minimum"):
        if a.v == b.v:                 # a tie: differentiable where the slopes agree
            return Dual(a.v, a.d, deps, amb if a.d == b.d else amb | deps)
        first = (a.v > b.v) == (op == "maximum")
        winner = a if first else b
        return Dual(winner.v, winner.d, deps, amb)
    if op == "atan2":                                   # atan2(a, b), a = y-like
        r2 = _add(a.v * a.v, b.v * b.v)
        if r2 == 0:
            return Dual(NAN, tuple(NAN for _ in a.d), deps, amb)
        return Dual(mp.atan2(a.v, b.v), tuple(_add(b.v * p, -a.v * q) / r2
                                              for p, q in zip(a.d, b.d)), deps, amb)
    if op == "hypot":
        h = mp.sqrt(_add(a.v * a.v, b.v * b.v))
        if h == 0:                                      # the cone's tip
            return Dual(h, a.d, deps, amb | deps)
        return Dual(h, tuple(_add(a.v * p, b.v * q) / h for p, q in zip(a.d, b.d)),
                    deps, amb)
    raise KeyError(op)


def _power(a: Dual, n) -> Dual:
    """a ** n for a literal n (an integer or a half-integer, never 0)."""
    if _nan(a.v):
        return a.undefined()
    if n == int(n):
        if a.v == 0 and n < 1:
            return a.undefined()
        n = int(n)
        return a.scale(n * a.v ** (n - 1), a.v ** n)
    if a.v < 0:
        return a.undefined()
    if a.v == 0:
        return a.unsure(a.v)
    return a.scale(n * a.v ** (n - 1), a.v ** n)


def evaluate(tree, point: dict) -> Dual:
    """The tree's value and partial derivatives at the point, exactly (80 digits)."""
    with mpmath.workdps(DPS):
        return _evaluate(tree, {k: mpmath.mpf(v) for k, v in point.items()})


def _evaluate(tree, point: dict) -> Dual:
    kind = tree[0]
    zero = mpmath.mpf(0)
    if kind == "var":
        return Dual(point[tree[1]], tuple(mpmath.mpf(1) if v == tree[1] else zero
                                          for v in VARIABLES), frozenset((tree[1],)))
    if kind == "num":
        return Dual(mpmath.mpf(tree[1]), (zero,) * len(VARIABLES))
    if kind == "un":
        inner = _evaluate(tree[2], point)
        return _removable(_unary(tree[1], inner), inner, tree[2], point)
    if kind == "bin":
        return _binary(tree[1], _evaluate(tree[2], point), _evaluate(tree[3], point))
    if kind == "pow":
        inner = _evaluate(tree[1], point)
        return _removable(_power(inner, mpmath.mpf(tree[2])), inner, tree[1], point)
    raise KeyError(kind)


def _removable(out: Dual, inner: Dual, subtree, point: dict) -> Dual:
    """A function at its infinite-slope point (asin at 1, sqrt at 0) of an argument
    that does not move near the point (exp(x)*exp(-x) is 1 for every x): the slope is
    0, not undefined.  Tested by moving each variable a little, at high precision."""
    if out.amb <= inner.amb or _nan(out.v):
        return out
    for name in inner.deps:
        for step in (1, -1):
            moved = dict(point)
            moved[name] = point[name] + step * mpmath.mpf(10) ** -30 * max(1, abs(point[name]))
            if abs(_evaluate(subtree, moved).v - inner.v) > \
                    mpmath.mpf(10) ** -60 * max(1, abs(inner.v)):
                return out
    return Dual(out.v, tuple(mpmath.mpf(0) for _ in out.d), out.deps, inner.amb)


def _settled(tree, point: dict) -> tuple:
    """The derivatives at the lowest of 80, 160, ... digits where doubling the digits
    changes them by less than 1e-25 relative (or 1e-40 absolute, far below any atol):
    a sum of 1e250 and 1e108 needs 160 digits to be exact, tan of it all of them."""
    previous = None
    dps = DPS
    while dps <= 64 * DPS:
        with mpmath.workdps(dps):
            try:
                dual = _evaluate(tree, {k: mpmath.mpf(v) for k, v in point.items()})
            except (OverflowError, MemoryError):         # exp(exp(1e300)): no number
                raise Unknowable("a value past what mpmath can hold") from None
            except MorePrecision:
                previous, dps = None, 2 * dps
                continue
            if previous is not None and all(
                    (_nan(p) and _nan(q)) or
                    abs(p - q) <= mpmath.mpf(10) ** -25 * abs(q) + mpmath.mpf(10) ** -40
                    for p, q in zip(previous.d, dual.d)):
                return dual, dps
        previous, dps = dual, 2 * dps
    raise Unknowable("no agreement up to 5120 digits")


def render(tree) -> str:
    kind = tree[0]
    if kind in ("var", "num"):
        return tree[1]
    if kind == "un":
        if tree[1] == "neg":
            return f"(-{render(tree[2])})"
        return f"{tree[1]}({render(tree[2])})"
    if kind == "bin":
        if tree[1] in "+-*/":
            return f"({render(tree[2])} {tree[1]} {render(tree[3])})"
        return f"{tree[1]}({render(tree[2])}, {render(tree[3])})"
    return f"({render(tree[1])})**{tree[2]}"


def oracle(tree, point: dict, grads: dict, rtol: float = 1e-7, atol: float = 1e-9) -> dict:
    """name -> (verdict, exact derivative or None) for each variable of the point,
    judging the computed ``grads``: "passed", "failed", "undefined" (no real
    derivative: a value outside the reals enters it), "ambiguous" (it passed a kink, a
    tie or an infinite slope: a pointwise chain rule cannot say) or "too large" (past
    float64)."""
    dual, dps = _settled(tree, point)
    out = {}
    with mpmath.workdps(dps):
        for name in point:
            exact = dual.d[VARIABLES.index(name)]
            g = grads.get(name)
            g = 0.0 if g is None else float(g)
            if _nan(exact):
                out[name] = ("undefined", None)
            elif name in dual.amb:
                out[name] = ("ambiguous", exact)
            elif abs(exact) > FLOAT_MAX:
                out[name] = ("too large", exact)
            elif not math.isfinite(g):
                out[name] = ("failed", exact)
            else:
                ok = abs(mpmath.mpf(g) - exact) <= atol + rtol * abs(exact)
                out[name] = ("passed" if ok else "failed", exact)
    return out


# -- the generator -------------------------------------------------------------------------

UNARY = ("exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tan", "atan", "tanh",
         "sinh", "cosh", "asinh", "asin", "acos", "erf", "sigmoid", "abs", "square", "neg")
BINARY = ("+", "-", "*", "/", "maximum", "minimum", "atan2", "hypot")
NUMBERS = ("0.5", "2", "3", "1.5", "10", "0.1", "1")
X, Y, Z = ("var", "x"), ("var", "y"), ("var", "z")
ONE = ("num", "1")

# cancellations and overflows: float64 gets these wrong at the right points
TEMPLATES = [
    ("bin", "/", ("un", "log", ("bin", "+", ONE, X)), X),
    ("bin", "/", ("bin", "-", ONE, ("un", "cos", X)), ("pow", X, "2")),
    ("bin", "/", ("bin", "-", ("un", "exp", X), ONE), X),
    ("bin", "/", ("un", "expm1", X), X),
    ("bin", "/", ("bin", "-", ("un", "sqrt", ("bin", "+", ONE, X)), ONE), X),
    ("un", "sqrt", ("bin", "+", ("bin", "*", X, X), ("bin", "*", Y, Y))),
    ("bin", "hypot", X, Y),
    ("un", "asinh", ("bin", "*", X, Y)),
    ("bin", "/", ("bin", "-", ("un", "sin", X), X), ("pow", X, "3")),
    ("bin", "-", ("bin", "+", X, Y), X),
    ("bin", "*", ("un", "exp", X), ("un", "exp", ("un", "neg", X))),
    ("un", "log", ("un", "cosh", X)),
    ("bin", "/", ("bin", "*", X, Y), ("bin", "+", X, Y)),
    ("un", "atan", ("bin", "/", X, Y)),
    ("bin", "/", ("un", "log1p", X), X),
    ("un", "tanh", ("bin", "*", X, ("num", "10"))),
]


def random_tree(rng: random.Random, depth: int, names: tuple):
    if depth == 0 or rng.random() < 0.25:
        if rng.random() < 0.8:
            return ("var", rng.choice(names))
        return ("num", rng.choice(NUMBERS))
    r = rng.random()
    if r < 0.45:
        return ("un", rng.choice(UNARY), random_tree(rng, depth - 1, names))
    if r < 0.9:
        return ("bin", rng.choice(BINARY), random_tree(rng, depth - 1, names),
                random_tree(rng, depth - 1, names))
    return ("pow", random_tree(rng, depth - 1, names), rng.choice(("2", "3", "-1", "0.5",
                                                                  "-2", "1.5")))


def _variables(tree) -> set:
    if tree[0] == "var":
        return {tree[1]}
    return set().union(*(_variables(t) for t in tree[1:] if isinstance(t, tuple)))


def random_value(rng: random.Random, mode: str) -> float:
    sign = rng.choice((-1.0, 1.0))
    if mode == "tiny":
        return sign * 10 ** rng.uniform(-15, -4)
    if mode == "huge":
        return sign * 10 ** rng.uniform(4, 300)
    if mode == "edge":
        return rng.choice((1.0, -1.0, 0.0)) + sign * 10 ** rng.uniform(-16, -6)
    if mode == "round":
        return float(rng.choice((0, 1, -1, 2, 0.5, -0.5, 3)))
    return rng.uniform(-3, 3)


def cases(n: int, seed: int = 12):
    """(program text, tree, point) for n programs, a third of them hard."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        if rng.random() < 0.3:
            tree = rng.choice(TEMPLATES)
            if rng.random() < 0.5:                      # inside something else
                tree = rng.choice([("un", rng.choice(UNARY), tree),
                                   ("bin", rng.choice(BINARY), tree, ("var", "y"))])
            modes = ("tiny", "tiny", "huge", "normal", "edge")
        else:
            tree = random_tree(rng, rng.randint(1, 4), VARIABLES[:rng.randint(1, 3)])
            modes = ("normal", "normal", "normal", "tiny", "huge", "edge", "round")
        names = sorted(_variables(tree))
        if not names:
            continue
        point = {v: random_value(rng, rng.choice(modes)) for v in names}
        out.append((render(tree), tree, point))
    return out
