"""SymPy derivatives as plain data, evaluated with numpy: no generated code at all.

A formula is a tree of lists (JSON-ready): ``["sym", i]`` is argument i,
``["num", p, q]`` the rational p/q, ``["const", "pi"]``, and ``[name, child, ...]`` an
operation from the fixed table ``FUNCTIONS`` (``add``, ``mul``, ``pow``, ``exp``, ...).
Trees are built and evaluated iteratively (a 100 000-term sum is 100 000 children of
one ``add``), and a tree read back from a cache file can only ever name these
functions, so loading one is as safe as reading numbers.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


class NotRepresentable(Exception):
    """The expression uses a SymPy construct the table below does not cover."""


def _heaviside(x):
    return np.heaviside(x, 0.5)


def _erf(x):
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=np.float64)


def _diracdelta(x):
    return np.where(x == 0, np.nan, 0.0)


def _sum(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def _prod(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = out * x
    return out


def _max(*xs):
    return np.maximum.reduce(np.broadcast_arrays(*xs)) if len(xs) > 1 else xs[0]


def _min(*xs):
    return np.minimum.reduce(np.broadcast_arrays(*xs)) if len(xs) > 1 else xs[0]


FUNCTIONS = {
    "add": _sum, "mul": _prod, "pow": np.power,
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos,
    "atan": np.arctan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "asinh": np.arcsinh, "atan2": np.arctan2, "abs": np.abs, "sign": np.sign,
    "heaviside": _heaviside, "diracdelta": _diracdelta, "erf": _erf, "max": _max,
    "min": _min,
}
CONSTANTS = {"pi": math.pi, "E": math.e, "oo": math.inf, "-oo": -math.inf, "nan": math.nan}


def _sympy_names() -> dict:
    import sympy as sp
    return {sp.Add: "add", sp.Mul: "mul", sp.Pow: "pow", sp.exp: "exp", sp.log: "log",
            sp.sin: "sin", sp.cos: "cos", sp.tan: "tan", sp.asin: "asin", sp.acos: "acos",
            sp.atan: "atan", sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh",
            sp.asinh: "asinh", sp.atan2: "atan2", sp.Abs: "abs", sp.sign: "sign",
            sp.Heaviside: "heaviside", sp.DiracDelta: "diracdelta", sp.erf: "erf",
            sp.Max: "max", sp.Min: "min"}


def _opaque(node, symbols: dict) -> list:
    """An in-memory node for a SymPy construct the table lacks (never cached): SymPy
    itself evaluates it (see :mod:`.exact`)."""
    missing = [s for s in node.free_symbols if s not in symbols]
    if missing:
        raise NotRepresentable(f"unknown symbol {missing[0]}")
    return ["sympy", node, [(s, symbols[s]) for s in node.free_symbols]]


def to_tree(expr, symbols: dict, opaque: bool = False) -> list:
    """The tree of a SymPy expression; ``symbols`` maps each Symbol to its index.
    With ``opaque``, a construct outside the table becomes a node SymPy evaluates
    (for exact evaluation in this process), instead of NotRepresentable."""
    import sympy as sp
    names = _sympy_names()
    done: dict = {}
    stack = [(expr, False)]
    while stack:
        node, expanded = stack.pop()
        if node in done:
            continue
        if node.is_Symbol:
            if node not in symbols:
                raise NotRepresentable(f"unknown symbol {node}")
            done[node] = ["sym", symbols[node]]
        elif node.is_Rational:
            done[node] = ["num", int(node.p), int(node.q)]
        elif node.is_Float:
            f = sp.Rational(node)                    # its binary value, exactly
            done[node] = ["num", int(f.p), int(f.q)]
        elif node is sp.pi or node is sp.E:
            done[node] = ["const", str(node)]
        elif node in (sp.oo, -sp.oo, sp.nan, sp.zoo):
            done[node] = ["const", {sp.oo: "oo", -sp.oo: "-oo"}.get(node, "nan")]
        elif node.func not in names or (node.func is sp.DiracDelta and len(node.args) > 1):
            if not opaque:
                raise NotRepresentable(f"{node.func.__name__} has no numpy counterpart here")
            done[node] = _opaque(node, symbols)
        elif expanded:
            args = node.args[:1] if node.func is sp.Heaviside else node.args  # (x, H0)
            done[node] = [names[node.func]] + [done[a] for a in args]
        else:
            stack.append((node, True))
            args = node.args[:1] if node.func is sp.Heaviside else node.args
            stack.extend((a, False) for a in args)
    return done[expr]


def evaluate(tree: list, args: list):
    """The value of a tree for the given arguments (numbers or arrays, broadcasting)."""
    values: dict = {}
    stack = [(tree, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if key in values:
            continue
        head = node[0]
        if head == "sym":
            values[key] = args[node[1]]
        elif head == "num":
            values[key] = float(Fraction(node[1], node[2]))
        elif head == "const":
            values[key] = CONSTANTS[node[1]]
        elif expanded:
            function = FUNCTIONS.get(head)
            if function is None:
                raise NotRepresentable(f"unknown operation {head!r}")
            values[key] = function(*[values[id(child)] for child in node[1:]])
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in node[1:])
    return values[id(tree)]


_ARITY = {"pow": 3, "atan2": 3}          # list lengths, the name included
_VARIADIC = frozenset(("add", "mul", "max", "min"))


def valid(tree, arguments: int) -> bool:
    """Whether a tree (read back from a file) names only known operations, on argument
    indices below ``arguments``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if type(node) is not list or not node or type(node[0]) is not str:
            return False
        head = node[0]
        if head == "sym":
            if len(node) != 2 or type(node[1]) is not int or not 0 <= node[1] < arguments:
                return False
        elif head == "num":
            if len(node) != 3 or not all(type(v) is int for v in node[1:]) or node[2] <= 0:
                return False
        elif head == "const":
            if len(node) != 2 or node[1] not in CONSTANTS:
                return False
        elif head in FUNCTIONS and (len(node) == _ARITY.get(head, 2) or
                                    (head in _VARIADIC and len(node) > 1)):
            stack.extend(node[1:])
        else:
            return False
    return True
