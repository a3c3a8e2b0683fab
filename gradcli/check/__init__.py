"""Cross-checks of gradcli's gradients (SPEC 5): SymPy's symbolic derivatives, central
finite differences as a fallback, and the user's own ``--expect`` values.

:func:`run_check` returns the JSON ``check`` object: status, method, max_abs_err,
symbolic (formulas of scalar variables), failed (names) and per-variable details.
SymPy is imported only here, only when a check runs.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from .expect import check_expectations

SYMBOLIC_LIMIT = 256          # tensor elements in all; above it, finite differences
FORMULA_LIMIT = 300           # characters of a formula shown
POINT_DIGITS = 30             # digits of the point's values in SymPy, and of evalf


class Timeout(Exception):
    """The symbolic route ran over its time budget."""


@contextmanager
def time_limit(deadline: float):
    """Raise Timeout once ``time.monotonic()`` passes the deadline, even inside one long
    SymPy call (SymPy may compute a huge exact power or factor a big integer with no
    step in between): by SIGALRM, in the main thread on POSIX.  Elsewhere only the
    checks between steps apply."""
    import signal
    import threading
    left = deadline - time.monotonic()
    if not hasattr(signal, "setitimer") or left <= 0 or \
            threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum, frame):
        raise Timeout

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, left)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _tolerances(result, rtol: float, atol: float) -> tuple:
    if result.options.get("dtype") == "float32":   # float32 cannot meet float64 tolerances
        return max(rtol, 1e-4), max(atol, 1e-6)
    return rtol, atol


def _compare(actual, expected, rtol, atol, slack=0.0) -> dict:
    """Entry for one value: expected (floats, NaN where undefined) vs actual; ``slack``
    (per element) widens the tolerance by the known error of the expected value."""
    entry = {"expected": expected, "actual": actual, "abs_err": None}
    if actual is None:
        if np.all(np.nan_to_num(expected, nan=1.0) == 0):
            entry.update(status="passed", abs_err=0.0,
                         reason="grad is None: no backward() reaches it (derivative 0)")
        else:
            entry.update(status="failed", reason="grad is None but the derivative is not 0")
        return entry
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    defined = np.isfinite(e)
    if not defined.any():
        entry.update(status="skipped",
                     reason="the derivative is undefined or infinite at this point")
        return entry
    with np.errstate(all="ignore"):     # inf - inf, err / spacing overflowing: handled
        err = np.abs(a - e)
        err_defined = np.where(defined, err, 0.0)
        ok = (err_defined <= atol + slack + rtol * np.abs(np.where(defined, e, 0.0))) & \
            ~(defined & ~np.isfinite(a))
        max_err = float(np.max(np.where(np.isfinite(err_defined), err_defined, np.inf)))
        entry["abs_err"] = max_err
        spacing = np.spacing(np.abs(np.where(defined, e, 1.0)))
        ulps = err / spacing
    entry["ulp_err"] = float(np.max(np.where(defined, ulps, 0.0))) \
        if np.isfinite(max_err) else None
    if ok.all():
        entry["status"] = "passed"
        if not defined.all():
            entry["reason"] = "elements where the derivative is undefined were not compared"
    else:
        entry["status"] = "failed"
        entry["reason"] = f"differs by {max_err:.3g} (rtol {rtol:g}, atol {atol:g})"
    return entry


def _to_float(expr) -> float:
    value = expr.evalf(POINT_DIGITS)
    if value.is_real and value.is_finite:
        try:
            return float(value)
        except TypeError:         # SymPy calls DiracDelta(0) real and finite: no number
            return float("nan")
    return float("nan")


def _value_at(expr, replay) -> float:
    """A derivative at the replay's point; NaN (undefined) where it depends on a
    coordinate that is infinite or NaN: SymPy's limits there (0*cos(oo) = 0) are no
    derivative at a point."""
    bad = replay.nonfinite
    if bad and not bad.isdisjoint(getattr(expr, "free_symbols", ())):
        return float("nan")
    return _to_float(expr.xreplace(replay.point))


def _symbolic(result, rtol, atol, deadline) -> dict:
    from .symbolic import Replay
    replay = Replay(result, deadline).run()
    details, formulas = {}, {}
    for name, actual in result.grads.items():
        if name not in replay.expected:
            details[name] = {"status": "skipped", "reason": "not a bound variable",
                             "expected": None, "actual": actual, "abs_err": None}
            continue
        exprs = replay.expected[name]
        syms = replay.variables[name][1]
        expected = np.empty(exprs.shape)
        for idx in np.ndindex(exprs.shape):
            if time.monotonic() > deadline:
                raise Timeout
            expected[idx] = _value_at(exprs[idx], replay)
        entry = _compare(actual, expected, rtol, atol)
        kink = next((replay.kinks[s] for s in syms.reshape(-1) if s in replay.kinks), None)
        if kink and actual is not None:
            # undefined at the point (SPEC 5): SymPy's convention there (Heaviside(0) =
            # 1/2, sign(0) = 0) may or may not match PyTorch's; neither confirms anything
            entry.update(status="skipped", reason=kink)
        if exprs.ndim == 0:
            text = str(exprs[()])
            entry["formula"] = text if len(text) <= FORMULA_LIMIT else \
                text[:FORMULA_LIMIT] + "…"
            formulas[name] = entry["formula"]
        details[name] = entry
    values = {}
    for tensor, derivative in replay.values:
        expected = np.empty(derivative.shape)
        for idx in np.ndindex(derivative.shape):
            expected[idx] = _value_at(derivative[idx], replay)
        entry = _compare(tensor.data, expected, rtol, atol)
        kink = next((replay.kinks[s] for s in replay.grad_targets.get(id(tensor), ())
                     if s in replay.kinks), None)
        if kink:
            entry.update(status="skipped", reason=kink)
        if derivative.ndim == 0:
            entry["formula"] = str(derivative[()])[:FORMULA_LIMIT]
        values[replay.name_of(tensor)] = entry
    for tensor, reason in replay.skipped_values:
        values[replay.name_of(tensor)] = {"status": "skipped", "reason": reason,
                                          "expected": None, "actual": tensor.data,
                                          "abs_err": None}
    return {"method": "symbolic", "variables": details, "symbolic": formulas,
            "values": values}


def _numeric(result, rtol, atol, deadline, reason) -> dict:
    from .numeric import expected_gradients, kinks
    rtol, atol = max(rtol, 1e-5), max(atol, 1e-6)     # what differences can resolve
    details = {}
    sampled = []
    numeric = expected_gradients(result, deadline)
    kinked = kinks(result)
    for name, actual in result.grads.items():
        if name not in numeric:
            details[name] = {"status": "skipped", "expected": None, "actual": actual,
                             "abs_err": None, "reason": "made a leaf inside the program: "
                             "finite differences cannot nudge it"}
            continue
        expected, bound, checked = numeric[name]
        entry = _compare(actual, expected, rtol, atol, slack=bound)
        entry.pop("ulp_err", None)            # against a difference quotient, ulps mean nothing
        if checked < expected.size:
            sampled.append(f"{name}: {checked} of {expected.size} elements")
            if checked == 0:
                entry.update(status="skipped", reason="the time budget ran out before any "
                             "element was checked")
            elif entry["status"] == "passed":
                entry["reason"] = f"time budget reached: {checked} of {expected.size} " \
                    "elements checked"
        if name in kinked and actual is not None:
            entry.update(status="skipped", reason=kinked[name])
        details[name] = entry
    text = reason + f"; central differences (rtol {rtol:g}, atol {atol:g}, plus each " \
        "difference's rounding error)"
    if sampled:
        text += "; time budget reached, checked " + ", ".join(sampled)
    return {"method": "numeric", "variables": details, "symbolic": {}, "reason": text}


def run_check(result, *, rtol: float = 1e-7, atol: float = 1e-9,
              timeout: float = 5.0) -> dict:
    """The check report of a result: symbolic when small enough, else numeric."""
    rtol, atol = _tolerances(result, rtol, atol)
    if not result.grads and not any(e[0] == "grad" for e in result.events):
        return _summary({"method": "none", "variables": {}, "symbolic": {},
                         "reason": "no variable requires grad"})
    elements = sum(t.data.size for t in result.variables.values())
    start = time.monotonic()
    if elements > SYMBOLIC_LIMIT:
        body = _numeric(result, rtol, atol, start + timeout,
                        f"{elements} tensor elements (over {SYMBOLIC_LIMIT})")
    else:
        try:
            with time_limit(start + timeout):
                body = _symbolic(result, rtol, atol, start + timeout)
        except Timeout:
            body = _numeric(result, rtol, atol, time.monotonic() + timeout,
                            f"the symbolic check took over {timeout:g} s")
        except RecursionError:
            body = _numeric(result, rtol, atol, time.monotonic() + timeout,
                            "the expression is too deep for SymPy")
    body["rtol"], body["atol"] = rtol, atol
    return _summary(body)


def _summary(body: dict) -> dict:
    entries = list(body["variables"].values()) + list(body.get("values", {}).values())
    statuses = [e["status"] for e in entries]
    entries = [e for e in entries if e["status"] != "skipped"]
    failed = [n for n, e in list(body["variables"].items()) + list(body.get("values",
                                                                            {}).items())
              if e["status"] == "failed"]
    status = "failed" if failed else ("passed" if "passed" in statuses else "skipped")
    errors = [e["abs_err"] for e in entries if e.get("abs_err") is not None]
    ulps = [e["ulp_err"] for e in entries if e.get("ulp_err") is not None]
    report = {"status": status, "method": body["method"],
              "max_abs_err": max(errors) if errors else None,
              "max_ulp_err": max(ulps) if ulps else None,
              "symbolic": body.get("symbolic", {}), "failed": failed,
              "variables": body["variables"]}
    for key in ("values", "reason", "rtol", "atol"):
        if body.get(key):
            report[key] = body[key]
    if status == "skipped":
        # say why (SPEC 5), also where only the summary is shown (the check line)
        reasons = [e.get("reason") for e in list(body["variables"].values()) +
                   list(body.get("values", {}).values()) if e["status"] == "skipped"]
        reasons = [r for r in dict.fromkeys(reasons) if r and r not in body.get("reason", "")]
        if reasons:
            report["reason"] = "; ".join(([body["reason"]] if body.get("reason") else [])
                                         + reasons)
    return report


__all__ = ["run_check", "check_expectations"]
