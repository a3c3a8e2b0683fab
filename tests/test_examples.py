"""Every ``examples/*.grad`` program, run as its ``# run:`` line says, must do what its
header says: the exit code, and the documented value, gradients, named graph values and
leaf gradients (exact to 1e-12, SPEC 3.7) or, for the error examples, the error text.

Header lines understood here (each example documents itself with them):

    # run: gradcli grad -f examples/NAME.grad --x 2      the command line
    # exit: 0                                              its exit code
    # value: 49                                            the output's value
    # grads: {"x": 7}                                      gradients (JSON; null = None)
    # nodes: {"first": 12}                                 values of named graph nodes
    # leaves: {"t": null}                                  .grad shown for named tensors
    # error: TEXT                                          a line of the error message

The batch files ``examples/*.jsonl`` are checked too: valid records, and (through
``gradcli batch``) one schema-valid answer per record.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from gradcli.cli.app import app
from gradcli.cli.schema import load

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.grad"))
BATCHES = sorted((ROOT / "examples").glob("*.jsonl"))
VALIDATOR = jsonschema.Draft202012Validator(load("result"))
runner = CliRunner()
KEYS = ("run", "exit", "value", "grads", "nodes", "leaves", "error")


def header(path: Path) -> dict:
    meta = {}
    for line in path.read_text().splitlines():
        match = re.match(r"#\s*(\w+):\s*(.*)", line)
        if match and match.group(1) in KEYS:
            meta[match.group(1)] = match.group(2).strip()
    return meta


def _floats(v):
    """JSON data with gradcli's "NaN"/"Infinity" strings as floats."""
    if isinstance(v, list):
        return [_floats(x) for x in v]
    return {"NaN": float("nan"), "Infinity": float("inf"),
            "-Infinity": float("-inf")}.get(v, v) if isinstance(v, str) else v


def close(actual, expected) -> bool:
    """Same shape (or a documented scalar for every element) and equal to 1e-12."""
    if expected is None or actual is None:
        return actual is expected
    a = np.asarray(_floats(actual), dtype=float)
    e = np.asarray(expected, dtype=float)
    return np.broadcast_shapes(a.shape, e.shape) == a.shape and \
        bool(np.allclose(a, e, rtol=0, atol=1e-12))


def invoke(args, monkeypatch):
    monkeypatch.chdir(ROOT)               # the run lines name examples/... from the repo root
    return runner.invoke(app, args, env={"COLUMNS": "160", "NO_COLOR": None})


def command_line(meta: dict) -> list:
    words = shlex.split(meta["run"])
    assert words[:2] == ["gradcli", "grad"], meta["run"]
    return words[1:]


def test_there_are_examples_for_every_reference_case():
    cases = {int(p.name[:2]) for p in EXAMPLES}
    assert cases >= set(range(1, 11)), "SPEC 3.7 cases 1..10 each need an example"
    assert len(EXAMPLES) >= 20          # with the variants (second parts, error sides)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_documents_itself(path):
    text = path.read_text()
    lines = text.splitlines()
    assert lines[0].startswith("# "), "starts with a comment saying what it is"
    assert re.search(r"^# Shows: ", text, re.M), "a line saying what it shows"
    meta = header(path)
    assert "run" in meta and "exit" in meta
    assert f"-f examples/{path.name}" in meta["run"]
    if meta["exit"] == "2":
        assert "error" in meta and "grads" not in meta
    else:
        assert "grads" in meta
    code = [line for line in lines if line.strip() and not line.startswith("#")]
    assert code, "and then the program"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_does_what_it_says(path, monkeypatch):
    meta = header(path)
    args = command_line(meta)
    r = invoke(args + ["--format", "json"], monkeypatch)
    assert r.exit_code == int(meta["exit"]), (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    if "error" in meta:
        assert r.stdout == ""
        first = r.stderr.splitlines()[0]
        assert meta["error"] in first, r.stderr
        assert r.stderr.splitlines()[-1].strip() == "^", "the caret line under the statement"
        return
    obj = json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    VALIDATOR.validate(obj)
    assert obj["check"]["status"] == "passed", obj["check"]
    if "value" in meta:
        assert close(obj["value"], json.loads(meta["value"])), obj["value"]
    grads = json.loads(meta["grads"])
    assert list(obj["grads"]) == list(grads)
    for name, expected in grads.items():
        assert close(obj["grads"][name], expected), (name, obj["grads"][name])
    for name, expected in json.loads(meta.get("nodes", "{}")).items():
        row = next(row for row in obj["graph"] if row["name"] == name)
        assert close(row["value"], expected), (name, row["value"])
    for name, expected in json.loads(meta.get("leaves", "{}")).items():
        row = next(row for row in obj["leaves"] if row["name"] == name)
        assert close(row["grad"], expected), (name, row["grad"])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_table_output(path, monkeypatch):
    meta = header(path)
    r = invoke(command_line(meta), monkeypatch)
    assert r.exit_code == int(meta["exit"]), r.stderr
    assert "Traceback" not in r.stderr
    if "error" not in meta:
        for title in ("Gradients", "Graph", "Leaves"):
            assert re.search(rf"^{title}\s*$", r.stdout, re.M)
        assert re.search(r"^check\s+passed", r.stdout, re.M)
        assert "# run:" not in r.stdout, "the header shows the program, not its comments"


# -- batch files --------------------------------------------------------------------------

def _records(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("path", BATCHES, ids=[p.stem for p in BATCHES])
def test_batch_file_records(path):
    records = _records(path)
    assert records
    fields = {"id", "expr", "vars", "const", "wrt", "of", "upstream", "expect", "check",
              "mode", "graph"}
    for record in records:
        assert isinstance(record.get("expr"), str) and set(record) <= fields, record


@pytest.mark.parametrize("path", BATCHES, ids=[p.stem for p in BATCHES])
def test_batch_file_answers(path, monkeypatch):
    if "batch" not in typer.main.get_command(app).commands:
        pytest.skip("no batch command yet")
    records = _records(path)
    r = invoke(["batch", str(path)], monkeypatch)
    assert "Traceback" not in r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == len(records)
    answers = [json.loads(line, parse_constant=lambda c: pytest.fail(f"bare {c}"))
               for line in lines]
    for record, answer in zip(records, answers):
        VALIDATOR.validate(answer)
        if "id" in record:
            assert answer["id"] == record["id"]
    failed = [a for a in answers if not a["ok"] or a["check"]["status"] == "failed"
              or a["check"].get("failed")]
    assert r.exit_code == (1 if failed else 0)


def test_reference_batch_matches_spec():
    if "batch" not in typer.main.get_command(app).commands:
        pytest.skip("no batch command yet")
    path = ROOT / "examples" / "batch_reference.jsonl"
    r = runner.invoke(app, ["batch", str(path)])
    answers = {a["id"]: a for a in map(json.loads, r.stdout.splitlines())}
    for case in ("case9", "case10"):               # the second-backward and in-place errors
        assert answers[case]["ok"] is False
        assert answers[case]["error"]["kind"] == "autograd"
    assert "second time" in answers["case9"]["error"]["message"]
    assert "inplace" in answers["case10"]["error"]["message"]
    for case, answer in answers.items():
        if case in ("case9", "case10"):
            continue
        assert answer["ok"] and answer["check"]["status"] == "passed", answer
        assert all(e["status"] == "passed" for e in answer["check"].get("expect", {}).values())
    assert answers["case1"]["grads"] == {"x1": 42, "x2": 28, "x3": 14}
    assert answers["case2b"]["value"] == 6                      # 6x at x = 1
    assert r.exit_code == 1                                    # two records in error
