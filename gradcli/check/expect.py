"""``--expect NAME=VALUE``: compare a computed gradient with the user's own value."""

from __future__ import annotations

import numpy as np


def compare(actual, expected, rtol: float, atol: float) -> tuple:
    """(passed, max_abs_err) for arrays that broadcast; NaN equals NaN."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    try:
        np.broadcast_shapes(a.shape, e.shape)
    except ValueError:
        return False, None
    ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    with np.errstate(invalid="ignore"):
        diff = np.abs(a - e)
    # where they agree the error is 0 (NaN vs NaN too); a NaN against a number is inf
    diff = np.where(ok, np.where(np.isnan(diff), 0.0, diff), np.where(np.isnan(diff),
                                                                   np.inf, diff))
    return bool(np.all(ok)), float(diff.max()) if diff.size else 0.0


def require_known(grads: dict, expect: dict, option: str) -> None:
    """An expectation for a name that has no gradient is a usage error, not a failure."""
    for name in expect:
        if name not in grads:
            from ..errors import InputError
            known = ", ".join(grads) or "none"
            raise InputError(f"{option} {name}: no gradient named '{name}' "
                             f"(gradients: {known})")


def check_expectations(grads: dict, expect: dict, rtol: float, atol: float) -> dict:
    """name -> {status, expected, actual, abs_err, reason} for every --expect."""
    report = {}
    for name, expected in expect.items():
        entry = {"expected": np.asarray(expected, dtype=float), "actual": None,
                 "abs_err": None}
        if name not in grads:
            known = ", ".join(grads) or "none"
            entry.update(status="failed",
                         reason=f"no gradient named '{name}' (gradients: {known})")
        elif grads[name] is None:
            entry.update(status="failed", reason=f"{name}.grad is None")
        else:
            actual = grads[name]
            entry["actual"] = actual
            passed, err = compare(actual, expected, rtol, atol)
            entry["abs_err"] = err
            entry["status"] = "passed" if passed else "failed"
            if err is None:
                entry["reason"] = (f"shape {list(np.shape(actual))} does not match the "
                                   f"expected shape {list(np.shape(expected))}")
            elif not passed:
                entry["reason"] = f"differs by {err:.3g} (rtol {rtol:g}, atol {atol:g})"
        report[name] = entry
    return report
