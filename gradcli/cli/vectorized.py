"""Answering a chunk of batch records, sharing work between records of one program.

Per program (text, variable names, constants, wrt, of) gradcli keeps the parsed
program, whether it can run as arrays, and its symbolic gradients compiled to numpy.
A program runs as arrays when every op is elementwise and it has no autograd
statements: then binding each scalar variable to the column of its values across
records and backpropagating ``ones`` gives every record's gradient at once.  A record
whose compiled check does not pass cleanly (a failure, an undefined point, a kink) is
answered alone, with the full check, so both paths print the same thing.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..errors import GradcliError
from .common import Job
from .jsonout import line_encoder, number
from .records import (Record, check_record, expect_object, parse_record, skipped_report,
                      _trim)

CACHE_SIZE = 256


class _Program:
    __slots__ = ("parsed", "vectorizable", "compiled")

    def __init__(self):
        self.parsed = None          # Program, or the GradcliError parsing raised
        self.vectorizable = None    # unknown until one record has run
        self.compiled = None        # CompiledCheck, False (not possible) or None (unknown)


class Answerer:
    def __init__(self, *, rtol: float, atol: float, timeout: float, vectorize: bool = True,
                 check: bool = True):
        self.rtol, self.atol, self.timeout = rtol, atol, timeout
        self.check = check                 # for records without a "check" field
        self.encode_lines = line_encoder()
        self.vectorize = vectorize
        self.programs: OrderedDict = OrderedDict()

    # -- the cache ---------------------------------------------------------------------
    def program(self, record: Record) -> _Program:
        job = record.job
        key = (job.text, tuple(job.bindings), tuple(job.const),
               None if job.wrt is None else tuple(job.wrt), job.of)
        if not record.scalar:
            key += (tuple(_shape(v) for v in job.bindings.values()),
                    tuple(_shape(v) for v in job.const.values()))
        info = self.programs.get(key)
        if info is None:
            info = self.programs[key] = _Program()
            from ..lang.evaluator import FUNCTIONS, parse
            try:
                info.parsed = parse(job.text, functions=FUNCTIONS)
            except GradcliError as exc:
                info.parsed = exc
            if len(self.programs) > CACHE_SIZE:
                self.programs.popitem(last=False)
        else:
            self.programs.move_to_end(key)
        return info

    # -- a chunk -----------------------------------------------------------------------
    def answer(self, chunk: list, stats: dict) -> bytes:
        out: list = [None] * len(chunk)
        groups: dict = {}
        for i, (default_id, value) in enumerate(chunk):
            record = _quick(value, default_id, self.check)
            if record is None:
                if isinstance(value, GradcliError):
                    out[i] = {"id": default_id, "ok": False, "error": value.to_dict()}
                    continue
                try:
                    record = parse_record(value, default_id, self.check)
                except GradcliError as exc:
                    rid = value.get("id", default_id) if isinstance(value, dict) \
                        else default_id
                    out[i] = {"id": rid, "ok": False, "error": exc.to_dict()}
                    continue
            info = self.program(record)
            if isinstance(info.parsed, GradcliError):
                out[i] = {"id": record.id, "ok": False, "error": info.parsed.to_dict()}
                continue
            record.job.text = info.parsed          # evaluate the cached parse
            groups.setdefault(id(info), (info, []))[1].append((i, record))
        for info, members in groups.values():
            self._group(info, members, out)
        for obj in out:
            stats["records"] += 1
            if obj.get("ok"):
                stats["ok"] += 1
                check = obj.get("check") or {}
                if check.get("status") == "failed" or check.get("failed"):
                    stats["failed"] += 1
            else:
                stats["errors"] += 1
        return self.encode_lines(out)

    def _group(self, info: _Program, members: list, out: list) -> None:
        wants_check = any(r.check for _, r in members)
        if info.vectorizable is None or (info.compiled is None and wants_check):
            i, record = members[0]
            out[i] = self._alone(info, record, learn=True)
            members = members[1:]
        batchable = [(i, r) for i, r in members
                     if self.vectorize and info.vectorizable and _plain(r)]
        rest = [(i, r) for i, r in members if not (self.vectorize and info.vectorizable
                                                  and _plain(r))]
        if len(batchable) == 1:
            rest += batchable
            batchable = []
        if batchable:
            try:
                self._together(info, batchable, out)
            except GradcliError:
                rest += batchable              # answer them one by one instead
        for i, record in rest:
            out[i] = self._alone(info, record)

    # -- one record ----------------------------------------------------------------------
    def _alone(self, info: _Program, record: Record, learn: bool = False) -> dict:
        from .jsonout import check_object, result_object
        if record.mode != "grad":
            from .records import answer_alone
            return answer_alone(record, self.rtol, self.atol, self.timeout)
        try:
            result = record.job.evaluate()
        except GradcliError as exc:
            if learn:
                info.vectorizable = False
            return {"id": record.id, "ok": False, "error": exc.to_dict()}
        if learn:
            info.vectorizable = _elementwise_only(result)
            if record.check and info.compiled is None:
                info.compiled = _compile(result, self.timeout)
        compiled = info.compiled or None
        try:
            report = check_record(result, record, self.rtol, self.atol, self.timeout,
                                  compiled)
        except GradcliError as exc:
            return {"id": record.id, "ok": False, "error": exc.to_dict()}
        if record.expect:
            report = expect_object(record, result.grads, report, self.rtol, self.atol)
        obj = result_object(result, graph=record.graph, check=check_object(_trim(report)))
        return {"id": record.id, **obj}

    # -- many records as arrays -------------------------------------------------------------
    def _together(self, info: _Program, members: list, out: list) -> None:
        from ..lang.evaluator import evaluate
        first = members[0][1].job
        names, consts = list(first.bindings), list(first.const)
        columns = {n: np.array([r.job.bindings[n] for _, r in members], dtype=np.float64)
                   for n in names}
        const_cols = {n: np.array([r.job.const[n] for _, r in members], dtype=np.float64)
                      for n in consts}
        result = evaluate(info.parsed, columns, const=const_cols, wrt=first.wrt, of=first.of,
                          upstream="ones")
        batch = len(members)
        values = np.broadcast_to(np.asarray(result.value, dtype=np.float64), (batch,))
        grads = {n: (None if g is None else np.broadcast_to(g, (batch,)))
                 for n, g in result.grads.items()}
        compiled = info.compiled or None
        if compiled is not None:
            from ..check.compiled import tolerances
            rtol, atol = tolerances(result, self.rtol, self.atol)
            expected = compiled.expected({**columns, **const_cols}, batch=batch)
            clean, abs_err, ulp_err = _vector_compare(grads, expected, compiled.names,
                                                      rtol, atol)
            clean &= ~_at_kinks(result, batch)       # those get the full check, alone
        grad_fn = result.grad_fn
        # JSON numbers for whole columns at once (non-finite ones as strings)
        value_list = _json_column(values)
        grad_lists = {n: (None if g is None else _json_column(g)) for n, g in grads.items()}
        if compiled is not None:
            abs_list, ulp_list, clean_list = abs_err.tolist(), ulp_err.tolist(), clean.tolist()
        skipped = {}
        for k, (i, record) in enumerate(members):
            if not record.check:
                reason = record.skip_reason
                if reason not in skipped:
                    skipped[reason] = _trim(skipped_report(reason))
                report = dict(skipped[reason])
            elif compiled is None or not clean_list[k]:
                out[i] = self._alone(info, record)
                continue
            else:
                report = {"status": "passed", "method": "symbolic",
                          "max_abs_err": abs_list[k], "max_ulp_err": ulp_list[k],
                          "symbolic": compiled.formulas, "failed": [], "rtol": rtol,
                          "atol": atol}
            if record.expect:
                report = expect_object(record, {n: (None if g is None else np.asarray(g[k]))
                                                for n, g in grads.items()},
                                       report, self.rtol, self.atol)
                report = _json_expect(report)
            out[i] = {"id": record.id, "ok": True, "value": value_list[k], "shape": [],
                      "grad_fn": grad_fn,
                      "grads": {n: (None if g is None else g[k])
                                for n, g in grad_lists.items()},
                      "upstream": None, "check": report}


_QUICK_FIELDS = frozenset(("id", "expr", "vars"))


def _quick(value, default_id, check: bool):
    """The common record, {"id", "expr", "vars"} with plain-number vars, without the
    full validation (anything else returns None and goes through parse_record)."""
    if type(value) is not dict or not _QUICK_FIELDS.issuperset(value):
        return None
    expr, bindings = value.get("expr"), value.get("vars")
    if type(expr) is not str or type(bindings) is not dict:
        return None
    for v in bindings.values():
        if type(v) is not float and type(v) is not int:
            return None
    return Record(id=value.get("id", default_id), job=Job(expr, bindings), check=check,
                  scalar=True, skip_reason="--no-check")


def _json_column(column) -> list:
    """A column of floats as JSON numbers (non-finite ones as "NaN"/"Infinity")."""
    column = np.asarray(column, dtype=np.float64)
    if np.isfinite(column).all():
        return column.tolist()
    return [number(v) for v in column.tolist()]


def _shape(value):
    """The shape of a bound value, for the cache key; a ragged nested list has none (its
    record gets the evaluator's bind error)."""
    try:
        return np.shape(value)
    except ValueError:
        return "ragged"


def _plain(record: Record) -> bool:
    """Can this record join an array evaluation?"""
    return record.scalar and record.mode == "grad" and not record.graph and \
        record.job.upstream is None


def _elementwise_only(result) -> bool:
    """Did the program use only elementwise ops, and no autograd statements?"""
    if result.value is None or np.size(result.value) != 1:
        return False
    for event in result.events:
        kind = event[0]
        if kind == "op":
            if not event[2].elementwise:
                return False
        elif kind == "backward":
            if not event[4]:            # an explicit backward() call
                return False
        else:
            return False
    return True


def _compile(result, timeout: float):
    from ..check.compiled import CompiledCheck, NotCacheable
    if sum(t.data.size for t in result.variables.values()) > 256:
        return False
    try:
        compiled = CompiledCheck.for_result(result, timeout)
    except NotCacheable:
        return False
    except Exception as exc:  # noqa: BLE001 - symbolic.Timeout or RecursionError, but
        from ..check.symbolic import Timeout     # importing it means importing SymPy
        if isinstance(exc, (Timeout, RecursionError)):
            return False
        raise
    try:        # lambdify may emit a function numpy has not (DiracDelta, from sign'):
        compiled.expected({n: d for n, (d, _) in result.bound.items()})    # try it once
    except Exception:  # noqa: BLE001 - then the full check answers, record by record
        return False
    return compiled


def _at_kinks(result, batch: int) -> np.ndarray:
    """Per record of an array evaluation: does some op sit on a kink or a tie there?"""
    from ..autograd.tensor import Tensor
    hit = np.zeros(batch, dtype=bool)
    for event in result.events:
        if event[0] != "op" or event[5] or event[2].undefined is None:
            continue
        out, op, args, params = event[1:5]
        values = [a.data if isinstance(a, Tensor) else a for a in args]
        if not op.undefined(*values, out.data, **params):
            continue                                 # no record at a kink: the usual case
        for k in range(batch):
            one = [v[k] if np.ndim(v) == 1 and len(v) == batch else v for v in values]
            o = out.data[k] if np.ndim(out.data) == 1 else out.data
            if op.undefined(*one, o, **params):
                hit[k] = True
    return hit


def _vector_compare(grads, expected, names, rtol, atol):
    """Per record: passes cleanly?, max abs error, max ulp error (as the full check)."""
    batch = len(next(iter(expected.values()))) if expected else 0
    clean = np.ones(batch, dtype=bool)
    abs_err = np.zeros(batch)
    ulp_err = np.zeros(batch)
    with np.errstate(all="ignore"):
        for name in names:
            e = np.asarray(expected[name], dtype=np.float64)
            a = grads.get(name)
            if a is None:
                clean &= False
                continue
            a = np.asarray(a, dtype=np.float64)
            err = np.abs(a - e)
            ok = np.isfinite(e) & np.isfinite(a) & (err <= atol + rtol * np.abs(e))
            clean &= ok
            abs_err = np.maximum(abs_err, np.where(ok, err, 0.0))
            ulp_err = np.maximum(ulp_err, np.where(ok, err / np.spacing(np.abs(e)), 0.0))
    return clean, abs_err, ulp_err


def _json_expect(report: dict) -> dict:
    from .jsonout import check_object
    return check_object(report)
