"""The README's promises: its two set-up commands, CI running the same test command,
and the plain outputs its tour shows (run for real, compared line by line)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(text: str) -> list:
    return re.findall(r"```[a-z]*\n(.*?)```", text, re.S)


def test_readme_opens_with_exactly_two_pip_install_commands():
    body = README.split("\n", 1)[1].lstrip()
    assert body.startswith("```"), "the set-up commands come first"
    lines = code_blocks(body)[0].strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("pip install ") for line in lines)
    assert lines[0] == 'pip install . && gradcli grad "(x1*x2+x3)**2" --x1 2 --x2 3 --x3 1'


def test_ci_runs_the_readme_test_command():
    test_command = code_blocks(README)[0].strip().splitlines()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    last = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last.strip() == test_command


def test_headline_command_of_the_readme_runs():
    command = code_blocks(README)[0].strip().splitlines()[0].split("&& ", 1)[1]
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    assert "passed" in result.stdout and "42" in result.stdout


def plain_examples():
    """("$ gradcli ... --format plain", expected output lines) pairs of the tour."""
    pairs = []
    for block in code_blocks(README):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("$ gradcli") and "--format plain" in line:
                expected = []
                for out in lines[i + 1:]:
                    if out.startswith("$ "):
                        break
                    expected.append(out)
                pairs.append((line[2:], expected))
    return pairs


@pytest.mark.parametrize("command,expected", plain_examples())
def test_plain_outputs_shown_in_the_readme(command, expected):
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == expected


def test_the_tour_has_plain_examples():
    assert len(plain_examples()) >= 2


# -- every shown run of the README, run for real -----------------------------------------

def shown_runs() -> list:
    """(command, expected output lines) of every "$ ..." line of the README's blocks; a
    command may go on over lines ending in a backslash; "..." in the output stands for
    any number of lines."""
    runs = []
    for block in code_blocks(README):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            expected = []
            i += 1
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i])
                i += 1
            runs.append((command, expected))
    return runs


def _normal(line: str) -> str:
    line = re.sub(r"\d+ records/s", "N records/s", line.rstrip())   # a rate varies
    line = re.sub(r"with [\d.]+ MiB already in use", "with N MiB already in use", line)
    return line


def matches(expected: list, actual: list) -> bool:
    """Line for line; "..." matches any run of lines (iteratively, no recursion)."""
    states = {(0, 0)}
    while states:
        e, a = states.pop()
        if e == len(expected):
            if a == len(actual):
                return True
            continue
        if expected[e].strip() == "...":
            states.add((e + 1, a))
            if a < len(actual):
                states.add((e, a + 1))
        elif a < len(actual) and _normal(expected[e]) == _normal(actual[a]):
            states.add((e + 1, a + 1))
    return False


RUNS = shown_runs()


def test_the_readme_shows_runs():
    assert len(RUNS) >= 15
    assert sum(cmd.startswith("gradcli grad") for cmd, _ in RUNS) >= 8


@pytest.mark.parametrize("command, expected", RUNS, ids=[c[:60] for c, _ in RUNS])
def test_readme_output_is_what_the_command_prints(command, expected, tmp_path):
    """The README's outputs are checked against real runs, so they cannot drift."""
    import os
    import shutil
    import subprocess
    import sys
    if "| jq" in command and not shutil.which("jq"):
        pytest.skip("needs jq")
    for cmd, out in RUNS:                 # files the README shows with `$ cat FILE`
        if re.fullmatch(r"cat [\w.]+", cmd):
            (tmp_path / cmd[4:]).write_text("\n".join(out) + "\n")
    here = os.path.dirname(shutil.which("gradcli", path=os.path.dirname(sys.executable))
                           or sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(PATH=here + os.pathsep + env.get("PATH", ""), COLUMNS="80")
    p = subprocess.run(["bash", "-c", command + " 2>&1"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    actual = p.stdout.splitlines()
    assert matches(expected, actual), "\n".join(
        ["README shows:", *expected, "", "the command prints:", *actual])
