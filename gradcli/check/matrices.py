"""Checking Hessians and Jacobians: ``sympy.hessian`` / ``Matrix.jacobian`` of the
replayed program, or central differences of the program's output when SymPy would be
too big or too slow (spread over the entries, within the time budget)."""

from __future__ import annotations

import time

import numpy as np

from . import (SYMBOLIC_LIMIT, Timeout, _compare, _summary, _tolerances, dtype_limit, judged,
               replayed, rerun, time_limit)
from .numeric import EPS, _spread


def _flat_symbols(replay, found) -> list:
    return [s for name, _ in found for s in replay.variables[name][1].reshape(-1)]


def _symbolic(result, kind, found, matrix, rtol, atol, deadline) -> dict:
    """The entry of the matrix, each element judged exactly against SymPy's."""
    import sympy as sp

    from .symbolic import Replay
    replay = Replay(result, deadline).run()
    syms = _flat_symbols(replay, found)
    out = np.asarray(replay.value_of(result.output), dtype=object).reshape(-1)
    if kind == "hessian":
        expected = sp.hessian(out[0], syms) if syms else sp.zeros(0, 0)
    else:
        expected = sp.Matrix(list(out)).jacobian(syms) if syms else sp.zeros(len(out), 0)
    exprs = np.empty(matrix.shape, dtype=object)
    kinks = np.empty(matrix.shape, dtype=object)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            exprs[i, j] = expected[i, j]
            # a kink of either variable: no second derivative there (SPEC 5)
            kinks[i, j] = replay.kinks.get(syms[j]) or \
                (replay.kinks.get(syms[i]) if kind == "hessian" else None)
    return judged(replay, exprs, matrix, rtol, atol, dtype_limit(result), deadline,
                  list(kinks.reshape(-1)))


def _evaluate_output(result, bindings) -> np.ndarray:
    run = rerun(result, bindings, dtype="float64", implicit_backward=False)
    return np.asarray(run.value, dtype=np.float64).reshape(-1)


def _numeric(result, kind, found, shape, deadline):
    """Central differences of the output: first (Jacobian) or second (Hessian) order."""
    base = {n: np.asarray(d, dtype=np.float64) for n, (d, _) in result.bound.items()}
    slots = [(name, k) for name, t in found for k in range(t.data.size)]

    def nudged(steps) -> dict:
        b = dict(base)
        for (name, k), h in steps:
            arr = b[name].copy().reshape(-1)
            arr[k] += h
            b[name] = arr.reshape(base[name].shape)
        return b

    def step(slot):
        name, k = slot
        return 1e-6 * max(1.0, abs(float(base[name].reshape(-1)[k])))

    expected = np.full(shape, np.nan)
    bound = np.zeros(shape)
    if kind == "jacobian":
        for j in _spread(len(slots)):
            if time.monotonic() > deadline:
                break
            h = step(slots[j])
            up, down = (_evaluate_output(result, nudged([(slots[j], s * h)])) for s in (1, -1))
            expected[:, j] = (up - down) / (2 * h)
            bound[:, j] = 8 * EPS * np.maximum(np.maximum(abs(up), abs(down)), 1) / (2 * h)
        return expected, bound
    n = len(slots)
    pairs = [(i, j) for i in range(n) for j in range(i, n)]
    for p in _spread(len(pairs)):
        if time.monotonic() > deadline:
            break
        i, j = pairs[p]
        hi, hj = 100 * step(slots[i]), 100 * step(slots[j])
        values = [_evaluate_output(result, nudged([(slots[i], si * hi), (slots[j], sj * hj)]))[0]
                  for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
        v = (values[0] - values[1] - values[2] + values[3]) / (4 * hi * hj)
        err = 16 * EPS * max(max(abs(x) for x in values), 1.0) / (4 * hi * hj)
        expected[i, j] = expected[j, i] = v
        bound[i, j] = bound[j, i] = err + 1e-4 * abs(v)     # truncation error of O(h**2)
    return expected, bound


def check_matrix(result, kind: str, matrix: np.ndarray, *, rtol=1e-7, atol=1e-9,
                 timeout=5.0) -> dict:
    """The check report of a Hessian or Jacobian (same shape as the grad report)."""
    from ..lang.derivatives import variables
    result = replayed(result)
    rtol, atol = _tolerances(result, rtol, atol)
    found = variables(result)
    elements = sum(t.data.size for t in result.variables.values())
    start = time.monotonic()
    reason = None
    entry = None
    try:
        if elements <= SYMBOLIC_LIMIT:
            try:
                with time_limit(start + timeout):
                    entry = _symbolic(result, kind, found, matrix, rtol, atol,
                                      start + timeout)
            except Timeout:
                reason = f"the symbolic check took over {timeout:g} s"
            except RecursionError:
                reason = "the expression is too deep for SymPy"
        else:
            reason = f"{elements} tensor elements (over {SYMBOLIC_LIMIT})"
        if entry is None:
            body = _numeric_body(result, kind, found, matrix, rtol, atol, timeout, reason)
        else:
            body = {"method": "symbolic", "variables": {kind: entry}, "symbolic": {},
                    "rtol": rtol, "atol": atol}
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - nothing the check meets ends the run
        body = {"method": "symbolic", "symbolic": {}, "rtol": rtol, "atol": atol,
                "variables": {kind: {"status": "skipped", "expected": None, "actual": matrix,
                                     "abs_err": None, "reason": "the check could not run "
                                     f"here ({type(exc).__name__}: {str(exc)[:160]})"}}}
    return _summary(body)


def _numeric_body(result, kind, found, matrix, rtol, atol, timeout, reason) -> dict:
    from .numeric import kinks as numeric_kinks
    rtol, atol = max(rtol, 1e-4), max(atol, 1e-5)
    expected, bound = _numeric(result, kind, found, matrix.shape, time.monotonic() + timeout)
    reason += f"; central differences (rtol {rtol:g}, atol {atol:g})"
    done = ~np.isnan(expected)
    entry = _compare(matrix, expected, rtol, atol, slack=bound, unchecked=~done,
                     what="entry")
    if not done.all():
        reason += f"; time budget reached: {int(done.sum())} of {expected.size} entries " \
            "checked"
    kinked = numeric_kinks(result)
    kinks = sorted({kinked[name] for name, _ in found if name in kinked})
    if kinks:
        # undefined at the point (SPEC 5): no reference for PyTorch's value there
        entry.update(status="skipped", reason="; ".join(kinks), checked=0)
    return {"method": "numeric", "variables": {kind: entry}, "symbolic": {},
            "rtol": rtol, "atol": atol, "reason": reason}
