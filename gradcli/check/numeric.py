"""The numeric route: central differences per element, like torch.autograd.gradcheck.

The whole program is run again with one element of one variable nudged up and down;
the objective is sum(root * upstream) over the backward calls that count for that
variable (those after its last zero_grad).  Used when the symbolic route is too big or
too slow; when even this would run over the time budget, an evenly spread sample of
the elements is checked and the report says so.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import GradcliError

STEP = 1e-6
EPS = float(np.finfo(np.float64).eps)


def _backward_events(events) -> list:
    return [(i, e) for i, e in enumerate(events) if e[0] == "backward"]


def _objectives(events, upstreams) -> list:
    """sum(root * upstream) for each backward call of a run, in order."""
    out = []
    for (_, e), g in zip(_backward_events(events), upstreams):
        root = e[1].data.astype(np.float64)
        out.append(float(np.sum(root * g)))
    return out


def _spread(n: int) -> np.ndarray:
    """All indices 0..n-1, in an order that covers the range evenly when cut short."""
    order, seen, step = [], np.zeros(n, dtype=bool), 1
    while step < n:
        step *= 2
    while step >= 1 and len(order) < n:
        for i in range(0, n, step):
            if not seen[i]:
                seen[i] = True
                order.append(i)
        step //= 2
    return np.array(order, dtype=int)


def kinks(result) -> dict:
    """name -> reason, for each bound variable that an op's input depends on where the
    op's derivative is undefined (a kink, a tie), as the symbolic replay marks them:
    a difference quotient across a kink is no reference for PyTorch's value there."""
    from ..autograd.ops.core import undefined_at
    from ..autograd.tensor import Tensor
    deps = {id(t): frozenset((n,)) for n, t in result.variables.items()}
    before_of = {id(e[2]): e[1] for e in result.events if e[0] == "inplace"}

    def of(x) -> frozenset:
        if not isinstance(x, Tensor):
            return frozenset()
        return deps.get(id(before_of.get(id(x), x)), frozenset())

    found: dict = {}
    for event in result.events:
        if event[0] == "inplace":
            deps[id(event[1])] = of(event[3])
            continue
        if event[0] != "op" or not event[1].requires_grad:
            continue
        out, op, args, params, in_backward = event[1:6]
        names = frozenset().union(*(of(a) for a in args))
        if names:
            deps[id(out)] = names
        if in_backward or not names:
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
    upstreams = [np.ones(e[1].shape) if e[2] is None else e[2].data.astype(np.float64)
                 for _, e in backwards]
    last_zero: dict = {}
    for i, e in enumerate(events):
        if e[0] == "zero_grad":
            last_zero[id(e[1])] = i
    base = {name: np.asarray(d, dtype=np.float64) for name, (d, _) in result.bound.items()}
    variables = [n for n, (_, rg) in result.bound.items() if rg]
    const = [n for n, (_, rg) in result.bound.items() if not rg]
    opts = result.options

    def objective(name: str, bindings: dict) -> float:
        # the same random draws as the run checked (dropout's masks)
        default_generator.restore(random_state)
        run = evaluate(result.program, {k: v for k, v in bindings.items() if k not in const},
                       const={k: bindings[k] for k in const}, wrt=opts.get("wrt"),
                       of=opts.get("of"), upstream=opts.get("upstream"), dtype="float64")
        values = _objectives(run.events, upstreams)
        start = last_zero.get(id(result.variables[name]), -1)
        return sum(v for (i, _), v in zip(backwards, values) if i > start)

    random_state = getattr(result, "random_state", None) or default_generator.snapshot()
    after = default_generator.snapshot()
    try:
        return _differences(variables, base, objective, deadline)
    finally:
        default_generator.restore(after)


def _differences(variables, base, objective, deadline: float) -> dict:
    """Central differences of ``objective`` per element of each variable."""
    out = {}
    for name in variables:
        x = base[name]
        grad = np.full(x.shape, np.nan)
        bound = np.zeros(x.shape)
        flat, flat_bound = grad.reshape(-1), bound.reshape(-1)
        done = np.zeros(x.shape, dtype=bool)
        flat_done = done.reshape(-1)
        for k in _spread(x.size):
            if time.monotonic() > deadline:
                break
            h = STEP * max(1.0, abs(float(x.reshape(-1)[k])))
            values = []
            for sign in (1.0, -1.0):
                nudged = dict(base)
                arr = x.copy().reshape(-1)
                arr[k] += sign * h
                nudged[name] = arr.reshape(x.shape)
                try:
                    values.append(objective(name, nudged))
                except GradcliError:
                    values.append(np.nan)
            flat[k] = (values[0] - values[1]) / (2 * h)
            # each objective is rounded to ~eps relative: that error, divided by 2h
            flat_bound[k] = 8 * EPS * max(abs(values[0]), abs(values[1]), 1.0) / (2 * h)
            flat_done[k] = True
        out[name] = (grad, bound, done)
    return out
