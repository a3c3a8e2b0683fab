"""grad --format json with large arrays: graph and leaf rows summarised past 1000
elements (SPEC 4.2), gradients complete (hand-derived values), --save-grads DIR."""

from __future__ import annotations

import json

import numpy as np
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
