"""The syntax tree of a gradcli program.

Every node carries the 1-based ``line`` and ``col`` of its first character (for a
binary operation: of the operator, which is where errors about it point).  Nodes are
immutable.  Chains such as ``x+x+...+x`` are left-nested ``BinOp`` nodes as deep as
the chain is long, so nothing may walk this tree recursively: use :func:`postorder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional, Union


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    text: str          # as written, e.g. "1e-3"
    is_int: bool       # written without '.', 'e' or 'E' (usable as an index or dim)
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class ArrayLit:
    items: tuple["Expr", ...]
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class UnaryOp:
    op: str            # "-" or "+"
    operand: "Expr"
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str            # "+", "-", "*", "/", "@", "**"  ('^' is stored as "**")
    left: "Expr"
    right: "Expr"
    line: int          # position of the operator
    col: int


@dataclass(frozen=True, slots=True)
class Keyword:
    name: str
    value: "Expr"
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Call:
    func: str                      # function name; for a.f(b) it is "f"
    args: tuple["Expr", ...]       # for a.f(b) the args are (a, b)
    kwargs: tuple[Keyword, ...]
    method: bool                   # written as a method call a.f(...)
    line: int                      # position of the function name
    col: int


@dataclass(frozen=True, slots=True)
class Attr:
    value: "Expr"
    name: str          # e.g. "T", "grad"
    line: int          # position of the attribute name
    col: int


@dataclass(frozen=True, slots=True)
class Slice:
    start: Optional["Expr"]
    stop: Optional["Expr"]
    step: Optional["Expr"]
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Index:
    value: "Expr"
    items: tuple[Union["Expr", Slice], ...]
    line: int          # position of '['
    col: int


Expr = Union[Num, Name, ArrayLit, UnaryOp, BinOp, Call, Attr, Index]


@dataclass(frozen=True, slots=True)
class Assign:
    target: str
    value: Expr
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class AugAssign:
    target: str
    op: str            # "+", "-", "*", "/"
    value: Expr
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class ExprStmt:
    value: Expr
    line: int
    col: int


Stmt = Union[Assign, AugAssign, ExprStmt]


@dataclass(frozen=True, slots=True)
class Program:
    statements: tuple[Stmt, ...]
    source: str


def children(node) -> tuple:
    """The direct sub-nodes of ``node``, left to right."""
    if isinstance(node, (Num, Name)):
        return ()
    if isinstance(node, ArrayLit):
        return node.items
    if isinstance(node, UnaryOp):
        return (node.operand,)
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args + tuple(k.value for k in node.kwargs)
    if isinstance(node, Keyword):
        return (node.value,)
    if isinstance(node, Attr):
        return (node.value,)
    if isinstance(node, Slice):
        return tuple(p for p in (node.start, node.stop, node.step) if p is not None)
    if isinstance(node, Index):
        return (node.value,) + node.items
    if isinstance(node, (Assign, AugAssign, ExprStmt)):
        return (node.value,)
    if isinstance(node, Program):
        return node.statements
    raise TypeError(f"not a syntax node: {node!r}")


def postorder(root) -> Iterator:
    """Yield every node under ``root`` (inclusive), children before parents, iteratively."""
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            yield node
            continue
        stack.append((node, True))
        for child in reversed(children(node)):
            stack.append((child, False))


def to_sexpr(node) -> str:
    """Render a tree as an S-expression, e.g. ``(+ (* a b) 1)``; iterative."""
    out: dict[int, str] = {}
    for n in postorder(node):
        kids = [out.pop(id(c)) for c in children(n)]
        if isinstance(n, Num):
            s = n.text
        elif isinstance(n, Name):
            s = n.id
        elif isinstance(n, ArrayLit):
            s = "[" + " ".join(kids) + "]"
        elif isinstance(n, UnaryOp):
            s = f"(neg {kids[0]})" if n.op == "-" else f"(pos {kids[0]})"
        elif isinstance(n, BinOp):
            s = f"({n.op} {kids[0]} {kids[1]})"
        elif isinstance(n, Call):
            parts = kids[:len(n.args)]
            parts += [f"{k.name}={v}" for k, v in zip(n.kwargs, kids[len(n.args):])]
            s = "(" + " ".join([n.func] + parts) + ")"
        elif isinstance(n, Keyword):
            s = f"{n.name}={kids[0]}"
        elif isinstance(n, Attr):
            s = f"(.{n.name} {kids[0]})"
        elif isinstance(n, Slice):
            it = iter(kids)
            parts = [next(it) if p is not None else "" for p in (n.start, n.stop, n.step)]
            s = ":".join(parts if n.step is not None else parts[:2])
        elif isinstance(n, Index):
            s = "(index " + " ".join(kids) + ")"
        elif isinstance(n, Assign):
            s = f"(= {n.target} {kids[0]})"
        elif isinstance(n, AugAssign):
            s = f"({n.op}= {n.target} {kids[0]})"
        elif isinstance(n, ExprStmt):
            s = kids[0]
        elif isinstance(n, Program):
            s = "\n".join(kids)
        else:  # pragma: no cover - children() already rejected it
            raise TypeError(n)
        out[id(n)] = s
    return out[id(node)]
