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


def kinks(result) -> dict:
    """name -> reason, for each bound variable that an op's input depends on where the
    op's derivative is undefined (a kink, a tie), as the symbolic replay marks them:
    a difference quotient across a kink is no reference for PyTorch's value there."""
    from ..autograd.ops.core import undefined_at
    from ..autograd.tensor import Tensor
    deps = {id(t): frozenset((n,)) for n, t in result.variables.items()}
    before_of = {id(e.before): e.tensor for e in of_kind(result.events, InplaceEvent)}

    def of(x) -> frozenset:
        if not isinstance(x, Tensor):
            return frozenset()
        return deps.get(id(before_of.get(id(x), x)), frozenset())

    found: dict = {}
    for event in of_kind(result.events, InplaceEvent, OpEvent, UndefinedEvent):
        if event.kind == "inplace":
            deps[id(event.tensor)] = of(event.result)
            continue
        if event.kind == "undefined":
            for name in frozenset().union(*(of(t) for t in event.tensors)):
                found.setdefault(name, event.reason)
            continue
        if not event.result.requires_grad:
            continue
        out, op, args, params = event.result, event.op, event.args, event.params
        names = frozenset().union(*(of(a) for a in args))
        if names:
            deps[id(out)] = names
        if event.in_backward or not names:
            continue
        reason = undefined_at(op, [a.data if isinstance(a, Tensor) else a for a in args],
                              out.data, params)
        if reason:
            for name in names:
                found.setdefault(name, reason)
    return found


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

    def objective(name: str, bindings: dict) -> float:
        # the same random draws as the run checked (dropout's masks)
        default_generator.restore(random_state)
        # only the roots are read (kept whole): intermediates go as the run goes; the
        # implicit backward's root is the output, read off it without the backward
        # pass (whose gradients nothing would read)
        run = rerun(result, bindings, dtype="float64", implicit_backward=False,
                    keep="summary")
        values = _objectives(run.events, upstreams)
        if implicit:            # (then the program calls no backward() itself: SPEC 3.5)
            values.append(float(np.sum(run.output.data.astype(np.float64) * implicit[0])))
        del run     # (its arrays go now: a result holds no cycle)
        start = last_zero.get(id(result.variables[name]), -1)
        return sum(v for (i, _), v in zip(backwards, values) if i > start)

    def agrees(name: str, k: int, value: float, bound: float) -> bool:
        actual = result.grads.get(name)
        if actual is None:
            return value == 0
        a = float(np.broadcast_to(np.asarray(actual, dtype=np.float64),
                                  base[name].shape).reshape(-1)[k])
        return bool(np.isfinite(a) and np.isfinite(value) and
                    abs(a - value) <= atol + bound + rtol * abs(value))

    random_state = getattr(result, "random_state", None) or default_generator.snapshot()
    after = default_generator.snapshot()
    try:
        return _differences(variables, base, objective, deadline, agrees)
    finally:
        default_generator.restore(after)


class Differences(NamedTuple):
    """A variable's central differences: the reference per element (NaN where none),
    its rounding-error bound, which elements were checked, and which of those had no
    reference because the differences do not settle as the step shrinks."""
    expected: np.ndarray
    bound: np.ndarray
    done: np.ndarray
    unsettled: np.ndarray


SMALLER_STEPS = (1e-1, 1e-2)     # tried on an element before its difference says "failed"


def _differences(variables, base, objective, deadline: float, agrees) -> dict:
    """Central differences of ``objective`` per element: the variables take turns, one
    element each, from their first, so a deadline leaves none of them unchecked.

    A difference is exact only up to a truncation error that depends on how fast the
    function varies near the point (x scaled down to 1e-9 varies in 1e-9).  Before an
    element that disagrees with its gradient (``agrees(name, k, value, bound)``) is
    called failed, its difference is taken again with a 10x smaller step: if the two
    are consistent, the first stands; else with a 100x smaller one, and if the last two
    are consistent the finer is the reference; else the element has none
    (unsettled)."""

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

    def consistent(u: tuple, v: tuple) -> bool:
        return abs(u[0] - v[0]) <= u[1] + v[1] + 1e-6 * max(abs(u[0]), abs(v[0]))

    def reference(name: str, k: int) -> tuple:
        """(value, bound, settled) for element k."""
        first = difference(name, k)
        if agrees(name, k, *first):
            return first + (True,)
        finer = difference(name, k, SMALLER_STEPS[0])
        if consistent(first, finer):        # no truncation error to speak of: a failure
            return first + (True,)
        finest = difference(name, k, SMALLER_STEPS[1])
        if consistent(finer, finest):       # the function varies fast: the finer step
            return finer + (True,)          # is the reference, pass or fail
        return finest + (False,)

    out = {name: Differences(np.full(base[name].shape, np.nan), np.zeros(base[name].shape),
                             np.zeros(base[name].shape, dtype=bool),
                             np.zeros(base[name].shape, dtype=bool)) for name in variables}
    pending = [(name, _spread(base[name].size)) for name in variables]
    while pending and time.monotonic() <= deadline:
        name, order = pending.pop(0)
        k = next(order, None)
        if k is None:
            continue
        expected, bound, done, unsettled = (a.reshape(-1) for a in out[name])
        value, bound[k], settled = reference(name, k)
        expected[k] = value if settled else np.nan
        unsettled[k] = not settled
        done[k] = True
        pending.append((name, order))
    return out
