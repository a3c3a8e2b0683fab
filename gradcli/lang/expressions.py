"""Evaluating expressions: an explicit-stack walk over the syntax tree.

A chain ``x+x+...+x`` or ``x.exp().exp()...`` is as deep as it is long, so nothing here
recurses over the tree: children are pushed on a stack and combined bottom-up.  Only
the nodes that must not evaluate every child (``and``/``or``, ``a if c else b``,
comprehensions, lambdas, the grad dialect's ``no_grad(expr)``) recurse, and those nest
only as deep as the parser allows.
"""

from __future__ import annotations

from ..autograd.tensor import Tensor
from ..errors import GradcliError, LimitError
from . import ast
from .attributes import get_attribute
from .objects import ScriptCallable
from .pyformat import format_value
from .pyops import (MAX_SEQUENCE, ScriptError, binary, compare, getitem, iterate, truth,
                    type_name, unary)


class ModeFunction(ScriptCallable):
    """A function decorated with ``@torch.no_grad()`` (or enable_grad)."""

    __slots__ = ("mode", "function")
    python_name = "function"

    def __init__(self, mode, function):
        self.mode = mode
        self.function = function

    def call(self, interp, args: list, kwargs: dict):
        with type(self.mode)():
            return interp.call_value(self.function, args, kwargs)


class _Unpack:
    """``*value`` in a call or a display, before it is spread."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Evaluator:
    """Expression evaluation, mixed into :class:`gradcli.lang.machine.Interpreter`."""

    def value(self, node):
        """A statement's value (the grad dialect turns array literals into tensors)."""
        return self.expr(node)

    def expr(self, root):
        stack = [(root, -1)]
        values: list = []
        push, pop = stack.append, stack.pop
        while stack:
            node, nkids = pop()
            if nkids < 0:                                   # first visit: children first
                lazy = _LAZY.get(type(node))
                if lazy is not None or self.is_lazy_call(node):
                    try:
                        values.append(lazy(self, node) if lazy else self.lazy_call(node))
                    except GradcliError as exc:
                        raise exc.located(node.line, node.col, self.source)
                    continue
                kids = ast.children(node)
                push((node, len(kids)))
                for kid in reversed(kids):
                    push((kid, -1))
                continue
            if nkids:
                args = values[-nkids:]
                del values[-nkids:]
            else:
                args = ()
            try:
                values.append(_COMBINE[type(node)](self, node, args))
            except GradcliError as exc:
                raise exc.located(node.line, node.col, self.source)
        return values[0]

    def is_lazy_call(self, node) -> bool:
        return False

    # -- leaves -------------------------------------------------------------------------
    def number(self, node):
        return node.value

    def lookup(self, name: str, node):
        for scope in self.frame.scopes:
            if name in scope:
                return scope[name]
        try:
            return self.builtins[name]
        except KeyError:
            raise self.name_error(name) from None

    def name_error(self, name: str) -> GradcliError:
        return ScriptError("NameError", f"name '{name}' is not defined")

    # -- operators ---------------------------------------------------------------------
    def operand(self, value):
        return value

    def arith(self, op: str, a, b):
        return binary(op, a, b, self.check_size)

    def check_size(self, op: str, *args) -> None:
        """Refuse, before computing it, a tensor over ``max_elements`` (broadcasting and
        matrix products can make one far bigger than any input)."""
        shapes = [a.shape for a in args if isinstance(a, Tensor)]
        if len(shapes) < 2 or (op != "join" and len(shapes) == 2 and shapes[0] == shapes[1]):
            return
        from ..autograd.budget import result_elements
        grows = op if op == "join" else "matmul" if op in ("@", "matmul", "mm", "dot") \
            else "broadcast"
        try:
            size = result_elements(grows, shapes)
        except ValueError:
            return                      # not broadcastable: the op itself says why
        if size is not None and size > self.max_elements:
            raise LimitError(f"the result would have {size} elements; the limit is "
                             f"{self.max_elements}")

    def check_count(self, size: int) -> None:
        """Refuse a result of ``size`` elements over ``max_elements`` (repeat, tile)."""
        if size > self.max_elements:
            raise LimitError(f"the result would have {size} elements; the limit is "
                             f"{self.max_elements}")

    # -- calls -------------------------------------------------------------------------
    def call_value(self, fn, args: list, kwargs: dict, node=None):
        if isinstance(fn, ScriptCallable):
            return fn.call(self, args, kwargs)
        from ..autograd.nn_module import Module
        if isinstance(fn, Module):               # model(x)
            from .hostobjects import call_module
            return call_module(self, fn, args, kwargs)
        from ..autograd.grad_mode import _GradModeContext
        if isinstance(fn, _GradModeContext) and len(args) == 1 and not kwargs:
            return ModeFunction(fn, args[0])     # @torch.no_grad() on a def
        raise ScriptError("TypeError", f"'{type_name(fn)}' object is not callable")

    def call_method(self, receiver, name: str, args: list, kwargs: dict, node):
        method = get_attribute(self, receiver, name, node)
        return self.call_value(method, args, kwargs, node)

    def spread(self, args) -> tuple:
        """Positional arguments with any ``*value`` spread out."""
        if not any(type(a) is _Unpack for a in args):
            return list(args)
        out: list = []
        for a in args:
            if type(a) is _Unpack:
                out.extend(iterate(a.value))
            else:
                out.append(a)
        return out

    # -- attributes and subscripts -------------------------------------------------------
    def attribute(self, value, node):
        return get_attribute(self, value, node.name, node)

    def make_slice(self, start, stop, step) -> slice:
        return slice(start, stop, step)

    def subscript(self, node):
        """The key of ``value[items]`` (the items of an Index node, evaluated)."""
        items = [self.expr(i) for i in node.items]
        return items[0] if len(items) == 1 else tuple(items)

    def index(self, value, key):
        return getitem(self.operand(value) if isinstance(value, list) and
                       self.dialect == "grad" else value, key)


# -- combining a node's evaluated children --------------------------------------------

def _num(ev, node, args):
    return ev.number(node)


def _name(ev, node, args):
    return ev.lookup(node.id, node)


def _binop(ev, node, args):
    return ev.arith(node.op, ev.operand(args[0]), ev.operand(args[1]))


def _unaryop(ev, node, args):
    value = args[0]
    if node.op in ("-", "+", "~"):
        value = ev.operand(value)
    return unary(node.op, value)


def _compare(ev, node, args):
    left = args[0]
    result = True
    for op, right in zip(node.ops, args[1:]):
        result = compare(op, ev.operand(left) if op not in ("is", "is not", "in", "not in")
                         else left, right if op in ("is", "is not", "in", "not in")
                         else ev.operand(right))
        if len(node.ops) > 1 and not truth(result):
            return result
        left = right
    return result


def _call(ev, node, args):
    nargs = len(node.args)
    positional = ev.spread(args[:nargs])
    kwargs = {k.name: v for k, v in zip(node.kwargs, args[nargs:])}
    if node.method:
        return ev.call_method(positional[0], node.func, positional[1:], kwargs, node)
    return ev.call_value(ev.lookup(node.func, node), positional, kwargs, node)


def _call_value(ev, node, args):
    nargs = len(node.args)
    positional = ev.spread(args[1:1 + nargs])
    kwargs = {k.name: v for k, v in zip(node.kwargs, args[1 + nargs:])}
    return ev.call_value(args[0], positional, kwargs, node)


def _attr(ev, node, args):
    return ev.attribute(args[0], node)


def _slice(ev, node, args):
    parts = iter(args)
    return ev.make_slice(*(next(parts) if p is not None else None
                           for p in (node.start, node.stop, node.step)))


def _index(ev, node, args):
    key = args[1] if len(args) == 2 else tuple(args[1:])
    return ev.index(args[0], key)


def _list(ev, node, args):
    return _Literal(ev.spread(args), node)


def _tuple(ev, node, args):
    return tuple(ev.spread(args))


def _dict(ev, node, args):
    n = len(node.keys)
    try:
        return dict(zip(args[:n], args[n:]))
    except TypeError:
        raise ScriptError("TypeError", "unhashable type used as a dict key") from None


def _str(ev, node, args):
    return node.value


def _fstring(ev, node, args):
    fields = iter(args)
    text = "".join(part if isinstance(part, str) else next(fields) for part in node.parts)
    if len(text) > MAX_SEQUENCE:
        raise LimitError(f"a string of {len(text)} characters; the limit is {MAX_SEQUENCE}")
    return text


def _field(ev, node, args):
    spec = args[1] if node.spec is not None else ""
    text = format_value(args[0], spec, node.conversion)
    return text if node.debug is None else node.debug + text


def _const(ev, node, args):
    return node.value


def _starred(ev, node, args):
    return _Unpack(args[0])


_COMBINE = {
    ast.Num: _num, ast.Name: _name, ast.BinOp: _binop, ast.UnaryOp: _unaryop,
    ast.Compare: _compare, ast.Call: _call, ast.CallValue: _call_value, ast.Attr: _attr,
    ast.Slice: _slice, ast.Index: _index, ast.ArrayLit: _list, ast.Tuple: _tuple,
    ast.Dict: _dict, ast.Str: _str, ast.FString: _fstring, ast.FormatField: _field,
    ast.Const: _const, ast.Starred: _starred,
}


# -- nodes that evaluate only some children ---------------------------------------------

def _bool_op(ev, node):
    value = None
    for part in node.values:
        value = ev.expr(part)
        if truth(value) == (node.op == "or"):
            return value
    return value


def _if_exp(ev, node):
    return ev.expr(node.body if truth(ev.expr(node.test)) else node.orelse)


def _lambda(ev, node):
    return ev.make_function("<lambda>", node.params, node.body, True)


def _comprehension(ev, node):
    """[elt for ... in ... if ...] (and dict and generator forms), in its own scope."""
    from .machine import Frame
    scope: dict = {}
    saved = ev.frame
    ev.frame = Frame([scope] + saved.scopes, scope)
    out: list = []
    try:
        _produce(ev, node, 0, out)
    finally:
        ev.frame = saved
    if node.kind == "dict":
        return dict(out)
    return out if node.kind == "list" else _Generated(out)


def _produce(ev, node, level: int, out: list) -> None:
    generator = node.generators[level]
    for item in iterate(ev.expr(generator.iter)):
        ev.count()
        ev.assign(generator.target, item, generator)
        if not all(truth(ev.expr(test)) for test in generator.ifs):
            continue
        if level + 1 < len(node.generators):
            _produce(ev, node, level + 1, out)
        elif node.kind == "dict":
            out.append((ev.expr(node.key), ev.expr(node.elt)))
        else:
            out.append(ev.expr(node.elt))
        if len(out) > MAX_SEQUENCE:
            raise LimitError(f"a comprehension of over {MAX_SEQUENCE} elements")


class _Generated(list):
    """A generator expression's values (computed at once: the same for every use
    gradcli's programs make of them, sum(...), list(...), any(...))."""

    python_name = "generator"


class _Literal(list):
    """The evaluated items of a list display, remembering where it was written (the
    grad dialect turns it into a constant tensor and reports errors there)."""

    __slots__ = ("node",)
    python_name = "list"

    def __init__(self, items, node):
        super().__init__(items)
        self.node = node


_LAZY = {ast.BoolOp: _bool_op, ast.IfExp: _if_exp, ast.Lambda: _lambda,
         ast.Comprehension: _comprehension}
