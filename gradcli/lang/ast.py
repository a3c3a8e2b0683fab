"""The syntax tree of a gradcli program.

Every node carries the 1-based ``line`` and ``col`` of its first character (for a
binary operation: of the operator, which is where errors about it point).  Nodes are
immutable.  Chains such as ``x+x+...+x`` are left-nested ``BinOp`` nodes as deep as
the chain is long, so nothing may walk this tree recursively: use :func:`postorder`.
"""

from __future__ import annotations

from typing import Iterator, Union


class _Node:
    """Base of the syntax nodes: equality and repr by field, in field order.  Nodes are
    plain slotted classes (not dataclasses: those cost ~1 ms each to create at import,
    and start-up time matters); treat them as immutable."""

    __slots__ = ()

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and all(
            getattr(self, f) == getattr(other, f) for f in self.__slots__)

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + tuple(getattr(self, f) for f in self.__slots__))

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__)
        return f"{type(self).__name__}({args})"


class Num(_Node):
    __slots__ = ('value', 'text', 'is_int', 'line', 'col')
    # text: as written, e.g. "1e-3"
    # is_int: written without '.', 'e' or 'E' (usable as an index or dim)

    def __init__(self, value, text, is_int, line, col):
        self.value = value
        self.text = text
        self.is_int = is_int
        self.line = line
        self.col = col


class Name(_Node):
    __slots__ = ('id', 'line', 'col')

    def __init__(self, id, line, col):
        self.id = id
        self.line = line
        self.col = col


class ArrayLit(_Node):
    __slots__ = ('items', 'line', 'col')

    def __init__(self, items, line, col):
        self.items = items
        self.line = line
        self.col = col


class UnaryOp(_Node):
    __slots__ = ('op', 'operand', 'line', 'col')
    # op: "-" or "+"

    def __init__(self, op, operand, line, col):
        self.op = op
        self.operand = operand
        self.line = line
        self.col = col


class BinOp(_Node):
    __slots__ = ('op', 'left', 'right', 'line', 'col')
    # op: "+", "-", "*", "/", "@", "**"  ('^' is stored as "**")
    # line: position of the operator

    def __init__(self, op, left, right, line, col):
        self.op = op
        self.left = left
        self.right = right
        self.line = line
        self.col = col


class Keyword(_Node):
    __slots__ = ('name', 'value', 'line', 'col')

    def __init__(self, name, value, line, col):
        self.name = name
        self.value = value
        self.line = line
        self.col = col


class Call(_Node):
    __slots__ = ('func', 'args', 'kwargs', 'method', 'line', 'col')
    # func: function name; for a.f(b) it is "f"
    # args: for a.f(b) the args are (a, b)
    # method: written as a method call a.f(...)
    # line: position of the function name

    def __init__(self, func, args, kwargs, method, line, col):
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.method = method
        self.line = line
        self.col = col


class Attr(_Node):
    __slots__ = ('value', 'name', 'line', 'col')
    # name: e.g. "T", "grad"
    # line: position of the attribute name

    def __init__(self, value, name, line, col):
        self.value = value
        self.name = name
        self.line = line
        self.col = col


class Slice(_Node):
    __slots__ = ('start', 'stop', 'step', 'line', 'col')

    def __init__(self, start, stop, step, line, col):
        self.start = start
        self.stop = stop
        self.step = step
        self.line = line
        self.col = col


class Index(_Node):
    __slots__ = ('value', 'items', 'line', 'col')
    # line: position of '['

    def __init__(self, value, items, line, col):
        self.value = value
        self.items = items
        self.line = line
        self.col = col


Expr = Union[Num, Name, ArrayLit, UnaryOp, BinOp, Call, Attr, Index]


class Assign(_Node):
    __slots__ = ('target', 'value', 'line', 'col')

    def __init__(self, target, value, line, col):
        self.target = target
        self.value = value
        self.line = line
        self.col = col


class AugAssign(_Node):
    __slots__ = ('target', 'op', 'value', 'line', 'col')
    # op: "+", "-", "*", "/"

    def __init__(self, target, op, value, line, col):
        self.target = target
        self.op = op
        self.value = value
        self.line = line
        self.col = col


class ExprStmt(_Node):
    __slots__ = ('value', 'line', 'col')

    def __init__(self, value, line, col):
        self.value = value
        self.line = line
        self.col = col


Stmt = Union[Assign, AugAssign, ExprStmt]


class Program(_Node):
    __slots__ = ('statements', 'source')

    def __init__(self, statements, source):
        self.statements = statements
        self.source = source


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
