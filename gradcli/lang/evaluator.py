"""Run a ``gradcli grad`` program: text -> engine graph -> (implicit) backward -> Result.

    result = evaluate("(x1*x2+x3)**2", {"x1": 2, "x2": 3, "x3": 1})
    result.value, result.grads        # 49.0, {'x1': 42.0, 'x2': 28.0, 'x3': 14.0}

The grad dialect of the one interpreter (:mod:`gradcli.lang.machine`): bound variables
are leaves; numbers are float64 (exact integers stay integers); an array literal used
as a value is a constant tensor; gradcli's functions (``sum(x, 1)``, ``backward(y)``,
``no_grad(expr)``) are the builtins, with ``torch.``/``F.`` and ``print`` besides.
Every engine computation is recorded on a tape, so the result can list the whole graph
and the symbolic check can replay it.  A program that calls ``backward()`` or
``grad()`` itself gets no implicit backward (SPEC 3.5).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import errors
from ..autograd import functional as F
from ..autograd.events import BackwardEvent, ReadGradEvent, RequiresGradEvent, has
from ..autograd.grad_mode import is_grad_enabled, set_grad_enabled
from ..autograd.inplace import BorrowedWrite, borrowing
from ..autograd.random import default_generator
from ..autograd.tape import Tape
from ..autograd.tensor import Tensor
from ..errors import AutogradError, BindError, GradcliError, InputError
from . import ast
from .bindings import MAX_DIMS, bind_all, to_array
from .calls import NO_VALUE, CallRunner
from .expressions import _Literal
from .functions import FUNCTIONS
from .keep import KEEP, summarise
from .machine import Interpreter
from .objects import BoundMethod
from .parser import parse
from .gradnames import (MODULE_NAMES, GradFunction, _grad_builtins, _modules,
                        parse_program)
from .pyops import binary, is_number
from .result import build_result

_NUMBER_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
                 "**": np.power, "//": np.floor_divide, "%": np.mod}
_NO_OUTPUT = object()       # no statement has produced a value (yet)
# statements run by the grad dialect's own CallRunner when written as methods
AUTOGRAD_METHODS = frozenset(("backward", "retain_grad", "requires_grad_", "zero_grad",
                              "detach"))


def evaluate(program, bindings=None, *, const=None, wrt=None, of=None, upstream=None,
             dtype="float64", retain_grad=False, max_elements=10 ** 8,
             on_node=None, implicit_backward=True, copy="borrow", keep="summary",
             watch=None):
    """Evaluate ``program`` (text or a parsed Program) and differentiate it.

    ``bindings``/``const``: name -> value (number, nested list, ndarray, Tensor).
    ``wrt``: only these bound names require grad.  ``of``: the variable to treat as the
    output.  ``upstream``: the gradient for the implicit backward ("ones" allowed).
    ``retain_grad``: keep every intermediate's gradient.  ``on_node``: observer of each
    backward step (for --explain).  ``implicit_backward=False`` leaves the graph intact
    (for Hessians and Jacobians).  ``copy``: what becomes of an ndarray binding of the
    right dtype (contiguous): "borrow" (the default) shares it, as ``torch.from_numpy``
    does, through a read-only view, and runs the program again on copies if it writes
    into one in place (copies from the start with ``on_node``); True copies it; False
    uses it as it is, writeable (the CLI's own loaded arrays).  ``keep="summary"``: the result keeps summaries, not copies, of
    intermediate tensors over 1000 elements (:mod:`gradcli.lang.keep`); ``"all"`` keeps
    every value.  ``watch``: an observer of the run, told its leaves
    (``watch.start(name -> leaf tensor)``) and then each event the engine's tape records,
    as it records it (``watch.see(event)``), before the run may let go of its arrays: the
    numeric check reads the tensors its objective sums, and where ops have kinks,
    without keeping every value.  (A run repeated on copies after writing into a
    borrowed array starts again.)
    """
    if keep not in KEEP:
        raise ValueError(f"keep must be one of {', '.join(KEEP)}, not {keep!r}")
    if isinstance(program, str):
        program = parse_program(program)
    options = dict(const=const, wrt=wrt, of=of, upstream=upstream, dtype=dtype,
                   retain_grad=retain_grad, max_elements=max_elements, on_node=on_node,
                   implicit_backward=implicit_backward, keep=keep, watch=watch)
    if copy != "borrow" or on_node is not None:   # (an observer sees one run only)
        return _evaluate(program, bindings, copy if copy != "borrow" else True, **options)
    random_state = default_generator.snapshot()
    try:
        with borrowing():
            return _evaluate(program, bindings, "borrow", **options)
    except BorrowedWrite:            # the program writes into a caller's array: copy
        default_generator.restore(random_state)
        return _evaluate(program, bindings, True, **options)


def _evaluate(program, bindings, copy, *, const, wrt, of, upstream, dtype, retain_grad,
              max_elements, on_node, implicit_backward, keep, watch):
    leaves = bind_all(bindings or {}, const or {}, wrt, dtype, max_elements, copy)
    bound = {name: (t.data, t.requires_grad) for name, t in leaves.items()}
    run = GradRun(program, leaves, dtype, retain_grad, on_node, max_elements,
                  release=keep == "summary", watch=watch)
    run.const_names = set(const or ())
    try:
        result = _run(run, program, of, upstream, implicit_backward)
        released = run.tape.released
    finally:
        run.release()
    result.options = {"of": of, "wrt": wrt, "upstream": upstream, "dtype": str(np.dtype(dtype)),
                      "implicit_backward": implicit_backward}
    result.bound = bound
    result.summarised = released + summarise(result) if keep == "summary" else 0
    return result


def _run(run, program, of, upstream, implicit_backward):
    random_state = default_generator.snapshot()     # (dropout): the check redraws it
    mode = is_grad_enabled()
    try:
        # numpy reports floating-point trouble (overflow, 0/0, the mean of an empty
        # tensor) as warnings; like PyTorch, gradcli just produces inf/nan.
        # PyTorch's own warnings (a loss's broadcast target) are kept on the result.
        with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as caught, \
                run.tape:
            warnings.simplefilter("always", UserWarning)
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
    result.random_state = random_state
    result.outputs = run.outputs
    result.printed = "".join(run.printed)
    result.unused = [name for name in run.leaves if name not in run.used]
    result.warnings = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    result.none_reason = run.none_reason(output, of) if output is None else None
    return result


class GradRun(Interpreter):
    """The state of one grad-dialect program run."""

    dialect = "grad"

    def __init__(self, program, leaves, dtype, retain_grad, on_node, max_elements,
                 release=False, watch=None):
        super().__init__(program, _grad_builtins(), max_elements=max_elements)
        self.leaves = leaves                   # name -> leaf Tensor, in binding order
        self.globals.update(leaves)
        self.env = self.globals
        self.dtype = np.dtype(dtype)
        self.names: dict[int, str] = {id(t): n for n, t in leaves.items()}
        self.leaf_ids = {id(t) for t in leaves.values()}
        self.used: set = set()                 # bound names the program read
        self.made_leaves: dict[str, Tensor] = {}   # requires_grad_() on computed values
        # release: large intermediates the program has let go of become summaries as
        # the run goes (:class:`Tape`), not only when it ends (:mod:`.keep`)
        self.tape = Tape(on_result=self._retain if retain_grad else None, release=release,
                         watch=None if watch is None else watch.see)
        if watch is not None:
            watch.start(leaves)
        self.events = self.tape.events
        self.calls = CallRunner(self, on_node)
        self.explicit_backward = False
        self.output = _NO_OUTPUT
        self.output_stmt = None                # the statement whose value is the output
        self.outputs: list = []                # (statement, value) of expression statements
        self.printed: list = []
        self.current_call = None
        self.const_names: set = set()
        self.none_grads: dict = {}             # id(a .grad read's node) -> why it was None

    def release(self) -> None:
        """Drop the run's state.  The interpreter and its helpers refer to each other
        (a cycle only the garbage collector frees); without this, every array the run
        made stayed alive after ``del result`` until a collection happened to run."""
        self.__dict__.clear()

    @staticmethod
    def _retain(t: Tensor) -> None:
        if t.requires_grad and t.grad_fn is not None:
            t.retain_grad()

    def write(self, text: str) -> None:
        self.printed.append(text)

    # -- statements -------------------------------------------------------------------
    def statements(self):
        self.run_program()
        output = self.output
        if output is _NO_OUTPUT:
            if not self.explicit_backward:
                raise InputError("the program has no output: write an expression, e.g. x**2",
                                 line=1, column=1, source=self.source)
            output = None
        return output

    def produced(self, stmt, value) -> None:
        if value is not NO_VALUE:
            self.output = value
            self.output_stmt = stmt

    def statement_value(self, stmt, value) -> None:
        if value is None and isinstance(stmt.value, (ast.Call, ast.CallValue)):
            return                  # print(...) and the like: nothing to show, as in Python
        if value is not NO_VALUE:
            snapshot = value
            if isinstance(value, Tensor):       # later in-place updates must not show
                snapshot = Tensor._make(np.array(value.data, copy=True), value.grad_fn)
                if value.grad_fn is None and value.requires_grad:
                    snapshot.requires_grad = True
            self.outputs.append((stmt, snapshot))
        self.produced(stmt, value)

    def exec_assign(self, stmt) -> None:
        target = stmt.target
        if isinstance(target, str) and target in self.leaves:
            raise BindError(f"cannot assign to '{target}': it is an input variable",
                            line=stmt.line, column=stmt.col, source=self.source)
        value = self.value(stmt.value)
        if value is NO_VALUE:
            raise InputError("backward() has no value to assign", line=stmt.value.line,
                             column=stmt.value.col, source=self.source)
        self.assign(target, value, stmt)
        self.produced(stmt, value)

    def exec_aug_assign(self, stmt) -> None:
        super().exec_aug_assign(stmt)
        if isinstance(stmt.target, str):
            self.produced(stmt, self.lookup(stmt.target, stmt))

    def store(self, name: str, value) -> None:
        super().store(name, value)
        if isinstance(value, Tensor):
            self.names.setdefault(id(value), name)
            if value.requires_grad and value.grad_fn is None and name not in self.leaves \
                    and self.frame.store is self.globals and name not in self.made_leaves \
                    and id(value) not in self.leaf_ids:
                # a leaf the program made (torch.tensor(..., requires_grad=True)): a
                # variable of the check from here on, as if requires_grad_() made it
                self.made_leaves[name] = value
                self.events.append(RequiresGradEvent(value, True))

    def lookup_output(self, name: str):
        if name not in self.globals:
            raise BindError(f"--of {name}: the program has no variable '{name}'")
        return self.globals[name]

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
        if output is None:
            return None             # shown as None, with why (Result.none_reason)
        try:
            if isinstance(output, tuple):
                raise InputError(f"the output is a tuple of {len(output)} values (a comma "
                                 f"separates them){_decimal_comma_hint(self.source)}")
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

    # -- expressions ------------------------------------------------------------------
    def value(self, node):
        """A statement's value: array literals become constant tensors here."""
        value = self.expr(node)
        if isinstance(value, list):
            try:
                return self.constant(value)
            except GradcliError as exc:
                raise exc.located(node.line, node.col, self.source)
        return value

    def is_lazy_call(self, node) -> bool:
        return type(node) is ast.Call and node.func == "no_grad" and not node.method \
            and isinstance(self.builtins.get("no_grad"), GradFunction) \
            and "no_grad" not in self.globals

    def lazy_call(self, node):
        """no_grad(expr): the argument evaluated with grad mode off."""
        if len(node.args) != 1 or node.kwargs:
            raise InputError("no_grad() takes exactly one argument: no_grad(expr)")
        return self.with_grad_mode(False, lambda: self.expr(node.args[0]))

    def lookup(self, name: str, node):
        scopes = self.frame.scopes
        for scope in scopes:
            if name in scope:
                if name in self.leaves:
                    self.used.add(name)
                return scope[name]
        value = self.builtins.get(name, _NO_OUTPUT)
        if value is _NO_OUTPUT:
            if name in MODULE_NAMES:
                return _modules()[MODULE_NAMES[name]]
            raise self.name_error(name)
        if isinstance(value, GradFunction) and type(node) is ast.Name:
            raise BindError(f"'{name}' is a function: call it, e.g. {name}(x)")
        return value

    def name_error(self, name: str) -> GradcliError:
        if self.frame.store is not self.globals:
            return BindError(f"name '{name}' is not defined")
        hint = ""
        near = [n for n in self.leaves if n.lower() == name.lower()]    # --X 2 for x
        if near:
            hint = f" (--{near[0]} is bound: did you mean --{name}? names are case-sensitive)"
        return BindError(f"unbound variable '{name}': pass --{name} VALUE{hint}")

    def operand(self, value):
        """A value usable in arithmetic: a Tensor or a number."""
        if isinstance(value, Tensor):
            return value
        if value is None:
            raise InputError("None cannot be used as a value here (a .grad is None until a "
                             "backward pass reaches its tensor, and a non-leaf's stays None "
                             "unless retain_grad() was called on it)")
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

    def arith(self, op: str, a, b):
        if isinstance(a, Tensor) or isinstance(b, Tensor):
            self.check_size(op, a, b)
            return binary(op, a, b)
        if op == "@":
            raise InputError("@ needs tensors of at least one dimension, not numbers")
        if not (is_number(a) and is_number(b)):
            return binary(op, a, b)
        if type(a) is int and type(b) is int and _small_int_result(op, a, b):
            return binary(op, a, b)                    # exact integers stay integers
        return float(_NUMBER_ARITH[op](np.float64(a), b))

    def integer(self, value, what: str) -> int:
        if isinstance(value, Tensor) and value.data.size == 1 and not value.requires_grad:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not float(value).is_integer():
            raise InputError(f"{what} must be an integer, got {_show(value)}")
        return int(value)

    def index(self, value, key):
        x = self.operand(value)
        if not isinstance(x, Tensor):
            from .pyops import getitem
            return getitem(x, key)
        items = key if isinstance(key, tuple) else (key,)
        items = tuple(self.index_item(i) for i in items)
        return F.index(x, items if len(items) > 1 else items[0])

    def index_item(self, item):
        """One item of x[...]: a slice, None, ..., a mask or index tensor, a list of
        integers (numbers are floats in programs: 2.0 is 2), or an integer."""
        if isinstance(item, slice) or item is None or item is Ellipsis:
            return item
        if isinstance(item, Tensor) and (item.ndim or item.data.dtype == np.bool_):
            return item
        if isinstance(item, list):
            return [self.integer(i, "index") for i in item]
        return self.integer(item, "index")

    def make_slice(self, start, stop, step) -> slice:
        return slice(*(None if v is None else self.integer(v, "slice bound")
                       for v in (start, stop, step)))

    def read_grad(self, tensor: Tensor, node):
        grad = tensor.grad
        # later backward calls update this .grad in place: keep what was read
        snapshot = None if grad is None else Tensor._make(np.array(grad.data, copy=True),
                                                          grad.grad_fn)
        self.events.append(ReadGradEvent(tensor, grad, snapshot))
        if grad is None and node is not None:
            self.none_grads[id(node)] = self.why_no_grad(tensor)
        return grad

    def attribute(self, value, node):
        try:
            return super().attribute(value, node)
        except GradcliError as exc:
            raise self._none_hint(exc, value, node.value) from None

    def _none_hint(self, exc: GradcliError, value, receiver) -> GradcliError:
        """``exc`` about a None .grad (x.grad.zero_() before any backward()) says why."""
        why = self.none_grads.get(id(receiver)) if value is None else None
        if why:
            exc.message = f"{exc.message} ({why})"
            exc.args = (exc.message,)
        return exc

    def why_no_grad(self, tensor: Tensor) -> str:
        """Why ``tensor.grad`` is None as the program reads it, in a learner's words."""
        name = self.names.get(id(tensor), "the tensor")
        if not tensor.requires_grad:
            why = f"{name} does not require grad (requires_grad=False)"
        elif not tensor.is_leaf:
            why = (f"{name} is not a leaf, and a non-leaf keeps no .grad unless "
                   f"retain_grad() was called on it before backward()")
        elif not has(self.events, BackwardEvent):
            why = f"no backward() had run when {name}.grad was read"
        else:
            why = f"no backward() had reached {name} when its .grad was read"
        return f"{name}.grad is None: {why}"

    def none_reason(self, output, of) -> str:
        """Why the program's value is None (None: it has no value, e.g. ends in backward())."""
        if of is not None:
            return f"--of {of}: its value is None"
        stmt = self.output_stmt
        node = getattr(stmt, "value", None)
        if node is not None and id(node) in self.none_grads:
            return self.none_grads[id(node)]
        if isinstance(node, ast.Attr) and node.name == "grad_fn" and \
                isinstance(node.value, ast.Name):
            return (f"{node.value.id}.grad_fn is None: {node.value.id} is a leaf (no op "
                    "made it, so no node computes its gradient)")
        return "the last statement's value is None" if stmt is not None else None

    # -- calls ----------------------------------------------------------------------------
    def call_value(self, fn, args: list, kwargs: dict, node=None):
        if isinstance(fn, GradFunction):
            self.current_call = node
            return self.calls.call(node, fn.name, args, kwargs)
        return super().call_value(fn, args, kwargs, node)

    def call_method(self, receiver, name: str, args: list, kwargs: dict, node):
        """``a.f(b)`` is f(a, b) for gradcli's functions; otherwise a method."""
        if name in FUNCTIONS and not _is_namespace(receiver) and (
                name in AUTOGRAD_METHODS or isinstance(receiver, (Tensor, list, float, int))):
            self.current_call = node
            return self.calls.call(node, name, [receiver, *args], kwargs)
        try:
            return super().call_method(receiver, name, args, kwargs, node)
        except GradcliError as exc:
            raise self._none_hint(exc, receiver, node.args[0] if node.args else None) \
                from None

    def tensor_hook(self, tensor: Tensor, name: str):
        if name in AUTOGRAD_METHODS and name in FUNCTIONS:
            return BoundMethod(tensor, GradFunction(name))
        return None

    def import_module(self, name: str, node):
        modules = _modules()
        if name in modules:
            return modules[name]
        return super().import_module(name, node)


def _decimal_comma_hint(source: str) -> str:
    import re
    m = re.search(r"(?<![\w.])(\d+),(\d+)(?![\w.])", source)
    return f": did you mean {m.group(1)}.{m.group(2)}? (decimals take a point)" if m else ""


def _small_int_result(op: str, a: int, b: int) -> bool:
    """Whether ``a op b`` is an integer that float64 arithmetic would not round (beyond
    that, numbers are floats: 10**400 is inf, as in every float program)."""
    bits = max(a.bit_length(), b.bit_length())
    if op in "+-":
        return bits < 52
    if op == "*":
        return a.bit_length() + b.bit_length() < 52
    return op == "**" and 0 <= b < 64 and a.bit_length() * b < 52


def _is_namespace(value) -> bool:
    from .objects import Namespace
    return isinstance(value, Namespace)


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


__all__ = ["evaluate", "parse_program", "GradRun", "FUNCTIONS", "parse", "_Literal"]
