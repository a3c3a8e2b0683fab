"""Run a program: text -> engine graph -> (implicit) backward -> :class:`Result`.

    result = evaluate("(x1*x2+x3)**2", {"x1": 2, "x2": 3, "x3": 1})
    result.value, result.grads        # 49.0, {'x1': 42.0, 'x2': 28.0, 'x3': 14.0}

Expressions are evaluated by an explicit-stack walk (a 100 000-term chain is as deep
as it is long).  Every engine computation is recorded on a tape, so the result can
list the whole graph and the symbolic check can replay it.  A program that calls
``backward()`` or ``grad()`` itself gets no implicit backward (SPEC 3.5).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import errors
from ..autograd import functional as F
from ..autograd.grad_mode import is_grad_enabled, set_grad_enabled
from ..autograd.tape import Tape
from ..autograd.tensor import Tensor
from ..errors import AutogradError, BindError, GradcliError, InputError
from . import ast
from .bindings import MAX_DIMS, bind_all, to_array
from .calls import NO_VALUE, CallRunner
from .functions import CONSTANTS, FUNCTIONS
from .parser import parse
from .result import Result, build_result

_ARITH = {"+": F.add, "-": F.sub, "*": F.mul, "/": F.div, "**": F.pow, "@": F.matmul}
_NUMBER_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
                 "**": np.power}
_NO_OUTPUT = object()       # no statement has produced a value (yet)


def evaluate(program, bindings=None, *, const=None, wrt=None, of=None, upstream=None,
             dtype="float64", retain_grad=False, max_elements=10 ** 8,
             on_node=None, implicit_backward=True) -> Result:
    """Evaluate ``program`` (text or a parsed Program) and differentiate it.

    ``bindings``/``const``: name -> value (number, nested list, ndarray, Tensor).
    ``wrt``: only these bound names require grad.  ``of``: the variable to treat as the
    output.  ``upstream``: the gradient for the implicit backward ("ones" allowed).
    ``retain_grad``: keep every intermediate's gradient.  ``on_node``: observer of each
    backward step (for --explain).  ``implicit_backward=False`` leaves the graph intact
    (for Hessians and Jacobians).
    """
    if isinstance(program, str):
        program = parse(program, functions=FUNCTIONS)
    leaves = bind_all(bindings or {}, const or {}, wrt, dtype, max_elements)
    bound = {name: (t.data, t.requires_grad) for name, t in leaves.items()}
    run = _Run(program, leaves, dtype, retain_grad, on_node, max_elements)
    run.const_names = set(const or ())
    mode = is_grad_enabled()
    try:
        # numpy reports floating-point trouble (overflow, 0/0, the mean of an empty
        # tensor) as warnings; like PyTorch, gradcli just produces inf/nan.
        with np.errstate(all="ignore"), warnings.catch_warnings(), run.tape:
            warnings.simplefilter("ignore", RuntimeWarning)
            output = run.statements()
            where = run.output_stmt
            if of is not None:
                output, where = run.lookup_output(of), None
            upstream_used = run.implicit_backward(output, upstream, where) \
                if implicit_backward else None
    except GradcliError as exc:
        raise exc.located(None, None, program.source)
    finally:
        set_grad_enabled(mode)
    result = build_result(run, output, upstream_used)
    result.options = {"of": of, "wrt": wrt, "upstream": upstream, "dtype": str(np.dtype(dtype))}
    result.bound = bound
    return result


class _Run:
    """The state of one program run."""

    def __init__(self, program, leaves, dtype, retain_grad, on_node, max_elements):
        self.program = program
        self.source = program.source
        self.leaves = leaves                   # name -> leaf Tensor, in binding order
        self.env = dict(leaves)
        self.dtype = np.dtype(dtype)
        self.max_elements = max_elements
        self.names: dict[int, str] = {id(t): n for n, t in leaves.items()}
        self.made_leaves: dict[str, Tensor] = {}   # requires_grad_() on computed values
        self.tape = Tape(on_result=self._retain if retain_grad else None)
        self.events = self.tape.events
        self.calls = CallRunner(self, on_node)
        self.explicit_backward = False
        self.output_stmt = None                # the statement whose value is the output

    @staticmethod
    def _retain(t: Tensor) -> None:
        if t.requires_grad and t.grad_fn is not None:
            t.retain_grad()

    # -- statements -------------------------------------------------------------------
    def statements(self):
        output = _NO_OUTPUT
        for stmt in self.program.statements:
            try:
                value = self.statement(stmt)
            except GradcliError as exc:
                raise exc.located(stmt.line, stmt.col, self.source)
            if value is not NO_VALUE:
                output = value
                self.output_stmt = stmt
        if output is _NO_OUTPUT:
            if not self.explicit_backward:
                raise InputError("the program has no output: write an expression, e.g. x**2",
                                 line=1, column=1, source=self.source)
            output = None
        return output

    def statement(self, stmt):
        if isinstance(stmt, ast.ExprStmt):
            return self.value(stmt.value)
        if isinstance(stmt, ast.Assign):
            if stmt.target in self.leaves:
                raise BindError(f"cannot assign to '{stmt.target}': it is an input variable",
                                line=stmt.line, column=stmt.col, source=self.source)
            value = self.value(stmt.value)
            if value is NO_VALUE:
                raise InputError("backward() has no value to assign",
                                 line=stmt.value.line, column=stmt.value.col,
                                 source=self.source)
            self.env[stmt.target] = value
            if isinstance(value, Tensor):
                self.names.setdefault(id(value), stmt.target)
            return value
        # in-place update: t += e (also of an input: SPEC 3.6 decides what is allowed)
        target = self.lookup(stmt.target, stmt)
        value = self.operand(self.expr(stmt.value))
        if isinstance(target, Tensor):
            self.check_size(stmt.op, target, value)
            return target._inplace(_ARITH[stmt.op], value)
        result = self.arith(stmt.op, self.operand(target), value)
        self.env[stmt.target] = result
        if isinstance(result, Tensor):
            self.names.setdefault(id(result), stmt.target)
        return result

    def lookup_output(self, name: str):
        if name not in self.env:
            raise BindError(f"--of {name}: the program has no variable '{name}'")
        return self.env[name]

    # -- the implicit backward ------------------------------------------------------------
    def implicit_backward(self, output, upstream, where=None):
        """backward() from the output; errors about the output point at ``where``, the
        statement that gave it (None for --of)."""
        if self.explicit_backward:
            if upstream is not None:
                raise InputError("--upstream has no effect here: the program runs its own "
                                 "backward()/grad(); pass the gradient to it, e.g. "
                                 "backward(y, ones_like(y))")
            return None
        if isinstance(upstream, str) and upstream != "ones":
            raise InputError(f"--upstream: expected a value or 'ones', got {upstream!r}")
        try:
            if output is None:
                raise InputError("the output is None, so there is nothing to differentiate "
                                 "(a .grad is None until a backward pass reaches its tensor)")
            if not isinstance(output, Tensor) or not output.requires_grad:
                raise AutogradError(
                    "element 0 of tensors does not require grad and does not have a grad_fn "
                    "(the output does not depend on any variable that requires grad)")
            if upstream is None and output.data.size != 1:
                raise AutogradError(
                    "grad can be implicitly created only for scalar outputs (the output has "
                    f"shape {list(output.shape)}: pass --upstream ones, or a gradient of "
                    "that shape)")
        except GradcliError as exc:
            raise _at(exc, where, self.source)
        if upstream is None:
            gradient = None
        elif isinstance(upstream, str):
            gradient = F.ones_like(output)
        else:
            gradient = F.as_tensor(to_array("upstream", upstream, output.data.dtype,
                                            self.max_elements))
        try:
            self.calls.run_backward(output, gradient, retain_graph=None, create_graph=False,
                                    implicit=True)
        except GradcliError as exc:
            if exc.message.startswith("Mismatch in shape"):
                exc.message = f"--upstream: {exc.message}"
                exc.args = (exc.message,)
            raise _at(exc, where, self.source)
        return gradient

    # -- expressions (iterative) ------------------------------------------------------------
    def value(self, node):
        """A statement's value: array literals become constant tensors here."""
        value = self.expr(node)
        if isinstance(value, list):
            try:
                return self.constant(value)
            except GradcliError as exc:
                raise exc.located(node.line, node.col, self.source)
        return value

    def expr(self, root):
        """Evaluate an expression tree bottom-up with an explicit stack."""
        stack = [(root, -1)]
        values: list = []
        modes: list = []
        push, pop = stack.append, stack.pop
        while stack:
            node, nkids = pop()
            if nkids < 0:                                   # first visit: children first
                kids = ast.children(node)
                if type(node) is ast.Call and node.func == "no_grad":
                    modes.append(is_grad_enabled())
                    set_grad_enabled(False)
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
                if type(node) is ast.Call and node.func == "no_grad":
                    set_grad_enabled(modes.pop())
                values.append(self.combine(node, args))
            except GradcliError as exc:
                raise exc.located(node.line, node.col, self.source)
        return values[0]

    def combine(self, node, args):
        if type(node) is ast.BinOp:
            return self.arith(node.op, self.operand(args[0]), self.operand(args[1]))
        if isinstance(node, ast.Num):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.lookup(node.id, node)
        if isinstance(node, ast.BinOp):
            return self.arith(node.op, self.operand(args[0]), self.operand(args[1]))
        if isinstance(node, ast.UnaryOp):
            value = self.operand(args[0])
            if node.op == "+":
                return value
            return -value if not isinstance(value, Tensor) else F.neg(value)
        if isinstance(node, ast.Call):
            return self.calls.call(node, args)
        if isinstance(node, ast.ArrayLit):
            return _Literal(args, node)
        if isinstance(node, ast.Slice):
            parts = iter(args)
            return slice(*(self.integer(next(parts), "slice bound") if p is not None else None
                           for p in (node.start, node.stop, node.step)))
        if isinstance(node, ast.Index):
            return self.index(args[0], args[1:])
        if isinstance(node, ast.Attr):
            return self.attribute(args[0], node)
        raise InputError(f"cannot evaluate {type(node).__name__}")  # pragma: no cover

    def lookup(self, name: str, node):
        if name in self.env:
            return self.env[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in ("True", "False"):
            return name == "True"
        if name == "None":
            return None
        if name in FUNCTIONS:
            raise BindError(f"'{name}' is a function: call it, e.g. {name}(x)")
        raise BindError(f"unbound variable '{name}': pass --{name} VALUE")

    def operand(self, value):
        """A value usable in arithmetic: a Tensor or a float."""
        if isinstance(value, Tensor):
            return value
        if value is None:
            raise InputError("None cannot be used as a value here (a .grad is None until a "
                             "backward pass reaches its tensor)")
        if isinstance(value, bool):
            raise InputError(f"{value} cannot be used as a number here")
        if isinstance(value, list):
            return self.constant(value)
        if value is NO_VALUE:
            raise InputError("backward() has no value")
        return value

    def constant(self, items) -> Tensor:
        """An array literal of numbers as a constant tensor; errors point at the literal."""
        try:
            _check_literal(items)
            try:
                array = np.array(items, dtype=self.dtype)
            except ValueError:
                raise errors.ShapeError("array literal is ragged: every row needs the same "
                                        "length") from None
            if array.size > self.max_elements:
                raise errors.LimitError(f"array literal has {array.size} elements; the limit "
                                        f"is {self.max_elements}")
        except GradcliError as exc:
            raise _at(exc, getattr(items, "node", None), self.source)
        return Tensor._make(array, None)

    def check_size(self, op: str, *args) -> None:
        """Refuse, before computing it, a result over ``max_elements``: broadcasting and
        matrix products can make a tensor far bigger than any of their inputs."""
        shapes = [a.shape for a in args if isinstance(a, Tensor)]
        if len(shapes) < 2:
            return
        if op in ("@", "matmul", "mm", "dot"):
            a, b = shapes[0], shapes[1]
            size = (a[0] if len(a) == 2 else 1) * (b[-1] if len(b) == 2 else 1)
        elif op == "join":
            size = sum(math.prod(s) for s in shapes)
        elif len(shapes) == 2 and shapes[0] == shapes[1]:
            return                      # the common case: no bigger than an input
        else:
            try:
                size = math.prod(np.broadcast_shapes(*shapes))
            except ValueError:
                return                  # not broadcastable: the op itself says why
        if size > self.max_elements:
            raise errors.LimitError(f"the result would have {size} elements; the limit is "
                                    f"{self.max_elements}")

    def arith(self, op: str, a, b):
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            self.check_size(op, a, b)
            return _ARITH[op](a, b)
        if op == "@":
            raise InputError("@ needs tensors of at least one dimension, not numbers")
        return float(_NUMBER_ARITH[op](np.float64(a), b))

    def integer(self, value, what: str) -> int:
        if isinstance(value, Tensor) and value.data.size == 1 and not value.requires_grad:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not float(value).is_integer():
            raise InputError(f"{what} must be an integer, got {_show(value)}")
        return int(value)

    def index(self, value, items):
        x = self.operand(value)
        if not isinstance(x, Tensor):
            raise InputError("only tensors can be indexed")
        key = tuple(i if isinstance(i, slice) else self.integer(i, "index") for i in items)
        return F.index(x, key if len(key) > 1 else key[0])

    def attribute(self, value, node):
        if not isinstance(value, Tensor):
            raise InputError(f".{node.name} needs a tensor, got {_show(value)}")
        if node.name == "T":
            return F.transpose_all(value)
        if node.name == "grad":
            grad = value.grad
            # later backward calls update this .grad in place: keep what was read
            snapshot = None if grad is None else Tensor._make(grad.data.copy(), grad.grad_fn)
            self.events.append(("read_grad", value, grad, snapshot))
            return value.grad
        if node.name == "data":
            return value.torch_data     # PyTorch's .data: same storage, own version
        raise InputError(f"unknown attribute '.{node.name}' (there are .T, .grad and .data)")


class _Literal(list):
    """The evaluated items of an array literal, remembering where it was written."""

    __slots__ = ("node",)

    def __init__(self, items, node):
        super().__init__(items)
        self.node = node


def _at(exc: GradcliError, node, source: str) -> GradcliError:
    """``exc`` located at ``node`` (when there is one and ``exc`` has no position yet)."""
    return exc.located(node.line, node.col, source) if node is not None else exc


def _check_literal(items) -> None:
    """Every element of an array literal must be a number (iteratively: no recursion)."""
    stack = [(items, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list):
            if depth > MAX_DIMS:
                raise errors.LimitError(f"array literal has over {MAX_DIMS} dimensions; the "
                                        f"limit is {MAX_DIMS}")
            stack.extend((x, depth + 1) for x in reversed(item))   # left to right
        elif isinstance(item, Tensor):
            raise InputError("array literal elements must be numbers; to build a tensor from "
                             "tensors use stack([...]) or cat([...])")
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            what = "backward()'s result" if item is NO_VALUE else _show(item)
            raise InputError(f"array literal elements must be numbers, got {what}")


def _show(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, Tensor):
        return f"a tensor of shape {list(value.shape)}"
    return repr(value)
