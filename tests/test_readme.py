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
