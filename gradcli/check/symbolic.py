"""The symbolic route: replay a program's tape in SymPy and differentiate it.

Every bound tensor element becomes a real symbol (``x``, ``w[0,1]``); each recorded op
is rebuilt from its op-table SymPy counterpart (never from text); parts computed
under no_grad or detached are constants, with the values they had when they were used
(a constant updated in place later keeps its earlier value where it was read).  The
expected gradient of a variable is d(sum(root * upstream))/d(variable), summed over
the program's backward calls (reset by zero_grad); a ``grad()`` result is the
derivative of its output, also with respect to an intermediate tensor (which the
replay then holds as symbols of its own, substituted back before evaluating).

A NaN or infinite constant (``exp(1000)``, ``0/0``, an upstream element) becomes a
symbol of its own, so only the derivatives it enters are skipped; an op SymPy cannot
build makes its output such a symbol too, so only what depends on it is skipped.
Flat sums and products are collected into one n-ary SymPy node, so a 100 000-term
chain costs linear time.
"""

from __future__ import annotations

import time

import numpy as np
import sympy as sp

from ..autograd.events import GradEvent, InplaceEvent, SnapshotEvent, of_kind
from ..autograd.ops import STRUCTURAL
from ..autograd.ops.core import emap
from ..autograd.tensor import Tensor
from . import POINT_DIGITS, Timeout
from .domain import Domain

_CHAINED = frozenset(("add", "sub", "mul"))


def exact(x) -> sp.Expr:
    """A finite float as SymPy sees a literal: integers exactly, others as the decimal
    written (``Replay.constant`` gives non-finite ones symbols of their own)."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return sp.nan if x != x else (sp.oo if x > 0 else -sp.oo)
    if x.is_integer():
        return sp.Integer(int(x))
    return sp.Rational(repr(x))


def exact_point(x) -> sp.Expr:
    """A float's exact binary value as a 30-digit SymPy Float (its 53-bit value held
    exactly)."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return exact(x)
    return sp.Float(x, POINT_DIGITS)


def symbols_for(name: str, shape: tuple) -> np.ndarray:
    """One real symbol per element: x, or w[0,1] for tensors."""
    if not shape:
        return np.asarray(sp.Symbol(name, real=True), dtype=object)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = sp.Symbol(f"{name}[{','.join(map(str, idx))}]", real=True)
    return out


def zeros(shape) -> np.ndarray:
    """An object array of SymPy zeros (never Python ints: every entry is a SymPy value)."""
    out = np.empty(shape, dtype=object)
    out[...] = sp.S.Zero
    return out


def _step_derivative(derivative):
    """d/ds of sign(u), Abs(u) or Heaviside(u) for a real u, which SymPy leaves
    unevaluated when it cannot tell u is real (u = log(y)): the chain rule by hand."""
    inner, variables = derivative.expr, derivative.variables
    if len(variables) != 1 or inner.func not in (sp.sign, sp.Abs, sp.Heaviside):
        return derivative
    u = inner.args[0]
    du = sp.diff(u, variables[0])
    if inner.func is sp.sign:
        return 2 * sp.DiracDelta(u) * du
    if inner.func is sp.Abs:
        return sp.sign(u) * du
    return sp.DiracDelta(u) * du


def _chain_rule(expr):
    return expr.replace(lambda e: isinstance(e, sp.Derivative), _step_derivative)


class _Chain:
    """A sum (or product) of scalar terms kept as a linked list and built into one n-ary
    SymPy node on first use: extending is O(1) and shares the earlier terms."""

    __slots__ = ("kind", "parent", "term", "_value")

    def __init__(self, kind, parent, term):
        self.kind = kind
        self.parent = parent          # the _Chain this one extends, or None
        self.term = term
        self._value = None

    def value(self):
        if self._value is None:
            terms, node = [], self
            while node is not None:
                terms.append(node.term)
                node = node.parent
            terms.reverse()
            self._value = np.asarray((sp.Add if self.kind == "add" else sp.Mul)(*terms),
                                     dtype=object)
        return self._value


class Replay:
    """SymPy values for every tensor of a run, expected gradients, and kink reasons."""

    def __init__(self, result, deadline: float):
        self.result = result
        self.deadline = deadline
        self.sym: dict = {}               # id(tensor) -> object ndarray (or _Chain)
        self.point: dict = {}             # Symbol -> its float value at the point (exact)
        self.variables: dict = {}         # name -> (tensor, symbol array)
        self.symbols: dict = {}           # name -> symbol array of every bound name
        self.expected: dict = {}          # name -> accumulated expected gradient (array)
        self.graph_grad: dict = {}        # name -> [(derivative, create_graph)] since the
        #                                   last zero_grad: .grad as later ops see it
        self.kinks: dict = {}             # Symbol -> reason (derivative undefined there)
        self.values: list = []            # (result tensor, expected value) of grad() calls
        self.skipped_values: list = []    # (result tensor, reason)
        self.grad_targets: dict = {}      # id(grad() result) -> symbols it differentiates by
        self.cacheable = True             # expected values are functions of the bindings only
        self.nonfinite = frozenset()      # coordinates at inf or NaN (set by run())
        self.special: dict = {}           # stand-in Symbol -> why what depends on it is
        #                                   not checked (NaN/inf constants, SymPy errors)
        self.domain = Domain(self)        # kinks and where values leave the reals
        self.nan_function = False         # the differentiated function holds NaN or inf
        self.cut: dict = {}               # id(intermediate a grad() differentiates by) -> None
        self.substitute: dict = {}        # its stand-in symbols -> their expressions
        self.before_of: dict = {}         # id(snapshot before an in-place op) -> tensor
        self.first_before: dict = {}      # id(tensor updated in place) -> its state when
        #                                   made (a snapshot, see Tape)
        self.storages: dict = {}          # storage key -> tensors replayed on that memory
        self.unmodelled = None            # why the program's gradients cannot be replayed
        from . import grad_names
        self.names = grad_names(result)
        bound = {id(t) for t in result.variables.values()}
        for event in of_kind(result.events, InplaceEvent, SnapshotEvent, GradEvent):
            if event.kind == "inplace":
                self.before_of[id(event.before)] = event.tensor
                self.first_before.setdefault(id(event.tensor), event.before)
            elif event.kind == "snapshot":
                self.first_before.setdefault(id(event.tensor), event.state)
            elif id(event.input) not in bound:
                self.cut[id(event.input)] = None

    # -- constants ------------------------------------------------------------------
    def constant(self, x):
        """A number as SymPy: exact when finite, else a stand-in symbol."""
        x = float(x)
        if x == x and x not in (float("inf"), float("-inf")):
            return exact(x)
        stand_in = sp.Symbol(f"{'nan' if x != x else 'inf' if x > 0 else '-inf'}"
                             f"#{len(self.special) + 1}", real=True)
        self.special[stand_in] = "a NaN or infinite constant enters the derivative"
        self.point[stand_in] = x
        return stand_in

    def constant_array(self, a) -> np.ndarray:
        a = np.asarray(a, dtype=float)
        with np.errstate(invalid="ignore"):        # NaN elements: a stand-in each
            return np.asarray(emap(self.constant, a) if a.ndim else self.constant(a),
                              dtype=object)

    def broken(self, shape, reason: str) -> np.ndarray:
        """Stand-ins for values SymPy could not build."""
        out = np.empty(shape, dtype=object)
        for idx in np.ndindex(shape):
            s = sp.Symbol(f"unknown#{len(self.special) + 1}", real=True)
            self.special[s] = reason
            self.point[s] = float("nan")
            out[idx] = s
        return out

    # -- values of tensors ----------------------------------------------------------
    def bind(self, name: str, tensor: Tensor, variable: bool, data=None) -> None:
        syms = symbols_for(name, tensor.shape)
        self.sym[id(tensor)] = syms
        self.symbols[name] = syms
        self.domain.bound(tensor, syms)
        self.storages.setdefault(tensor.storage_key, []).append(tensor)
        data = self.data_of(tensor) if data is None else data
        for s, v in zip(syms.reshape(-1), np.asarray(data).reshape(-1)):
            self.point[s] = float(v)
        if variable:
            self.variables[name] = (tensor, syms)
            self.expected[name] = zeros(tensor.shape)
            self.graph_grad[name] = []

    def _owner(self, x) -> Tensor:
        """The tensor whose value x is: a snapshot taken before an in-place update
        stands for the tensor it was taken of."""
        return self.before_of.get(id(x), x)

    def value_of(self, x):
        if not isinstance(x, Tensor):
            return self.constant(x) if isinstance(x, (int, float, np.floating)) else x
        owner = self._owner(x)
        v = self.sym.get(id(owner))
        if v is None:      # a constant: literal, ones_like, detach, no_grad; as it was then
            v = self.constant_array(self.first_before.get(id(owner), x).data)
            self.sym[id(owner)] = v
        elif isinstance(v, _Chain):
            v = v.value()
            self.sym[id(owner)] = v
        return v

    def _symbolic(self, tensor) -> bool:
        """Whether a tensor's value depends on the bound symbols."""
        v = self.sym.get(id(self._owner(tensor)))
        if v is None:
            return False
        if isinstance(v, _Chain):
            return True
        return any(getattr(e, "free_symbols", None) for e in np.asarray(v).reshape(-1))

    def _tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise Timeout

    def _assign(self, tensor, value) -> None:
        """The SymPy value of a new tensor; one a grad() differentiates by is held as
        symbols of its own (their expressions kept, to substitute back)."""
        if id(tensor) in self.cut:
            value = np.asarray(value.value() if isinstance(value, _Chain) else value,
                               dtype=object)
            stand = np.empty(value.shape, dtype=object)
            for idx in np.ndindex(value.shape):
                s = sp.Symbol(f"{self.name_of(tensor)}#{len(self.substitute) + 1}",
                              real=True)
                self.substitute[s] = value[idx]
                stand[idx] = s
            self.cut[id(tensor)] = stand
            value = stand
        self.sym[id(tensor)] = value

    def expand(self, expr, keep=frozenset()):
        """An expression with the stand-ins of intermediates (but those in ``keep``)
        replaced by their values, which may hold earlier stand-ins in turn."""
        if not self.substitute or not hasattr(expr, "xreplace"):
            return expr
        swap = {s: v for s, v in self.substitute.items() if s not in keep}
        for _ in range(len(swap) + 1):
            if swap.keys().isdisjoint(expr.free_symbols):
                break
            expr = expr.xreplace(swap)
        return expr

    # -- replay ---------------------------------------------------------------------
    def run(self) -> "Replay":
        result = self.result
        for name, t in result.variables.items():
            data, requires_grad = result.bound.get(name, (t.data, t.requires_grad))
            self.bind(name, t, variable=requires_grad, data=data)
        for n, event in enumerate(result.events):
            if n % 64 == 0:
                self._tick()
            self.event(event)
        self.nonfinite = frozenset(s for s, v in self.point.items()
                                   if not np.isfinite(v) and s not in self.special)
        if self.unmodelled:
            for syms in self.symbols.values():
                for s in np.asarray(syms).reshape(-1):
                    self.kinks.setdefault(s, self.unmodelled)
        return self

    def data_of(self, tensor) -> np.ndarray:
        """A tensor's values when it was made (in-place writes may have changed them)."""
        return self.first_before.get(id(tensor), tensor).data

    def write(self, tensor, value) -> None:
        """An in-place update: written into the tensor's SymPy array, so its views (numpy
        views of that array, as in the engine) see it too."""
        current = self.sym.get(id(tensor))
        if isinstance(current, _Chain):
            current = current.value()
        if type(current) is not np.ndarray:
            current = None
        for other in self.storages.get(tensor.storage_key, ()):
            v = self.sym.get(id(other))
            if other is not tensor and v is not None and self._symbolic(other) and (
                    current is None or type(v) is not np.ndarray
                    or not np.may_share_memory(v, current)):
                self.unmodelled = ("a value was changed through detach() or .data: its "
                                   "history is not replayed symbolically")
        if current is None or not current.flags.writeable or current.shape != np.shape(value):
            self.sym[id(tensor)] = value
        else:
            current[...] = value

    def event(self, e) -> None:
        kind = e.kind
        if kind == "op":
            if not e.in_backward:                  # ops of a backward pass: skip
                self.op(e.result, e.op, e.args, e.params)
        elif kind == "inplace":
            self.write(e.tensor, self.value_of(e.result))
            self.domain.updated(e.tensor, e.result)
        elif kind == "requires_grad_":
            self.cacheable = False
            name = self.name_of(e.tensor)
            if e.requires_grad and name not in self.variables:
                self.bind(name, e.tensor, variable=True)
        elif kind == "backward":
            self.backward(e.root, e.gradient, bool(e.create_graph))
        elif kind == "grad":
            self.grad(e.output, e.input, e.grad_outputs, e.create_graph, e.result)
        elif kind == "zero_grad":
            name = self.name_of(e.tensor)
            if name in self.expected:
                self.expected[name] = zeros(e.tensor.shape)
                self.graph_grad[name] = []
        elif kind == "detach" and self._symbolic(e.tensor):
            self.cacheable = False
        elif kind == "read_grad" and e.grad is not None:
            self.read_grad(e.tensor, e.grad, e.snapshot)

    def read_grad(self, tensor, grad, snapshot) -> None:
        """x.grad read by the program: a value with a graph (create_graph) is the
        derivative as an expression; without one, a constant (its value then)."""
        self.cacheable = False
        name = self.name_of(tensor)
        if name in self.graph_grad and snapshot is not None and \
                snapshot.grad_fn is not None:
            value = zeros(grad.shape)
            for part, graph in self.graph_grad[name]:   # parts made without a graph are
                value = value + (part if graph else     # constants to what comes after
                                 np.asarray(emap(self._frozen, part), dtype=object))
            self.sym[id(grad)] = value
        else:
            self.sym[id(grad)] = self.constant_array((snapshot or grad).data)

    def name_of(self, tensor) -> str:
        return self.names.get(id(tensor), f"%{id(tensor)}")

    def op(self, out: Tensor, op, args, params) -> None:
        self.storages.setdefault(out.storage_key, []).append(out)
        if op.view:                                    # shares its input's SymPy array
            self.sym[id(out)] = op.forward(self.value_of(args[0]), **params)
            self.domain.updated(out, args[0])
            return
        then = self.first_before.get(id(out), out)     # out as it was made
        if not then.requires_grad:                      # no_grad / constants only
            if any(isinstance(a, Tensor) and self._symbolic(a) for a in args):
                self.cacheable = False                 # a constant that depends on the point
            self.sym[id(out)] = self.constant_array(then.data)
            return
        if op.name in _CHAINED and then.data.ndim == 0 and (
                not isinstance(args[1], Tensor) or args[1].data.ndim == 0) and \
                args[0].data.ndim == 0 and id(out) not in self.cut:
            self.sym[id(out)] = self._chain(op.name, args)
            self.domain.visit(out, op, args, params, then)
            return
        try:
            value = self._build(op, args, params)
        except (Timeout, RecursionError):
            raise
        except Exception as exc:  # noqa: BLE001 - SymPy refused: what depends on it is skipped
            value = self.broken(then.shape, f"SymPy cannot build {op.name} here "
                                f"({type(exc).__name__}: {str(exc)[:120]})")
        self.domain.visit(out, op, args, params, then, value)
        self._assign(out, value)

    def _build(self, op, args, params) -> np.ndarray:
        vals = [self.value_of(a) for a in args] if not op.variadic else \
            [[self.value_of(a) for a in args]]
        if op.sympy is STRUCTURAL:
            value = op.forward(*vals, **params)
        elif op.elementwise:
            value = emap(lambda *xs: op.sympy(sp, *xs, **params), *vals)
        else:
            value = op.sympy(sp, *vals, **params)
        return np.asarray(value, dtype=object)

    def _chain(self, name: str, args):
        kind = "mul" if name == "mul" else "add"
        first, second = args
        if isinstance(second, Tensor):
            second_value = self.scalar_of(second)
        else:
            second_value = self.constant(second)
        if name == "sub":
            second_value = -second_value
        head = self.sym.get(id(self._owner(first)))
        if isinstance(head, _Chain) and head.kind == kind:
            return _Chain(kind, head, second_value)
        return _Chain(kind, _Chain(kind, None, self.scalar_of(first)), second_value)

    def scalar_of(self, x):
        """The SymPy value of a 0-d tensor, without wrapping it in an array."""
        v = self.sym.get(id(self._owner(x)))
        if v is not None and type(v) is np.ndarray:
            return v[()]
        return self.value_of(x)[()]

    # -- derivatives ----------------------------------------------------------------
    def _objective(self, root: Tensor, gradient, keep=frozenset()) -> tuple:
        """sum(root * upstream) with each upstream element that is not a plain number
        (a tensor computed from the variables) as a placeholder; the placeholders'
        values.  Differentiating and then substituting keeps the upstream a constant
        of this backward, as PyTorch does, while the result stays a function of it."""
        value = np.asarray(self.value_of(root), dtype=object)
        if gradient is None:
            weights = np.ones(root.shape, dtype=object)
        elif self._symbolic(gradient):
            weights = np.asarray(self.value_of(gradient), dtype=object)
        else:
            weights = self.constant_array(gradient.data)
        weights = np.broadcast_to(weights, value.shape)
        terms, held = [], {}
        for v, w in zip(value.reshape(-1), weights.reshape(-1)):
            if w == 0:
                continue
            if getattr(w, "free_symbols", None) and w not in self.special:
                placeholder = sp.Dummy(real=True)
                held[placeholder] = w
                w = placeholder
            terms.append(v * w)
        objective = self.expand(sp.Add(*terms), keep)
        if self.special and not self.special.keys().isdisjoint(objective.free_symbols):
            self.nan_function = True
        return objective, held

    def _derivative(self, objective, held: dict, symbol):
        self._tick()
        try:
            d = sp.diff(objective, symbol)
        except (Timeout, RecursionError):
            raise
        except Exception as exc:  # noqa: BLE001 - SymPy refused: this element is skipped
            return self.broken((), f"SymPy cannot differentiate here "
                               f"({type(exc).__name__}: {str(exc)[:120]})")[()]
        if d.has(sp.Derivative):
            d = _chain_rule(d)
        return self.expand(d.xreplace(held)) if held else d

    def backward(self, root: Tensor, gradient, create_graph: bool = False) -> None:
        objective, held = self._objective(root, gradient)
        free = objective.free_symbols
        for name, (tensor, syms) in self.variables.items():
            if not tensor.requires_grad:
                continue
            acc, part = self.expected[name], zeros(syms.shape)
            for idx in np.ndindex(syms.shape):
                s = syms[idx]
                if s in free:
                    part[idx] = self._derivative(objective, held, s)
                    acc[idx] = acc[idx] + part[idx]
            self.graph_grad[name].append((part, create_graph))

    def _frozen(self, expr):
        """An expression whose value stays but which later derivatives see as a
        constant (a gradient made without create_graph)."""
        free = getattr(expr, "free_symbols", ())
        swap = {}
        for s in free:
            if s in self.special:
                continue
            f = sp.Symbol(f"{s.name}'", real=True)
            self.point.setdefault(f, self.point.get(s, float("nan")))
            swap[s] = f
        return expr.xreplace(swap) if swap else expr

    def grad(self, out, inp, grad_outputs, create_graph, result) -> None:
        if result is None:
            return
        target = next((n for n, (t, _) in self.variables.items() if t is inp), None)
        stand = self.cut.get(id(inp))
        if target is not None:
            syms = self.variables[target][1]
        elif stand is not None:
            syms = stand
        else:
            self.cacheable = False
            self.skipped_values.append((result, "grad() with respect to a tensor the "
                                        "replay did not compute"))
            self.sym[id(result)] = self.constant_array(result.data)
            return
        keep = frozenset() if stand is None or target is not None else \
            frozenset(stand.reshape(-1))
        objective, held = self._objective(out, grad_outputs, keep)
        derivative = np.empty(syms.shape, dtype=object)
        for idx in np.ndindex(syms.shape):
            derivative[idx] = self.expand(self._derivative(objective, held, syms[idx]))
        self.sym[id(result)] = derivative if create_graph else \
            np.asarray(emap(self._frozen, derivative) if derivative.ndim else
                       self._frozen(derivative[()]), dtype=object)
        self.grad_targets[id(result)] = list(syms.reshape(-1))
        from . import grad_name
        self.names[id(result)] = grad_name(self.result, self.names, out, inp, result)
        self.values.append((result, derivative))
        if stand is not None:
            self.cacheable = False

    # -- checking -------------------------------------------------------------------
    def nan_reason(self):
        """Why a NaN gradient is no failure here, or None: the program leaves the reals
        (or a NaN/inf constant enters the function), so PyTorch's NaN is its answer too
        and SymPy's finite value (after simplifying, say, cos(acos(x)) to x) is none."""
        if self.domain.unreal:
            return "the gradient is NaN where the program leaves the reals"
        if self.nan_function:
            return "the gradient is NaN where a NaN or infinite constant enters the function"
        return None

    def judge(self, expr, actual: float, rtol: float, atol: float, limit: float,
              deadline=None):
        """The exact verdict on one expected element against a computed one."""
        from .exact import Verdict, judge
        from .formula import NotRepresentable, to_tree
        free = sorted(getattr(expr, "free_symbols", ()), key=str)
        for s in free:
            if s in self.special:
                return Verdict("skipped", reason=self.special[s])
        try:
            tree = to_tree(expr, {s: i for i, s in enumerate(free)}, opaque=True)
        except NotRepresentable as exc:
            return Verdict("skipped", reason=str(exc))
        return judge(tree, [self.point.get(s, float("nan")) for s in free], actual, rtol,
                     atol, limit, deadline)
