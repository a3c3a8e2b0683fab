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

from ..autograd.events import BackwardEvent, GradEvent, has, of_kind
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


def grad_name(result, names: dict, out, inp, value) -> str:
    """How a grad() result is called: the name the program gave it, else
    ``grad(out, inp)``; ``names`` maps id(tensor) to graph names."""
    name = names.get(id(value))
    if name and not name.startswith("%"):
        return name
    return f"grad({names.get(id(out), '?')}, {names.get(id(inp), '?')})"


def grad_names(result) -> dict:
    return {id(row.tensor): row.name.split("@")[0] for row in result.graph}


def grad_results(result) -> list:
    """(name, value) of every grad() call of the program, in order (what --format plain
    prints after the gradients)."""
    names = grad_names(result)
    return [(grad_name(result, names, e.output, e.input, e.result),
             None if e.result is None else e.result.data)
            for e in of_kind(result.events, GradEvent)]


def rerun(result, bindings: dict | None = None, **options):
    """``result``'s program run again, every value kept (unless ``keep`` says otherwise):
    at ``bindings`` (name -> array; default: as bound), with the run's options but those
    given (``dtype``, ``implicit_backward``); the variables that were constants stay
    constants."""
    from ..lang.evaluator import evaluate
    if bindings is None:
        bindings = {n: d for n, (d, _) in result.bound.items()}
    const = {n for n, (_, rg) in result.bound.items() if not rg}
    opts = result.options
    options = {"dtype": opts.get("dtype", "float64"), "keep": "all",
               "implicit_backward": opts.get("implicit_backward", True), **options}
    return evaluate(result.program, {k: v for k, v in bindings.items() if k not in const},
                    const={k: bindings[k] for k in const}, wrt=opts.get("wrt"),
                    of=opts.get("of"), upstream=opts.get("upstream"), **options)


def replayed(result):
    """The run the check reads: ``result`` itself when it kept every value, else the
    program run again from its bindings with every value kept (a run lets go of large
    intermediates: :mod:`gradcli.lang.keep`).  The gradients checked stay ``result``'s
    own, the ones shown."""
    if not getattr(result, "summarised", 0):
        return result
    replay = redrawn(result)
    replay.grads = result.grads
    return replay


def redrawn(result, **options):
    """:func:`rerun` with the run's own random draws (dropout's masks), the generator
    left as it was."""
    from ..autograd.random import default_generator
    after = default_generator.snapshot()
    default_generator.restore(result.random_state)
    try:
        return rerun(result, **options)
    finally:
        default_generator.restore(after)


def _tolerances(result, rtol: float, atol: float) -> tuple:
    if result.options.get("dtype") == "float32":   # float32 cannot meet float64 tolerances
        return max(rtol, 1e-4), max(atol, 1e-6)
    return rtol, atol


def dtype_limit(result) -> float:
    """The largest finite gradient of the result's dtype (an exact derivative past it
    cannot be represented: skipped, not failed)."""
    return float(np.finfo(np.float32 if result.options.get("dtype") == "float32"
                          else np.float64).max)


def _compare(actual, expected, rtol, atol, slack=0.0, unchecked=None, unsettled=None,
             what: str = "element") -> dict:
    """Entry for a value against a float reference (NaN where undefined), e.g. central
    differences; ``slack`` (per element) widens the tolerance by the reference's own
    error bound; ``unchecked`` marks elements the time budget left out, ``unsettled``
    those whose differences did not settle (no reference)."""
    from .report import Coded, entry
    e = np.asarray(expected, dtype=np.float64)
    if actual is None:
        ok = np.all(np.nan_to_num(e, nan=1.0) == 0)
        out = entry(None, expected, np.full(e.shape, 0 if ok else 1, dtype=np.int8),
                    np.zeros(e.shape))
        out["reason"] = "grad is None: no backward() reaches it (derivative 0)" if ok \
            else "grad is None but the derivative is not 0"
        return out
    a = np.broadcast_to(np.asarray(actual, dtype=np.float64), e.shape)
    defined = np.isfinite(e)
    with np.errstate(all="ignore"):     # inf - inf: handled
        err = np.abs(a - e)
        limit = np.abs(np.where(defined, e, 0.0))
        limit *= rtol
        limit += slack
        limit += atol
        ok = (err <= limit) & np.isfinite(a)
    del limit
    status = np.where(ok, np.int8(0), np.int8(1))         # codes: report.STATUSES
    status[~defined] = 2
    codes = np.zeros(e.shape, dtype=np.int8)
    if unchecked is not None:
        codes[np.asarray(unchecked, dtype=bool)] = 1
    if unsettled is not None:
        codes[np.asarray(unsettled, dtype=bool)] = 2
    out = entry(actual, expected, status, err, None, Coded(codes, [
        "the derivative is undefined or infinite at this point",
        "not checked (the time budget ran out)",
        "central differences do not settle here as the step shrinks (the function varies "
        "on a scale below the step, or the program branches on a value here): no "
        "reference"]))
    if unchecked is not None and np.all(unchecked):
        out["reason"] = f"the time budget ran out before any {what} was checked"
    if out["status"] == "failed":
        out["reason"] = f"differs by {out['abs_err']:.3g} (rtol {rtol:g}, atol {atol:g})"
    return out


def judged(replay, exprs, actual, rtol, atol, limit, deadline, kinks=None) -> dict:
    """Entry for expected expressions against computed values, each element judged
    exactly (:mod:`.exact`); ``kinks`` holds per element the reason its derivative is
    undefined there (a kink, a tie), or None."""
    from .report import entry
    exprs = np.asarray(exprs, dtype=object)
    flat_actual = None if actual is None else \
        np.broadcast_to(np.asarray(actual, dtype=np.float64), exprs.shape).reshape(-1)
    n = exprs.size
    status, reasons = np.empty(n, dtype=object), np.empty(n, dtype=object)
    expected, errors, ulps = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for k, expr in enumerate(exprs.reshape(-1)):
        a = 0.0 if flat_actual is None else float(flat_actual[k])
        kink = None if kinks is None or actual is None else kinks[k]
        if kink:
            status[k], reasons[k] = "skipped", kink
            continue
        verdict = replay.judge(expr, a, rtol, atol, limit, deadline)
        if verdict.status == "failed" and a != a and replay.nan_reason():
            status[k], reasons[k] = "skipped", replay.nan_reason()
            continue
        status[k], reasons[k] = verdict.status, verdict.reason
        expected[k] = verdict.expected()
        if verdict.value is not None:
            errors[k] = float(abs(verdict.value - a)) if np.isfinite(a) else np.inf
            with np.errstate(all="ignore"):
                ulps[k] = errors[k] / np.spacing(abs(expected[k]))
    shaped = expected.reshape(exprs.shape)
    out = entry(actual, shaped if exprs.ndim else float(shaped), status.reshape(exprs.shape),
                errors, ulps, reasons)
    if actual is None:
        out["reason"] = "grad is None: no backward() reaches it (derivative 0)" \
            if out["status"] == "passed" else "grad is None but the derivative is not 0" \
            if out["status"] == "failed" else out.get("reason", "")
    elif out["status"] == "failed":
        out["reason"] = f"differs by {out['abs_err']:.3g} (rtol {rtol:g}, atol {atol:g})"
    return out


def _formula(expr) -> str:
    text = str(expr)
    return text if len(text) <= FORMULA_LIMIT else text[:FORMULA_LIMIT] + "…"


def _element_formula(name: str, exprs, replay) -> tuple:
    """(element, formula) for a tensor variable: with ``x[i]`` for the element's own
    index (in every variable of the same shape) when every element's formula reads the
    same that way; else the first element's own formula (``x[0,0]``)."""
    import sympy as sp
    shape = exprs.shape
    letters = "ijklmn"[:len(shape)]
    if len(shape) > len("ijklmn"):
        return _first_element(name, exprs)
    generic = {v: sp.Symbol(f"{v}[{','.join(letters)}]", real=True)
               for v, syms in replay.symbols.items() if np.shape(syms) == shape}
    text = None
    for idx in np.ndindex(shape):
        mapping = {replay.symbols[v][idx]: s for v, s in generic.items()}
        expr = exprs[idx]
        this = str(expr.xreplace(mapping) if isinstance(expr, sp.Basic) else expr)
        if len(this) > FORMULA_LIMIT * 4:          # too long to show: compare no further
            return _first_element(name, exprs)
        if text is not None and this != text:
            return _first_element(name, exprs)
        text = this
    return f"{name}[{','.join(letters)}]", _formula(text)


def _first_element(name: str, exprs) -> tuple:
    first = (0,) * exprs.ndim
    return f"{name}[{','.join(map(str, first))}]", _formula(exprs[first])


def _kinks_of(replay, syms) -> list:
    return [replay.kinks.get(s) for s in np.asarray(syms, dtype=object).reshape(-1)]


def _symbolic(result, rtol, atol, deadline) -> dict:
    from .symbolic import Replay
    replay = Replay(result, deadline).run()
    limit = dtype_limit(result)
    details, formulas = {}, {}
    for name, actual in result.grads.items():
        if name not in replay.expected:
            details[name] = {"status": "skipped", "reason": "not a bound variable",
                             "expected": None, "actual": actual, "abs_err": None}
            continue
        exprs = replay.expected[name]
        syms = replay.variables[name][1]
        entry = judged(replay, exprs, actual, rtol, atol, limit, deadline,
                       _kinks_of(replay, syms))
        if exprs.ndim == 0:
            entry["formula"] = formulas[name] = _formula(exprs[()])
        elif exprs.size:
            entry["element"], entry["formula"] = _element_formula(name, exprs, replay)
        details[name] = entry
    values = {}
    for tensor, derivative in replay.values:
        targets = replay.grad_targets.get(id(tensor), ())
        entry = judged(replay, derivative, tensor.data, rtol, atol, limit, deadline,
                       [replay.kinks.get(s) for s in targets] or None)
        if np.ndim(derivative) == 0:
            entry["formula"] = _formula(np.asarray(derivative)[()])
        values[replay.name_of(tensor)] = entry
    for tensor, reason in replay.skipped_values:
        values[replay.name_of(tensor)] = {"status": "skipped", "reason": reason,
                                          "expected": None, "actual": tensor.data,
                                          "abs_err": None}
    return {"method": "symbolic", "variables": details, "symbolic": formulas,
            "values": values}


def _numeric(result, rtol, atol, deadline, reason) -> dict:
    from .numeric import expected_gradients, kinks_of
    rtol, atol = max(rtol, 1e-5), max(atol, 1e-6)     # what differences can resolve
    details = {}
    sampled, at_once = [], []
    numeric = expected_gradients(result, deadline, rtol, atol)
    kinked = kinks_of(result)
    for name, actual in result.grads.items():
        if name not in numeric:
            details[name] = {"status": "skipped", "expected": None, "actual": actual,
                             "abs_err": None, "reason": "made a leaf inside the program: "
                             "finite differences cannot nudge it"}
            continue
        expected, bound, done, unsettled, whole = numeric[name]
        if whole:
            at_once.append(name)
        entry = _compare(actual, expected, rtol, atol, slack=bound, unchecked=~done,
                         unsettled=unsettled)
        if not done.all():
            sampled.append(f"{name}: {int(done.sum())} of {expected.size} elements")
        if name in kinked and actual is not None:
            entry.update(status="skipped", reason=kinked[name], checked=0)
        details[name] = entry
    text = reason + f"; central differences (rtol {rtol:g}, atol {atol:g}, plus each " \
        "difference's rounding error)"
    if at_once:
        text += f"; every element of {', '.join(at_once)} nudged at once (the program " \
            "keeps elements apart)"
    if sampled:
        text += "; time budget reached, checked " + ", ".join(sampled)
    return {"method": "numeric", "variables": details, "symbolic": {}, "reason": text}


def _failed_route(result, exc) -> dict:
    """Every variable skipped: the check itself could not run (never a crash)."""
    reason = f"the check could not run here ({type(exc).__name__}: {str(exc)[:160]})"
    details = {name: {"status": "skipped", "reason": reason, "expected": None,
                      "actual": actual, "abs_err": None}
               for name, actual in result.grads.items()}
    return {"method": "symbolic", "variables": details, "symbolic": {}}


def run_check(result, *, rtol: float = 1e-7, atol: float = 1e-9,
              timeout: float = 5.0, numeric: bool = True) -> dict:
    """The check report of a result: symbolic when small enough, else numeric (or,
    without ``numeric``, every variable skipped with the reason)."""
    elements = sum(t.data.size for t in result.variables.values())
    if elements <= SYMBOLIC_LIMIT:      # the symbolic route reads every value
        result = replayed(result)
    rtol, atol = _tolerances(result, rtol, atol)
    if not result.grads and not has(result.events, GradEvent):
        return _summary({"method": "none", "variables": {}, "symbolic": {},
                         "reason": "no variable requires grad"})
    start = time.monotonic()
    try:
        body = _route(result, rtol, atol, timeout, elements, start,
                      _numeric if numeric else _unchecked)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - nothing the check meets ends the run
        body = _failed_route(result, exc)
    if not has(result.events, BackwardEvent):
        _only_grad_calls(body)
    body["rtol"], body["atol"] = rtol, atol
    return _summary(body)


def _only_grad_calls(body: dict) -> None:
    """No backward() ran: a variable's .grad is None because grad() leaves it alone, not
    because its derivative is 0 (no formula "0" that reads as d/dx = 0)."""
    for name, entry in body.get("variables", {}).items():
        if entry.get("actual") is None and entry.get("status") == "passed":
            entry.pop("formula", None)
            entry["expected"] = None
            entry["reason"] = ("grad is None: only grad() ran, which returns its result "
                               "and leaves .grad untouched")
            body.get("symbolic", {}).pop(name, None)


def _route(result, rtol, atol, timeout, elements, start, fallback) -> dict:
    if elements > SYMBOLIC_LIMIT:
        return fallback(result, rtol, atol, start + timeout,
                        f"{elements} tensor elements (over {SYMBOLIC_LIMIT})")
    try:
        with time_limit(start + timeout):
            return _symbolic(result, rtol, atol, start + timeout)
    except Timeout:
        return fallback(result, rtol, atol, time.monotonic() + timeout,
                        f"the symbolic check took over {timeout:g} s")
    except RecursionError:
        return fallback(result, rtol, atol, time.monotonic() + timeout,
                        "the expression is too deep for SymPy")


def _unchecked(result, rtol, atol, deadline, reason) -> dict:
    """No fallback (a script cannot be re-run at a nudged point): all skipped."""
    details = {name: {"status": "skipped", "reason": reason, "expected": None,
                      "actual": actual, "abs_err": None}
               for name, actual in result.grads.items()}
    return {"method": "symbolic", "variables": details, "symbolic": {}, "reason": reason}


def _summary(body: dict) -> dict:
    from .report import summarize
    return summarize(body)


__all__ = ["run_check", "check_expectations"]
