"""Check reports: one entry per variable (or grad() value, Hessian, Jacobian) and the
summary over them (SPEC 5).

An entry's status: ``passed`` (every element checked and within tolerance), ``failed``
(some element outside it), ``skipped`` (no element could be checked, with why) or
``partial`` (some could not, with how many could: ``checked`` of ``elements``).  The
summary takes the worst: failed over partial over passed, skipped only when nothing at
all was checked.
"""

from __future__ import annotations

import numpy as np


FAILED_AT = 10            # failing elements an entry names (failed_at), the first ones
STATUSES = ("passed", "failed", "skipped")     # an element's status, by code (int8)


class Coded:
    """Per-element reasons as small integer codes into a list of texts (a million
    elements need no million Python string references)."""

    __slots__ = ("codes", "texts")

    def __init__(self, codes: np.ndarray, texts: list):
        self.codes, self.texts = codes, texts


def entry(actual, expected, status, abs_err, ulp_err=None, reasons=None) -> dict:
    """An entry from per-element arrays: ``status`` holds "passed", "failed" or
    "skipped" per element (or their codes, indices into STATUSES: a million elements
    need no million strings), ``reasons`` the reason of each skipped one (a sequence,
    or :class:`Coded`)."""
    status = np.asarray(status).reshape(-1)
    if status.dtype.kind in "iu":
        skipped, failing = status == 2, status == 1
    else:
        skipped, failing = status == "skipped", status == "failed"
    n = status.size
    mask = ~np.asarray(skipped, dtype=bool)
    checked = int(np.count_nonzero(mask))
    failed = int(np.count_nonzero(failing))
    out = {"expected": expected, "actual": actual, "abs_err": None,
           "checked": checked, "elements": n}
    errors = np.asarray(abs_err, dtype=np.float64).reshape(-1)
    if checked:
        with np.errstate(invalid="ignore"):
            out["abs_err"] = float(np.max(np.where(np.isnan(errors[mask]), np.inf,
                                                   errors[mask])))
        if ulp_err is not None:
            ulps = np.asarray(ulp_err, dtype=np.float64).reshape(-1)[mask]
            out["ulp_err"] = float(np.max(ulps)) if np.isfinite(ulps).all() else None
    why = _reasons(skipped, reasons, np.shape(expected))
    if failed:
        out["status"] = "failed"
        if np.ndim(expected):
            where = np.flatnonzero(failing)[:FAILED_AT]
            out["failed_at"] = [list(map(int, np.unravel_index(k, np.shape(expected))))
                                for k in where]
    elif checked == n:
        out["status"] = "passed"
    elif checked == 0:
        out["status"] = "skipped"
        out["reason"] = why
    else:
        out["status"] = "partial"
        out["reason"] = f"{checked} of {n} elements checked; {why}"
    return out


def _reasons(skipped, reasons, shape) -> str:
    """The distinct reasons of the skipped elements (``skipped``: a mask), each with the
    elements it covers (when not all of them); vectorised, for a million elements as
    for one."""
    if reasons is None:
        return ""
    every = np.size(skipped)
    skipped = np.flatnonzero(skipped)
    if isinstance(reasons, Coded):
        said = np.asarray(reasons.texts, dtype=object)[reasons.codes.reshape(-1)[skipped]]
    else:
        said = np.asarray(reasons, dtype=object).reshape(-1)[skipped]
    said = _said(said)
    firsts = np.sort(np.unique(said, return_index=True)[1]) if said.size else []
    distinct = [said[k] for k in firsts]           # in the order they first occur
    if len(distinct) == 1 and skipped.size == every:
        return distinct[0]
    parts = []
    for reason in distinct:
        where = skipped[said == reason]
        names = [_index(k, shape) for k in where[:3]] + (["..."] if len(where) > 3 else [])
        parts.append(f"{', '.join(names)}: {reason}" if shape else reason)
    return "; ".join(parts)


def _said(reasons: np.ndarray) -> np.ndarray:
    """Each reason as said: an empty one is "not checked"."""
    out = reasons.copy()
    out[(reasons == None) | (reasons == "")] = "not checked"    # noqa: E711 - elementwise
    return out


def _index(k: int, shape) -> str:
    return "[" + ",".join(map(str, np.unravel_index(k, shape))) + "]" if shape else ""


def summarize(body: dict) -> dict:
    """The check object from a method's per-variable (and per-value) entries."""
    entries = list(body["variables"].items()) + list(body.get("values", {}).items())
    failed = [n for n, e in entries if e["status"] == "failed"]
    statuses = {e["status"] for _, e in entries}
    checked = sum(e.get("checked", 1 if e["status"] != "skipped" else 0) for _, e in entries)
    elements = sum(e.get("elements", 1) for _, e in entries)
    if failed:
        status = "failed"
    elif statuses <= {"passed"} and entries:
        status = "passed"
    elif checked == 0:
        status = "skipped"
    else:
        status = "partial"
    counted = [e for _, e in entries if e["status"] != "skipped"]
    errors = [e["abs_err"] for e in counted if e.get("abs_err") is not None]
    ulps = [e["ulp_err"] for e in counted if e.get("ulp_err") is not None]
    report = {"status": status, "method": body["method"],
              "max_abs_err": max(errors) if errors else None,
              "max_ulp_err": max(ulps) if ulps else None,
              "symbolic": body.get("symbolic", {}), "failed": failed,
              "variables": body["variables"]}
    if status == "partial":
        report["checked"], report["elements"] = checked, elements
    for key in ("values", "reason", "rtol", "atol"):
        if body.get(key):
            report[key] = body[key]
    if status in ("skipped", "partial"):
        # say why (SPEC 5), also where only the summary is shown (the check line)
        reasons = [f"{n}: {_why(e)}" if len(entries) > 1 else _why(e)
                   for n, e in entries if e["status"] in ("skipped", "partial")
                   and e.get("reason")]
        reasons = [r for r in dict.fromkeys(reasons) if r not in body.get("reason", "")]
        lead = [body["reason"]] if body.get("reason") else []
        if status == "partial":
            lead.append(f"{checked} of {elements} elements checked")
        if reasons or lead:
            report["reason"] = "; ".join(lead + reasons)
    return report


def _why(entry: dict) -> str:
    """An entry's reason without its own count of checked elements."""
    reason = entry["reason"]
    if entry["status"] == "partial":
        head = f"{entry.get('checked')} of {entry.get('elements')} elements checked; "
        if reason.startswith(head):
            return reason[len(head):]
    return reason


def fold_expectations(report: dict, expectations: dict) -> dict:
    """Add --expect results to a check report: a failed expectation fails the check."""
    report["expect"] = expectations
    bad = [n for n, e in expectations.items() if e["status"] == "failed"]
    report["failed"] = report["failed"] + [n for n in bad if n not in report["failed"]]
    if bad:
        if report["status"] != "failed":
            note = "expectation failed: " + ", ".join(bad)
            report["reason"] = note + (f"; {report['reason']}" if report.get("reason")
                                       else "")
        report["status"] = "failed"
    return report
