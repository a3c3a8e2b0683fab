"""What a batch (and grad) writes when the world gets in the way (issue 12): an interrupt
leaves whole lines only, a full disk is a clear error, and user text in error messages
cannot send control characters to the terminal."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from gradcli.cli.app import app

GRADCLI = [shutil.which("gradcli")] if shutil.which("gradcli") else [sys.executable, "-m",
                                                                      "gradcli"]
runner = CliRunner()


def records(n: int) -> bytes:
    return "".join(json.dumps({"id": k, "expr": "x*y + sin(x)", "vars": {"x": k / 7, "y": 2}})
                   + "\n" for k in range(n)).encode()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_while_writing_leaves_whole_lines(tmp_path, signum, code):
    """The reader of stdout is slow, so gradcli blocks in the middle of a chunk's
    write; the signal arrives then.  Every line that reaches the reader is whole."""
    data = tmp_path / "in.jsonl"
    data.write_bytes(records(60_000))
    proc = subprocess.Popen(GRADCLI + ["batch", str(data), "--no-check"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        first = proc.stdout.read(4096)                # gradcli is writing now, and blocks
        time.sleep(0.5)
        proc.send_signal(signum)
        rest = proc.stdout.read()
        err = proc.stderr.read().decode()
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = first + rest
    assert out.endswith(b"\n"), out[-200:]
    lines = out.decode().splitlines()
    assert 0 < len(lines) < 60_000
    assert [json.loads(line)["id"] for line in lines] == list(range(len(lines)))
    assert proc.returncode == code
    assert err.startswith("interrupted: records ") and "Traceback" not in err


def test_an_interrupt_while_computing_ends_after_the_last_whole_line(tmp_path):
    """Input arrives slowly: the signal lands while gradcli waits or computes."""
    proc = subprocess.Popen(GRADCLI + ["batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(records(5))
        proc.stdin.flush()
        first = proc.stdout.readline()             # answered; now it waits for input
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143
    out = first + out
    assert out.endswith(b"\n") and 1 <= len(out.splitlines()) <= 5
    assert b"interrupted: records" in err and b"Traceback" not in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [
    ["batch", "-q"], ["grad", "x*2", "--x", "1"], ["grad", "x*2", "--x", "1", "--format",
                                                   "json"],
    ["hessian", "x**3", "--x", "1", "--format", "plain"],
])
def test_a_full_disk_is_a_clear_write_error(args):
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(GRADCLI + args, input=records(3000), stdout=full,
                              stderr=subprocess.PIPE, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.decode() == "error: cannot write the output: No space left on device\n"


@pytest.mark.parametrize("program, shown", [
    ("x + \x1b[31mred\x1b[0m)", "x + \\x1b[31mred\\x1b[0m)"),
    ("y = x\x07\x08 + 1 +)", "y = x\\x07\\x08 + 1 +)"),
    ("x + \u202e1", "x + \\u202e1"),
])
def test_control_characters_in_a_program_are_shown_escaped(tmp_path, program, shown):
    path = tmp_path / "p.grad"
    path.write_text(program)
    r = runner.invoke(app, ["grad", "-f", str(path), "--x", "1"])
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert lines[1] == "  " + shown
    assert lines[1].isprintable()
    # the caret stays under the offending character, counted in the escaped line
    bad = next(i for i, ch in enumerate(program) if not ch.isprintable() or ch == "\u202e")
    caret = lines[2].index("^") - 2
    assert shown[caret:].startswith("\\")
    assert caret == len(shown[:caret]) and program[:bad] == shown[:caret]
    assert all(ch.isprintable() for ch in r.stderr.replace("\n", ""))
