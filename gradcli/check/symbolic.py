"""The symbolic route: replay a program's tape in SymPy and differentiate it.

Every bound tensor element becomes a real symbol (``x``, ``w[0,1]``); each recorded op
is rebuilt from its op-table SymPy counterpart (never from text); parts computed
under no_grad or detached are constants.  The expected gradient of a variable is
d(sum(root * upstream))/d(variable), summed over the program's backward calls
(reset by zero_grad); a ``grad()`` result is the derivative of its output.  Flat sums
and products are collected into one n-ary SymPy node, so a 100 000-term chain costs
linear time.
"""

from __future__ import annotations

import time

import numpy as np
import sympy as sp

from ..autograd.ops import STRUCTURAL
from ..autograd.ops.core import emap, undefined_at
from ..autograd.tensor import Tensor
from . import POINT_DIGITS, Timeout


_CHAINED = frozenset(("add", "sub", "mul"))


def exact(x) -> sp.Expr:
    """A float as SymPy sees a literal: integers exactly, others as the decimal written."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return sp.nan if x != x else (sp.oo if x > 0 else -sp.oo)
    if x.is_integer():
        return sp.Integer(int(x))
    return sp.Rational(repr(x))


def exact_point(x) -> sp.Expr:
    """A float's exact binary value (for evaluating at the point), as a 30-digit SymPy
    Float (its 53-bit value held exactly).  Not a Rational: SymPy raises a Rational to
    a Rational power exactly, and a point such as x = -701.22, y = 134.57 in x**y asks
    for a power with a 15-digit exponent (it never finishes)."""
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


def constant_array(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return np.asarray(emap(exact, a) if a.ndim else exact(a), dtype=object)


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
        self.point: dict = {}             # Symbol -> exact value at the evaluation point
        self.variables: dict = {}         # name -> (tensor, symbol array)
        self.symbols: dict = {}           # name -> symbol array of every bound name
        self.expected: dict = {}          # name -> accumulated expected gradient (array)
        self.kinks: dict = {}             # Symbol -> reason (derivative undefined there)
        self.values: list = []            # (result tensor, expected value) of grad() calls
        self.skipped_values: list = []    # (result tensor, reason)
        self.grad_targets: dict = {}      # id(grad() result) -> symbols it differentiates by
        self.cacheable = True             # expected values are functions of the bindings only
        self.nonfinite = frozenset()      # symbols at inf or NaN (set by run())
        self.before_of: dict = {}
        self.made: dict = {}              # id(tensor) -> its state when made (tensors that
        #                                   in-place writes changed later, see Tape)
        self.storages: dict = {}          # storage key -> tensors replayed on that memory
        self.unmodelled = None            # why the program's gradients cannot be replayed
        self.names = {id(row.tensor): row.name.split("@")[0] for row in result.graph}
        for event in result.events:
            if event[0] == "inplace":
                self.before_of[id(event[2])] = event[1]
                self.made.setdefault(id(event[1]), event[2])
            elif event[0] == "snapshot":
                self.made.setdefault(id(event[1]), event[2])

    # -- values of tensors ----------------------------------------------------------
    def bind(self, name: str, tensor: Tensor, variable: bool, data=None) -> None:
        syms = symbols_for(name, tensor.shape)
        self.sym[id(tensor)] = syms
        self.symbols[name] = syms
        data = self.data_of(tensor) if data is None else data
        self.storages.setdefault(tensor.storage_key, []).append(tensor)
        for s, v in zip(syms.reshape(-1), np.asarray(data).reshape(-1)):
            self.point[s] = exact_point(v)
        if variable:
            self.variables[name] = (tensor, syms)
            self.expected[name] = zeros(tensor.shape)

    def value_of(self, x):
        if not isinstance(x, Tensor):
            return exact(x) if isinstance(x, (int, float, np.floating)) else x
        x = self.before_of.get(id(x), x)
        v = self.sym.get(id(x))
        if v is None:                    # a constant: literal, ones_like, detach, no_grad
            v = constant_array(self.data_of(x))
            self.sym[id(x)] = v
        elif isinstance(v, _Chain):
            v = v.value()
            self.sym[id(x)] = v
        return v

    def _symbolic(self, tensor) -> bool:
        """Whether a tensor's value depends on the bound symbols."""
        v = self.sym.get(id(self.before_of.get(id(tensor), tensor)))
        if v is None:
            return False
        if isinstance(v, _Chain):
            return True
        return any(getattr(e, "free_symbols", None) for e in np.asarray(v).reshape(-1))

    def _tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise Timeout

    # -- replay ---------------------------------------------------------------------
    def run(self) -> "Replay":
        result = self.result
        for name, t in result.variables.items():
            data, requires_grad = result.bound.get(name, (t.data, t.requires_grad))
            self.bind(name, t, variable=requires_grad, data=data)
        for n, event in enumerate(result.events):
            if n % 64 == 0:
                self._tick()
            kind = event[0]
            if kind == "op":
                if not event[5]:                       # ops of a backward pass: skip
                    self.op(*event[1:5])
            elif kind == "inplace":
                tensor, _before, new = event[1:]
                self.write(tensor, self.value_of(new))
            elif kind == "requires_grad_":
                self.cacheable = False
                tensor, flag = event[1], event[2]
                name = self.name_of(tensor)
                if flag and name not in self.variables:
                    self.bind(name, tensor, variable=True)
            elif kind == "backward":
                self.backward(event[1], event[2])
            elif kind == "grad":
                self.grad(*event[1:])
            elif kind == "zero_grad":
                name = self.name_of(event[1])
                if name in self.expected:
                    self.expected[name] = zeros(event[1].shape)
            elif kind == "detach" and self._symbolic(event[1]):
                self.cacheable = False
            elif kind == "read_grad" and event[2] is not None:
                self.cacheable = False
                name = self.name_of(event[1])
                if name in self.expected:
                    self.sym[id(event[2])] = self.expected[name].copy()
        self.nonfinite = frozenset(s for s, v in self.point.items() if not v.is_finite)
        if self.unmodelled:
            for syms in self.symbols.values():
                for s in np.asarray(syms).reshape(-1):
                    self.kinks.setdefault(s, self.unmodelled)
        return self

    def data_of(self, tensor) -> np.ndarray:
        """A tensor's values when it was made (in-place writes may have changed them)."""
        return self.made.get(id(tensor), tensor).data

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

    def name_of(self, tensor) -> str:
        return self.names.get(id(tensor), f"%{id(tensor)}")

    def op(self, out: Tensor, op, args, params) -> None:
        self.storages.setdefault(out.storage_key, []).append(out)
        if op.view:                                    # shares its input's SymPy array
            self.sym[id(out)] = op.forward(self.value_of(args[0]), **params)
            return
        if not out.requires_grad:                      # no_grad / constants only
            if any(isinstance(a, Tensor) and self._symbolic(a) for a in args):
                self.cacheable = False                 # a constant that depends on the point
            self.sym[id(out)] = constant_array(self.data_of(out))
            return
        reason = undefined_at(op, [self.data_of(a) if isinstance(a, Tensor) else a
                                   for a in args], self.data_of(out), params)
        if reason:
            self._mark_kink(args, reason)
        if op.name in _CHAINED and out.data.ndim == 0 and (
                not isinstance(args[1], Tensor) or args[1].data.ndim == 0) and \
                args[0].data.ndim == 0:
            self.sym[id(out)] = self._chain(op.name, args)
            return
        vals = [self.value_of(a) for a in args] if not op.variadic else \
            [[self.value_of(a) for a in args]]
        if op.sympy is STRUCTURAL:
            value = op.forward(*vals, **params)
        elif op.elementwise:
            value = emap(lambda *xs: op.sympy(sp, *xs, **params), *vals)
        else:
            value = op.sympy(sp, *vals, **params)
        self.sym[id(out)] = np.asarray(value, dtype=object)

    def _chain(self, name: str, args):
        kind = "mul" if name == "mul" else "add"
        first, second = args
        if isinstance(second, Tensor):
            second_value = self.scalar_of(second)
        else:
            second_value = exact(second)
        if name == "sub":
            second_value = -second_value
        head = self.sym.get(id(self.before_of.get(id(first), first)))
        if isinstance(head, _Chain) and head.kind == kind:
            return _Chain(kind, head, second_value)
        return _Chain(kind, _Chain(kind, None, self.scalar_of(first)), second_value)

    def scalar_of(self, x):
        """The SymPy value of a 0-d tensor, without wrapping it in an array."""
        v = self.sym.get(id(self.before_of.get(id(x), x)))
        if v is not None and type(v) is np.ndarray:
            return v[()]
        return self.value_of(x)[()]

    def _mark_kink(self, args, reason: str) -> None:
        for a in args:
            if isinstance(a, Tensor):
                v = self.value_of(a)
                for e in np.asarray(v).reshape(-1):
                    for s in getattr(e, "free_symbols", ()):
                        self.kinks.setdefault(s, reason)

    def _objective(self, root: Tensor, gradient) -> sp.Expr:
        value = np.asarray(self.value_of(root), dtype=object)
        g = np.ones(root.shape) if gradient is None else gradient.data
        weights = constant_array(g)
        terms = [v * w for v, w in zip(value.reshape(-1), weights.reshape(-1)) if w != 0]
        return sp.Add(*terms)

    def backward(self, root: Tensor, gradient) -> None:
        objective = self._objective(root, gradient)
        free = objective.free_symbols
        for name, (tensor, syms) in self.variables.items():
            if not tensor.requires_grad:
                continue
            acc = self.expected[name]
            for idx in np.ndindex(syms.shape):
                self._tick()
                s = syms[idx]
                if s in free:
                    acc[idx] = acc[idx] + sp.diff(objective, s)

    def grad(self, out, inp, grad_outputs, create_graph, result) -> None:
        if result is None:
            return
        target = next((n for n, (t, _) in self.variables.items() if t is inp), None)
        if target is None:
            self.cacheable = False
            self.skipped_values.append((result, "grad() with respect to an intermediate "
                                                "tensor is not checked symbolically"))
            self.sym[id(result)] = constant_array(result.data)
            return
        objective = self._objective(out, grad_outputs)
        syms = self.variables[target][1]
        derivative = np.empty(syms.shape, dtype=object)
        for idx in np.ndindex(syms.shape):
            self._tick()
            derivative[idx] = sp.diff(objective, syms[idx])
        self.sym[id(result)] = derivative
        self.grad_targets[id(result)] = list(syms.reshape(-1))
        self.names.setdefault(id(result), f"grad({self.name_of(out)}, {target})")
        self.values.append((result, derivative))
