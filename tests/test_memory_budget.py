"""--max-memory: a clear limit error before a step allocates past the budget (issue 14),
for factories, ops, backward steps and loaded files; sizes parsed with their units."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import gradcli
from gradcli.autograd.budget import MemoryBudget, parse_size, result_elements
from gradcli.cli.app import app
from gradcli.errors import LimitError

runner = CliRunner()
MIB = 1 << 20


@pytest.mark.parametrize("text, size", [
    ("1048576", 1 << 20), ("500M", 500 * MIB), ("2G", 2 << 30), ("1.5GiB", 3 << 29),
    ("64kb", 64 << 10), (" 3 MB ", 3 * MIB), ("1t", 1 << 40),
])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "12Q", "1.2.3G", "-5M", "0", "0.1", "nanG",
                                  "infG"])
def test_bad_sizes(text):
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


@pytest.mark.parametrize("grows, shapes, n", [
    ("broadcast", [(3, 1), (1, 4)], 12), ("matmul", [(5, 2, 3), (3, 7)], 70),
    ("matmul", [(3,), (3, 4)], 4), ("matmul", [(3,), (3,)], 1), ("join", [(2, 3), (4, 3)], 18),
    (None, [(10,), (2,)], 10), ("broadcast", [(3,), (4,)], None),
])
def test_result_sizes(grows, shapes, n):
    assert result_elements(grows, shapes) == n


def test_an_op_is_refused_before_it_allocates():
    """The product would be 10^8 elements (800 MB); the budget refuses it with the
    numbers, and nothing of that size was made (the process stays far below it)."""
    from gradcli.autograd.budget import resident_bytes
    x = np.ones((10_000, 1))
    before = resident_bytes()
    with MemoryBudget(before + 100 * MIB), pytest.raises(LimitError) as info:
        gradcli.evaluate("sum(x * y)", {"x": x, "y": np.ones((1, 10_000))})
    assert "100,000,000 elements" in info.value.message
    assert "--max-memory" in info.value.message
    assert resident_bytes() < before + 100 * MIB


def test_within_the_budget_nothing_changes():
    x = np.linspace(-1, 1, 300_000)
    with MemoryBudget(8 << 30):
        result = gradcli.evaluate("sum(x**3)", {"x": x})
    np.testing.assert_allclose(result.grads["x"], 3 * x * x, rtol=1e-15)


def test_backward_steps_are_held_to_the_budget():
    """The forward fits; the backward's gradient of the 2x10^7-element broadcast does
    not, once the budget is lowered between the two."""
    from gradcli.autograd.budget import resident_bytes
    a = gradcli.tensor(np.ones((4_000, 1)), requires_grad=True)
    y = (a * gradcli.tensor(np.ones((1, 5_000)))).sum()
    with MemoryBudget(resident_bytes() + 40 * MIB), pytest.raises(LimitError) as info:
        y.backward()
    assert "backward of" in info.value.message


def test_cli_errors_say_what_and_exit_2(tmp_path):
    r = runner.invoke(app, ["grad", "sum(ones(6000, 6000) * x)", "--x", "1",
                            "--max-memory", "100M"])
    assert r.exit_code == 2
    assert r.stderr.startswith("error: a tensor of shape [6000, 6000] would allocate "
                               "274.7 MiB") and "Traceback" not in r.stderr
    r = runner.invoke(app, ["grad", "x*2", "--x", "1", "--max-memory", "lots"])
    assert r.exit_code == 2 and "--max-memory: 'lots' is not a size" in r.stderr
    r = runner.invoke(app, ["grad", "x*2", "--x", "1", "--max-memory", "none",
                            "--format", "plain", "--no-check"])
    assert r.exit_code == 0 and r.stdout == "x 2\n"
    np.save(tmp_path / "big.npy", np.zeros(3_000_000))
    r = runner.invoke(app, ["jacobian", "x*2", "--x", f"@{tmp_path / 'big.npy'}",
                            "--max-memory", "20M"])
    assert r.exit_code == 2 and "loading" in r.stderr and "big.npy" in r.stderr


def test_run_scripts_are_held_to_it(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import torch\nprint('before')\nx = torch.ones(8000, 8000)\n")
    r = runner.invoke(app, ["run", str(script), "--max-memory", "120M"])
    assert r.exit_code == 2 and r.stdout == "before\n"
    assert "line 3" in r.stderr and "244.1 MiB" in r.stderr   # float32: 4 bytes each


def _installed() -> list:
    import os
    import shutil
    here = shutil.which("gradcli", path=os.path.dirname(sys.executable))
    return [here or shutil.which("gradcli") or "gradcli"]


PROGRAM = ["grad", "sum(ones(10000, 10000) * x)", "--x", "2", "--max-memory", "300M"]
MESSAGE = "error: a tensor of shape [10000, 10000] would allocate 762.9 MiB"


def test_the_installed_command_refuses_with_exit_2():
    proc = subprocess.run(_installed() + PROGRAM, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith(MESSAGE), proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux's /proc")
def test_the_refused_run_stays_under_the_limit():
    """The same 800 MB program with a 300 MB budget: the process's peak resident memory
    (VmHWM, read in the process itself as it ends) stays under the budget."""
    code = ("import sys\nfrom gradcli.cli.app import main\n"
            f"sys.argv = ['gradcli'] + {PROGRAM!r}\n"
            "try:\n    main()\nfinally:\n"
            "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
            "    sys.stderr.write('\\n' + hwm)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith(MESSAGE), proc.stderr
    peak_kb = int(proc.stderr.split("VmHWM:")[1].split()[0])
    assert peak_kb < 300 * 1024
