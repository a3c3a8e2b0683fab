"""`gradcli run --check` (SPEC 7): each backward()/grad() call of a script checked on its
own against SymPy; summary on stderr, exit 1 when one fails.

Oracles: hand-derived derivatives (the scripts are small), a deliberately broken VJP
(the check must fail it), and the PyTorch reference scripts of examples/torch (their
gradients equal PyTorch's, so the check must never call them failed).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcli.autograd.ops.core import REGISTRY
from gradcli.check.script import ScriptChecker
from gradcli.cli.app import app
from gradcli.lang.script import run_script

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "torch"


def check(text: str, **options) -> ScriptChecker:
    checker = ScriptChecker(**options)
    printed, error = run_script(text, watchers=[checker])
    assert error is None, error
    return checker


def statuses(checker) -> list:
    return [(c.line, c.report["status"]) for c in checker.calls]


def test_each_backward_is_checked_on_its_own_contribution():
    # x.grad is 4, then 5: the second call added 1 (d x/dx), not 5
    c = check("import torch\nx = torch.tensor(2.0, requires_grad=True)\n"
              "y = x**2\ny.backward()\nz = x\nz.backward()\n")
    assert statuses(c) == [(4, "passed"), (6, "passed")]
    first, second = c.calls
    assert first.report["variables"]["x"]["expected"] == 4.0
    assert second.report["variables"]["x"]["expected"] == 1.0
    assert first.report["symbolic"]["x"] == "2*x"
    assert c.summary_lines() == ["check: passed: 2 of 2 backward/grad calls passed, "
                                 "max abs err 0"]


def test_a_wrong_vjp_fails_and_names_the_variable(monkeypatch, tmp_path):
    sin = REGISTRY["sin"]
    monkeypatch.setattr(sin, "vjps", (lambda F, g, x, out: g * F.cos(x) * 1.001,))
    path = tmp_path / "s.py"
    path.write_text("import torch\nx = torch.tensor(0.5, dtype=torch.float64, "
                    "requires_grad=True)\ny = torch.sin(x) * 3\ny.backward()\n")
    r = runner.invoke(app, ["run", str(path), "--check"])
    assert r.exit_code == 1, r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith("check: line 4: y.backward(): failed")
    assert lines[1].startswith("  x: expected 2.632747")
    assert lines[-1].startswith("check: failed: 0 of 1 backward/grad calls passed")


def test_a_training_loop_is_checked_at_each_step_where_the_point_moved():
    text = ("import torch\nw = torch.tensor([1.0, -2.0], dtype=torch.float64, "
            "requires_grad=True)\nx = torch.tensor([[1.0, 2.0], [3.0, 4.0]], "
            "dtype=torch.float64)\nfor step in range(5):\n"
            "    loss = ((x @ w - 1) ** 2).sum()\n    loss.backward()\n"
            "    with torch.no_grad():\n        w -= 0.01 * w.grad\n"
            "    w.grad.zero_()\n")
    c = check(text)
    assert statuses(c) == [(6, "passed")] * 5
    # at step k the expected gradient is that of the point w had then: 2 x^T (x w - 1)
    import numpy as np
    w = np.array([1.0, -2.0])
    xm = np.array([[1.0, 2.0], [3.0, 4.0]])
    for call in c.calls:
        g = 2 * xm.T @ (xm @ w - 1)
        np.testing.assert_allclose(call.report["variables"]["w"]["expected"], g,
                                   rtol=1e-15)
        w = w - 0.01 * g


def test_gradients_of_two_forwards_accumulate_and_each_is_checked():
    c = check("import torch\nx = torch.tensor(3.0, requires_grad=True)\n"
              "a = x * x\nb = torch.exp(x)\na.backward()\nb.backward()\n")
    assert statuses(c) == [(5, "passed"), (6, "passed")]
    assert c.calls[0].report["variables"]["x"]["expected"] == 6.0
    assert c.calls[1].report["symbolic"]["x"] == "exp(x)"


def test_an_in_place_update_after_use_is_replayed_as_it_was():
    c = check("import torch\nx = torch.tensor(2.0, dtype=torch.float64, "
              "requires_grad=True)\ny = x * 2\nz = torch.exp(y)\ny.add_(1)\n"
              "z.backward()\n")
    assert statuses(c) == [(6, "passed")]
    assert c.calls[0].report["variables"]["x"]["expected"] == \
        pytest.approx(2 * math.exp(4), rel=1e-15)       # exp(2x)' at 2, not exp(2x+1)'


def test_grad_calls_and_second_derivatives_are_checked():
    c = check("import torch\nx = torch.tensor(1.5, dtype=torch.float64, "
              "requires_grad=True)\ny = x**3\n"
              "dy, = torch.autograd.grad(y, x, create_graph=True)\n"
              "d2y, = torch.autograd.grad(dy, x)\n")
    assert statuses(c) == [(4, "passed"), (5, "passed")]
    assert c.calls[1].report["values"]["grad(dy, x)"]["expected"] == 9.0   # 6x


def test_a_grad_made_with_create_graph_and_reused_is_not_checked_not_failed():
    c = check("import torch\nx = torch.tensor(2.0, requires_grad=True)\n"
              "y = x**3\ny.backward(create_graph=True)\ng = x.grad\n"
              "x.grad = None\n(g * g).backward()\n")
    assert statuses(c) == [(4, "passed")]
    assert c.unchecked == {"its graph uses a .grad made by backward(create_graph=True), "
                           "which the check does not replay": 1}
    assert c.status() == "partial"


def test_a_kink_is_skipped_with_the_reason():
    c = check("import torch\nx = torch.tensor([0.0, 0.0], requires_grad=True)\n"
              "torch.relu(x).sum().backward()\n")
    (call,) = c.calls
    assert call.report["status"] == "skipped"         # as `gradcli grad` says
    assert call.report["reason"] == "relu has a kink at 0 (PyTorch uses 0)"
    assert c.status() == "skipped"


def test_only_the_elements_at_a_kink_are_skipped():
    c = check("import torch\nx = torch.tensor([0.0, 1.0], requires_grad=True)\n"
              "torch.relu(x).sum().backward()\n")
    (call,) = c.calls
    assert call.report["status"] == "partial"         # as `gradcli grad` says
    entry = call.report["variables"]["x"]
    assert entry["checked"] == 1 and entry["elements"] == 2
    assert "[0]: relu has a kink at 0 (PyTorch uses 0)" in entry["reason"]
    assert c.status() == "partial"


def test_past_the_budget_calls_are_counted_not_checked():
    c = check("import torch\nx = torch.tensor(2.0, requires_grad=True)\n"
              "for i in range(3):\n    (x * x).backward()\n", budget=0.0)
    assert c.calls == []
    assert c.unchecked == {"the check's time budget of 0 s ran out": 3}
    assert c.summary_lines()[-1] == ("check: skipped: 0 of 3 backward/grad calls passed; "
                                     "3 not checked (the check's time budget of 0 s ran "
                                     "out)")


def test_no_backward_says_so():
    c = check("import torch\nprint(torch.ones(2))\n")
    assert c.summary_lines() == ["check: skipped: the script ran no backward() or grad()"]


FAST = sorted(p for p in EXAMPLES.glob("*.py")
              if not p.name.startswith(("21_", "49_")))       # MLPs: see below


@pytest.mark.parametrize("script", FAST, ids=lambda p: p.name)
def test_reference_scripts_never_fail_the_check(script):
    """Their gradients equal PyTorch's: any 'failed' would be a false alarm."""
    checker = ScriptChecker(budget=30.0)
    run_script(script.read_text(), watchers=[checker])
    assert checker.status() != "failed", checker.summary_lines()
    assert all(c.report["status"] in ("passed", "partial", "skipped")
               for c in checker.calls)


def test_an_mlp_step_passes(tmp_path):
    text = (EXAMPLES / "21_train_mlp.py").read_text().replace("range(200)", "range(1)")
    text = text.replace("linspace(-1, 1, 20)", "linspace(-1, 1, 4)")
    c = check(text, timeout=120.0, budget=120.0)
    assert statuses(c) == [(20, "passed")]
    names = set(c.calls[0].report["variables"])
    assert names == {"model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"}


def test_installed_command_prints_the_summary_on_stderr(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("import torch\nx = torch.tensor(2.0, requires_grad=True)\n"
                    "(x ** 3).backward()\nprint(x.grad)\n")
    exe = Path(sys.executable).with_name("gradcli")
    r = subprocess.run([str(exe), "run", str(path), "--check"], capture_output=True,
                       text=True, timeout=300)
    assert (r.returncode, r.stdout) == (0, "tensor(12.)\n")
    assert r.stderr == "check: passed: 1 of 1 backward/grad calls passed, max abs err 0\n"


def test_bad_check_options_are_usage_errors():
    r = runner.invoke(app, ["run", "-", "--check", "--check-budget", "-1"],
                      input="print(1)\n")
    assert r.exit_code == 2
    assert r.stderr == "error: --check-budget must be a number >= 0, got -1\n"


LOOP = ("import torch\nw = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)\n"
        "opt = torch.optim.SGD([w], lr=0.1)\n"
        "for i in range(40):\n    opt.zero_grad()\n    loss = ((w - 1) ** 2).sum()\n"
        "    loss.backward()\n    opt.step()\nprint(round(loss.item(), 6))\n")


def test_the_record_of_a_long_script_is_bounded_and_says_what_it_left_unchecked():
    """The tape --check records has a size limit: past it, the record is let go and
    later calls are counted as not checked; the script itself runs on to the end."""
    from gradcli.autograd import tape as tapes
    stopped = []

    class Watch(ScriptChecker):
        def not_recorded(self, run, kind, line):
            stopped.append((len(run.events), run.tape.held, kind, line))
            super().not_recorded(run, kind, line)

    checker = Watch()
    limit = 20 * tapes.Tape.EVENT_BYTES      # a few iterations' events
    printed, error = run_script(LOOP, watchers=[checker], record_limit=limit)
    assert error is None and printed == run_script(LOOP)[0]   # the same run, to the end
    assert 1 <= len(checker.calls) < 40 and statuses(checker)[0] == (7, "passed")
    assert all(c.report["status"] == "passed" for c in checker.calls)
    from gradcli.autograd.budget import size_text
    reason = f"the record of the script's graph passed {size_text(limit)} and stopped"
    assert checker.unchecked == {reason: 40 - len(checker.calls)}
    assert stopped and all(events == 0 and held == 0 for events, held, _, _ in stopped)
    assert {(kind, line) for _, _, kind, line in stopped} == {("backward", 7)}
    summary = checker.summary_lines()[-1]
    assert summary.startswith(f"check: partial: {len(checker.calls)} of 40 backward/grad "
                              "calls passed")


def test_a_run_with_the_default_record_limit_checks_every_call_of_a_small_loop():
    checker = check(LOOP)
    assert len(checker.calls) == 40 and checker.unchecked == {}


def test_explain_says_once_where_the_record_stopped_and_numbers_steps_on():
    """--explain on a long loop: each call's chain rule, numbered on from the last, until
    the record's limit; then one line says the rest is not shown."""
    from gradcli.autograd import tape as tapes
    from gradcli.cli.run import _Tracer

    class Term:
        def __init__(self):
            self.text = []

        def out(self, text):
            self.text.append(text)

    term = Term()
    printed, error = run_script(LOOP, watchers=[_Tracer(term)],
                                record_limit=20 * tapes.Tape.EVENT_BYTES)
    assert error is None
    out = "".join(term.text)
    calls = out.count("[chain rule of backward(loss)]")
    assert 1 <= calls < 40
    assert out.count("not shown (the record of the script's graph passed") == 1
    numbers = [int(m.group(1)) for m in re.finditer(r"^ *(\d+)\. ", out, re.M)]
    assert numbers == list(range(1, 4 * calls + 1))     # 4 steps a call, numbered on
