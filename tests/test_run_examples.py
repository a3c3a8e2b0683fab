"""`gradcli run` on the PyTorch tutorial scripts of examples/torch: stdout byte for byte
as PyTorch 2.13 printed it (examples/torch/*.out, written once by real PyTorch with
tests/data/torch/regenerate.py), the same warnings and errors on stderr, the same exit
status (2 where Python died of an exception)."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import pytest

from gradcli.lang.script import format_error, run_script

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples" / "torch"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())
ADDRESS = re.compile(r"0x[0-9a-f]+")


def run(name: str):
    stderr: list = []
    text = (EXAMPLES / name).read_text()
    out, error = run_script(text, filename=name, warn=stderr.append)
    if error is not None:
        stderr.append(format_error(error, name))
    return ADDRESS.sub("0x...", out), "".join(stderr), error


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if not e["random"]))
def test_prints_what_pytorch_printed(name):
    expected = EXPECTED[name]
    out, err, error = run(name)
    assert out == (EXAMPLES / name).with_suffix(".out").read_text()
    assert (2 if error is not None else 0) == expected["exit"], err
    for line in expected["stderr"]:
        assert line in err
    if "line" in expected:
        assert error.line == expected["line"]


def test_every_example_is_listed():
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    assert scripts == set(EXPECTED) and len(scripts) >= 30


def test_the_training_loop_learns():
    """21_train_mlp draws its initial weights from gradcli's generator (SPEC 7): its
    numbers are not PyTorch's, but the loss must fall, and the lines are the same."""
    out, err, error = run("21_train_mlp.py")
    assert error is None, err
    expected = (EXAMPLES / "21_train_mlp.out").read_text().splitlines()
    lines = out.splitlines()
    assert [re.sub(r"[\d.]+$", "", s) for s in lines] == \
        [re.sub(r"[\d.]+$", "", s) for s in expected]
    losses = [float(s.split()[-1]) for s in lines]
    assert losses[-1] < losses[0] / 100


def test_a_seed_makes_a_run_repeatable():
    assert run("21_train_mlp.py")[0] == run("21_train_mlp.py")[0]


@pytest.mark.parametrize("name", ["01_accumulate.py", "19_second_backward_error.py",
                                  "02_shared_leaves.py"])
def test_the_installed_command(name):
    """Through the installed `gradcli run`: stdout, stderr and the exit status."""
    expected = EXPECTED[name]
    p = subprocess.run([sys.executable, "-m", "gradcli", "run", str(EXAMPLES / name)],
                       capture_output=True, text=True, timeout=120)
    assert ADDRESS.sub("0x...", p.stdout) == (EXAMPLES / name).with_suffix(".out").read_text()
    assert p.returncode == expected["exit"]
    for line in expected["stderr"]:
        assert line in p.stderr
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr
