"""SymPy derivatives as plain data, evaluated with numpy: no generated code at all.

A formula is a tree of lists (JSON-ready): ``["sym", i]`` is argument i,
``["num", p, q]`` the rational p/q, ``["const", "pi"]``, and ``[name, child, ...]`` an
operation of ``FUNCTIONS``: arithmetic, ``piecewise`` and its conditions (``CORE``), and
the SymPy functions the op table declares with their numpy counterparts (``numeric=``
of an entry: ``exp``, ``abs``, ``max``, ...), so that the table and the compiler grow
together.
Trees are built and evaluated iteratively (a 100 000-term sum is 100 000 children of
one ``add``), and a tree read back from a cache file can only ever name these
functions, so loading one is as safe as reading numbers.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..autograd.ops import NUMERIC


class NotRepresentable(Exception):
    """The expression uses a SymPy construct the table below does not cover."""


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


def _piecewise(*parts):
    """Piecewise((v1, c1), (v2, c2), ...) as [v1, c1, v2, c2, ...]: the first branch
    whose condition holds (NaN where none does)."""
    values, conditions = parts[0::2], parts[1::2]
    shape = np.broadcast_shapes(*(np.shape(p) for p in parts))
    out = np.full(shape, np.nan)
    taken = np.zeros(shape, dtype=bool)
    for v, c in zip(values, conditions):
        pick = np.asarray(c, dtype=bool) & ~taken
        out = np.where(pick, v, out)
        taken |= pick
    return out


def _all(*xs):
    return np.logical_and.reduce(np.broadcast_arrays(*[np.asarray(x, bool) for x in xs]))


def _any(*xs):
    return np.logical_or.reduce(np.broadcast_arrays(*[np.asarray(x, bool) for x in xs]))


# Heads every formula may use besides the table's functions: arithmetic, Piecewise and
# the conditions of its branches.
CORE = {
    "add": _sum, "mul": _prod, "pow": np.power, "piecewise": _piecewise,
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "eq": np.equal, "ne": np.not_equal, "and": _all, "or": _any, "not": np.logical_not,
}
_CORE_SYMPY = ("Add", "Mul", "Pow", "Piecewise", "StrictLessThan", "LessThan",
               "StrictGreaterThan", "GreaterThan", "Equality", "Unequality", "And", "Or",
               "Not")
CONSTANTS = {"pi": math.pi, "E": math.e, "oo": math.inf, "-oo": -math.inf, "nan": math.nan,
             "true": 1.0, "false": 0.0}


def _table() -> dict:
    """The functions a formula may name: CORE, and every SymPy function the op table's
    counterparts introduce (``numeric=`` of its entries), by SymPy's name in lower case
    (``Abs`` -> ``abs``).  Adding an op with a new SymPy function grows this."""
    out = dict(CORE)
    for name, fn in NUMERIC.items():
        out.setdefault(name.lower(), fn)
    return out


FUNCTIONS = _table()


def _sympy_names() -> dict:
    """SymPy class -> tree head, for every head of FUNCTIONS."""
    import sympy as sp
    heads = dict(zip(_CORE_SYMPY, ("add", "mul", "pow", "piecewise", "lt", "le", "gt", "ge",
                                   "eq", "ne", "and", "or", "not")))
    heads.update((name, name.lower()) for name in NUMERIC)
    return {getattr(sp, name): head for name, head in heads.items()}


def arity(head: str):
    """How many children a node of ``head`` has: a number, or None (one or more)."""
    fn = FUNCTIONS[head]
    if head in ("add", "mul", "and", "or", "piecewise"):
        return None
    nin = getattr(fn, "nin", None)
    if nin is not None:
        return nin
    code = getattr(fn, "__code__", None)
    if code is None or code.co_flags & 0x04:          # *args: one or more
        return None
    return code.co_argcount


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
        elif node is sp.true or node is sp.false:
            done[node] = ["const", "true" if node is sp.true else "false"]
        elif node is sp.pi or node is sp.E:
            done[node] = ["const", str(node)]
        elif node in (sp.oo, -sp.oo, sp.nan, sp.zoo):
            done[node] = ["const", {sp.oo: "oo", -sp.oo: "-oo"}.get(node, "nan")]
        elif node.func not in names or (node.func is sp.DiracDelta and len(node.args) > 1):
            if not opaque:
                raise NotRepresentable(f"{node.func.__name__} has no numpy counterpart here")
            done[node] = _opaque(node, symbols)
        elif expanded:
            done[node] = [names[node.func]] + [done[a] for a in _args(sp, node)]
        else:
            stack.append((node, True))
            stack.extend((a, False) for a in _args(sp, node))
    return done[expr]


def _args(sp, node) -> tuple:
    """A node's children as the tree holds them: Heaviside(x, H0) is Heaviside(x);
    Piecewise((v1, c1), (v2, c2)) is [v1, c1, v2, c2]."""
    if node.func is sp.Heaviside:
        return node.args[:1]
    if node.func is sp.Piecewise:
        return tuple(part for pair in node.args for part in pair)
    return node.args


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
        elif head in FUNCTIONS and _fits(head, len(node) - 1):
            stack.extend(node[1:])
        else:
            return False
    return True


def _fits(head: str, children: int) -> bool:
    n = arity(head)
    if head == "piecewise":
        return children >= 2 and children % 2 == 0
    return children >= 1 if n is None else children == n
