"""Batch input that is malformed, huge or hostile (issue 12): each record costs only
itself, a bad one is that record's error, and the reader always finishes.

The reader is driven directly (``read_records`` over a byte stream) for the fuzzing and
the limits, and through ``gradcli batch`` for what a user sees.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gradcli.cli import reader
from gradcli.cli.app import app
from gradcli.cli.reader import read_records
from gradcli.errors import InputError

runner = CliRunner()


def items(data: bytes, limit: int = reader.RECORD_LIMIT, chunk: int = 8192) -> list:
    return [item for part in read_records(io.BytesIO(data), chunk, limit) for item in part]


def within(seconds: float, function, *args):
    """Run ``function``; fail (instead of hanging the suite) if it takes longer."""
    out, error = [], []

    def target():
        try:
            out.append(function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            error.append(exc)
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    if error:
        raise error[0]
    return out[0]


def record(k) -> dict:
    return {"id": k, "expr": "x*2", "vars": {"x": 1}}


def ids(found) -> list:
    return [getattr(v, "id", None) if not isinstance(v, (dict, InputError)) else
            (v.get("id") if isinstance(v, dict) else None) for _, v in found]


def batch(text, *args):
    r = runner.invoke(app, ["batch", "-q", *args], input=text)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()], r.exit_code


# -- the cases of the issue ------------------------------------------------------------------

def test_a_stray_brace_in_an_array_ends_at_once():
    found = within(10, items, b"[}]")
    assert len(found) == 1 and isinstance(found[0][1], InputError)
    out, code = batch("[}]")
    assert code == 1 and out == [{"id": 1, "ok": False, "error": {
        "kind": "input", "message": "not valid JSON: a stray '}'", "line": 1,
        "column": None}}]


@pytest.mark.parametrize("bad, message", [
    ('{"id": "bad", "expr": "x", "vars": {"x": [1, 2}}', "'[' is not closed"),
    ('{"id": "bad", "expr": "x", "vars": {"x": [1, 2}', "'[' is not closed"),
    ('{"id": "bad", "expr": "x", "vars": {"x": 1}', "'{' is not closed"),
    ('{"id": "bad", "expr": "x", "vars": {"x": [1, 2, "y": 3}}', "'[' is not closed"),
    ('{"id": "bad", "expr": "x", ["vars": {"x": 1}}', "'{' is not closed"),
    ('{"id": "bad", "expr": "x"}]', "after the closing ']'"),
    ('{"id": "bad", "expr": "x"}}', "found '}'"),
    ('{"id": "bad", "vars": {"x": ' + "[" * 1500 + "]" * 1500 + "}}", "nested too deeply"),
    ('{"id": "bad", "vars": {"x": ' + "[" * 1500 + "}}", "'[' is not closed"),
    ('{"id": "bad", "expr": "x\xff", "vars": {"x": 1}}', "not UTF-8"),
])
def test_one_malformed_element_loses_no_other_record(bad, message):
    good = [json.dumps(record(k)) for k in range(3000)]
    data = ("[" + ",".join(good[:1500] + [bad] + good[1500:]) + "]").encode(
        "utf-8", "surrogateescape").replace("x\xff".encode(), b"x\xff")
    found = within(60, items, data)
    values = [v for _, v in found]
    errors = [v for v in values if isinstance(v, InputError)]
    assert errors and all(message in str(e) for e in errors[:1]), errors
    assert [i for i in ids(found) if i not in (None, "bad")] == list(range(3000))
    assert len(found) <= 3000 + 5          # the broken one may fall into a few pieces


def test_an_element_over_the_size_limit_is_dropped_as_it_arrives():
    big = json.dumps({"id": "big", "expr": "sum(x)", "vars": {"x": [1.5] * 300_000}})
    for text in ("[" + json.dumps(record(1)) + ", " + big + ", " + json.dumps(record(2)) + "]",
                 json.dumps(record(1)) + "\n" + big + "\n" + json.dumps(record(2)) + "\n"):
        found = items(text.encode(), limit=1 << 20)
        assert ids(found) == [1, None, 2]
        error = found[1][1]
        assert "larger than 1 MiB, the limit of one batch record" in str(error)
        assert error.line == 2


def test_the_size_limit_is_said_in_the_batch_output(monkeypatch):
    monkeypatch.setattr(reader, "RECORD_LIMIT", 1 << 20)
    big = json.dumps({"expr": "sum(x)", "vars": {"x": [1.5] * 300_000}})
    out, code = batch("[" + big + ", " + json.dumps(record(7)) + "]")
    assert code == 1 and out[1]["grads"] == {"x": 2.0}
    assert out[0]["error"]["message"].startswith("the record is larger than 1 MiB, the limit "
                                                 "of one batch record (element 1)")


def test_a_big_element_is_read_in_linear_time_and_decoded_once(monkeypatch):
    """A 10 MB element arriving in 64 KB reads: its bytes are scanned a bounded number of
    times (counted: the walk's searches cover each byte once)."""
    from gradcli.cli import arrays
    scanned = []
    search = arrays._Walk.walk

    def counting(self, buf, i, eof):
        done, j = search(self, buf, i, eof)
        scanned.append(j - i)
        return done, j
    monkeypatch.setattr(arrays._Walk, "walk", counting)
    big = {"id": "big", "expr": "sum(x)", "vars": {"x": [[1.5, 2.5]] * 1_250_000}}
    text = json.dumps(big).encode()
    found = within(60, items, b"[" + text + b", " + json.dumps(record(1)).encode() + b"]")
    assert ids(found) == ["big", 1]
    assert sum(scanned) <= 2 * len(text)


def test_invalid_utf8_and_a_bom_in_an_array():
    data = b'\xef\xbb\xbf[{"id": "\xff", "expr": "x", "vars": {"x": 1}}, ' + \
        json.dumps(record(2)).encode() + b"]"
    found = items(data)
    assert "not UTF-8" in str(found[0][1]) and ids(found)[1] == 2


# -- streaming, as JSON Lines ---------------------------------------------------------------

class Trickle(io.RawIOBase):
    """A stream that hands out its data a few bytes per read."""

    def __init__(self, data: bytes, step: int):
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def fileno(self):
        raise OSError("no descriptor")

    def read(self, n=-1) -> bytes:
        out = self.data[self.pos:self.pos + self.step]
        self.pos += len(out)
        return out


@pytest.mark.parametrize("step", [1, 3, 7, 64, 4096])
def test_an_array_in_any_pieces_gives_the_same_records(step):
    recs = [json.dumps(record(k)) for k in range(40)]
    recs[5] = '{"id": 5, "expr": "x", "vars": {"x": [1, 2}}'
    recs[17] = '{"id": 17, "expr": "x", "vars": {"x": "\\ud800"}}'
    recs[23] = '{"id": 23, "expr": "x", "vars": {"x": ' + "[" * 700 + "]" * 700 + "}}"
    data = ("  [ " + " ,\n".join(recs) + " ]\n").encode()
    whole = items(data)
    pieces = [item for part in read_records(Trickle(data, step), 8192) for item in part]
    assert [(n, type(v), ids([(n, v)])) for n, v in pieces] == \
        [(n, type(v), ids([(n, v)])) for n, v in whole]
    assert [n for n, _ in whole] == list(range(1, 41))


# -- fuzz: malformed elements among well-formed ones -----------------------------------------

def _corruptions():
    """Ways to break one element's text (a function of the text and a random draw)."""
    def insert(what):
        return lambda text, at: text[:at % (len(text) + 1)] + what + text[at % (len(text) + 1):]

    def delete(chars):
        def damage(text, at):
            spots = [i for i, c in enumerate(text) if c in chars]
            if not spots:
                return text + "}"
            i = spots[at % len(spots)]
            return text[:i] + text[i + 1:]
        return damage
    return {
        "stray }": insert("}"), "stray ]": insert("]"), "stray {": insert("{"),
        "stray [": insert("["), "no }": delete("}"), "no ]": delete("]"),
        "no {": delete("{"), "no [": delete("["),
        "deep": insert("[" * 1200), "deep balanced": insert("[" * 1200 + "]" * 1200),
        "bad utf-8": lambda text, at: text.replace('"expr"', '"e\udcffxpr"'),
        "no quote": delete('"'),
        "junk": insert("@%!"),
    }


CORRUPTIONS = _corruptions()


@st.composite
def arrays_with_damage(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    layout = draw(st.sampled_from(["one line", "a line each", "indented"]))
    allowed = [k for k in CORRUPTIONS if layout != "one line" or k != "no quote"]
    elements, good = [], []
    for k in range(n):
        rec = {"id": f"r{k}", "expr": draw(st.sampled_from(["x*2", "sum(x*y)", "sin(x)"])),
               "vars": {"x": draw(st.floats(-10, 10)), "y": [1, 2]}}
        if layout == "indented":
            text = json.dumps(rec, indent=2)
        else:
            text = json.dumps(rec)
        if draw(st.integers(0, 3)) == 0:
            kind = draw(st.sampled_from(allowed))
            text = CORRUPTIONS[kind](text, draw(st.integers(0, 10_000)))
        else:
            good.append(rec["id"])
        elements.append(text)
    sep = {"one line": ", ", "a line each": ",\n", "indented": ",\n"}[layout]
    data = ("[" + sep.join(elements) + "]").encode("utf-8", "surrogateescape")
    return data, good, n


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays_with_damage(), st.sampled_from([8192, 3]))
def test_fuzz_every_well_formed_element_is_answered_in_order(case, chunk):
    """One answer per well-formed element, in order, with its own id; whatever the
    damage around it; in bounded time and without an exception."""
    data, good, n = case
    start = time.monotonic()
    found = within(30, items, data, reader.RECORD_LIMIT, chunk)
    assert time.monotonic() - start < 30
    seen = [i for i in ids(found) if i is not None]
    answered = [i for i in seen if i in good]
    assert answered == good, (data, found)
    assert [p for p, _ in found] == list(range(1, len(found) + 1))       # positions
    assert len(found) <= 3 * n + 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays_with_damage())
def test_fuzz_batch_output_has_a_line_per_element_found(case):
    data, good, n = case
    r = runner.invoke(app, ["batch", "-q", "--no-check"], input=data)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["id"] for o in out if o["id"] in good and o["ok"]] == good
    # an answer without an id of its own (a position) is an error, unless the input
    # holds a well-formed object without "id" that the reader's recovery may have found
    # as an element ('{' where a key should be ends the damaged record before it)
    if any(o["ok"] for o in out if isinstance(o["id"], int)):
        assert _idless_objects(data), (data, out)


def _idless_objects(data: bytes) -> list:
    """The well-formed JSON objects without an "id" key that start somewhere in data."""
    text = data.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    found = []
    for at in (i for i, c in enumerate(text) if c == "{"):
        try:
            value, _ = decoder.raw_decode(text, at)
        except ValueError:
            continue
        if isinstance(value, dict) and "id" not in value:
            found.append(value)
    return found


# -- bounded reads everywhere ---------------------------------------------------------------

def test_stdin_program_read_is_bounded(tmp_path):
    """`-f -` reads at most the 1 MB program limit (and a little), not all of stdin."""
    from gradcli.cli import common
    stream = io.StringIO("x" * (5 << 20))
    with pytest.raises(InputError, match="longer than 1 MB, the limit of a program"):
        common.read_bounded(stream, "-f -")
    assert stream.tell() == common.PROGRAM_LIMIT + 1            # the rest was never read
    assert common.read_bounded(io.StringIO("x*2"), "-f -") == "x*2"
    r = runner.invoke(app, ["grad", "-f", "-", "--x", "1"], input="x+" * (3 << 20) + "x")
    assert r.exit_code == 2 and "1 MB" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_binding_from_a_fifo_or_device_is_bounded(tmp_path, monkeypatch):
    from gradcli.cli import values
    monkeypatch.setattr(values, "MAX_FILE_BYTES", 1 << 20)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    r = within(30, runner.invoke, app, ["grad", "x*2", "--x", f"@{zero}"])
    assert r.exit_code == 2 and "not a text file" in r.stderr, r.stderr
    noise = tmp_path / "noise.npy"
    noise.symlink_to("/dev/urandom")
    r = within(30, runner.invoke, app, ["grad", "x*2", "--x", f"@{noise}"])
    assert r.exit_code == 2 and "cannot read" in r.stderr, r.stderr
    fifo = tmp_path / "w.json"
    os.mkfifo(fifo)

    def feed():
        try:
            with open(fifo, "wb") as fh:
                fh.write(b"[" + b"1," * (2 << 20) + b"1]")
        except BrokenPipeError:
            pass
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    r = within(30, runner.invoke, app, ["grad", "sum(x)", "--x", f"@{fifo}"])
    assert r.exit_code == 2 and "larger than" in r.stderr, r.stderr
