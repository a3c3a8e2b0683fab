"""Answering a chunk of batch records, sharing work between records of one program.

Per program (text, variable names, constants, wrt, of) gradcli keeps the parsed
program, whether it can run as arrays, and its symbolic gradients compiled to numpy.
A program runs as arrays when every op is elementwise and it has no autograd
statements: then binding each scalar variable to the column of its values across
records and backpropagating ``ones`` gives every record's gradient at once, and their
answer lines are formatted from one template per program.  A record whose compiled
check does not pass cleanly (a failure, an undefined point, a kink) is answered alone,
with the full check, so both paths print the same thing.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from msgspec import UNSET

from ..autograd.events import OpEvent, of_kind
from ..errors import GradcliError
from .jsonout import LineTemplate, encoded_column, encoded_values, encoder
from .records import (QuickRecord, Record, check_record, expect_object, from_quick,
                      parse_record, skipped_report, _trim)

CACHE_SIZE = 256


class _Program:
    __slots__ = ("parsed", "vectorizable", "compiled")

    def __init__(self):
        self.parsed = None          # Program, or the GradcliError parsing raised
        self.vectorizable = None    # unknown until one record has run
        self.compiled = None        # CompiledCheck, False (not possible) or None (unknown)


class _Rows:
    """Records of one program to evaluate as arrays: where they sit in the chunk, their
    ids, a column per variable and constant, and what each asks of the check."""

    __slots__ = ("positions", "ids", "columns", "const", "wrt", "of", "check", "reasons",
                 "expect", "record")

    def __init__(self, positions, ids, columns, check, reasons, record, const=None,
                 wrt=None, of=None, expect=None):
        self.positions = positions        # index in the chunk, per row
        self.ids = ids
        self.columns = columns            # name -> float64 array, one value per row
        self.const = {} if const is None else const
        self.wrt, self.of = wrt, of
        self.check = check                # bool array: is the check on?
        self.reasons = reasons            # why it is off, per row
        self.expect = expect              # a dict per row, or None when no row has one
        self.record = record              # row number -> Record (to answer one alone)


class Answerer:
    def __init__(self, *, rtol: float, atol: float, timeout: float, vectorize: bool = True,
                 check: bool = True):
        self.rtol, self.atol, self.timeout = rtol, atol, timeout
        self.check = check                 # for records without a "check" field
        self.encoder = encoder()
        self.vectorize = vectorize
        self.programs: OrderedDict = OrderedDict()

    # -- the cache ---------------------------------------------------------------------
    def program(self, key: tuple, text: str) -> _Program:
        info = self.programs.get(key)
        if info is None:
            info = self.programs[key] = _Program()
            from ..lang.evaluator import parse_program
            try:
                info.parsed = parse_program(text)
            except GradcliError as exc:
                info.parsed = exc
            if len(self.programs) > CACHE_SIZE:
                self.programs.popitem(last=False)
        else:
            self.programs.move_to_end(key)
        return info

    def program_of(self, record: Record) -> _Program:
        job = record.job
        key = (job.text, tuple(job.bindings), tuple(job.const),
               None if job.wrt is None else tuple(job.wrt), job.of)
        if job.dtype != "float64":
            key += (job.dtype,)
        if not record.scalar:
            key += (tuple(_shape(v) for v in job.bindings.values()),
                    tuple(_shape(v) for v in job.const.values()))
        return self.program(key, job.text)

    # -- a chunk -----------------------------------------------------------------------
    def answer(self, chunk: list, stats: dict) -> bytes:
        """The JSON Lines of a chunk of (default id, record) pairs, in order."""
        out: list = [None] * len(chunk)    # a line (bytes), or an object to encode
        quick: dict = {}
        groups: dict = {}
        for i, (default_id, value) in enumerate(chunk):
            if type(value) is QuickRecord:
                key = (value.expr, tuple(value.vars))
                members = quick.get(key)
                if members is None:
                    quick[key] = [i]
                else:
                    members.append(i)
                continue
            if isinstance(value, GradcliError):
                out[i] = {"id": default_id, "ok": False, "error": value.to_dict()}
                continue
            try:
                record = parse_record(value, default_id, self.check)
            except GradcliError as exc:
                rid = value.get("id", default_id) if isinstance(value, dict) else default_id
                out[i] = {"id": rid, "ok": False, "error": exc.to_dict()}
                continue
            info = self.program_of(record)
            groups.setdefault(id(info), (info, []))[1].append((i, record))
        for (text, names), positions in quick.items():
            info = self.program((text, names, (), None, None), text)
            self._quick_group(info, positions, chunk, out)
        for info, members in groups.values():
            self._group(info, members, out)
        return self._encode(out, stats)

    def _encode(self, out: list, stats: dict) -> bytes:
        encode = self.encoder.encode
        records = ok = errors = failed = 0
        for k, item in enumerate(out):
            records += 1
            if type(item) is bytes:          # a templated line: ok, check not failed
                ok += 1
                continue
            if item.get("ok"):
                ok += 1
                check = item.get("check") or {}
                if check.get("status") == "failed" or check.get("failed"):
                    failed += 1
            else:
                errors += 1
            out[k] = encode(item) + b"\n"
        stats["records"] += records
        stats["ok"] += ok
        stats["errors"] += errors
        stats["failed"] += failed
        return b"".join(out)

    def _quick_group(self, info: _Program, positions: list, chunk: list, out: list) -> None:
        """Plain records of one program (QuickRecords), straight into columns."""
        def record(k: int) -> Record:
            default_id, quick = chunk[positions[k]]
            return from_quick(default_id, quick, self.check)

        if isinstance(info.parsed, GradcliError) or not self.vectorize or \
                info.vectorizable is False or len(positions) < 2:
            self._group(info, [(i, record(k)) for k, i in enumerate(positions)], out)
            return
        if info.vectorizable is None or (info.compiled is None and self.check):
            out[positions[0]] = self._alone(info, record(0), learn=True)
            self._quick_group(info, positions[1:], chunk, out)
            return
        pairs = [chunk[i] for i in positions]
        names = tuple(pairs[0][1].vars)
        bindings = [q.vars for _, q in pairs]
        columns = {n: np.array([b[n] for b in bindings], dtype=np.float64) for n in names}
        ids = [d if q.id is UNSET else q.id for d, q in pairs]
        rows = len(positions)
        try:
            self._together(info, _Rows(positions, ids, columns, np.full(rows, self.check),
                                       ["--no-check"] * rows, record), out)
        except GradcliError:                   # answer them one by one instead
            for k, i in enumerate(positions):
                out[i] = self._alone(info, record(k))

    def _group(self, info: _Program, members: list, out: list) -> None:
        """Records of one program (validated Records): together where they can be."""
        if not members:
            return
        if isinstance(info.parsed, GradcliError):
            for i, record in members:
                out[i] = {"id": record.id, "ok": False, "error": info.parsed.to_dict()}
            return
        wants_check = any(r.check for _, r in members)
        if info.vectorizable is None or (info.compiled is None and wants_check):
            i, record = members[0]
            out[i] = self._alone(info, record, learn=True)
            members = members[1:]
        together = self.vectorize and info.vectorizable
        batchable = [(i, r) for i, r in members if together and _plain(r)]
        rest = [(i, r) for i, r in members if not (together and _plain(r))]
        if len(batchable) == 1:
            rest += batchable
            batchable = []
        if batchable:
            try:
                self._together(info, _records_rows(batchable), out)
            except GradcliError:
                rest += batchable              # answer them one by one instead
        for i, record in rest:
            out[i] = self._alone(info, record)

    # -- one record ----------------------------------------------------------------------
    def _alone(self, info: _Program, record: Record, learn: bool = False) -> dict:
        from .jsonout import check_object, result_object
        record.job.text = info.parsed          # evaluate the cached parse
        if record.mode != "grad":
            from .records import answer_alone
            return answer_alone(record, self.rtol, self.atol, self.timeout)
        try:
            result = record.job.evaluate(keep="all")    # (the compiled check reads values)
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
            if record.expect:
                report = expect_object(record, result.grads, report, self.rtol, self.atol)
        except GradcliError as exc:
            return {"id": record.id, "ok": False, "error": exc.to_dict()}
        obj = result_object(result, graph=record.graph, check=check_object(_trim(report)))
        return {"id": record.id, **obj}

    # -- many records as arrays -------------------------------------------------------------
    def _together(self, info: _Program, rows: _Rows, out: list) -> None:
        from ..lang.evaluator import evaluate
        result = evaluate(info.parsed, rows.columns, const=rows.const, wrt=rows.wrt,
                          of=rows.of, upstream="ones", keep="all")     # (_at_kinks reads values)
        batch = len(rows.positions)
        values = np.broadcast_to(np.asarray(result.value, dtype=np.float64), (batch,))
        grads = {n: (None if g is None else np.broadcast_to(g, (batch,)))
                 for n, g in result.grads.items()}
        passed = np.zeros(batch, dtype=bool)
        compiled = info.compiled or None
        if compiled is not None and rows.check.any():
            from ..check import dtype_limit
            from ..check.compiled import tolerances
            rtol, atol = tolerances(result, self.rtol, self.atol)
            point = {**rows.columns, **rows.const}
            expected = compiled.expected(point, batch=batch)
            clean, abs_err, ulp_err = _vector_compare(grads, expected, compiled.names,
                                                      rtol, atol, dtype_limit(result))
            passed = rows.check & clean & ~_at_kinks(result, batch) & \
                compiled.clean(result, point, batch)
        for k in np.flatnonzero(rows.check & ~passed).tolist():
            out[rows.positions[k]] = self._alone(info, rows.record(k))   # the full check
        answered = passed | ~rows.check
        if rows.expect is not None:          # expectations: an object per record
            for k in np.flatnonzero(answered).tolist():
                if rows.expect[k]:
                    report = _passed_report(compiled.formulas, abs_err[k], ulp_err[k],
                                            rtol, atol) if passed[k] else \
                        _trim(skipped_report(rows.reasons[k]))
                    out[rows.positions[k]] = self._expecting(rows, k, result, values,
                                                             grads, report)
                    answered[k] = False
        if not answered.any():
            return
        # the rest: lines from templates, one per check outcome
        line = LineTemplate()
        ids, value = line.slot(encoded_values(self.encoder, rows.ids)), \
            line.slot(encoded_column(self.encoder, values))
        grad_slots = {n: (None if g is None else line.slot(encoded_column(self.encoder, g)))
                      for n, g in grads.items()}
        head = {"id": ids, "ok": True, "value": value, "shape": [],
                "grad_fn": result.grad_fn, "grads": grad_slots, "upstream": None}
        outcomes = []
        if passed.any():
            errors = [line.slot(encoded_column(self.encoder, e)) for e in (abs_err, ulp_err)]
            outcomes.append((passed & answered,
                             _passed_report(compiled.formulas, *errors, rtol, atol)))
        off = ~rows.check & answered
        for reason in sorted({rows.reasons[k] for k in np.flatnonzero(off).tolist()}):
            chosen = off & np.array([r == reason for r in rows.reasons])
            outcomes.append((chosen, _trim(skipped_report(reason))))
        for chosen, report in outcomes:
            picked = None if chosen.all() else np.flatnonzero(chosen).tolist()
            lines = line.lines(self.encoder, {**head, "check": report}, picked)
            positions = rows.positions if picked is None else \
                [rows.positions[k] for k in picked]
            for i, text in zip(positions, lines):
                out[i] = text

    def _expecting(self, rows: _Rows, k: int, result, values, grads, report) -> dict:
        """The object of a record with expectations (as answering it alone gives)."""
        from .jsonout import check_object, number
        record = rows.record(k)
        try:
            report = expect_object(record, {n: (None if g is None else np.asarray(g[k]))
                                            for n, g in grads.items()},
                                   report, self.rtol, self.atol)
        except GradcliError as exc:
            return {"id": record.id, "ok": False, "error": exc.to_dict()}
        return {"id": record.id, "ok": True, "value": number(values[k]), "shape": [],
                "grad_fn": result.grad_fn,
                "grads": {n: (None if g is None else number(g[k]))
                          for n, g in grads.items()},
                "upstream": None, "check": check_object(report)}


def _passed_report(formulas: dict, abs_err, ulp_err, rtol: float, atol: float) -> dict:
    """The check of a record whose compiled check passed cleanly (as the full check
    reports it, trimmed)."""
    return {"status": "passed", "method": "symbolic", "max_abs_err": abs_err,
            "max_ulp_err": ulp_err, "symbolic": formulas, "failed": [], "rtol": rtol,
            "atol": atol}


def _records_rows(members: list) -> _Rows:
    """Validated plain Records of one program as rows."""
    records = [r for _, r in members]
    first = records[0].job
    columns = {n: np.array([r.job.bindings[n] for r in records], dtype=np.float64)
               for n in first.bindings}
    const = {n: np.array([r.job.const[n] for r in records], dtype=np.float64)
             for n in first.const}
    expect = [r.expect for r in records]
    return _Rows([i for i, _ in members], [r.id for r in records], columns,
                 np.array([r.check for r in records], dtype=bool),
                 [r.skip_reason for r in records], records.__getitem__, const=const,
                 wrt=first.wrt, of=first.of,
                 expect=expect if any(expect) else None)


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
        record.job.upstream is None and record.job.dtype == "float64"


def _elementwise_only(result) -> bool:
    """Did the program use only elementwise ops, and no autograd statements?"""
    if result.value is None or np.size(result.value) != 1:
        return False
    for event in result.events:
        if event.kind == "op":
            if not event.op.elementwise:
                return False
        elif event.kind == "backward":
            if not event.implicit:            # an explicit backward() call
                return False
        else:
            return False
    return True


def _compile(result, timeout: float):
    from ..check import SYMBOLIC_LIMIT, Timeout
    from ..check.compiled import CompiledCheck, NotCacheable
    if sum(t.data.size for t in result.variables.values()) > SYMBOLIC_LIMIT:
        return False
    try:
        compiled = CompiledCheck.for_result(result, timeout)
    except (NotCacheable, Timeout, RecursionError):
        return False
    try:        # a formula numpy cannot evaluate: the full check answers, record by record
        compiled.expected({n: d for n, (d, _) in result.bound.items()})    # try it once
    except Exception:  # noqa: BLE001
        return False
    return compiled


def _at_kinks(result, batch: int) -> np.ndarray:
    """Per record of an array evaluation: does some op sit on a kink or a tie there, or
    leave the reals (as the full check sees them: :func:`undefined_at`)?"""
    from ..autograd.ops.core import undefined_at
    from ..autograd.tensor import Tensor
    hit = np.zeros(batch, dtype=bool)
    for event in of_kind(result.events, OpEvent):
        if event.in_backward:
            continue
        out, op, args, params = event.result, event.op, event.args, event.params
        values = [a.data if isinstance(a, Tensor) else a for a in args]
        if not undefined_at(op, values, out.data, params):
            continue                                 # no record at a kink: the usual case
        for k in range(batch):
            one = [v[k] if np.ndim(v) == 1 and len(v) == batch else v for v in values]
            o = out.data[k] if np.ndim(out.data) == 1 else out.data
            if undefined_at(op, one, np.asarray(o), params):
                hit[k] = True
    return hit


def _vector_compare(grads, expected, names, rtol, atol, limit):
    """Per record: passes for certain (within the formulas' error bound)?, max abs
    error, max ulp error (as the compiled check of one record computes them)."""
    from ..check.bounds import decide
    batch = len(next(iter(expected.values()))[0]) if expected else 0
    clean = np.ones(batch, dtype=bool)
    abs_err = np.zeros(batch)
    ulp_err = np.zeros(batch)
    with np.errstate(all="ignore"):
        for name in names:
            e, bound = expected[name]
            a = grads.get(name)
            if a is None:
                clean &= False
                continue
            a = np.asarray(a, dtype=np.float64)
            ok, _ = decide(a, e, bound, rtol, atol, limit)
            err = np.abs(a - e)
            clean &= ok
            abs_err = np.maximum(abs_err, np.where(ok, err, 0.0))
            ulp_err = np.maximum(ulp_err, np.where(ok, err / np.spacing(np.abs(e)), 0.0))
    return clean, abs_err, ulp_err
