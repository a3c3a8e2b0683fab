"""Batch records: validating one JSON record and answering it on its own.

A record is ``{"id", "expr", "vars", "const", "wrt", "of", "upstream", "expect",
"check", "mode", "graph", "dtype"}`` (SPEC 4.2).  Anything wrong with one record becomes that
record's error object; the batch goes on.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from ..errors import GradcliError, InputError
from .common import Job

FIELDS = ("id", "expr", "vars", "const", "wrt", "of", "upstream", "expect", "check", "mode",
          "graph", "dtype")
MODES = ("grad", "hessian", "jacobian")
DTYPES = ("float64", "float32")
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class Record:
    """One validated batch record (a plain slotted class: one is made per record)."""

    __slots__ = ("id", "job", "expect", "check", "mode", "graph", "scalar", "skip_reason")

    def __init__(self, id, job: Job, expect=None, check: bool = True, mode: str = "grad",
                 graph: bool = False, scalar: bool = False,
                 skip_reason: str = "\"check\": false"):
        self.id = id
        self.job = job
        self.expect = {} if expect is None else expect
        self.check = check
        self.mode = mode
        self.graph = graph
        self.scalar = scalar              # every bound value is a plain number
        self.skip_reason = skip_reason    # why the check is off, when it is


class QuickRecord(msgspec.Struct, forbid_unknown_fields=True):
    """The common record, {"id", "expr", "vars"} with plain-number vars, as msgspec
    decodes it (validated in C, with no dict per record).  A line that is anything else
    is decoded as plain JSON and validated by :func:`parse_record`."""

    expr: str
    vars: dict[str, float]
    id: Any = msgspec.UNSET


def quick_decoder():
    """The QuickRecord decoder, and the errors that say "not one of those"."""
    return (msgspec.json.Decoder(QuickRecord),
            (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError))


def from_quick(default_id, quick: QuickRecord, check: bool) -> Record:
    rid = default_id if quick.id is msgspec.UNSET else quick.id
    return Record(id=rid, job=Job(quick.expr, quick.vars), check=check, scalar=True,
                  skip_reason="--no-check")


def _numeric(value, where: str):
    """A bound value: numbers, nested lists of numbers; "NaN"/"Infinity" strings too."""
    if isinstance(value, bool) or value is None:
        raise InputError(f"{where}: expected a number or an array of numbers, got "
                         f"{_short(value)}")
    if isinstance(value, (int, float)):
        return _fits(value, where)
    if isinstance(value, str):
        if value in _SPECIAL:
            return _SPECIAL[value]
        raise InputError(f"{where}: expected a number, got the string {_short(value)}")
    if isinstance(value, list):
        # iterative copy with the string spellings converted (nesting is user-controlled)
        root: list = []
        stack = [(value, root)]
        while stack:
            src, dst = stack.pop()
            for item in src:
                if isinstance(item, list):
                    child: list = []
                    dst.append(child)
                    stack.append((item, child))
                elif isinstance(item, bool) or item is None:
                    raise InputError(f"{where}: array elements must be numbers")
                elif isinstance(item, (int, float)):
                    dst.append(_fits(item, where))
                elif isinstance(item, str) and item in _SPECIAL:
                    dst.append(_SPECIAL[item])
                else:
                    raise InputError(f"{where}: array elements must be numbers, got "
                                     f"{_short(item)}")
        return root
    raise InputError(f"{where}: expected a number or an array of numbers, got "
                     f"{_short(value)}")


_FLOAT_LIMIT = 2 ** 1024            # an int this large has no float64 (inf is a float)


def _fits(value, where: str):
    """A JSON number as a float64 can hold it (an integer past 1.8e308 cannot)."""
    if type(value) is int and not -_FLOAT_LIMIT < value < _FLOAT_LIMIT:
        raise InputError(f"{where}: the integer {_short(value)} is too large for float64")
    return value


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _mapping(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"'{name}' must be an object of name: value")
    for v in value.values():                  # the common case: plain numbers, as given
        if type(v) is not float and (type(v) is not int or
                                     not -_FLOAT_LIMIT < v < _FLOAT_LIMIT):
            break
    else:
        return value
    return {k: _numeric(v, f"{name}.{k}") for k, v in value.items()}


_FIELD_SET = frozenset(FIELDS)


def parse_record(obj, default_id, default_check: bool = True) -> Record:
    """A validated Record from a decoded JSON value (raises InputError)."""
    if not isinstance(obj, dict):
        raise InputError(f"a record must be a JSON object, got {type(obj).__name__}")
    if not _FIELD_SET.issuperset(obj):
        unknown = [k for k in obj if k not in _FIELD_SET]
        raise InputError(f"unknown field '{unknown[0]}' (fields: {', '.join(FIELDS)})")
    expr = obj.get("expr")
    if not isinstance(expr, str):
        raise InputError("missing 'expr': the program to differentiate, as a string"
                         if expr is None else "'expr' must be a string")
    variables = _mapping(obj.get("vars"), "vars")
    const = _mapping(obj.get("const"), "const")
    wrt = obj.get("wrt")
    if wrt is not None and (not isinstance(wrt, list) or
                            not all(isinstance(w, str) for w in wrt)):
        raise InputError("'wrt' must be a list of variable names")
    of = obj.get("of")
    if of is not None and not isinstance(of, str):
        raise InputError("'of' must be a variable name")
    upstream = obj.get("upstream")
    if upstream is not None and upstream != "ones":
        upstream = _numeric(upstream, "upstream")
    dtype = obj.get("dtype", "float64")
    if dtype not in DTYPES:
        raise InputError(f"'dtype' must be \"float64\" or \"float32\", got {_short(dtype)}")
    mode = obj.get("mode", "grad")
    if mode not in MODES:
        raise InputError(f"'mode' must be one of {', '.join(MODES)}, got {_short(mode)}")
    for flag in ("check", "graph"):
        if flag in obj and not isinstance(obj[flag], bool):
            raise InputError(f"'{flag}' must be true or false")
    if mode != "grad":            # hessian/jacobian have no expect, upstream or graph
        for name in ("expect", "upstream", "graph"):
            value = obj.get(name)
            if value is not None and value is not False and value != {}:
                raise InputError(f"'{name}' applies to \"mode\": \"grad\" only, not "
                                 f"\"{mode}\"")
    scalar = not any(type(v) is list for v in variables.values()) and \
        not any(type(v) is list for v in const.values())
    return Record(id=obj.get("id", default_id),
                  job=Job(expr, variables, const, wrt, of, upstream, dtype),
                  expect=_mapping(obj.get("expect"), "expect"),
                  check=obj.get("check", default_check), mode=mode,
                  graph=obj.get("graph", False), scalar=scalar,
                  skip_reason="\"check\": false" if "check" in obj else "--no-check")


def expect_object(record: Record, grads: dict, report: dict, rtol, atol) -> dict:
    """Fold the record's expectations into its check report (a failed one fails it);
    an expectation naming no gradient is the record's error (InputError)."""
    from ..check import check_expectations
    from ..check.expect import require_known
    from ..check.report import fold_expectations
    require_known(grads, record.expect, "expect")
    return fold_expectations(report, check_expectations(grads, record.expect, rtol, atol))


def answer_alone(record: Record, rtol: float, atol: float, timeout: float,
                 compiled=None) -> dict:
    """The output object of one record, computed on its own (the reference path)."""
    from .jsonout import check_object, result_object
    try:
        if record.mode != "grad":
            from .matrix import compute
            obj = compute(record.job, record.mode, check=record.check, rtol=rtol, atol=atol,
                          timeout=timeout)[0]
            if not record.check:
                obj["check"] = check_object(skipped_report(record.skip_reason))
            return {"id": record.id, **obj, "check": _trim(obj["check"])}
        # (the compiled check reads the run's values; the full check replays the program)
        result = record.job.evaluate(keep="summary" if compiled is None else "all")
        report = check_record(result, record, rtol, atol, timeout, compiled)
        if record.expect:
            report = expect_object(record, result.grads, report, rtol, atol)
        obj = result_object(result, graph=record.graph, check=check_object(_trim(report)))
        return {"id": record.id, **obj}
    except GradcliError as exc:
        return {"id": record.id, "ok": False, "error": exc.to_dict()}


def check_record(result, record: Record, rtol, atol, timeout, compiled=None) -> dict:
    from ..check import run_check
    if not record.check:
        return skipped_report(record.skip_reason)
    if compiled is not None:
        # The compiled formulas answer a certain pass; a failure, an undefined point or
        # a kink (skipped, with its reason) is the full check's to report.
        from ..check import dtype_limit
        from ..check.compiled import tolerances
        from ..check.numeric import kinks
        values = {n: d for n, (d, _) in result.bound.items()}
        if not kinks(result) and compiled.clean(result, values).all():
            r, a = tolerances(result, rtol, atol)
            report = compiled.report(result.grads, values, r, a, dtype_limit(result))
            if report is not None:
                return report
    return run_check(result, rtol=rtol, atol=atol, timeout=timeout)


def skipped_report(reason: str = "\"check\": false") -> dict:
    return {"status": "skipped", "method": "none", "max_abs_err": None, "symbolic": {},
            "failed": [], "variables": {}, "reason": reason}


def _trim(report: dict) -> dict:
    """Batch lines carry the summary of the check, not the per-variable entries; what
    was skipped keeps its reason (SPEC 5), also when the rest passed (abs(x)*y at x = 0:
    y passed, x sits on a kink), so a line never says more was verified than was."""
    out = {k: v for k, v in report.items() if k not in ("variables", "values")}
    if out.get("reason") or out.get("status") not in ("skipped", "partial"):
        return out
    reasons = [f"{name}: {entry['reason']}" for part in ("variables", "values")
               for name, entry in (report.get(part) or {}).items()
               if entry.get("status") in ("skipped", "partial") and entry.get("reason")]
    if reasons:
        out["reason"] = "; ".join(reasons)
    return out
