"""Run a program: text -> engine graph -> (implicit) backward -> :class:`Result`.

    result = evaluate("(x1*x2+x3)**2", {"x1": 2, "x2": 3, "x3": 1})
    result.value, result.grads        # 49.0, {'x1': 42.0, 'x2': 28.0, 'x3': 14.0}

Expressions are evaluated by an explicit-stack walk (a 100 000-term chain is as deep
as it is long).  Every engine computation is recorded on a tape, so the result can
list the whole graph and the symbolic check can replay it.  A program that calls
``backward()`` or ``grad()`` itself gets no implicit backward (SPEC 3.5).
"""

from __future__ import annotations

import numpy as np

from .. import errors
from ..autograd import functional as F
from ..autograd.grad_mode import is_grad_enabled, set_grad_enabled
from ..autograd.tape import Tape
from ..autograd.tensor import Tensor
from ..errors import AutogradError, BindError, GradcliError, InputError
from . import ast
from .bindings import bind_all
from .calls import NO_VALUE, CallRunner
from .functions import CONSTANTS, FUNCTIONS
from .parser import parse
from .result import Result, build_result

_ARITH = {"+": F.add, "-": F.sub, "*": F.mul, "/": F.div, "**": F.pow, "@": F.matmul}
_NUMBER_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
                 "**": np.power}


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
    run = _Run(program, leaves, dtype, retain_grad, on_node, max_elements)
    run.const_names = set(const or ())
    mode = is_grad_enabled()
    try:
        with np.errstate(all="ignore"), run.tape:
            output = run.statements()
            if of is not None:
                output = run.lookup_output(of)
            upstream_used = run.implicit_backward(output, upstream) if implicit_backward \
                else None
    except GradcliError as exc:
        raise exc.located(None, None, program.source)
    finally:
        set_grad_enabled(mode)
    result = build_result(run, output, upstream_used)
    result.options = {"of": of, "wrt": wrt, "upstream": upstream, "dtype": str(np.dtype(dtype))}
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

    @staticmethod
    def _retain(t: Tensor) -> None:
        if t.requires_grad and t.grad_fn is not None:
            t.retain_grad()

    # -- statements -------------------------------------------------------------------
    def statements(self):
        output = None
        for stmt in self.program.statements:
            try:
                value = self.statement(stmt)
            except GradcliError as exc:
                raise exc.located(stmt.line, stmt.col, self.source)
            if value is not NO_VALUE:
                output = value
        if output is None and not self.explicit_backward:
            raise InputError("the program has no output: write an expression, e.g. x**2",
                             line=1, column=1, source=self.source)
        return output

    def statement(self, stmt):
        if isinstance(stmt, ast.ExprStmt):
            return self.value(stmt.value)
        if stmt.target in self.leaves:
            raise BindError(f"cannot assign to '{stmt.target}': it is an input variable",
                            line=stmt.line, column=stmt.col, source=self.source)
        if isinstance(stmt, ast.Assign):
            value = self.value(stmt.value)
            if value is NO_VALUE:
                raise InputError("backward() has no value to assign",
                                 line=stmt.value.line, column=stmt.value.col,
                                 source=self.source)
            self.env[stmt.target] = value
            if isinstance(value, Tensor):
                self.names.setdefault(id(value), stmt.target)
            return value
        # in-place update: t += e
        target = self.lookup(stmt.target, stmt)
        value = self.operand(self.expr(stmt.value))
        if isinstance(target, Tensor):
            return target._inplace(_ARITH[stmt.op], value)
        result = self.arith(stmt.op, target, value)
        self.env[stmt.target] = result
        return result

    def lookup_output(self, name: str):
        if name not in self.env:
            raise BindError(f"--of {name}: the program has no variable '{name}'")
        return self.env[name]

    # -- the implicit backward ------------------------------------------------------------
    def implicit_backward(self, output, upstream):
        if self.explicit_backward:
            return None
        if not isinstance(output, Tensor) or not output.requires_grad:
            raise AutogradError(
                "element 0 of tensors does not require grad and does not have a grad_fn "
                "(the output does not depend on any variable that requires grad)")
        if isinstance(upstream, str):
            if upstream != "ones":
                raise InputError(f"--upstream: expected a value or 'ones', got {upstream!r}")
            gradient = F.ones_like(output)
        elif upstream is None:
            if output.data.size != 1:
                raise AutogradError(
                    "grad can be implicitly created only for scalar outputs (the output has "
                    f"shape {list(output.shape)}: pass --upstream ones, or a gradient of "
                    "that shape)")
            gradient = None
        else:
            gradient = F.as_tensor(upstream, like=output)
        self.calls.run_backward(output, gradient, retain_graph=None, create_graph=False,
                                implicit=True)
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
            return list(args)
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
        """An array literal of numbers as a constant tensor."""
        if _contains_tensor(items):
            raise InputError("array literal elements must be numbers; to build a tensor from "
                             "tensors use stack([...]) or cat([...])")
        try:
            array = np.array(items, dtype=self.dtype)
        except ValueError:
            raise errors.ShapeError("array literal is ragged: every row needs the same "
                                    "length") from None
        return Tensor._make(array, None)

    def arith(self, op: str, a, b):
        if isinstance(a, Tensor) or isinstance(b, Tensor):
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
            self.events.append(("read_grad", value, value.grad))
            return value.grad
        if node.name == "data":
            return value.detach()
        raise InputError(f"unknown attribute '.{node.name}' (there are .T, .grad and .data)")


def _contains_tensor(items) -> bool:
    stack = [items]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            return True
        if isinstance(item, list):
            stack.extend(item)
    return False


def _show(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, Tensor):
        return f"a tensor of shape {list(value.shape)}"
    return repr(value)
