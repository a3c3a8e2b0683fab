"""Every command's --help as a newcomer reads it (80 columns): nothing cut, nothing eaten
as rich markup, and every example it shows runs, in a shell, with the exit code the help
documents (0: every example is a passing run); completion offers the choices of choice
options, not file names."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer.main
import typer.rich_utils
from typer.testing import CliRunner

from gradcli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(typer.main.get_command(app).commands)
BIN = os.path.dirname(shutil.which("gradcli", path=os.path.dirname(sys.executable))
                      or sys.executable)


def help_text(*command) -> str:
    previous = typer.rich_utils.MAX_WIDTH
    typer.rich_utils.MAX_WIDTH = 80
    try:
        r = CliRunner().invoke(app, [*command, "--help"], env={"NO_COLOR": "1"})
    finally:
        typer.rich_utils.MAX_WIDTH = previous
    assert r.exit_code == 0, r.output
    return r.output


def shown_examples(text: str) -> list:
    """The example commands of a help text, as shown (one a line, under 'Example')."""
    out, inside = [], False
    for line in text.splitlines():
        if line.strip() in ("Examples", "Example:") or line.strip().startswith("Example:"):
            inside = True
            rest = line.strip()[len("Example:"):].strip() if ":" in line else ""
            if rest:
                out.append(rest)
            continue
        if inside:
            if line.startswith("╭"):
                break
            if line.strip():
                out.append(line.strip())
    return out


ALL = [(cmd, example) for cmd in [None, *COMMANDS]
       for example in shown_examples(help_text(*([cmd] if cmd else [])))]


def test_every_command_shows_examples():
    for cmd in COMMANDS:
        assert len(shown_examples(help_text(cmd))) >= 2, cmd
    assert shown_examples(help_text()) == ['gradcli grad "(x1*x2+x3)**2" --x1 2 --x2 3 --x3 1']


@pytest.mark.parametrize("cmd", [None, *COMMANDS])
def test_help_fits_80_columns_uncut(cmd):
    text = help_text(*([cmd] if cmd else []))
    assert "…" not in text                      # e.g. no "--upstream,--gradi…"
    assert all(len(line) <= 80 for line in text.splitlines())
    for example in shown_examples(text):        # each example on one line, whole
        assert example.startswith(("gradcli ", "cat ", "echo ")), example


def test_grad_help_shows_every_option_name_whole():
    text = help_text("grad")
    for name in ("--upstream,--gradient", "--check-timeout", "--retain-grad", "--no-check"):
        assert name in text


def test_jacobian_example_keeps_its_brackets():
    # rich used to read [x*y, x + y] as a markup tag: the help showed stack()
    assert 'gradcli jacobian "stack([x*y, x + y])" --x 2 --y 3 --format plain' in \
        shown_examples(help_text("jacobian"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A directory holding every file the examples name."""
    d = tmp_path_factory.mktemp("help-examples")
    np.save(d / "w.npy", np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.save(d / "x.npy", np.array([0.5, -0.5]))
    np.save(d / "b.npy", np.array([0.1, 0.2]))
    script = "import torch\nx = torch.tensor(2.0, requires_grad=True)\n(x**2).backward()\n" \
             "print(x.grad)\n"
    (d / "tutorial.py").write_text(script)
    (d / "snippet.py").write_text(script)
    (d / "jobs.jsonl").write_text(
        json.dumps({"id": 1, "expr": "x**2", "vars": {"x": 3}}) + "\n" +
        json.dumps({"id": 2, "expr": "sin(x)*y", "vars": {"x": 1, "y": 2}}) + "\n")
    (d / "README.md").write_text("# notes\n")
    (d / "examples").symlink_to(ROOT / "examples")
    return d


@pytest.mark.parametrize("cmd, example", ALL, ids=[f"{c}:{e[:50]}" for c, e in ALL])
def test_every_help_example_runs(cmd, example, workdir):
    if ("| jq" in example and not shutil.which("jq")) or \
            (("dot -T" in example or ".svg" in example) and not shutil.which("dot")):
        pytest.skip("needs jq / Graphviz dot")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    p = subprocess.run(["bash", "-o", "pipefail", "-c", example], cwd=workdir, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, (example, p.stdout[-2000:], p.stderr[-2000:])
    assert "Traceback" not in p.stderr and "error:" not in p.stderr, p.stderr
    if "&& echo ok" in example:
        assert p.stdout == "ok\n"
    if "-o graph.svg" in example:
        assert (workdir / "graph.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    if "--mermaid >> README.md" in example:
        assert "flowchart" in (workdir / "README.md").read_text()


def complete(words: str) -> list:
    env = {**os.environ, "_GRADCLI_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split(" ")) - 1)}
    p = subprocess.run([os.path.join(BIN, "gradcli")], env=env, capture_output=True,
                       text=True, timeout=120)
    return p.stdout.split()


@pytest.mark.skipif(not shutil.which("gradcli", path=BIN), reason="gradcli not installed")
@pytest.mark.parametrize("command", ["grad", "hessian", "jacobian"])
def test_completion_offers_the_choices_of_format_and_dtype(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "table.txt").write_text("")         # a file name it must not offer
    assert complete(f'gradcli {command} x --format ') == ["table", "json", "plain"]
    assert complete(f'gradcli {command} x --format j') == ["json"]
    assert complete(f'gradcli {command} x --dtype ') == ["float64", "float32"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_process_builds_only_the_command_it_runs_and_it_behaves_the_same(command):
    """`gradcli CMD ...` builds only CMD's options (start-up); its help, its usage errors
    and its results are those of the app with every command."""
    from gradcli.cli.app import COMMANDS as BY_NAME, make_app
    assert set(BY_NAME) == set(COMMANDS)
    only = make_app(command)
    assert sorted(typer.main.get_command(only).commands) == sorted(
        name for name, module in BY_NAME.items() if module == BY_NAME[command])
    runner = CliRunner()
    for args in ([command, "--help"], [command, "--no-such-option"],
                 [command, "x**2", "--x", "3", "--no-check"]):
        full, lazy = runner.invoke(app, args), runner.invoke(only, args)
        assert (lazy.exit_code, lazy.output) == (full.exit_code, full.output)
