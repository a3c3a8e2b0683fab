"""Rebuild the reference outputs of examples/torch/*.py by running them with PyTorch.

    /tmp/torchenv/bin/python tests/data/torch/regenerate.py [--python PATH] [NAME.py ...]

For every script NAME.py in examples/torch this runs ``PYTHON NAME.py`` (cwd = the
examples folder, PYTHONWARNINGS unset, one OpenMP thread) and writes

- NAME.out: the exact stdout bytes, with each object address ``at 0x7f3a...>``
  replaced by ``at 0x...>``;
- its entry in examples/torch/expected.json:
  ``{"exit": 0|2, "stderr": [...], "random": bool}`` (+ ``"line": N`` for an exception)
  where "stderr" lists, in order, the message of every warning Python printed (the
  build-specific " (Triggered internally at ...)" suffix removed) and, for a script
  that ends in an uncaught exception, the traceback's final line ("RuntimeError: ...").
  Python exits 1 on an exception; gradcli exits 2, so 2 is recorded. "line" is the
  1-based line, in the script, of the innermost script frame of the traceback.

A script is random when it calls torch.manual_seed / rand / randn / nn.Linear without
overwriting the weights; the RANDOM set below names them. The tests never run this file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "torch"
EXPECTED = EXAMPLES / "expected.json"
DEFAULT_PYTHON = "/tmp/torchenv/bin/python"

# Scripts whose output depends on random numbers (their .out is kept, tests check structure).
RANDOM = {"21_train_mlp.py"}

ADDRESS = re.compile(rb" at 0x[0-9a-fA-F]+>")
WARNING = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<cat>\w*Warning): (?P<msg>.*)$")
FRAME = re.compile(r'^  File "(?P<file>.+)", line (?P<line>\d+), in ')
TRIGGERED = re.compile(r" \(Triggered internally at [^)]*\.\)$")


def parse_stderr(text: str, script: Path) -> tuple[list[str], int | None]:
    """The warning messages and final exception line of a run, and the raising line."""
    messages: list[str] = []
    line_no = None
    lines = text.splitlines()
    in_traceback = False
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
            continue
        if in_traceback:
            frame = FRAME.match(line)
            if frame:
                if Path(frame["file"]).resolve() == script.resolve():
                    line_no = int(frame["line"])
                continue
            if line.startswith("    ") or line.strip() == "" or set(line.strip()) <= set("^~ "):
                continue
            # The exception line (the rest of a multi-line message follows it).
            messages.append("\n".join(lines[i:]).rstrip("\n"))
            break
        match = WARNING.match(line)
        if match:
            messages.append(TRIGGERED.sub("", match["msg"]))
    return messages, line_no


def run(script: Path, python: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONWARN")}
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run([python, script.name], cwd=script.parent, env=env,
                          capture_output=True, timeout=600)
    stdout = ADDRESS.sub(b" at 0x...>", proc.stdout)
    script.with_suffix(".out").write_bytes(stdout)
    stderr = proc.stderr.decode()
    messages, line_no = parse_stderr(stderr, script)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{script.name}: exit {proc.returncode}\n{stderr}")
    entry = {"exit": 0 if proc.returncode == 0 else 2, "stderr": messages,
             "random": script.name in RANDOM}
    if proc.returncode == 1:
        if line_no is None or "Traceback" not in stderr:
            raise SystemExit(f"{script.name}: no traceback found\n{stderr}")
        entry["line"] = line_no
    return entry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=DEFAULT_PYTHON)
    ap.add_argument("names", nargs="*", help="only these scripts (default: all)")
    args = ap.parse_args()
    scripts = sorted(EXAMPLES.glob("*.py"))
    if args.names:
        scripts = [s for s in scripts if s.name in args.names]
    expected = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    expected = {k: v for k, v in expected.items() if (EXAMPLES / k).exists()}
    for script in scripts:
        entry = run(script, args.python)
        expected[script.name] = entry
        print(f"{script.name}: exit {entry['exit']}, {len(entry['stderr'])} stderr line(s)",
              file=sys.stderr)
    EXPECTED.write_text(json.dumps(dict(sorted(expected.items())), indent=2) + "\n")


if __name__ == "__main__":
    main()
