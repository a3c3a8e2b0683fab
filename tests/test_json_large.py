"""grad --format json with large arrays: graph and leaf rows summarised past 1000
elements (SPEC 4.2), gradients complete (hand-derived values), --save-grads DIR."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gradcli.cli.app import app

runner = CliRunner()


def test_rows_summarised_gradients_complete_and_saved(tmp_path):
    x = np.linspace(-2.0, 3.0, 20_001)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "grads"
    r = runner.invoke(app, ["grad", "sum(x**2) + y", "--x", f"@{tmp_path / 'x.npy'}",
                            "--y", "2", "--no-check", "--format", "json",
                            "--save-grads", str(out)])
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    np.testing.assert_array_equal(obj["grads"]["x"], 2 * x)       # d sum(x^2)/dx = 2x
    assert obj["grads"]["y"] == 1
    row = next(g for g in obj["graph"] if g["name"] == "x")
    assert row["value"] == {"shape": [20_001], "min": -2.0, "max": 3.0,
                            "mean": float(x.mean()), "summary": True}
    assert row["grad"]["summary"] is True and row["grad"]["max"] == 6.0
    leaf = next(g for g in obj["leaves"] if g["name"] == "x")
    assert leaf["grad"]["min"] == -4.0
    small = next(g for g in obj["graph"] if g["name"] == "y")
    assert small["value"] == 2
    np.testing.assert_array_equal(np.load(out / "x.npy"), 2 * x)
    assert np.load(out / "y.npy") == 1


def test_non_finite_gradients_stay_strict_json(tmp_path):
    x = np.ones(20_000)
    x[5] = np.inf
    np.save(tmp_path / "x.npy", x)
    r = runner.invoke(app, ["grad", "sum(x*x)", "--x", f"@{tmp_path / 'x.npy'}",
                            "--no-check", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert obj["grads"]["x"][5] == "Infinity" and obj["grads"]["x"][0] == 2


def test_save_grads_to_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "f").write_text("")
    r = runner.invoke(app, ["grad", "x*2", "--x", "1", "--save-grads", str(tmp_path / "f")])
    assert r.exit_code == 2
    assert r.stderr.startswith("error: --save-grads: cannot write to") and \
        "Traceback" not in r.stderr


def _strict(text: str):
    return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_large_arrays_with_one_or_several_kinds_of_non_finite_numbers():
    from gradcli.cli.jsonout import LargeArray, dumps
    a = np.linspace(-1.0, 1.0, 30_000)
    nan_only = a.copy()
    nan_only[[3, 29_999]] = np.nan
    mixed = a.copy()
    mixed[[1, 2, 3]] = [np.nan, np.inf, -np.inf]
    obj = _strict(dumps({"a": LargeArray(a), "n": LargeArray(nan_only),
                         "m": [LargeArray(mixed), 7]}))
    assert obj["a"] == a.tolist()
    assert obj["n"][3] == obj["n"][29_999] == "NaN" and obj["n"][4] == a[4]
    assert obj["m"][0][1:4] == ["NaN", "Infinity", "-Infinity"] and obj["m"][1] == 7
    assert obj["m"][0][0] == -1.0 and obj["m"][0][-1] == 1.0


def test_a_printed_text_cannot_pose_as_a_large_array(tmp_path):
    """The marker of a large array in the written skeleton is random, so a program's
    text (here one with a NUL) stays text, and the arrays land where they belong."""
    x = np.arange(20_000.0)
    np.save(tmp_path / "x.npy", x)
    r = runner.invoke(app, ["grad", 'print("\\x00large"); sum(x*x)', "--x",
                            f"@{tmp_path / 'x.npy'}", "--no-check", "--format", "json"])
    assert r.exit_code == 0, r.stderr
    obj = _strict(r.stdout)
    np.testing.assert_array_equal(obj["grads"]["x"], 2 * x)


def _hand_gradients(w, x, b) -> dict:
    """d/d(w, x, b) of sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w), by hand."""
    t = np.tanh(w * x + b)
    du = 2 * t * (1 - t * t)
    s = 1 / (1 + np.exp(-x))
    return {"w": du * x + s / x.size, "x": du * w + s * (1 - s) * w / x.size, "b": du}


def test_a_large_elementwise_check_covers_every_element():
    """3x30 000 elements, where one element at a time would take 180 000 runs: the
    program is a sum of reductions of elementwise expressions, so every element of a
    variable is nudged at once and the reduced tensors differenced element by element,
    and every element is checked (passed), each difference within rounding of the
    hand-derived gradient."""
    import gradcli
    from gradcli.check import run_check
    rng = np.random.default_rng(1)
    w, x, b = (rng.normal(size=30_000) for _ in range(3))
    result = gradcli.evaluate("sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w)",
                              {"w": w, "x": x, "b": b})
    report = run_check(result, timeout=3.0)
    assert report["status"] == "passed" and report["method"] == "numeric"
    want = _hand_gradients(w, x, b)
    for name, entry in report["variables"].items():
        assert entry["status"] == "passed" and entry["checked"] == 30_000
        np.testing.assert_allclose(np.asarray(entry["expected"], dtype=float), want[name],
                                   rtol=1e-7, atol=1e-8)


def test_a_large_check_samples_what_mixes_elements_within_its_budget():
    """b also enters through a cumsum, whose element j depends on b[0..j]: b is nudged
    one element at a time, and a budget far short of the 60 000 runs that takes still
    checks its elements from the first on, each against the hand-derived gradient, and
    says how many (partial); w and x are still checked whole."""
    import gradcli
    from gradcli.check import run_check
    rng = np.random.default_rng(1)
    w, x, b = (rng.normal(size=30_000) for _ in range(3))
    result = gradcli.evaluate("sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w) + "
                              "sum(cumsum(b, 0))", {"w": w, "x": x, "b": b})
    report = run_check(result, timeout=3.0)
    assert report["status"] == "partial" and report["method"] == "numeric"
    want = _hand_gradients(w, x, b)
    want["b"] = want["b"] + np.arange(b.size, 0, -1)     # d/db[i] sum(cumsum(b)) = n - i
    # a central difference of a sum of ~10^4 carries a rounding error of up to
    # 8 eps |f| / 2h (the bound the check itself allows for it)
    rounding = 8 * np.finfo(float).eps * abs(float(result.value)) / (2 * 1e-6)
    variables = report["variables"]
    assert variables["w"]["status"] == variables["x"]["status"] == "passed"
    entry = variables["b"]
    assert entry["status"] == "partial" and 1 <= entry["checked"] < 30_000
    expected = np.asarray(entry["expected"], dtype=float)
    assert np.isfinite(expected[0])              # the first element comes first
    checked = np.isfinite(expected)
    assert checked.sum() == entry["checked"]
    np.testing.assert_allclose(expected[checked], want["b"][checked], rtol=1e-5,
                               atol=rounding)
    assert "time budget" in report["reason"]


def test_a_large_check_entry_is_a_summary_and_says_where_it_failed(tmp_path, monkeypatch):
    """The check's expected/actual past 1000 elements are summaries like graph rows (the
    gradient is complete in grads); a failed entry names its first failing elements.
    The object still meets the published JSON Schema."""
    import jsonschema

    from gradcli.autograd.ops import REGISTRY
    from gradcli.cli.schema import load

    def wrong_where_positive(F, g, x, out):         # sin's VJP, off where x > 2.9
        return g * np.cos(x) * np.where(x > 2.9, 1.001, 1.0)

    monkeypatch.setattr(REGISTRY["sin"], "vjps", (wrong_where_positive,))
    x = np.linspace(-3.0, 3.0, 3000)
    np.save(tmp_path / "x.npy", x)
    r = runner.invoke(app, ["grad", "sum(sin(x)*2)", "--x", f"@{tmp_path / 'x.npy'}",
                            "--format", "json"])
    assert r.exit_code == 1, r.stderr
    obj = _strict(r.stdout)
    jsonschema.Draft202012Validator(load("result")).validate(obj)
    np.testing.assert_allclose(obj["grads"]["x"], 2 * np.cos(x) *
                               np.where(x > 2.9, 1.001, 1.0), rtol=1e-15)
    entry = obj["check"]["variables"]["x"]
    assert obj["check"]["status"] == entry["status"] == "failed"
    assert entry["checked"] == 3000
    first = int(np.argmax(x > 2.9))
    assert entry["failed_at"] == [[k] for k in range(first, first + 10)]
    assert entry["expected"]["summary"] is True and entry["expected"]["shape"] == [3000]
    assert entry["expected"]["max"] == pytest.approx(2 * np.cos(x).max(), rel=1e-8)
    assert entry["actual"]["summary"] is True
