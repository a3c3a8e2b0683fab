"""Batch records may ask for float32 (``"dtype": "float32"``, SPEC 4.2)."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from gradcli.cli.app import app

runner = CliRunner()


def batch(*records) -> list:
    text = "\n".join(json.dumps(r) for r in records) + "\n"
    r = runner.invoke(app, ["batch"], input=text)
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_float32_record_computes_in_float32():
    f64, f32 = batch({"id": 1, "expr": "x * exp(0.5)", "vars": {"x": 1.1}},
                     {"id": 2, "expr": "x * exp(0.5)", "vars": {"x": 1.1}, "dtype": "float32"})
    assert f64["value"] == 1.1 * np.exp(0.5)
    # x is float32 and exp(0.5) a number (weakly typed): PyTorch's 1.8135933876
    assert f32["value"] == float(np.float32(1.1) * np.float32(np.exp(0.5)))
    assert f32["grads"]["x"] == float(np.float32(np.exp(0.5)))
    assert f32["check"]["status"] == "passed"       # float32 tolerances


def test_float32_arrays_and_the_one_by_one_path_agree():
    rec = {"expr": "sum(tanh(w) * w)", "vars": {"w": [0.5, -1.25, 2.0]}, "dtype": "float32"}
    (out,) = batch(rec)
    w = np.array([0.5, -1.25, 2.0], dtype=np.float32)
    assert out["ok"] and np.float32(out["value"]) == np.float32(np.sum(np.tanh(w) * w))
    r = runner.invoke(app, ["batch", "--one-by-one"], input=json.dumps(rec) + "\n")
    assert json.loads(r.stdout) == out


def test_unknown_dtype_is_that_record_error():
    bad, good = batch({"id": "a", "expr": "x", "vars": {"x": 1}, "dtype": "float16"},
                      {"id": "b", "expr": "x", "vars": {"x": 1}})
    assert not bad["ok"] and bad["error"]["kind"] == "input"
    assert "'dtype' must be \"float64\" or \"float32\"" in bad["error"]["message"]
    assert good["ok"]
