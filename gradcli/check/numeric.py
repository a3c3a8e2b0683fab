"""The numeric route: central differences per element, like torch.autograd.gradcheck.

The whole program is run again with one element of one variable nudged up and down;
the objective is sum(root * upstream) over the backward calls that count for that
variable (those after its last zero_grad).  Used when the symbolic route is too big or
too slow; when even this would run over the time budget, an evenly spread sample of
the elements is checked and the report says so.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from ..autograd.events import InplaceEvent, OpEvent, UndefinedEvent, of_kind
from ..errors import GradcliError
from . import elementwise

STEP = 1e-6
EPS = float(np.finfo(np.float64).eps)


def _backward_events(events) -> list:
    return [(i, e) for i, e in enumerate(events) if e.kind == "backward"]


def _objectives(events, upstreams) -> list:
    """sum(root * upstream) for each backward call of a run, in order."""
    out = []
    for (_, e), g in zip(_backward_events(events), upstreams):
        root = e.root.data.astype(np.float64)
        out.append(float(np.sum(root * g)))
    return out


def _spread(n: int):
    """The indices 0..n-1, lazily, first 0 then an order that covers the range ever more
    finely (0, n/2, n/4, 3n/4, ...), so a sample cut short by the deadline is even; O(1)
    per index, nothing of size n."""
    step = 1
    while step < n:
        step *= 2
    if n:
        yield 0
    while step >= 1:
        yield from range(step, n, 2 * step)
        step //= 2


class Kinks:
    """name -> reason (``found``), for each bound variable that an op's input depends on
    where the op's derivative is undefined (a kink, a tie), as the symbolic replay marks
    them: a difference quotient across a kink is no reference for PyTorch's value there.

    Fed a run's events in order (:meth:`see`): as a run records them (as evaluate's
    ``watch``: an op's arrays are whole then), or afterwards from a run that kept every
    value (:func:`kinks`).  As it is recorded, an in-place update's op reads a stand-in
    for the old value that only the update event that follows names: such a run sets
    ``inplace``, and its kinks are read afterwards instead."""

    def __init__(self, events=()):
        self.deps: dict = {}
        self.before_of = {id(e.before): e.tensor for e in of_kind(events, InplaceEvent)}
        self.found: dict = {}
        self.inplace = False

    def start(self, variables: dict) -> None:
        """The run's leaves, name -> tensor (starting again if it starts again)."""
        self.deps = {id(t): frozenset((n,)) for n, t in variables.items()}
        self.found, self.inplace = {}, False

    def of(self, x) -> frozenset:
        from ..autograd.tensor import Tensor
        if not isinstance(x, Tensor):
            return frozenset()
        return self.deps.get(id(self.before_of.get(id(x), x)), frozenset())

    def see(self, event) -> None:
        if event.kind in ("inplace", "copy_slices", "snapshot"):
            self.inplace = True
        if event.kind == "inplace":
            self.deps[id(event.tensor)] = self.of(event.result)
        elif event.kind == "undefined":
            for name in frozenset().union(*(self.of(t) for t in event.tensors)):
                self.found.setdefault(name, event.reason)
        elif event.kind == "op" and event.result.requires_grad:
            self._op(event)

    def _op(self, event) -> None:
        from ..autograd.ops.core import undefined_at
        from ..autograd.tensor import Tensor
        out, args = event.result, event.args
        names = frozenset().union(*(self.of(a) for a in args))
        if names:
            self.deps[id(out)] = names
        if event.in_backward or not names:
            return
        reason = undefined_at(event.op, [a.data if isinstance(a, Tensor) else a
                                         for a in args], out.data, event.params)
        if reason:
            for name in names:
                self.found.setdefault(name, reason)


def kinks(result) -> dict:
    """:class:`Kinks` of a run that kept every value."""
    found = Kinks(result.events)
    found.start(result.variables)
    for event in of_kind(result.events, InplaceEvent, OpEvent, UndefinedEvent):
        found.see(event)
    return found.found


def kinks_of(result) -> dict:
    """:class:`Kinks` of a result: read off its events when it kept every value, else
    seen as its program runs again letting go of values as it goes (and, where that
    cannot tell, read off a run that keeps them)."""
    from . import redrawn, replayed
    if not getattr(result, "summarised", 0):
        return kinks(result)
    watcher = Kinks()
    redrawn(result, keep="summary", implicit_backward=False, watch=watcher)
    return kinks(replayed(result)) if watcher.inplace else watcher.found


def expected_gradients(result, deadline: float, rtol: float, atol: float) -> dict:
    """name -> :class:`Differences` of each variable that requires grad; an element
    agrees with its gradient within ``rtol``/``atol`` plus the difference's own rounding
    bound."""
    from ..autograd.random import default_generator
    from . import rerun

    events = result.events
    backwards = _backward_events(events)
    upstreams = [np.ones(e.root.shape) if e.gradient is None else
                 e.gradient.data.astype(np.float64) for _, e in backwards]
    last_zero: dict = {}
    for i, e in enumerate(events):
        if e.kind == "zero_grad":
            last_zero[id(e.tensor)] = i
    base = {name: np.asarray(d, dtype=np.float64) for name, (d, _) in result.bound.items()}
    variables = [n for n, (_, rg) in result.bound.items() if rg]

    implicit = [g for (_, e), g in zip(backwards, upstreams) if e.implicit]
    taken = elementwise.path(result)

    def run_at(bindings: dict, watch):
        # the same random draws as the run checked (dropout's masks); only the roots
        # are read (kept whole): intermediates go as the run goes; the implicit
        # backward's root is the output, read off it without the backward pass (whose
        # gradients nothing would read)
        default_generator.restore(random_state)
        return rerun(result, bindings, dtype="float64", implicit_backward=False,
                     keep="summary", watch=watch)

    def objective(name: str, bindings: dict) -> float:
        watch = elementwise.Path()
        run = run_at(bindings, watch)
        if watch.seen != taken:         # another path: no difference quotient
            return np.nan
        values = _objectives(run.events, upstreams)
        if implicit:            # (then the program calls no backward() itself: SPEC 3.5)
            values.append(float(np.sum(run.output.data.astype(np.float64) * implicit[0])))
        del run     # (its arrays go now: a result holds no cycle)
        start = last_zero.get(id(result.variables[name]), -1)
        return sum(v for (i, _), v in zip(backwards, values) if i > start)

    def within(name: str, value, bound, k=None):
        """Whether central differences agree with the gradient (at flat index k, or
        every element)."""
        actual = result.grads.get(name)
        if actual is None:
            return value == 0
        a = np.broadcast_to(np.asarray(actual, dtype=np.float64), base[name].shape)
        if k is not None:
            a = a[np.unravel_index(k, a.shape)]
        with np.errstate(invalid="ignore"):
            return np.isfinite(a) & np.isfinite(value) & \
                (np.abs(a - value) <= atol + bound + rtol * np.abs(value))

    random_state = getattr(result, "random_state", None) or default_generator.snapshot()
    after = default_generator.snapshot()
    try:
        found = elementwise.differences(
            taken, elementwise.plan(result, variables), base,
            lambda name, value, watch: run_at({**base, name: value}, watch), deadline,
            lambda name, difference: settle(difference, lambda v, b: within(name, v, b)))
        out = {name: Differences(np.where(settled, value, np.nan), bound,
                                 np.ones(value.shape, dtype=bool), ~settled, True)
               for name, (value, bound, settled) in found.items()}
        rest = [name for name in variables if name not in out]
        out.update(_differences(rest, base, objective, deadline,
                                lambda name, k, v, b: bool(within(name, v, b, k))))
        return out
    finally:
        default_generator.restore(after)


def consistent(u: tuple, v: tuple):
    """Whether two (value, bound) differences agree, element by element."""
    return np.abs(u[0] - v[0]) <= u[1] + v[1] + 1e-6 * np.maximum(np.abs(u[0]), np.abs(v[0]))


def settle(difference, agrees) -> tuple:
    """(value, bound, settled) of the central differences ``difference(scale)`` gives,
    numbers or arrays alike.

    A difference is exact only up to a truncation error that depends on how fast the
    function varies near the point (x scaled down to 1e-9 varies in 1e-9).  Before an
    element that disagrees with its gradient (``agrees(value, bound)``) is called
    failed, its difference is taken again with a 10x smaller step: if the two are
    consistent, the first stands; else with a 100x smaller one, and if the last two
    are consistent the finer is the reference; else the element has none (not
    settled).  ``difference`` may give None (no difference at that step): no
    reference then either."""
    first = difference(1.0)
    if first is None:
        return None
    value, bound = np.array(first[0], dtype=np.float64), np.array(first[1], dtype=np.float64)
    settled = np.ones(value.shape, dtype=bool)
    wrong = ~np.asarray(agrees(value, bound), dtype=bool)
    if wrong.any():
        finer = difference(SMALLER_STEPS[0])
        rest = wrong if finer is None else wrong & ~consistent(first, finer)
        if rest.any():
            finest = None if finer is None else difference(SMALLER_STEPS[1])
            fine = np.zeros(value.shape, dtype=bool) if finest is None else \
                rest & consistent(finer, finest)
            for reference, where in ((finer, fine), (finest, rest & ~fine)):
                if reference is not None:
                    value[where] = np.broadcast_to(reference[0], value.shape)[where]
                    bound[where] = np.broadcast_to(reference[1], value.shape)[where]
            settled[rest & ~fine] = False
    return value, bound, settled


class Differences(NamedTuple):
    """A variable's central differences: the reference per element (NaN where none),
    its rounding-error bound, which elements were checked, and which of those had no
    reference because the differences do not settle as the step shrinks; ``whole``
    when every element was nudged at once (:mod:`.elementwise`)."""
    expected: np.ndarray
    bound: np.ndarray
    done: np.ndarray
    unsettled: np.ndarray
    whole: bool = False


SMALLER_STEPS = (1e-1, 1e-2)     # tried on an element before its difference says "failed"


def _differences(variables, base, objective, deadline: float, agrees) -> dict:
    """Central differences of ``objective`` per element: the variables take turns, one
    element each, from their first, so a deadline leaves none of them unchecked; an
    element that disagrees with its gradient (``agrees(name, k, value, bound)``) is
    taken again at smaller steps (:func:`settle`)."""

    def difference(name: str, k: int, scale: float = 1.0) -> tuple:
        """(central difference at flat index k of ``name``, its rounding-error bound)."""
        x = base[name]
        h = STEP * scale * max(1.0, abs(float(x.reshape(-1)[k])))
        values = []
        for sign in (1.0, -1.0):
            arr = x.copy().reshape(-1)
            arr[k] += sign * h
            try:
                values.append(objective(name, {**base, name: arr.reshape(x.shape)}))
            except GradcliError:
                values.append(np.nan)
        # each objective is rounded to ~eps relative: that error, divided by 2h
        return (values[0] - values[1]) / (2 * h), \
            8 * EPS * max(abs(values[0]), abs(values[1]), 1.0) / (2 * h)

    out = {name: Differences(np.full(base[name].shape, np.nan), np.zeros(base[name].shape),
                             np.zeros(base[name].shape, dtype=bool),
                             np.zeros(base[name].shape, dtype=bool)) for name in variables}
    pending = [(name, _spread(base[name].size)) for name in variables]
    while pending and time.monotonic() <= deadline:
        name, order = pending.pop(0)
        k = next(order, None)
        if k is None:
            continue
        expected, bound, done, unsettled = (a.reshape(-1) for a in out[name][:4])
        value, bound[k], settled = settle(lambda scale: difference(name, k, scale),
                                          lambda v, b: agrees(name, k, v, b))
        expected[k] = value if settled else np.nan
        unsettled[k] = not settled
        done[k] = True
        pending.append((name, order))
    return out
