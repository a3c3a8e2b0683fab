"""`gradcli batch` (SPEC 4.2, 4.4): JSON records in (JSON Lines or one JSON array), one
strict-JSON line out per record, in order, streaming; bad records become error lines
and the batch goes on.

Run both in-process (typer's CliRunner) and as the installed script in subprocesses
(streaming, `| head`, a terminal on stderr, exit codes of the real process).
"""

from __future__ import annotations

import json
import math
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gradcli.cli.app import app
from gradcli.cli.reader import read_records
from gradcli.cli.schema import load
from gradcli.cli.vectorized import Answerer

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = json.loads((ROOT / "benchmarks" / "batch_programs.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(load("result"))
GRADCLI = [shutil.which("gradcli")] if shutil.which("gradcli") else [sys.executable, "-m",
                                                                      "gradcli"]
SUMMARY = re.compile(r"^records (\d+), ok (\d+), errors (\d+), check failures (\d+), "
                     r"[\d,]+ records/s$")
runner = CliRunner()


# -- helpers ------------------------------------------------------------------------------

def _bare(name):
    raise AssertionError(f"bare {name} in the output: not strict JSON")


def strict(line: str):
    """One output line, parsed as strict JSON (a bare NaN/Infinity fails the test)."""
    return json.loads(line, parse_constant=_bare)


def lines_of(text: str) -> list:
    """JSON Lines split on "\n" only (a JSON string may hold U+2028 or U+0085 as is,
    which str.splitlines would split on)."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def jsonl(*records) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def invoke(args, input=None):
    r = runner.invoke(app, ["batch", *args], input=input)
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    return r


def answers(r) -> list:
    lines = lines_of(r.stdout)
    assert r.stdout == "" or r.stdout.endswith("\n")
    out = [strict(line) for line in lines]
    for obj in out:
        VALIDATOR.validate(obj)
    return out


def batch(text: str, *args, code=None) -> list:
    """Answers of `gradcli batch -q ARGS` for this input (in process)."""
    r = invoke(["-q", *args], input=text)
    if code is not None:
        assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    return answers(r)


def one(record, *args) -> dict:
    [obj] = batch(jsonl(record), *args)
    return obj


def run_raw(args, input: bytes = b"", timeout: float = 120, **kw):
    """The installed gradcli, as a whole process."""
    return subprocess.run(GRADCLI + list(args), input=input, capture_output=True,
                          timeout=timeout, check=False, **kw)


def run(args, input: bytes = b"", timeout: float = 120, **kw):
    proc = run_raw(args, input, timeout, **kw)
    err = proc.stderr.decode(errors="replace")
    assert "Traceback" not in err and "internal error" not in err, err
    return proc


def program_vars(p, rnd):
    return {v: round(rnd.uniform(0.5, 2.0), 6) for v in p["vars"]}


# -- count, order, ids ------------------------------------------------------------------

EXPLICIT_IDS = ["a string", 7, -3, 2.5, 0, True, False, None, [1, "two", None],
                {"nested": {"k": [1, 2]}}, "", "ünï €", 2 ** 60, "NaN", 1e300, -0.5]


def test_mixed_records_keep_count_order_and_ids():
    lines = []
    expected = []                      # (id, ok)
    for k, rid in enumerate(EXPLICIT_IDS):
        if k % 3 == 0:
            lines.append(json.dumps({"id": rid, "expr": "x**2 + 3*x + 1", "vars": {"x": k}}))
            expected.append((rid, True))
        elif k % 3 == 1:
            lines.append(json.dumps({"id": rid, "expr": "x**2 +)", "vars": {"x": k}}))
            expected.append((rid, False))
        else:                           # an input error still echoes the id it can read
            lines.append(json.dumps({"id": rid, "expr": "x", "vars": {"x": 1}, "bogus": 1}))
            expected.append((rid, False))
    out = batch("\n".join(lines) + "\n", code=1)
    assert [(o["id"], o["ok"]) for o in out] == expected
    for (rid, _), o in zip(expected, out):
        assert type(o["id"]) is type(rid)              # 0 stays 0, False stays False


def test_default_ids_are_line_numbers_and_blank_lines_are_not_records():
    text = ("\n"                                                       # line 1: blank
            '{"expr": "x*2", "vars": {"x": 1}}\n'                     # line 2
            "   \t \n"                                                 # line 3: blank
            "not json at all\n"                                        # line 4
            '{"id": "mine", "expr": "x*3", "vars": {"x": 1}}\n'       # line 5
            "\r\n"                                                     # line 6: blank (CRLF)
            "[1, 2]\n"                                                 # line 7: not an object
            '{"expr": "x*4", "vars": {"x": 1}}\r\n'                   # line 8, CRLF
            "\n\n"                                                     # lines 9, 10
            '{"vars": {"x": 1}}')                                      # line 11, no newline
    out = batch(text, code=1)
    assert [o["id"] for o in out] == [2, 4, "mine", 7, 8, 11]
    assert [o["ok"] for o in out] == [True, False, True, False, True, False]
    assert out[0]["grads"] == {"x": 2.0} and out[4]["grads"] == {"x": 4.0}
    assert out[1]["error"]["line"] == 4 and out[1]["error"]["kind"] == "input"


def test_empty_input_gives_no_lines_and_exit_0():
    for text in ("", "\n\n  \n", "[]", "  [ \n ]  \n"):
        r = invoke([], input=text)
        assert r.stdout == "" and r.exit_code == 0, (text, r.stdout)
        assert SUMMARY.match(r.stderr.strip().splitlines()[-1]).group(1) == "0"


def test_many_records_across_chunks_and_program_cache_evictions():
    # more records than a chunk (4096) and more programs than the cache (256)
    records = [{"expr": f"x*{k % 300} + y", "vars": {"x": k, "y": 1}} for k in range(9000)]
    for k in range(0, 9000, 997):
        records[k] = {"expr": "x +* 1", "vars": {"x": 1}}
    out = batch(jsonl(*records), "--no-check", code=1)
    assert [o["id"] for o in out] == list(range(1, 9001))
    for k, o in enumerate(out):
        if k % 997 == 0:
            assert o["error"]["kind"] == "parse"
        else:
            assert o["value"] == k * (k % 300) + 1 and o["grads"] == {"x": k % 300, "y": 1}


# -- errors ---------------------------------------------------------------------------------

R = {"expr": "x*y", "vars": {"x": 2, "y": 3}}
INPUT_ERRORS = [
    # (line of input, message fragment)
    ('{"expr": "x", "vars": {"x": 1},}', "not valid JSON"),
    ("{'expr': 'x'}", "not valid JSON"),
    ('{"expr": "x", "vars": {"x": NaN}}', "not valid JSON"),
    ('{"expr": "x"', "not valid JSON"),
    ("[1, 2, 3]", "must be a JSON object, got list"),
    ("42", "must be a JSON object, got int"),
    ('"x**2"', "must be a JSON object, got str"),
    ("null", "must be a JSON object"),
    ("true", "must be a JSON object"),
    (json.dumps({"vars": {"x": 1}}), "missing 'expr'"),
    (json.dumps({"expr": None, "vars": {"x": 1}}), "missing 'expr'"),
    (json.dumps({"expr": 5}), "'expr' must be a string"),
    (json.dumps({"expr": ["x"]}), "'expr' must be a string"),
    (json.dumps({**R, "bogus": 1}), "unknown field 'bogus'"),
    (json.dumps({**R, "Expr": "x"}), "unknown field 'Expr'"),
    (json.dumps({"expr": "x", "vars": [1]}), "'vars' must be an object"),
    (json.dumps({"expr": "x", "vars": "x=1"}), "'vars' must be an object"),
    (json.dumps({"expr": "x", "vars": {"x": True}}), "vars.x"),
    (json.dumps({"expr": "x", "vars": {"x": None}}), "vars.x"),
    (json.dumps({"expr": "x", "vars": {"x": "2"}}), "vars.x"),
    (json.dumps({"expr": "x", "vars": {"x": {"a": 1}}}), "vars.x"),
    (json.dumps({"expr": "x", "vars": {"x": [1, "a"]}}), "vars.x"),
    (json.dumps({"expr": "x", "vars": {"x": [1, [True]]}}), "vars.x"),
    (json.dumps({**R, "const": [1]}), "'const' must be an object"),
    (json.dumps({"expr": "x*c", "vars": {"x": 1}, "const": {"c": "no"}}), "const.c"),
    (json.dumps({**R, "wrt": "x"}), "'wrt' must be a list"),
    (json.dumps({**R, "wrt": ["x", 1]}), "'wrt' must be a list"),
    (json.dumps({**R, "of": 3}), "'of' must be a variable name"),
    (json.dumps({**R, "of": ["x"]}), "'of' must be a variable name"),
    (json.dumps({**R, "upstream": "twos"}), "upstream"),
    (json.dumps({**R, "upstream": True}), "upstream"),
    (json.dumps({**R, "upstream": {"x": 1}}), "upstream"),
    (json.dumps({**R, "expect": [7]}), "'expect' must be an object"),
    (json.dumps({**R, "expect": {"x": "3"}}), "expect.x"),
    (json.dumps({**R, "check": "yes"}), "'check' must be true or false"),
    (json.dumps({**R, "check": 1}), "'check' must be true or false"),
    (json.dumps({**R, "graph": None}), "'graph' must be true or false"),
    (json.dumps({**R, "mode": "hess"}), "'mode' must be one of grad, hessian, jacobian"),
    (json.dumps({**R, "mode": None}), "'mode' must be one of"),
    (json.dumps({**R, "mode": "hessian", "expect": {"x": 3}}), "'expect' applies to"),
    (json.dumps({**R, "mode": "jacobian", "upstream": "ones"}), "'upstream' applies to"),
    (json.dumps({**R, "mode": "hessian", "graph": True}), "'graph' applies to"),
    (json.dumps({**R, "mode": "hessian", "upstream": 0}), "'upstream' applies to"),
]


@pytest.mark.parametrize("line,fragment", INPUT_ERRORS)
def test_input_errors(line, fragment):
    text = json.dumps(R) + "\n" + line + "\n" + json.dumps(R) + "\n"   # bad: line 2
    out = batch(text, code=1)
    assert len(out) == 3 and out[0]["ok"] is out[2]["ok"] is True
    assert out[0]["id"] == 1 and out[2]["id"] == 3
    bad = out[1]
    assert bad["ok"] is False and bad["error"]["kind"] == "input", bad
    assert fragment in bad["error"]["message"], bad
    not_json = object()
    try:
        decoded = json.loads(line, parse_constant=_bare)
    except (ValueError, AssertionError):
        decoded = not_json
    if isinstance(decoded, dict) and "id" in decoded:
        assert bad["id"] == decoded["id"]
    else:
        assert bad["id"] == 2
    if decoded is not_json:                               # not JSON: where in the input
        assert bad["error"]["line"] == 2
        assert bad["error"]["column"] is None or 1 <= bad["error"]["column"] <= len(line) + 1


def test_not_json_points_at_the_line_and_column():
    text = json.dumps(R) + "\n" + '   {"expr": "é",, "vars": {}}\n'
    out = batch(text, code=1)
    err = out[1]["error"]
    # the second comma: column 17 of the line as written (leading blanks counted, and
    # the two bytes of "é" as the one character they are)
    assert (err["kind"], err["line"], err["column"]) == ("input", 2, 17)
    assert err["message"].startswith("not valid JSON")


def test_invalid_utf8_is_one_record_error():
    data = (json.dumps(R) + "\n").encode() + b'{"id": "\xff\xfe", "expr": "x"}\n' + \
        (json.dumps(R) + "\n").encode()
    proc = run(["batch", "-q"], data)
    out = [strict(line) for line in lines_of(proc.stdout.decode())]
    assert [o["ok"] for o in out] == [True, False, True] and proc.returncode == 1
    assert out[1]["id"] == 2 and "UTF-8" in out[1]["error"]["message"]


PROGRAM_ERRORS = [
    # (record, kind, message fragment, line, column)
    ({"expr": "x**2 +)", "vars": {"x": 2}}, "parse", "found ')'", 1, 7),
    ({"expr": "y = x*2\nz = (y +", "vars": {"x": 2}}, "parse", "", 2, None),
    ({"expr": "tahn(x)", "vars": {"x": 1}}, "parse", "did you mean 'tanh'", 1, 1),
    ({"expr": "x + y", "vars": {"x": 1}}, "bind", "unbound variable 'y'", 1, 5),
    ({"expr": "x", "vars": {"__x": 1, "x": 1}}, "bind", "__x", None, None),
    ({"expr": "x", "vars": {"x": [[1, 2], [3]]}}, "bind", "rectangular", None, None),
    ({"expr": "x*c", "vars": {"x": 1}, "const": {"c": [[1], [2, 3]]}}, "bind",
     "rectangular", None, None),
    ({"expr": "x", "vars": {"x": 1}, "wrt": ["q"]}, "bind", "'q'", None, None),
    ({"expr": "x", "vars": {"x": 1}, "of": "q"}, "bind", "'q'", None, None),
    ({"expr": "x", "vars": {"x": 1}, "const": {"x": 2}}, "bind", "twice", None, None),
    ({"expr": "x + y", "vars": {"x": [1, 2], "y": [1, 2, 3]}}, "shape", "(2)", 1, 3),
    ({"expr": "x @ y", "vars": {"x": [1, 2], "y": [[1, 2, 3]]}}, "shape", "", 1, None),
    ({"expr": "x*x", "vars": {"x": [1, 2]}, "upstream": [1, 2, 3]}, "shape", "shape", None,
     None),
    ({"expr": "x**2", "vars": {"x": [1, 2, 3]}}, "autograd",
     "grad can be implicitly created only for scalar outputs", 1, None),
    ({"expr": "y = x**3; backward(y); backward(y)", "vars": {"x": 2}}, "autograd",
     "backward through the graph a second time", 1, None),
    ({"expr": "b = exp(a); b += 1; backward(sum(b))", "vars": {"a": [1, 2]}}, "autograd",
     "inplace", 1, None),
    ({"expr": "2 + 3", "vars": {}}, "autograd", "does not require grad", 1, None),
    ({"expr": "(" * 250 + "x" + ")" * 250, "vars": {"x": 1}}, "limit", "nested", 1, None),
    ({"expr": "ones(20000, 20000)*x", "vars": {"x": 1}}, "limit", "limit", 1, None),
    ({"expr": "x" + "+x" * 600_000, "vars": {"x": 1}}, "limit", "", None, None),
    ({"expr": "x**2", "vars": {"x": [1, 2, 3]}, "mode": "hessian"}, "autograd", "scalar",
     None, None),
]


@pytest.mark.parametrize("record,kind,fragment,line,column", PROGRAM_ERRORS,
                         ids=[f"{e[1]}-{i}" for i, e in enumerate(PROGRAM_ERRORS)])
def test_program_errors(record, kind, fragment, line, column):
    out = batch(jsonl({"id": "bad", **record}, {"id": "good", **R}), code=1)
    assert [o["id"] for o in out] == ["bad", "good"] and out[1]["ok"] is True
    err = out[0]["error"]
    assert out[0]["ok"] is False and err["kind"] == kind, err
    assert fragment in err["message"], err
    assert err["message"].strip() and "Traceback" not in err["message"]
    if line is not None:
        assert err["line"] == line, err
    if column is not None:
        assert err["column"] == column, err


# -- array input -------------------------------------------------------------------------------

def test_array_input_ids_are_positions():
    records = [{"expr": "x*2", "vars": {"x": 1}}, {"id": "named", "expr": "x*3", "vars": {"x": 1}},
               5, {"expr": "x +)", "vars": {"x": 1}},
               {"expr": "sum(w*w)", "vars": {"w": [[1, 2], [3, 4]]}},
               {"expr": "x*y", "vars": {"x": [[[1.5]], [[2]]], "y": 2}, "upstream": "ones"}]
    out = batch(json.dumps(records, indent=2), code=1)
    assert [o["id"] for o in out] == [1, "named", 3, 4, 5, 6]
    assert [o["ok"] for o in out] == [True, True, False, False, True, True]
    assert out[4]["grads"] == {"w": [[2.0, 4.0], [6.0, 8.0]]}
    assert out[5]["grads"]["x"] == [[[2.0]], [[2.0]]] and out[5]["shape"] == [2, 1, 1]
    # the same records on one line, after blank lines, give the same answers
    assert batch("\n \n" + json.dumps(records)) == out


GOOD = '{"expr": "x*5", "vars": {"x": 1}}'


@pytest.mark.parametrize("bad, fragment", [
    ('{"expr": "x", "vars": {"x": NaN}}', "NaN is not strict JSON"),
    ('tru', "not valid JSON"),                  # msgspec's words, as in JSON Lines
    ('{"expr": "x", "vars": {"x": 1e400}}', "Number out of range"),       # as JSON Lines
    ('{"expr": "x", "vars": {"x": "a,]}"}, "q": [1, {"z": "]"}], "w": [1 2]}', "not valid JSON"),
])
def test_records_after_a_malformed_array_element_are_answered(bad, fragment):
    """One bad element is that record's error; the records after it are answered."""
    out = batch(f"[{GOOD}, {bad}, {GOOD},\n{GOOD}]", code=1)
    assert [o["ok"] for o in out] == [True, False, True, True]
    assert [o["id"] for o in out] == [1, 2, 3, 4]
    assert fragment in out[1]["error"]["message"]
    assert all(o["grads"] == {"x": 5.0} for o in out if o["ok"])


def test_a_missing_comma_in_an_array_loses_only_the_record_after_it():
    out = batch(f"[{GOOD}, {GOOD} {GOOD}, {GOOD}]", code=1)
    assert [o["ok"] for o in out] == [True, True, False, True]
    assert "expected ','" in out[2]["error"]["message"] and out[3]["id"] == 4


@pytest.mark.parametrize("text,ok,fragment", [
    ('[{"expr": "x", "vars": {"x": 1}}', [True, False], "not closed"),
    ('[{"expr": "x", "vars": {"x": 1}} {"expr": "x"}]', [True, False], "expected ','"),
    ('[{"expr": "x", "vars": {"x": 1}}, tru]', [True, False], "not valid JSON"),
    ('[{"expr": "x", "vars": {"x": 1}},]', [True, False], "not valid JSON"),
    ('[{"expr": "x", "vars": {"x": NaN}}]', [False], "not valid JSON"),
    ('[{"expr": "x", "vars": {"x": -Infinity}}]', [False], "not valid JSON"),
    # more after the closing ']': an error, then read on as if that ']' were stray (a
    # stray ']' early in an array must not lose every record after it)
    ('[{"expr": "x", "vars": {"x": 1}}]\n{"expr": "x", "vars": {"x": 1}}',
     [True, False, True], "after the closing ']'"),
    ('[{"expr": "x", "vars": {"x": 1}}] [{"expr": "x*2"}]', [True, False, False],
     "after the closing"),
    ('[{"expr": "x", "vars": {"x": 1}}], {"expr": "x", "vars": {"x": 1}}]', [True, False, True],
     "after the closing"),
])
def test_malformed_array(text, ok, fragment):
    out = batch(text, code=1)
    assert [o["ok"] for o in out] == ok
    assert [o["id"] for o in out] == list(range(1, len(ok) + 1))
    first = next(o for o in out if not o["ok"])
    assert fragment in first["error"]["message"] and first["error"]["kind"] == "input"


class Pipe:
    """A gradcli process fed through a pipe, with line reads that time out."""

    def __init__(self, args):
        self.proc = subprocess.Popen(GRADCLI + list(args), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buf = b""

    def write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def readline(self, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise AssertionError(f"no answer within {timeout} s (got {self.buf!r})")
            data = os.read(fd, 65536)
            if not data:
                raise AssertionError(f"stdout closed early: {self.stderr()}")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def close(self, timeout: float = 60) -> int:
        self.proc.stdin.close()
        rest = self.proc.stdout.read()
        self.buf += rest
        return self.proc.wait(timeout)

    def stderr(self) -> str:
        return self.proc.stderr.read().decode(errors="replace") if self.proc.poll() \
            is not None else ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_array_split_across_reads():
    """An array arriving in pieces cut inside numbers, strings, keys and between records."""
    records = [{"id": k, "expr": "x*y + 1", "vars": {"x": 1234.5 + k, "y": [[1, 2], [3, k]]},
                "upstream": "ones"} for k in range(5)] + [{"expr": "x**3", "vars": {"x": 12}}]
    text = ("  [" + ",\n".join(json.dumps(r) for r in records) + "]\n").encode()
    pipe = Pipe(["batch", "-q"])
    try:
        for k in range(0, len(text), 7):       # 7-byte writes, with pauses between
            pipe.write(text[k:k + 7])
            time.sleep(0.002)
        code = pipe.close()
    finally:
        pipe.kill()
    out = [strict(line) for line in lines_of(pipe.buf.decode())]
    assert code == 0 and [o["id"] for o in out] == [0, 1, 2, 3, 4, 6]
    for k in range(5):
        assert out[k]["grads"] == {"x": 6.0 + k, "y": [[1234.5 + k] * 2] * 2}
    assert out[5]["grads"] == {"x": 432.0}          # 12, not 1 or 2: a number cut in two


def test_array_number_cut_between_reads():
    """`[..., 12` then `34, ...]`: one element 1234 (an error: not an object), not 12."""
    pipe = Pipe(["batch", "-q"])
    try:
        pipe.write(b'[{"expr": "x*2", "vars": {"x": 1}}, 12')
        assert strict(pipe.readline())["grads"] == {"x": 2.0}   # the reader is at the cut
        time.sleep(0.2)
        pipe.write(b'34, {"expr": "x*3", "vars": {"x": 1}}]')
        code = pipe.close()
    finally:
        pipe.kill()
    out = [strict(line) for line in lines_of(pipe.buf.decode())]
    assert [o["id"] for o in out] == [2, 3] and code == 1
    assert "got int" in out[0]["error"]["message"] and out[1]["grads"] == {"x": 3.0}


# -- streaming --------------------------------------------------------------------------------

def test_answers_flow_before_input_ends_jsonl():
    """Write a record, wait for its answer, only then write the next: if gradcli read
    ahead before answering, this would time out instead."""
    pipe = Pipe(["batch"])
    rnd = __import__("random").Random(3)
    try:
        for k in range(12):
            p = PROGRAMS[k % 4]
            record = {"id": k, "expr": p["expr"], "vars": program_vars(p, rnd)}
            if k == 5:
                record = {"id": k, "expr": "x +)"}
            pipe.write(json.dumps(record).encode() + b"\n")
            answer = strict(pipe.readline())
            assert answer["id"] == k and answer["ok"] is (k != 5)
        pipe.write(b"\n\n")
        assert pipe.close() == 1 and pipe.buf == b""
        assert SUMMARY.match(pipe.stderr().strip().splitlines()[-1])
    finally:
        pipe.kill()


def test_answers_flow_before_input_ends_array():
    pipe = Pipe(["batch", "-q"])
    try:
        pipe.write(b"[")
        for k in range(4):
            sep = b"," if k else b""
            pipe.write(sep + json.dumps({"id": k, "expr": "x*x", "vars": {"x": k}}).encode())
            assert strict(pipe.readline())["grads"] == {"x": 2.0 * k}
        pipe.write(b"]")
        assert pipe.close() == 0 and pipe.buf == b""
    finally:
        pipe.kill()


def test_answers_flow_while_the_next_line_is_half_written():
    pipe = Pipe(["batch", "-q"])
    try:
        pipe.write(b'{"id": 1, "expr": "x*x", "vars": {"x": 3}}\n')
        time.sleep(0.05)                      # (so the next write is a read of its own)
        pipe.write(b'{"id": 2, "expr": "x*')
        assert strict(pipe.readline())["grads"] == {"x": 6.0}
        pipe.write(b'4", "vars": {"x": 1}}\n')
        assert strict(pipe.readline())["grads"] == {"x": 4.0}
        assert pipe.close() == 0
    finally:
        pipe.kill()


def test_answers_flow_while_the_next_array_record_is_half_written():
    """`[rec1, {"expr": "x*` then a pause: rec1 is answered before the rest arrives."""
    pipe = Pipe(["batch", "-q"])
    try:
        pipe.write(b'[{"id": 1, "expr": "x*x", "vars": {"x": 3}}, {"id": 2, "expr": "x*')
        assert strict(pipe.readline())["grads"] == {"x": 6.0}
        pipe.write(b'4", "vars": {"x": 1}},\n {"id": 3, "expr": "x", "vars": {"x": 1}}')
        assert strict(pipe.readline())["grads"] == {"x": 4.0}
        pipe.write(b"]")
        assert pipe.close() == 0 and strict(pipe.buf.decode())["id"] == 3
    finally:
        pipe.kill()


# -- strict JSON, non-finite numbers ----------------------------------------------------------

def test_non_finite_numbers_in_and_out():
    records = [
        {"id": 1, "expr": "x*y", "vars": {"x": "NaN", "y": "Infinity"}, "check": False},
        {"id": 2, "expr": "x*y", "vars": {"x": [1, "-Infinity", "NaN"], "y": 2},
         "upstream": [1, "Infinity", 1]},
        {"id": 3, "expr": "log(x)", "vars": {"x": 0}},
        {"id": 4, "expr": "sqrt(x)", "vars": {"x": 0}},
        {"id": 5, "expr": "x*2", "vars": {"x": "-Infinity"}, "expect": {"x": 2}},
    ]
    r = invoke([], input=jsonl(*records))
    assert "NaN" in r.stdout and "Infinity" in r.stdout
    out = answers(r)                                     # strict(): no bare constants
    assert out[0]["value"] == "NaN" and out[0]["grads"] == {"x": "Infinity", "y": "NaN"}
    assert out[1]["value"] == [2.0, "-Infinity", "NaN"]
    assert out[1]["upstream"] == [1.0, "Infinity", 1.0]
    assert out[1]["grads"]["x"] == [2.0, "Infinity", 2.0]
    assert out[2]["value"] == "-Infinity" and out[2]["grads"] == {"x": "Infinity"}
    assert out[3]["grads"] == {"x": "Infinity"} and out[3]["check"]["status"] == "skipped"
    assert out[4]["value"] == "-Infinity" and out[4]["grads"] == {"x": 2.0}
    # read back the same: the answers' non-finite strings are valid inputs again
    again = one({"expr": "x*y", "vars": {"x": out[0]["grads"]["x"], "y": out[2]["value"]},
                 "check": False})
    assert again["value"] == "-Infinity" and again["grads"] == {"x": "-Infinity",
                                                                "y": "Infinity"}


def test_every_line_is_schema_valid():
    text = "\n".join(p.read_text() for p in sorted((ROOT / "examples").glob("*.jsonl")))
    extra = [{"expr": "x*y", "vars": {"x": 1, "y": 2}, "graph": True},
             {"expr": "stack([x*y, x])", "vars": {"x": 1, "y": 2}, "mode": "jacobian"},
             {"expr": "x*y", "vars": {"x": 1, "y": 2}, "mode": "hessian", "check": False},
             {"expr": "relu(x)", "vars": {"x": 0}},
             {"expr": "x", "vars": {"x": "NaN"}}, "garbage", "[]", "{}"]
    r = invoke([], input=text + "\n" + jsonl(*extra))
    out = answers(r)                         # validates every line against the schema
    assert len(out) == sum(1 for line in lines_of(text) if line.strip()) + len(extra)


# -- exit codes and the summary ----------------------------------------------------------------

def summary(stderr: str):
    m = SUMMARY.match(stderr.strip().splitlines()[-1])
    assert m, stderr
    return tuple(int(g) for g in m.groups())


def test_exit_0_and_summary_when_all_ok():
    r = invoke([], input=jsonl(R, {**R, "expect": {"x": 3, "y": 2}},
                              {"expr": "relu(x)", "vars": {"x": 0}}))
    assert r.exit_code == 0
    assert summary(r.stderr) == (3, 3, 0, 0)


def test_exit_1_on_error_failed_expect_and_summary():
    r = invoke([], input=jsonl(R, {**R, "expect": {"x": 4}}, {"expr": "x +)"}, "nope"))
    assert r.exit_code == 1
    assert summary(r.stderr) == (4, 2, 2, 1)
    r = invoke([], input=jsonl(R, {**R, "expect": {"x": 4}}))
    assert r.exit_code == 1 and summary(r.stderr) == (2, 2, 0, 1)
    r = invoke([], input=jsonl(R, {"expr": "x +)"}))
    assert r.exit_code == 1 and summary(r.stderr) == (2, 1, 1, 0)


def test_exit_1_on_failed_check():
    # a zero tolerance makes a last-ulp difference between autograd and SymPy a failure;
    # find one such point among a few (deterministic)
    records = [{"id": k, "expr": "tanh(a*x)**2 + x/a", "vars": {"a": 0.1 + k / 7, "x": 1 / 3}}
               for k in range(40)]
    r = invoke(["--rtol", "0", "--atol", "0"], input=jsonl(*records))
    out = answers(r)
    failed = [o for o in out if o["check"]["status"] == "failed"]
    assert failed, "no check failed with zero tolerance"
    assert all(o["check"]["failed"] for o in failed)
    assert r.exit_code == 1 and summary(r.stderr)[3] == len(failed)


def test_quiet_has_no_summary():
    r = invoke(["-q"], input=jsonl(R))
    assert r.exit_code == 0 and r.stderr == ""


def test_exit_2_on_bad_usage(tmp_path):
    for args in (["batch", str(tmp_path / "missing.jsonl")], ["batch", str(tmp_path)],
                 ["batch", "--rtol", "-1"], ["batch", "--atol", "nan"],
                 ["batch", "--bogus-option"], ["batch", "a.jsonl", "b.jsonl"]):
        proc = run(args, b"")
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == b""
        assert proc.stderr.strip() and len(proc.stderr.decode().strip().splitlines()) <= 12


def test_unreadable_file_message(tmp_path):
    r = invoke([str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "cannot read" in r.stderr and "missing.jsonl" in r.stderr


def test_file_argument_and_dash(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(jsonl(R, {"expr": "x +)"}))
    by_file = invoke([str(path), "-q"])
    by_stdin = invoke(["-", "-q"], input=path.read_text())
    assert by_file.stdout == by_stdin.stdout and by_file.exit_code == by_stdin.exit_code == 1
    proc = run(["batch", str(path), "-q"])
    assert proc.stdout.decode() == by_file.stdout and proc.returncode == 1


def test_closed_stdout_ends_quietly(tmp_path):
    path = tmp_path / "big.jsonl"
    rnd = __import__("random").Random(5)
    with path.open("w") as fh:
        for k in range(30000):
            p = PROGRAMS[k % len(PROGRAMS)]
            fh.write(json.dumps({"id": k, "expr": p["expr"], "vars": program_vars(p, rnd)})
                     + "\n")
    cmd = " ".join(map(str, GRADCLI))
    for extra in ("", "--no-check", "--one-by-one", "-q"):
        script = (f'{cmd} batch {path} {extra} 2>"{tmp_path}/err" | head -1; '
                  'echo "status=${PIPESTATUS[0]}"')
        proc = subprocess.run(["bash", "-c", script], capture_output=True, timeout=120,
                              check=False)
        out = proc.stdout.decode().splitlines()
        assert strict(out[0])["id"] == 0 and out[0].startswith('{"id":0,"ok":true')
        status = int(out[1].split("=")[1])
        err = (tmp_path / "err").read_text()
        assert status in (0, 1, 120, 141), (status, err)
        assert "Traceback" not in err and "Error" not in err and "Exception" not in err, err
        assert "internal error" not in err


def test_progress_on_a_terminal_stderr(tmp_path):
    """stderr a terminal: a rich progress display, the answers on stdout unchanged."""
    path = tmp_path / "in.jsonl"
    path.write_text(jsonl(*[{**R, "id": k} for k in range(3000)]))
    import threading
    master, slave = pty.openpty()
    seen = []

    def drain():                     # read the terminal as it is written (never let it fill)
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:          # EIO: the last writer closed it
                return
            if not data:
                return
            seen.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen(GRADCLI + ["batch", str(path)], stdout=subprocess.PIPE,
                                stderr=slave, stdin=subprocess.DEVNULL,
                                env={**os.environ, "TERM": "xterm", "COLUMNS": "100"})
        os.close(slave)
        slave = None
        stdout = proc.stdout.read()
        code = proc.wait(timeout=120)
        reader.join(timeout=10)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    text = b"".join(seen).decode(errors="replace")
    assert code == 0 and "Traceback" not in text
    assert [strict(line)["id"] for line in lines_of(stdout.decode())] == list(range(3000))
    assert "\x1b[" in text, "no progress display (terminal control codes) on stderr"
    assert "records 3000, ok 3000, errors 0, check failures 0" in text


# -- options and record fields ------------------------------------------------------------------

def test_no_check_and_per_record_check():
    recs = [R, {**R, "check": False}, {**R, "check": True}]
    on = batch(jsonl(*recs))
    off = batch(jsonl(*recs), "--no-check")
    assert [o["check"]["status"] for o in on] == ["passed", "skipped", "passed"]
    assert [o["check"]["status"] for o in off] == ["skipped", "skipped", "passed"]
    assert off[0]["check"]["reason"] == "--no-check"
    assert on[1]["check"]["reason"] == off[1]["check"]["reason"] == '"check": false'
    assert on[1]["check"]["method"] == "none" and on[1]["check"]["max_abs_err"] is None
    for o in on + off:
        assert o["grads"] == {"x": 3.0, "y": 2.0}
        assert "variables" not in o["check"] and "values" not in o["check"]


def test_expect_pass_and_fail():
    out = batch(jsonl({**R, "expect": {"x": 3, "y": 2.0000000001}},
                      {**R, "expect": {"x": 3.5}},
                      {**R, "expect": {"x": 3}, "check": False},
                      {**R, "expect": {"y": 7}, "check": False},
                      {**R, "expect": {"z": 1}},
                      {"expr": "x*y", "vars": {"x": [1, 2], "y": 3}, "upstream": "ones",
                       "expect": {"x": [3, 4], "y": 3}}), code=1)
    # a failed expectation fails the record's check (status "failed", not "passed" with
    # the name in "failed" only); an expectation naming no gradient is the record's error
    assert out[4] == {"id": 5, "ok": False, "error": {
        "kind": "input", "message": "expect z: no gradient named 'z' (gradients: x, y)",
        "line": None, "column": None}}
    c = [o.get("check") for o in out]
    assert c[0]["expect"]["x"]["status"] == c[0]["expect"]["y"]["status"] == "passed"
    assert c[0]["failed"] == [] and c[0]["status"] == "passed"
    assert c[1]["expect"]["x"]["status"] == "failed" and c[1]["failed"] == ["x"]
    assert c[1]["status"] == "failed" and c[1]["reason"] == "expectation failed: x"
    assert c[1]["expect"]["x"]["expected"] == 3.5 and c[1]["expect"]["x"]["actual"] == 3.0
    assert c[2]["expect"]["x"]["status"] == "passed" and c[2]["status"] == "skipped"
    assert c[3]["failed"] == ["y"] and c[3]["status"] == "failed"
    assert c[5]["expect"]["x"]["status"] == "failed" and c[5]["failed"] == ["x"]
    assert c[5]["status"] == "failed"
    assert c[5]["expect"]["y"]["status"] == "passed"          # d(sum(x*y))/dy = 1 + 2
    r = invoke([], input=jsonl({**R, "expect": {"x": 3}}))
    assert r.exit_code == 0


def test_expect_tensor_passes():
    out = one({"expr": "x*y", "vars": {"x": [1, 2], "y": 3}, "upstream": "ones",
               "expect": {"x": [3, 3], "y": 3}})
    assert out["check"]["expect"]["x"]["status"] == "passed"
    assert out["check"]["expect"]["y"]["status"] == "passed" and out["check"]["failed"] == []


def test_hessian_and_jacobian_modes():
    h, j, j2 = batch(jsonl({"id": "h", "expr": "x**2*y + sin(x*y)", "vars": {"x": 1, "y": 2},
                            "mode": "hessian"},
                           {"id": "j", "expr": "stack([x*y, x + y])", "vars": {"x": 2, "y": 3},
                            "mode": "jacobian"},
                           {"expr": "w*w", "vars": {"w": [1, 2]}, "mode": "jacobian",
                            "check": False}))
    assert h["id"] == "h" and h["variables"] == ["x", "y"] and h["check"]["status"] == "passed"
    s, c = math.sin(2), math.cos(2)
    want = [[2 * 2 - 4 * s, 2 * 1 + c - 2 * s], [2 * 1 + c - 2 * s, -s]]
    for row, wrow in zip(h["hessian"], want):
        assert row == pytest.approx(wrow, abs=1e-12)
    assert j["jacobian"] == [[3.0, 2.0], [1.0, 1.0]] and j["outputs"] == ["out[0]", "out[1]"]
    assert j["check"]["status"] == "passed"
    assert j2["jacobian"] == [[2.0, 0.0], [0.0, 4.0]] and j2["check"]["status"] == "skipped"
    for o in (h, j, j2):
        assert "grads" not in o and "variables" not in o["check"]


def test_graph_only_when_asked():
    with_graph, without = batch(jsonl({**R, "graph": True}, {**R, "graph": False}))
    assert "graph" not in without and "leaves" not in without
    assert [row["name"] for row in with_graph["leaves"]] == ["x", "y"]
    assert with_graph["graph"][-1]["grad_fn"] == "MulBackward0"
    assert with_graph["graph"][0] == {"name": "x", "grad_fn": None, "inputs": [], "shape": [],
                                      "value": 2.0, "requires_grad": True, "is_leaf": True,
                                      "grad": 3.0}
    assert {k: v for k, v in with_graph.items() if k not in ("graph", "leaves", "id")} == \
        {k: v for k, v in without.items() if k != "id"}


def test_const_wrt_of_upstream():
    out = batch(jsonl(
        {"id": "const", "expr": "x*y", "vars": {"x": 2}, "const": {"y": 3}},
        {"id": "wrt", "expr": "x*y", "vars": {"x": 2, "y": 3}, "wrt": ["y"]},
        {"id": "of", "expr": "a = x*y; b = a*2", "vars": {"x": 2, "y": 3}, "of": "a"},
        {"id": "ones", "expr": "a*a", "vars": {"a": [[1, 2, 3], [4, 5, 6]]},
         "upstream": "ones"},
        {"id": "array", "expr": "x**2", "vars": {"x": [1, 2, 3]}, "upstream": [1, 0, -2]},
        {"id": "scalar-up", "expr": "x**2", "vars": {"x": 3}, "upstream": 2},
        {"id": "const-tensor", "expr": "sum(w*c)", "vars": {"w": [1, 2]}, "const": {"c": [5, 7]}},
    ))
    by = {o["id"]: o for o in out}
    assert all(o["ok"] and o["check"]["status"] == "passed" for o in out), out
    assert by["const"]["grads"] == {"x": 3.0}
    assert by["wrt"]["grads"] == {"y": 2.0}
    assert by["of"]["value"] == 6.0 and by["of"]["grads"] == {"x": 3.0, "y": 2.0}
    assert by["ones"]["grads"] == {"a": [[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]]}
    assert by["ones"]["upstream"] == [[1.0] * 3] * 2
    assert by["array"]["grads"] == {"x": [2.0, 0.0, -12.0]}
    assert by["array"]["upstream"] == [1.0, 0.0, -2.0]
    assert by["scalar-up"]["grads"] == {"x": 12.0}
    assert by["const-tensor"]["grads"] == {"w": [5.0, 7.0]}


def test_reference_case_1_as_grad_json_prints():
    """A batch line is the object `grad --format json` prints, with the id, and with the
    check summary only (no per-variable arrays, no graph unless asked)."""
    rec = {"id": "c1", "expr": "(x1*x2+x3)**2", "vars": {"x1": 2, "x2": 3, "x3": 1}}
    line = one(rec)
    r = runner.invoke(app, ["grad", rec["expr"], "--x1", "2", "--x2", "3", "--x3", "1",
                            "--format", "json"])
    grad = strict(r.stdout)
    assert line["id"] == "c1" and line["value"] == 49.0
    assert line["grads"] == {"x1": 42.0, "x2": 28.0, "x3": 14.0}
    for key in ("ok", "value", "shape", "grad_fn", "grads", "upstream"):
        assert line[key] == grad[key], key
    assert {k: v for k, v in line["check"].items()} == \
        {k: v for k, v in grad["check"].items() if k != "variables"}


def test_check_at_an_infinite_point_does_not_end_the_batch():
    """sin/cos at +-inf: SymPy's value is an interval (AccumBounds), which the check's
    float conversion (gradcli/check/__init__.py, _to_float) does not expect; the crash
    ends the whole batch with an internal error and loses every answer of the chunk."""
    proc = run_raw(["batch", "-q"], jsonl(
        R, {"expr": "sin(x)*y", "vars": {"x": "Infinity", "y": 0}},
        {"expr": "cos(x)", "vars": {"x": "-Infinity"}}, R).encode())
    assert "internal error" not in proc.stderr.decode(), proc.stderr.decode()
    out = [strict(line) for line in lines_of(proc.stdout.decode())]
    assert [o["id"] for o in out] == [1, 2, 3, 4] and all(o["ok"] for o in out)
    assert out[1]["grads"] == {"x": "NaN", "y": "NaN"}
    assert out[1]["check"]["status"] == out[2]["check"]["status"] == "skipped"


def test_kink_check_is_skipped_with_its_reason():
    out = one({"expr": "relu(x)", "vars": {"x": 0}})
    assert out["grads"] == {"x": 0.0} and out["check"]["status"] == "skipped"
    assert "kink" in out["check"]["reason"]


# -- property: any lines give one answer per non-blank line --------------------------------

JSON_IDS = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 62, 2 ** 62)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6)
SAFE_CHARS = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")) | st.just(" ")
EXPRS = ["x*y + 1", "sin(x)*y", "x +)", "x**2", "q*x", "relu(x - 0.5)", "tahn(y)"]


@st.composite
def valid_record(draw):
    rec = {"expr": draw(st.sampled_from(EXPRS)),
           "vars": {"x": draw(st.floats(-3, 3) | st.just("NaN")),   # inf: test above
                    "y": draw(st.floats(-3, 3))}}
    if draw(st.booleans()):
        rec["id"] = draw(JSON_IDS)
    if draw(st.booleans()):
        rec["check"] = draw(st.booleans())
    if draw(st.integers(0, 5)) == 0:
        rec["bogus"] = 1                       # an input error that still has its id
    return json.dumps(rec, ensure_ascii=draw(st.booleans()))


LINE = st.one_of(
    valid_record(),
    st.text(SAFE_CHARS, min_size=1, max_size=30).filter(lambda s: s.strip()),     # garbage
    st.sampled_from(["", " ", "\t", "  \t ", "\r"]),                             # blank
    JSON_IDS.filter(lambda v: not isinstance(v, dict)).map(json.dumps),          # non-objects
    st.sampled_from(['{"id": 1', "{}", '{"id": null}', "[", "]", "{", "NaN", '"', "-"]),
)


def _expected_id(line: str, lineno: int):
    try:
        value = json.loads(line, parse_constant=_bare)
    except (ValueError, AssertionError, RecursionError):
        return lineno
    return value["id"] if isinstance(value, dict) and "id" in value else lineno


@settings(max_examples=int(os.environ.get("BATCH_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(LINE, max_size=25), check=st.booleans())
def test_property_one_answer_per_non_blank_line(lines, check):
    nonblank = [(k + 1, line) for k, line in enumerate(lines) if line.strip(" \t\r")]
    # a first record starting with '[' makes the whole input one JSON array (tested above)
    assume(not nonblank or not nonblank[0][1].lstrip(" \t\r").startswith("["))
    text = "\n".join(lines) + "\n"
    r = invoke(["-q"] + ([] if check else ["--no-check"]), input=text)
    out = answers(r)
    assert len(out) == len(nonblank)
    for (lineno, line), answer in zip(nonblank, out):
        assert answer["id"] == _expected_id(line, lineno), (line, answer)
    bad = any(not a["ok"] or a["check"]["status"] == "failed" or a["check"]["failed"]
              for a in out)
    assert r.exit_code == (1 if bad else 0)


# -- vectorised and one-by-one give the same bytes -----------------------------------------

def varied_input() -> str:
    rnd = __import__("random").Random(11)
    recs = []
    for k in range(240):
        p = PROGRAMS[k % len(PROGRAMS)]
        recs.append({"id": f"p{k}", "expr": p["expr"], "vars": program_vars(p, rnd)})
    for p in PROGRAMS:                              # negative and larger points too
        for _ in range(6):
            recs.append({"expr": p["expr"], "vars": {v: round(rnd.uniform(-4, 4), 3)
                                                     for v in p["vars"]}})
    recs += [
        # kinks and undefined points inside groups that otherwise run as arrays
        {"expr": "relu(x - 0.3) + softplus(y)", "vars": {"x": 0.3, "y": 1}},
        {"expr": "relu(x - 0.3) + softplus(y)", "vars": {"x": 0.3, "y": -1}},
        {"expr": "atan2(y, x) + hypot(x, y)", "vars": {"x": 0, "y": 0}},
        {"expr": "sqrt(x*x + y*y + 1)", "vars": {"x": 0, "y": 0}},
        {"expr": "tanh(a*x)**2 + x/a", "vars": {"a": 0, "x": 1}},
        {"expr": "exp(-x*x) + log(1 + y*y)", "vars": {"x": "NaN", "y": 1}},
        {"expr": "exp(-x*x) + log(1 + y*y)", "vars": {"x": "Infinity", "y": "-Infinity"}},
        {"expr": "x**3 - 2*x**2*y + 3*y - 1", "vars": {"x": 1e308, "y": 2}},
        {"expr": "abs(x) + y", "vars": {"x": 0, "y": 1}},
        {"expr": "abs(x) + y", "vars": {"x": 2, "y": 1}},
        {"expr": "abs(x) + y", "vars": {"x": -2, "y": 1}},
        {"expr": "maximum(x, y)", "vars": {"x": 1, "y": 1}},
        {"expr": "maximum(x, y)", "vars": {"x": 1, "y": 2}},
        {"expr": "maximum(x, y)", "vars": {"x": 3, "y": 2}},
        # expects, passing and failing, checks off, const / wrt / of in array groups
        {"expr": "x**3 - 2*x**2*y + 3*y - 1", "vars": {"x": 1, "y": 1}, "expect": {"x": -1}},
        {"expr": "x**3 - 2*x**2*y + 3*y - 1", "vars": {"x": 1, "y": 1}, "expect": {"x": 5}},
        {"expr": "x**3 - 2*x**2*y + 3*y - 1", "vars": {"x": 1, "y": 1}, "expect": {"q": 5}},
        {"expr": "x**3 - 2*x**2*y + 3*y - 1", "vars": {"x": 2, "y": 1}, "check": False,
         "expect": {"y": 0}},
        {"expr": "x**3 - 2*x**2*y + 3*y - 1", "vars": {"x": 2, "y": "NaN"}, "check": False},
        {"expr": "x*c + c", "vars": {"x": 1}, "const": {"c": 2}},
        {"expr": "x*c + c", "vars": {"x": 5}, "const": {"c": 3}},
        {"expr": "x*c + c", "vars": {"x": 5}, "const": {"c": 3}, "expect": {"x": 3}},
        {"expr": "x*y*z", "vars": {"x": 1, "y": 2, "z": 3}, "wrt": ["x", "z"]},
        {"expr": "x*y*z", "vars": {"x": 2, "y": 2, "z": 3}, "wrt": ["x", "z"]},
        {"expr": "a = x*y; b = a*2; b", "vars": {"x": 2, "y": 3}, "of": "a"},
        {"expr": "a = x*y; b = a*2; b", "vars": {"x": 4, "y": 3}, "of": "a"},
        {"expr": "x + 1", "vars": {"x": 1, "y": 2}},            # y unused: grad null
        {"expr": "x + 1", "vars": {"x": 3, "y": 2}},
        # the same programs, records that cannot join an array evaluation
        {"expr": "sin(x)*cos(y) + tan(x*y/10)", "vars": {"x": 1, "y": 2}, "graph": True},
        {"expr": "sin(x)*cos(y) + tan(x*y/10)", "vars": {"x": 1, "y": 2}, "upstream": 3},
        {"expr": "sin(x)*cos(y) + tan(x*y/10)", "vars": {"x": 1, "y": 2}, "mode": "hessian"},
        # tensors, programs with their own backward, errors
        {"expr": "sum(tanh(w @ x + b)**2)", "vars": {"w": [[0.5, -1], [2, 0.25]],
                                                     "x": [1, 2], "b": [0.1, -0.2]}},
        {"expr": "sum(tanh(w @ x + b)**2)", "vars": {"w": [[1, -1], [2, 0.5]],
                                                     "x": [1, 3], "b": [0.1, 0.2]}},
        {"expr": "relu(x)", "vars": {"x": [-1, 0, 1]}, "upstream": "ones"},
        {"expr": "x*x", "vars": {"x": [1, "NaN"]}, "upstream": "ones"},
        {"expr": "y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)", "vars": {"x": 2}},
        {"expr": "y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)", "vars": {"x": 1}},
        {"expr": "y = x**2; z = x; backward(y); backward(z)", "vars": {"x": 2}},
        {"expr": "y = x**2; z = x; backward(y); backward(z)", "vars": {"x": 3}},
        {"expr": "stack([x*y, x + y])", "vars": {"x": 2, "y": 3}, "mode": "jacobian"},
        {"expr": "x**2 +)", "vars": {"x": 1}},
        {"expr": "x + y", "vars": {"x": 1}},
        {"expr": "x + y", "vars": {"x": [1, 2], "y": [1, 2, 3]}},
        {"expr": "y = x**3; backward(y); backward(y)", "vars": {"x": 2}},
        {"expr": "x", "vars": {"x": [[1, 2], [3]]}},
        "not json",
        {"expr": "x", "vars": {"x": 1}, "bogus": True},
    ]
    for k in range(60):                  # more after the special ones, same programs
        p = PROGRAMS[k % len(PROGRAMS)]
        recs.append({"id": k, "expr": p["expr"], "vars": program_vars(p, rnd)})
    rnd.shuffle(recs)
    return jsonl(*recs)


@pytest.fixture(scope="module")
def varied():
    return varied_input()


def test_vectorized_and_one_by_one_print_the_same_bytes(varied, monkeypatch):
    calls = []
    together = Answerer._together

    def spy(self, info, rows, out):
        calls.append(len(rows.positions))
        return together(self, info, rows, out)

    monkeypatch.setattr(Answerer, "_together", spy)
    fast = invoke([], input=varied)
    assert calls and max(calls) >= 10, "the array path was not used"
    calls.clear()
    slow = invoke(["--one-by-one"], input=varied)
    assert not calls
    assert fast.stdout == slow.stdout
    assert fast.exit_code == slow.exit_code == 1
    assert summary(fast.stderr) == summary(slow.stderr)
    out = answers(fast)
    assert len(out) == sum(1 for line in lines_of(varied) if line.strip())
    statuses = {o["check"]["status"] for o in out if o["ok"]}
    assert statuses == {"passed", "skipped", "partial", "failed"}
    assert any(not o["ok"] for o in out)
    # every failure is a failed expectation: the gradients themselves are right
    assert all(o["check"]["reason"].startswith("expectation failed")
               for o in out if o["ok"] and o["check"]["status"] == "failed")


def test_vectorized_and_one_by_one_no_check(varied):
    fast = invoke(["--no-check"], input=varied)
    slow = invoke(["--no-check", "--one-by-one"], input=varied)
    assert fast.stdout == slow.stdout and fast.exit_code == slow.exit_code


def chunk_lines(data: bytes) -> list:
    """Answerer.answer returns a chunk's JSON Lines as bytes: one line per record."""
    return [line + b"\n" for line in data.split(b"\n")[:-1]]


def test_answerer_paths_agree_directly(varied):
    import io
    chunks = list(read_records(io.BytesIO(varied.encode()), 4096))
    results = []
    for vectorize in (True, False):
        answerer = Answerer(rtol=1e-7, atol=1e-9, timeout=5.0, vectorize=vectorize)
        stats = {"records": 0, "ok": 0, "errors": 0, "failed": 0}
        lines = [line for chunk in chunks for line in chunk_lines(answerer.answer(chunk, stats))]
        results.append((lines, stats))
    (fast, fast_stats), (slow, slow_stats) = results
    assert fast == slow and fast_stats == slow_stats
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in fast)
    # in small chunks too (a program's first record answered alone in every chunk)
    answerer = Answerer(rtol=1e-7, atol=1e-9, timeout=5.0, vectorize=True)
    stats = {"records": 0, "ok": 0, "errors": 0, "failed": 0}
    small = [line for chunk in read_records(io.BytesIO(varied.encode()), 7)
             for line in chunk_lines(answerer.answer(chunk, stats))]
    assert small == slow and stats == slow_stats


OP_PROGRAMS = [
    "x + y", "x - y", "2 - x", "x*y", "x/y", "3/x", "-x", "x**3", "x**y", "2**x", "x^2",
    "square(x)", "exp(x)", "exp2(x)", "expm1(x)", "log(x)", "log2(x)", "log10(x)",
    "log1p(x)", "sqrt(x)", "rsqrt(x)", "reciprocal(x)", "sin(x)", "cos(x)", "tan(x)",
    "asin(x)", "acos(x)", "atan(x)", "sinh(x)", "cosh(x)", "tanh(x)", "asinh(x)", "abs(x)",
    "sign(x)*y", "erf(x)", "sigmoid(x)", "relu(x)", "softplus(x)", "silu(x)",
    "clamp(x, min=0.5)", "clamp(x, max=1)", "clamp(x, min=-1, max=1)", "maximum(x, y)",
    "minimum(x, y)", "atan2(x, y)", "hypot(x, y)", "sum(x)", "mean(x*y)", "prod(x)",
    "max(x)", "min(x)", "norm(x)", "reshape(x, 1)[0]", "x.T", "t(x)", "flatten(x)[0]",
    "unsqueeze(x, 0)[0]", "squeeze(x)", "stack([x, y])[1]", "sum(stack([x, y]))",
    "cat([unsqueeze(x, 0), unsqueeze(y, 0)])[0]", "logsumexp(unsqueeze(x, 0), 0)",
    "mse_loss(x, y)", "pi*x + e", "x*ones_like(x)", "detach(x)*y", "no_grad(x*x)*y",
    "y2 = x*x; y2 += 1; y2", "z = x*y; z *= x; z", "x*y + grad(x*x*y, x)",
    "trace(reshape(x, 1, 1))*y", "sum(x, 0)", "dot(x, y)",
]
OP_POINTS = [(0.7, 1.3), (-0.4, 2.0), (0.0, 0.0), (1.0, 1.0), (2.0, -1.0), (1.0, "NaN"),
             (-1.5, 0.25)]


def test_paths_agree_on_every_op():
    """Every op in scalar programs, at ordinary points, kinks, ties and NaN: the array
    evaluation (with its compiled check) prints what answering alone prints."""
    import io
    text = jsonl(*[{"expr": p, "vars": {"x": x, "y": y}} for p in OP_PROGRAMS
                   for x, y in OP_POINTS]).encode()
    results = []
    for vectorize in (True, False):
        answerer = Answerer(rtol=1e-7, atol=1e-9, timeout=5.0, vectorize=vectorize)
        stats = {"records": 0, "ok": 0, "errors": 0, "failed": 0}
        results.append(([line for chunk in read_records(io.BytesIO(text), 4096)
                         for line in chunk_lines(answerer.answer(chunk, stats))], stats))
    (fast, fast_stats), (slow, slow_stats) = results
    assert fast_stats == slow_stats and fast_stats["failed"] == 0
    for k, (a, b) in enumerate(zip(fast, slow)):
        assert a == b, (OP_PROGRAMS[k // len(OP_POINTS)], OP_POINTS[k % len(OP_POINTS)])
    assert fast_stats["ok"] > 0.9 * len(fast)


# -- the quick path: records decoded as QuickRecords, lines formatted from templates ------

def test_reader_decodes_plain_records_as_quick_records_and_keeps_line_numbers():
    import io

    from gradcli.cli.records import QuickRecord
    text = (b'{"expr": "x", "vars": {"x": 1}}\r\n\n   \n'
            b'{"id": "a", "expr": "x", "vars": {"x": 2.5}}\n'
            b'{"expr": "x", "vars": {"x": "NaN"}}\n'          # not plain: a dict
            b'{"expr": "x", "vars": {"x": 1}, "check": false}\n'
            b'{"expr": "x", "vars": {"x": 1}} {"expr": "x"}\n'   # two values on a line
            b'{"expr": "x", "vars": {"x": 3}}')                   # no final newline
    chunks = list(read_records(io.BytesIO(text), 100))
    assert len(chunks) == 1
    (n1, r1), (n4, r4), (n5, r5), (n6, r6), (n7, r7), (n8, r8) = chunks[0]
    assert (n1, n4, n5, n6, n7, n8) == (1, 4, 5, 6, 7, 8)
    assert type(r1) is QuickRecord and r1.vars == {"x": 1.0}
    assert type(r4) is QuickRecord and r4.id == "a" and r4.vars == {"x": 2.5}
    assert r5 == {"expr": "x", "vars": {"x": "NaN"}}
    assert r6 == {"expr": "x", "vars": {"x": 1}, "check": False}
    assert "trailing characters" in r7.message and r7.line == 7
    assert type(r8) is QuickRecord and r8.vars == {"x": 3.0}


def test_each_line_is_one_record_even_when_the_counts_agree():
    """Line 1 holds two objects and lines 2-3 one object cut in two: three lines, three
    values, but every line is an error (decoding the chunk as a whole would pair them
    up)."""
    r = invoke(["--no-check"], input='{"expr":"x","vars":{"x":1}} {"expr":"x","vars":{"x":2}}'
               '\n{"expr":"x",\n"vars":{"x":3}}\n')
    out = answers(r)
    assert [o["ok"] for o in out] == [False] * 3 and [o["id"] for o in out] == [1, 2, 3]
    assert [o["error"]["column"] for o in out] == [30, 13, 8]       # 13: past the end
    assert "trailing characters" in out[0]["error"]["message"]
    assert "truncated" in out[1]["error"]["message"]


def test_reader_chunks_of_quick_records_split_at_the_chunk_size():
    import io
    text = jsonl(*[{"expr": "x", "vars": {"x": k}} for k in range(25)]).encode()
    chunks = list(read_records(io.BytesIO(text), 10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert [n for c in chunks for n, _ in c] == list(range(1, 26))
    assert [r.vars["x"] for c in chunks for _, r in c] == [float(k) for k in range(25)]


def test_line_template_fills_columns_in_place_and_keeps_percent_signs():
    from gradcli.cli.jsonout import LineTemplate, encoded_column, encoded_values, encoder
    enc = encoder()
    line = LineTemplate()
    ids = line.slot(encoded_values(enc, [7, "a,b", None]))
    unused = line.slot([b"1", b"2", b"3"])          # a slot the object does not use
    vals = line.slot(encoded_column(enc, [0.1, math.inf, -0.0]))
    obj = {"id": ids, "note": "100% %s", "value": vals}
    assert unused
    lines = line.lines(enc, obj)
    assert [json.loads(x) for x in lines] == [
        {"id": 7, "note": "100% %s", "value": 0.1},
        {"id": "a,b", "note": "100% %s", "value": "Infinity"},
        {"id": None, "note": "100% %s", "value": -0.0}]
    assert all(x.endswith(b"\n") and x.count(b"\n") == 1 for x in lines)
    assert line.lines(enc, obj, [2, 0]) == [lines[2], lines[0]]


def test_quick_records_with_odd_ids_and_key_orders_match_one_by_one():
    recs = [{"id": 123456789012345678901234567890, "expr": "x*y", "vars": {"x": 1, "y": 2}},
            {"id": "a,b", "expr": "x*y", "vars": {"y": 1, "x": 2}},
            {"id": [1, {"k": "%s"}], "expr": "x*y", "vars": {"x": 1, "y": 2}},
            {"id": 1.5e300, "expr": "x*y", "vars": {"x": 1, "y": 2}},
            {"expr": "x*y", "vars": {"x": 1e308, "y": 10}},
            {"id": None, "expr": "x*y", "vars": {"x": 3, "y": 2}},
            {"expr": "x*y", "vars": {"y": 5, "x": 4}},
            {"expr": "abs(x)*y", "vars": {"x": 0, "y": 2}},
            {"expr": "abs(x)*y", "vars": {"x": 1, "y": 2}},
            {"expr": "abs(x)*y", "vars": {"x": -1, "y": 2}}]
    fast = invoke([], input=jsonl(*recs))
    assert fast.stdout == invoke(["--one-by-one"], input=jsonl(*recs)).stdout
    out = answers(fast)
    assert [o["id"] for o in out] == [r.get("id", k + 1) for k, r in enumerate(recs)]
    assert list(out[1]["grads"]) == ["y", "x"] and out[1]["grads"] == {"y": 2.0, "x": 1.0}
    assert out[4]["value"] == "Infinity" and out[4]["grads"] == {"x": 10.0, "y": 1e308}
    assert out[7]["grads"] == {"x": 0.0, "y": 0.0}          # the kink: PyTorch's 0
    assert out[7]["check"]["status"] == "partial"             # y; x was not verified:
    assert out[7]["check"]["reason"] == "1 of 2 elements checked; x: abs has a kink at 0 " \
        "(PyTorch uses 0)"
    assert out[8]["check"]["status"] == "passed" and "reason" not in out[8]["check"]
    assert out[9]["grads"] == {"x": -2.0, "y": 1.0}


def test_an_array_evaluation_error_falls_back_to_one_by_one(monkeypatch):
    import numpy as np

    import gradcli.lang.evaluator as evaluator
    from gradcli.errors import ShapeError
    original = evaluator.evaluate

    def refuses_arrays(program, bindings, *args, **kw):
        if any(np.ndim(v) == 1 and len(v) > 1 for v in bindings.values()):
            raise ShapeError("no arrays today")
        return original(program, bindings, *args, **kw)

    text = jsonl(*[{"expr": "x*y + 1", "vars": {"x": k, "y": 2}} for k in range(6)],
                 *[{"expr": "x*y + 2", "vars": {"x": k, "y": 2}, "check": False}
                   for k in range(4)])
    slow = invoke(["--one-by-one"], input=text)
    monkeypatch.setattr(evaluator, "evaluate", refuses_arrays)
    fast = invoke([], input=text)
    assert fast.stdout == slow.stdout and fast.exit_code == slow.exit_code == 0
    assert [o["value"] for o in answers(fast)] == [2 * k + 1 for k in range(6)] + \
        [2 * k + 2 for k in range(4)]


QUICK_EXPRS = ["x*y + 1", "sin(x)*y", "sqrt(x*x + y*y)", "relu(x - 0.5) + y", "x/y",
               "log(x) + y", "maximum(x, y)", "x +)", "q*x"]
NUMBERS = st.floats(-3, 3) | st.integers(-3, 3) | st.sampled_from([0.0, -0.0, 0.5, 1e308,
                                                                   -1e-320, 2 ** 53])


@st.composite
def plain_record(draw):
    """A record for the quick path (or, now and then, one just off it)."""
    names = draw(st.permutations(["x", "y"]))
    rec = {"expr": draw(st.sampled_from(QUICK_EXPRS)),
           "vars": {n: draw(NUMBERS) for n in names}}
    if draw(st.booleans()):
        rec["id"] = draw(JSON_IDS)
    if draw(st.integers(0, 7)) == 0:
        rec[draw(st.sampled_from(["check", "graph"]))] = draw(st.booleans())
    return json.dumps(rec)


@settings(max_examples=int(os.environ.get("BATCH_EXAMPLES", "60")) // 2, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(plain_record(), min_size=1, max_size=40), check=st.booleans(),
       chunk=st.sampled_from([3, 4096]))
def test_property_quick_path_prints_what_one_by_one_prints(lines, check, chunk):
    import io
    text = ("\n".join(lines) + "\n").encode()
    results = []
    for vectorize in (True, False):
        answerer = Answerer(rtol=1e-7, atol=1e-9, timeout=5.0, vectorize=vectorize,
                            check=check)
        stats = {"records": 0, "ok": 0, "errors": 0, "failed": 0}
        results.append((b"".join(answerer.answer(c, stats)
                                 for c in read_records(io.BytesIO(text), chunk)), stats))
    (fast, fast_stats), (slow, slow_stats) = results
    assert fast == slow and fast_stats == slow_stats
    assert fast.count(b"\n") == len(lines)


def test_powers_of_two_variables_print_the_same_alone_and_together():
    """numpy's 0-d and 1-d loops for a**b differ in the last bit at 710**0.5 and in the
    limit (-inf)**0.5; pow_tensor always takes the 1-d one, so records agree."""
    points = [(710, 0.5), (710, 0.5), ("-Infinity", 0.5), ("-Infinity", 0.5), (710, 1.5),
              (0.9999999999999999, -1), (0.9999999999999999, -1), (2.5, 3.25)]
    text = jsonl(*[{"id": k, "expr": "x**y", "vars": {"x": x, "y": y}}
                   for k, (x, y) in enumerate(points)])
    for flags in ([], ["--no-check"]):
        fast = invoke(flags, input=text)
        assert fast.stdout == invoke(flags + ["--one-by-one"], input=text).stdout
    out = answers(fast)
    assert out[0] == {**out[1], "id": 0} and out[2] == {**out[3], "id": 2}
    assert out[2]["value"] == "Infinity"                    # C99 and PyTorch: inf
    assert abs(out[0]["value"] - 710 ** 0.5) <= 2 * math.ulp(710 ** 0.5)


# -- found by a user trying to break the batch ------------------------------------------------

def test_a_byte_order_mark_is_not_a_record_error():
    for text in ('\ufeff{"expr": "x*2", "vars": {"x": 1}}\n',
                 '\ufeff[{"expr": "x*2", "vars": {"x": 1}}]'):
        out = answers(invoke(["--no-check"], input=text.encode()))
        assert [(o["id"], o["ok"], o["grads"]) for o in out] == [(1, True, {"x": 2.0})]


def test_lone_surrogates_in_an_array_are_record_errors():
    text = ('[{"id": "a\\ud800", "expr": "x*2", "vars": {"x": 1}},'
            ' {"id": "b", "expr": "x*2", "vars": {"x": 2}},'
            ' {"id": "c", "expr": "x*2", "vars": {"\\udfff": 2}},'
            ' {"id": "d\\ud83d\\ude00", "expr": "x*2", "vars": {"x": 3}}]')
    r = invoke(["--no-check"], input=text)
    out = answers(r)
    assert [o["id"] for o in out] == [1, "b", 3, "d\U0001F600"] and r.exit_code == 1
    assert "lone UTF-16 surrogate" in out[0]["error"]["message"]
    assert out[1]["grads"] == {"x": 2.0} and out[3]["grads"] == {"x": 2.0}


@pytest.mark.parametrize("field, value, where", [
    ("expect", {"x": 10 ** 400}, "expect.x"), ("const", {"c": -10 ** 400}, "const.c"),
    ("vars", {"x": [1, 10 ** 400]}, "vars.x"), ("upstream", 10 ** 400, "upstream")])
def test_integers_past_float64_are_record_errors(field, value, where):
    record = {"expr": "x*2", "vars": {"x": 1}, field: value}
    if field == "vars":
        record["upstream"] = "ones"
    r = invoke([], input=jsonl(record, {"expr": "x*3", "vars": {"x": 1}}))
    out = answers(r)
    assert out[0]["ok"] is False and out[0]["error"]["message"].startswith(where)
    assert "too large for float64" in out[0]["error"]["message"]
    assert out[1]["grads"] == {"x": 3.0} and r.exit_code == 1


def test_no_numpy_warnings_on_stderr_at_huge_values():
    r = invoke([], input=jsonl({"expr": "hypot(x, y)", "vars": {"x": 1e300, "y": 1.25}},
                               {"expr": "x*y", "vars": {"x": 1e308, "y": 1e308}}))
    assert "Warning" not in r.stderr and len(answers(r)) == 2


def test_closed_stdin_is_a_usage_error():
    proc = subprocess.run(GRADCLI + ["batch"], stdin=subprocess.DEVNULL, capture_output=True)
    assert proc.returncode == 0                  # empty input: no records
    proc = subprocess.run(GRADCLI + ["batch"], capture_output=True,
                          preexec_fn=lambda: os.close(0))
    assert proc.returncode == 2 and b"standard input is closed" in proc.stderr
    assert b"Traceback" not in proc.stderr
