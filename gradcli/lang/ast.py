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


class _Fields(_Node):
    """A node whose constructor takes its fields in slot order (the newer nodes)."""

    __slots__ = ()

    def __init__(self, *values):
        if len(values) != len(self.__slots__):
            raise TypeError(f"{type(self).__name__} takes {len(self.__slots__)} fields")
        for name, value in zip(self.__slots__, values):
            setattr(self, name, value)


# -- more expressions (the Python dialect; the grad dialect may use them too) ----------

class Str(_Fields):
    __slots__ = ("value", "line", "col")        # value: the decoded text


class FString(_Fields):
    __slots__ = ("parts", "line", "col")        # parts: str and FormatField, in order


class FormatField(_Fields):
    # {value!conversion:spec}; spec is an FString or None; debug: the "x=" text of
    # f"{x=}" (or None)
    __slots__ = ("value", "conversion", "spec", "debug", "line", "col")


class Const(_Fields):
    __slots__ = ("value", "line", "col")        # Ellipsis (True/False/None are Names)


class Tuple(_Fields):
    __slots__ = ("items", "line", "col")


class Dict(_Fields):
    __slots__ = ("keys", "values", "line", "col")


class Compare(_Fields):
    # left ops[0] comparators[0] ops[1] comparators[1] ... (a < b < c chains)
    __slots__ = ("left", "ops", "comparators", "line", "col")


class BoolOp(_Fields):
    __slots__ = ("op", "values", "line", "col")  # op: "and" | "or"; values: 2 or more


class IfExp(_Fields):
    __slots__ = ("test", "body", "orelse", "line", "col")


class Lambda(_Fields):
    __slots__ = ("params", "body", "line", "col")


class CompFor(_Fields):
    __slots__ = ("target", "iter", "ifs", "line", "col")


class Comprehension(_Fields):
    # kind: "list", "gen" or "dict"; key: the key of a dict comprehension (else None)
    __slots__ = ("kind", "key", "elt", "generators", "line", "col")


class Starred(_Fields):
    __slots__ = ("value", "line", "col")


class CallValue(_Fields):
    """A call of a computed value: ``model(x)`` is a Call by name, ``f(x)(y)`` and
    ``nn.Linear(1, 1)(x)`` call the value of an expression."""

    __slots__ = ("func", "args", "kwargs", "line", "col")


Expr = Union[Num, Name, ArrayLit, UnaryOp, BinOp, Call, Attr, Index, Str, FString, Const,
             Tuple, Dict, Compare, BoolOp, IfExp, Lambda, Comprehension, Starred, CallValue]


# -- more statements -------------------------------------------------------------------

class If(_Fields):
    __slots__ = ("test", "body", "orelse", "line", "col")


class For(_Fields):
    __slots__ = ("target", "iter", "body", "orelse", "line", "col")


class While(_Fields):
    __slots__ = ("test", "body", "orelse", "line", "col")


class Break(_Fields):
    __slots__ = ("line", "col")


class Continue(_Fields):
    __slots__ = ("line", "col")


class Pass(_Fields):
    __slots__ = ("line", "col")


class Return(_Fields):
    __slots__ = ("value", "line", "col")


class Param(_Fields):
    __slots__ = ("name", "default", "kind", "line", "col")   # kind: "", "*", "**", "kw"


class FunctionDef(_Fields):
    __slots__ = ("name", "params", "body", "decorators", "line", "col")


class WithItem(_Fields):
    __slots__ = ("context", "target", "line", "col")


class With(_Fields):
    __slots__ = ("items", "body", "line", "col")


class Alias(_Fields):
    __slots__ = ("name", "asname", "line", "col")        # name: dotted, "torch.nn"


class Import(_Fields):
    __slots__ = ("names", "line", "col")


class ImportFrom(_Fields):
    __slots__ = ("module", "names", "line", "col")


class Global(_Fields):
    __slots__ = ("names", "line", "col")


class Delete(_Fields):
    __slots__ = ("targets", "line", "col")


class Assert(_Fields):
    __slots__ = ("test", "msg", "line", "col")


class Raise(_Fields):
    __slots__ = ("exc", "line", "col")


class ExceptHandler(_Fields):
    __slots__ = ("type", "name", "body", "line", "col")


class Try(_Fields):
    __slots__ = ("body", "handlers", "orelse", "finalbody", "line", "col")


Stmt = Union[Assign, AugAssign, ExprStmt, If, For, While, Break, Continue, Pass, Return,
             FunctionDef, With, Import, ImportFrom, Global, Delete, Assert, Raise, Try]

class Program(_Node):
    __slots__ = ('statements', 'source')

    def __init__(self, statements, source):
        self.statements = statements
        self.source = source


# The fields holding sub-nodes, per node type, in evaluation order.
_CHILD_FIELDS = {
    Num: (), Name: (), Const: (), Str: (), Break: (), Continue: (), Pass: (),
    Global: (), Import: (), ImportFrom: (), Alias: (), ArrayLit: ("items",),
    UnaryOp: ("operand",), BinOp: ("left", "right"), Keyword: ("value",),
    Attr: ("value",), Slice: ("start", "stop", "step"), Index: ("value", "items"),
    Assign: ("target", "value"), AugAssign: ("target", "value"), ExprStmt: ("value",),
    Program: ("statements",), FString: ("parts",),
    FormatField: ("value", "spec"), Tuple: ("items",), Dict: ("keys", "values"),
    Compare: ("left", "comparators"), BoolOp: ("values",),
    IfExp: ("test", "body", "orelse"), Lambda: ("params", "body"),
    CompFor: ("iter", "target", "ifs"), Comprehension: ("generators", "key", "elt"),
    Starred: ("value",), CallValue: ("func", "args", "kwargs"),
    If: ("test", "body", "orelse"), For: ("iter", "target", "body", "orelse"),
    While: ("test", "body", "orelse"), Return: ("value",),
    Param: ("default",), FunctionDef: ("decorators", "params", "body"),
    WithItem: ("context", "target"), With: ("items", "body"), Delete: ("targets",),
    Assert: ("test", "msg"), Raise: ("exc",), ExceptHandler: ("type", "body"),
    Try: ("body", "handlers", "orelse", "finalbody"),
}


def children(node) -> tuple:
    """The direct sub-nodes of ``node``, left to right (a call's keyword arguments as
    their values)."""
    kind = type(node)
    if kind is Call:
        return node.args + tuple(k.value for k in node.kwargs)
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        raise TypeError(f"not a syntax node: {node!r}")
    out = []
    for field in fields:
        value = getattr(node, field)
        if isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, _Node))
        elif isinstance(value, _Node):
            out.append(value)
    if kind is CallValue:
        out = [node.func, *node.args, *(k.value for k in node.kwargs)]
    return tuple(out)


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
            s = f"({_UNARY_WORDS[n.op]} {kids[0]})"
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
        elif isinstance(n, (Assign, AugAssign)):
            target = n.target if isinstance(n.target, str) else kids.pop(0)
            s = f"({'' if isinstance(n, Assign) else n.op}= {target} {kids[0]})"
        elif isinstance(n, ExprStmt):
            s = kids[0]
        elif isinstance(n, Program):
            s = "\n".join(kids)
        else:
            s = _generic_sexpr(n, kids)
        out[id(n)] = s
    return out[id(node)]


_UNARY_WORDS = {"-": "neg", "+": "pos", "not": "not", "~": "invert"}


def _generic_sexpr(n, kids: list) -> str:
    """The newer nodes: (TypeName detail... children...)."""
    if isinstance(n, Str):
        return repr(n.value)
    if isinstance(n, Const):
        return "..." if n.value is Ellipsis else repr(n.value)
    detail = {Compare: lambda: list(n.ops), BoolOp: lambda: [n.op],
              FunctionDef: lambda: [n.name], Param: lambda: [n.kind + n.name],
              Alias: lambda: [n.name + (f" as {n.asname}" if n.asname else "")],
              ImportFrom: lambda: [n.module], Global: lambda: list(n.names),
              FormatField: lambda: [f"!{n.conversion}" if n.conversion else ""],
              Comprehension: lambda: [n.kind],
              ExceptHandler: lambda: [n.name or ""]}.get(type(n), lambda: [])()
    words = [type(n).__name__.lower()] + [d for d in detail if d] + kids
    if isinstance(n, FString):
        words = ["fstring"] + [repr(p) if isinstance(p, str) else "{}" for p in n.parts]
        words = words[:1] + [w if w != "{}" else kids.pop(0) for w in words[1:]]
    return "(" + " ".join(words) + ")"


def statement_text(source: str, stmt) -> str:
    """The text of ``stmt``: from where it starts to the end of its line or the next
    ';' outside brackets and strings."""
    lines = source.split("\n")
    if not 1 <= stmt.line <= len(lines):
        return ""
    text = lines[stmt.line - 1][stmt.col - 1:]
    depth, quote = 0, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in ";#" and depth <= 0:
            return text[:i].rstrip()
    return text.rstrip()
