"""Strict JSON for results: numbers as JSON numbers, non-finite ones as the strings
"NaN", "Infinity" and "-Infinity" (SPEC 4.2), arrays as nested lists."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from ..autograd.summary import ArraySummary, summarised


def number(x: float):
    x = float(x)
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def array(a):
    """A value (ndarray, number or None) as JSON data."""
    if a is None:
        return None
    if not isinstance(a, np.ndarray):
        return number(a)
    if a.ndim == 0:
        return number(a)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        obj = a.astype(object)
        bad = ~np.isfinite(a)
        obj[bad] = [number(v) for v in a[bad]]
        return obj.tolist()
    return a.astype(float, copy=False).tolist()


RAW_OVER = 10_000        # a numeric array past this many elements is encoded lazily
_NON_FINITE = ((np.isnan, b'"NaN"'), (np.isposinf, b'"Infinity"'),
               (np.isneginf, b'"-Infinity"'))


class LargeArray:
    """A large numeric array in a JSON object, encoded by orjson straight from numpy only
    when it is written (:func:`write` streams it; :func:`dumps` and the batch encoder
    splice it in): 3x10^6 floats take ~0.15 s and no Python float objects, against
    ~1.5 s and ~100 MB through ``tolist()`` and msgspec (benchmarks/large.py)."""

    __slots__ = ("array",)

    def __init__(self, a: np.ndarray):
        self.array = a

    def encoded(self) -> bytes:
        import orjson
        a = np.ascontiguousarray(self.array, dtype=np.float64)
        text = orjson.dumps(a, option=orjson.OPT_SERIALIZE_NUMPY)
        if np.isfinite(a).all():
            return text
        # orjson writes every non-finite number as null, which a float array's JSON has
        # nowhere else: one kind of them is put back by replacing it
        present = [word for test, word in _NON_FINITE if test(a).any()]
        if len(present) == 1:
            return text.replace(b"null", present[0])
        return json.dumps(array(a), separators=(",", ":")).encode()


def complete(a):
    """A gradient in full: as :func:`array`, a large numeric array as a
    :class:`LargeArray`."""
    if isinstance(a, np.ndarray) and a.size > RAW_OVER and a.dtype.kind in "fiub":
        return LargeArray(a)
    return array(a)


def dumps(obj) -> str:
    """Compact strict JSON (raises if a non-finite float slipped through)."""
    skeleton, larges = _split_large(obj)
    text = json.dumps(skeleton, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    if not larges:
        return text
    parts = text.split(_MARK)
    return "".join(part + (larges[k].encoded().decode() if k < len(larges) else "")
                   for k, part in enumerate(parts))


def write(obj, stream=None) -> None:
    """One JSON line of ``obj`` on stdout; large arrays are encoded one at a time and
    written straight to the byte buffer (no copy of the whole line in memory)."""
    import sys
    stream = stream or sys.stdout
    buffer = getattr(stream, "buffer", None)
    skeleton, larges = _split_large(obj)
    if buffer is None or not larges:
        stream.write(dumps(obj) + "\n")
        return
    text = json.dumps(skeleton, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    stream.flush()
    for k, part in enumerate(text.split(_MARK)):
        buffer.write(part.encode())
        if k < len(larges):
            buffer.write(larges[k].encoded())
            larges[k] = None
    buffer.write(b"\n")
    buffer.flush()


# the marker of a large array in the skeleton; random, so no text of the user's is it
_MARK_TEXT = "\x00large-" + os.urandom(8).hex()
_MARK = json.dumps(_MARK_TEXT)


def _children(obj):
    if isinstance(obj, dict):
        return obj.values()
    if isinstance(obj, (list, tuple)):
        return obj
    return ()


def _split_large(obj) -> tuple:
    """(a copy of ``obj`` with each LargeArray replaced by a marker string, the
    LargeArrays in the order json.dumps writes their markers); ``obj`` itself when it
    holds none.  Iterative: no recursion over a user-sized structure."""
    if not _has_large(obj):
        return obj, []
    larges: list = []
    root = [obj]
    stack = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        item = holder[key]
        if isinstance(item, LargeArray):
            holder[key] = _MARK_TEXT
            larges.append((holder, key, item))
        elif isinstance(item, dict):
            copy = holder[key] = dict(item)
            stack.extend((copy, k) for k in reversed(list(copy)))
        elif isinstance(item, (list, tuple)):
            copy = holder[key] = list(item)
            stack.extend((copy, k) for k in reversed(range(len(copy))))
    return root[0], [large for _, _, large in larges]


def _has_large(obj) -> bool:
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, LargeArray):
            return True
        stack.extend(c for c in _children(item) if isinstance(c, (dict, list, tuple,
                                                                    LargeArray)))
    return False


def encoder():
    """msgspec's JSON encoder, for batch: 0.9 us a record against 6.6 us for stdlib
    json (measured on 30 000 answers).  Non-finite floats never reach it (see
    :func:`number`); numpy scalars and arrays become plain JSON data."""
    import msgspec

    def hook(obj):
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return array(obj)
        if isinstance(obj, LargeArray):
            return msgspec.Raw(obj.encoded())
        raise TypeError(f"cannot encode {type(obj).__name__}")

    return msgspec.json.Encoder(enc_hook=hook)


def encoded_column(encoder, column) -> list:
    """Each number of a 1-D column as JSON bytes (non-finite ones as strings), all
    encoded in one call when they are finite."""
    column = np.asarray(column, dtype=np.float64)
    if len(column) and np.isfinite(column).all():
        return encoder.encode(column.tolist())[1:-1].split(b",")
    return [encoder.encode(number(v)) for v in column.tolist()]


def encoded_values(encoder, values: list) -> list:
    """Each of a list of JSON values (record ids) as JSON bytes."""
    if values and all(type(v) is int for v in values):
        return encoder.encode(values)[1:-1].split(b",")
    return [encoder.encode(v) for v in values]


class LineTemplate:
    """JSON lines that differ only in some values.  The object is built once with
    ``slot(column)`` in place of each varying value (a column: one encoded value per
    line, see :func:`encoded_column`); line k is then the object's JSON with the k-th
    value of each of its slots' columns put in, by bytes formatting, with no dict per
    line."""

    def __init__(self):
        self.columns: list = []

    def slot(self, column: list) -> str:
        self.columns.append(column)
        return f"\x00slot{len(self.columns) - 1}"

    def lines(self, encoder, obj: dict, rows=None) -> list:
        """The lines of ``obj``, for every row or for the given row numbers."""
        form = encoder.encode(obj).replace(b"%", b"%%")
        found = []
        for k, column in enumerate(self.columns):
            mark = encoder.encode(f"\x00slot{k}")
            at = form.find(mark)
            if at >= 0:
                found.append((at, column))
                form = form.replace(mark, b"%s")
        columns = [column for _, column in sorted(found, key=lambda pair: pair[0])]
        if rows is not None:
            columns = [[c[k] for k in rows] for c in columns]
        return list(map((form + b"\n").__mod__, zip(*columns)))


def row_array(a, summaries: dict | None = None):
    """A graph or leaf row's value or grad: the data, or past SUMMARY_OVER elements
    its summary (SPEC 4.2; the gradients themselves are always complete).
    ``summaries`` (id of an array -> its summary) spares a second pass over an array
    that several rows show (a leaf's value and grad appear in graph and leaf rows)."""
    if summarised(a):
        if summaries is None:
            a = ArraySummary.of(a)
        else:
            found = summaries.get(id(a))
            if found is None:
                found = summaries[id(a)] = (ArraySummary.of(a), a)   # (a: keeps the id)
            a = found[0]
    if not isinstance(a, ArraySummary):
        return array(a)
    return {"shape": list(a.shape), "min": number(a.min), "max": number(a.max),
            "mean": number(a.mean), "summary": True}


def graph_rows(rows, summaries: dict | None = None) -> list:
    return [{"name": r.name, "grad_fn": r.grad_fn, "inputs": r.inputs, "shape": list(r.shape),
             "value": row_array(r.value, summaries), "requires_grad": r.requires_grad,
             "is_leaf": r.is_leaf, "grad": row_array(r.grad, summaries)} for r in rows]


def leaf_rows(rows, summaries: dict | None = None) -> list:
    return [{"name": r.name, "requires_grad": r.requires_grad, "is_leaf": r.is_leaf,
             "grad_fn": r.grad_fn, "grad": row_array(r.grad, summaries), "note": r.note}
            for r in rows]


def result_object(result, *, graph: bool = True, check=None, extra=None) -> dict:
    """The object `grad --format json` prints and `batch` writes per record."""
    obj = {
        "ok": True,
        "value": array(result.value),
        "shape": None if result.shape is None else list(result.shape),
        "grad_fn": result.grad_fn,
        "grads": {k: complete(v) for k, v in result.grads.items()},
        "upstream": array(result.upstream),
        "check": check,
    }
    if extra:
        obj.update(extra)
    if graph:
        summaries: dict = {}
        obj["graph"] = graph_rows(result.graph, summaries)
        obj["leaves"] = leaf_rows(result.leaves, summaries)
    return obj


def error_object(exc, record_id=None) -> dict:
    obj = {"ok": False, "error": exc.to_dict()}
    if record_id is not None:
        obj = {"id": record_id, **obj}
    return obj


def check_object(report: dict) -> dict:
    """The check report with its arrays and numbers as JSON data.  An entry's expected
    and actual values past SUMMARY_OVER elements are summaries, as graph rows are: the
    gradients themselves are complete in ``grads``, and ``failed_at`` says where an
    entry failed."""
    out = {k: v for k, v in report.items() if k not in ("variables", "expect", "values")}
    for key in ("max_abs_err", "max_ulp_err"):
        if out.get(key) is not None:
            out[key] = number(out[key])
    summaries: dict = {}
    for key in ("variables", "expect", "values"):
        if key in report:
            out[key] = {name: {k: (row_array(v, summaries) if k in _ARRAYS else
                                   array(v) if k in _NUMBERS else v)
                               for k, v in entry.items()}
                        for name, entry in report[key].items()}
    return out


_ARRAYS = ("expected", "actual")
_NUMBERS = ("abs_err", "ulp_err")
