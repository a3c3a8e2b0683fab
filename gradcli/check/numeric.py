"""The numeric route: central differences per element, like torch.autograd.gradcheck.

The whole program is run again with one element of one variable nudged up and down;
the objective is sum(root * upstream) over the backward calls that count for that
variable (those after its last zero_grad).  Used when the symbolic route is too big or
too slow; when even this would run over the time budget, an evenly spread sample of
the elements is checked and the report says so.
"""

from __future__ import annotations

import gc
import time

import numpy as np

from ..autograd.events import InplaceEvent, OpEvent, of_kind
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
    for event in of_kind(result.events, InplaceEvent, OpEvent):
        if event.kind == "inplace":
            deps[id(event.tensor)] = of(event.result)
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


def expected_gradients(result, deadline: float) -> dict:
    """name -> (expected gradient with NaN where unchecked, its rounding-error bound per
    element, a mask of the elements checked)."""
    from ..autograd.random import default_generator
    from ..lang.evaluator import evaluate

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
    const = [n for n, (_, rg) in result.bound.items() if not rg]
    opts = result.options

    large = sum(a.size for a in base.values()) > 100_000

    def objective(name: str, bindings: dict) -> float:
        # the same random draws as the run checked (dropout's masks)
        default_generator.restore(random_state)
        run = evaluate(result.program, {k: v for k, v in bindings.items() if k not in const},
                       const={k: bindings[k] for k in const}, wrt=opts.get("wrt"),
                       of=opts.get("of"), upstream=opts.get("upstream"), dtype="float64")
        values = _objectives(run.events, upstreams)
        del run
        if large:   # a run's tape is a cycle: free its arrays now, not at some later gc
            gc.collect()
        start = last_zero.get(id(result.variables[name]), -1)
        return sum(v for (i, _), v in zip(backwards, values) if i > start)

    random_state = getattr(result, "random_state", None) or default_generator.snapshot()
    after = default_generator.snapshot()
    try:
        return _differences(variables, base, objective, deadline)
    finally:
        default_generator.restore(after)


def _differences(variables, base, objective, deadline: float) -> dict:
    """Central differences of ``objective`` per element: the variables take turns, one
    element each, from their first, so a deadline leaves none of them unchecked."""

    def difference(name: str, k: int) -> tuple:
        """(central difference at flat index k of ``name``, its rounding-error bound)."""
        x = base[name]
        h = STEP * max(1.0, abs(float(x.reshape(-1)[k])))
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

    out = {name: (np.full(base[name].shape, np.nan), np.zeros(base[name].shape),
                  np.zeros(base[name].shape, dtype=bool)) for name in variables}
    pending = [(name, _spread(base[name].size)) for name in variables]
    while pending and time.monotonic() <= deadline:
        name, order = pending.pop(0)
        k = next(order, None)
        if k is None:
            continue
        grad, bound, done = (a.reshape(-1) for a in out[name])
        grad[k], bound[k] = difference(name, k)
        done[k] = True
        pending.append((name, order))
    return out
