"""Central differences for every element at once, where the program keeps elements apart.

The per-element route (:mod:`.numeric`) nudges one element and runs the whole program
again, twice per element: in its time budget a 10^6-element variable gets a few dozen
of its elements checked.  Many large programs are sums of reductions of elementwise
expressions, ``sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w)``: there element j of each
reduced tensor T depends on one element of x only (the one broadcasting to j), so
nudging every element of x at once, each by its own step h[i], and differencing T
element by element gives every element's central difference from the same two runs:

    d objective / d x[i] = sum over terms (weight * (T+ - T-))[j reading x[i]] / (2 h[i])

A :class:`Term` is one such T (an op's result, by its position among the run's ops, or
the variable itself) with its weight: 1 for a sum, 1/n for a mean, the upstream for an
elementwise output, times the constants the reductions are scaled by.  The plan is read
off the run's events: which tensors are elementwise in a variable, and the objective as
a weighted sum of their elements.  Anything else (a matmul, a reshape, a reduction
inside a non-linear function, values computed without grad, in-place updates, several
backward calls) leaves the variable to the per-element route, as does a nudged run
whose ops differ from the checked run's.
"""

from __future__ import annotations

import time
from typing import NamedTuple, Optional

import numpy as np

from ..autograd.ops.core import sum_to
from ..autograd.tensor import Tensor
from ..errors import GradcliError

ALIGNED = "aligned"     # element j depends on the variable's element broadcasting to j
MIXED = "mixed"         # anything else: no plan for this variable
MAX_TERMS = 64          # reductions summed into the objective, per variable
MAX_VARIABLES = 16      # variables planned (each adds to every tensor's state)
ALLOWED = frozenset(("op", "backward", "read_grad"))    # events a planned run may have
SCALED = {"mul": 1, "div": -1}                          # op -> power of the constant


class Term(NamedTuple):
    """One tensor summed into the objective: ``source`` is the position of the op that
    made it among the run's ops (-1: the variable itself); ``weight`` a number or an
    array broadcasting to its shape."""
    source: int
    weight: object


def plan(result, names) -> dict:
    """name -> tuple of :class:`Term` (empty: the objective does not depend on it) for
    each variable of ``names`` with more than one element whose objective is a weighted
    sum of elementwise tensors in it."""
    names = [n for n in names if result.variables[n].data.size > 1][:MAX_VARIABLES]
    events = result.events or ()
    backwards = [e for e in events if e.kind == "backward"]
    if not names or len(backwards) != 1 or backwards[0].create_graph or \
            any(e.kind not in ALLOWED or (e.kind == "op" and e.in_backward) for e in events):
        return {}
    shapes = {n: result.variables[n].shape for n in names}
    states = {id(result.variables[n]): {n: ALIGNED} for n in names}
    source = {id(result.variables[n]): -1 for n in names}
    for index, e in enumerate(e for e in events if e.kind == "op"):
        source[id(e.result)] = index
        state = _states(e, states, shapes, source)
        if state:
            states[id(e.result)] = state
    root = backwards[0].root
    upstream = 1.0 if backwards[0].gradient is None else \
        np.asarray(backwards[0].gradient.data, dtype=np.float64)
    at_root = states.get(id(root), {})
    plans = {}
    for name in names:
        state = at_root.get(name)
        if state is None:
            plans[name] = ()
        elif state is ALIGNED:
            plans[name] = (Term(source[id(root)], upstream),)
        elif state is not MIXED:
            plans[name] = _merged(state, upstream)
    return plans


def _merged(terms: tuple, upstream) -> tuple:
    """One Term per tensor (``sum(t) + mean(t)``), scaled by the upstream."""
    weights: dict = {}
    for source, weight in terms:
        weights[source] = weights.get(source, 0.0) + weight
    return tuple(Term(source, weight * upstream) for source, weight in weights.items())


def _inputs(e) -> list:
    args = [a for a in e.args for a in (a if isinstance(a, (list, tuple)) else (a,))]
    return [a for a in (*args, *e.params.values()) if isinstance(a, Tensor)]


def _states(e, states: dict, shapes: dict, source: dict) -> Optional[dict]:
    """The op result's state in each variable one of its inputs depends on."""
    found = [states[id(a)] for a in _inputs(e) if id(a) in states]
    if not found:
        return None
    return {n: _state(e, lambda a, n=n: states.get(id(a), {}).get(n), shapes[n], source)
            for n in set().union(*found)}


def _state(e, state_of, shape: tuple, source: dict):
    """ALIGNED, MIXED or the terms ((source, weight), ...) of a scalar that is a weighted
    sum of elementwise tensors' elements, in one variable; ``state_of(tensor)``: an
    input's state in it (None: it does not depend on it)."""
    deps = [s for s in map(state_of, _inputs(e)) if s is not None]
    out, op = e.result, e.op
    if MIXED in deps or (not out.requires_grad and out.dtype != np.bool_):
        return MIXED                                  # (no_grad: a constant to autograd)
    if all(s is ALIGNED for s in deps):
        if op.elementwise and np.broadcast_shapes(shape, out.shape) == out.shape:
            return ALIGNED
        if op.name in ("sum", "mean") and e.params.get("dim") is None and out.shape == ():
            arg = e.args[0]
            weight = 1.0 if op.name == "sum" else 1.0 / max(arg.data.size, 1)
            return ((source[id(arg)], weight),)
        return MIXED
    if out.shape != () or ALIGNED in deps:
        return MIXED
    return _linear(e, state_of)


def _linear(e, state_of):
    """The terms of a scalar op on weighted sums: +, -, negation, and a product or
    quotient by a constant."""
    name, args = e.op.name, e.args
    states = [state_of(a) if isinstance(a, Tensor) else None for a in args]
    if name == "neg" and len(args) == 1:
        return _scaled(states[0], -1.0)
    if name in ("add", "sub") and len(args) == 2 and not e.params:
        second = -1.0 if name == "sub" else 1.0
        merged = _scaled(states[0] or (), 1.0) + _scaled(states[1] or (), second)
        return merged if len(merged) <= MAX_TERMS else MIXED
    if name in SCALED and len(args) == 2 and not e.params and None in states:
        k = states.index(None)              # the constant's position
        constant = _constant(args[k])
        if constant is None or (name == "div" and k == 0):
            return MIXED
        return _scaled(states[1 - k], constant ** SCALED[name])
    return MIXED


def _scaled(terms: tuple, factor: float) -> tuple:
    return tuple((s, w * factor) for s, w in terms)


def _constant(value) -> Optional[float]:
    """A one-element constant's value (None otherwise, or when 0 divides)."""
    data = value.data if isinstance(value, Tensor) else value
    if isinstance(data, (bool, np.bool_)) or not isinstance(data, (int, float, np.ndarray,
                                                                   np.number)):
        return None
    array = np.asarray(data, dtype=np.float64)
    return float(array.reshape(-1)[0]) if array.size == 1 and array[()] != 0 else None


# -- the nudged runs ------------------------------------------------------------------

def differences(taken: list, plans: dict, base: dict, run, deadline: float,
                settle) -> dict:
    """name -> (value, bound, settled) arrays for each planned variable that the nudged
    runs could difference (a nudged run whose :func:`path` is not ``taken``, the checked
    run's, gives none); ``run(name, value, watch)`` runs the program with the
    variable at ``value``, ``watch`` seeing each event as it is recorded; ``settle(name,
    difference)`` takes the differences, at smaller steps for the elements that
    disagree (:func:`.numeric.settle`)."""
    out = {}
    for name, terms in plans.items():
        if time.monotonic() > deadline:
            break
        x = base[name]
        if not terms:                 # the objective does not depend on it: 0
            out[name] = (np.zeros(x.shape), np.zeros(x.shape), np.ones(x.shape, dtype=bool))
            continue
        found = settle(name, _Nudged(name, x, terms, run, taken).difference)
        if found is not None:
            out[name] = found
    return out


def path(result) -> list:
    """What a run's ops were (:class:`Path`): the same in a nudged run unless its values
    took the program down another path (an ``if`` on a value), where a difference
    quotient is no derivative of either."""
    found = Path()
    found.start(result.variables)
    for event in result.events:
        found.see(event)
    return found.seen


_PLAIN = (int, float, bool, str, type(None))


def _label(value):
    """A plain argument as itself (NaN as a word, so that it equals itself), a tuple of
    them likewise, anything else (an array) by its type."""
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, tuple) and all(isinstance(v, _PLAIN) for v in value):
        return tuple(map(_label, value))
    return type(value).__name__


class _Nudged:
    """Central differences of one variable's terms, every element nudged at once."""

    def __init__(self, name: str, x: np.ndarray, terms: tuple, run, taken: list):
        self.name, self.x, self.terms, self.run = name, x, terms, run
        self.taken = taken
        self.wanted = {t.source for t in terms if t.source >= 0}

    def difference(self, scale: float):
        """(value, rounding-error bound) arrays at steps ``scale`` times the usual, or
        None when a nudged run fails or runs other ops than the checked run."""
        from .numeric import EPS, STEP
        x = self.x
        h = np.abs(x)
        np.maximum(h, 1.0, out=h)
        h *= STEP * scale
        up, down = x + h, x - h
        del h
        plus = self._tensors(up)
        minus = None if plus is None else self._tensors(down)
        if minus is None:
            return None
        value, size = np.zeros(x.shape), np.zeros(x.shape)
        for term in self.terms:         # (each tensor let go of once it is counted)
            p, m = (up, down) if term.source < 0 else \
                (plus.pop(term.source), minus.pop(term.source))
            value += sum_to(term.weight * (p - m), x.shape)
            p = np.abs(p)
            np.maximum(p, np.abs(m), out=p)
            size += sum_to(np.abs(term.weight) * p, x.shape)
            del p, m
        step = up - down
        del up, down
        value /= step
        # each tensor is rounded to ~eps relative: that error, divided by the step
        np.maximum(size, 1.0, out=size)
        size *= 8 * EPS
        size /= step
        return value, size

    def _tensors(self, nudged: np.ndarray) -> Optional[dict]:
        """The terms' tensors of a run with the variable at ``nudged``, by source."""
        watch = Path(self.wanted)
        try:
            self.run(self.name, nudged, watch)
        except GradcliError:
            return None
        if watch.seen != self.taken:
            return None
        return {k: np.asarray(t.data, dtype=np.float64) for k, t in watch.kept.items()}


class Path:
    """A run's watcher (evaluate's ``watch``): the run's path, one signature per op (its
    name, result shape, constant arguments, and where each tensor argument came from:
    a leaf's name or the position of the op that made it), and the results of the ops
    at the positions ``wanted``."""

    def __init__(self, wanted=frozenset()):
        self.wanted = wanted
        self.start({})

    def start(self, leaves: dict) -> None:
        self.seen: list = []
        self.kept: dict = {}
        self.origin = {id(t): name for name, t in leaves.items()}

    def see(self, event) -> None:
        if event.kind != "op":
            return
        at = len(self.seen)
        if at in self.wanted:
            self.kept[at] = event.result
        self.seen.append((event.op.name, event.result.shape,
                          tuple(map(self._argument, event.args)),
                          tuple((k, self._argument(v)) for k, v in event.params.items())))
        self.origin[id(event.result)] = at

    def _argument(self, value):
        if isinstance(value, Tensor):
            return self.origin.get(id(value), "tensor")
        if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
            return tuple(map(self._argument, value))
        return _label(value)
