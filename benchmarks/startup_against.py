"""Start-up of two gradcli installations side by side (this one against an earlier one).

    python benchmarks/startup_against.py OTHER_GRADCLI [--runs 21]

Each command runs as a whole process with this environment's ``gradcli`` and with
OTHER_GRADCLI (e.g. a venv with an earlier commit installed: ``pip install
git+...@COMMIT``), taking turns; prints the median and spread of each and the ratio of
medians.  Used for "a larger op table must not slow start-up": within 5%.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from startup import HEADLINE, SEED_SCRIPT, run  # noqa: E402

COMMANDS = {
    "grad (headline, check on)": HEADLINE,
    "grad --no-check": [*HEADLINE, "--no-check"],
    "grad --no-check --format json": [*HEADLINE, "--no-check", "--format", "json"],
    "--help": ["--help"],
    "run seed script": ["run", SEED_SCRIPT],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", help="the other installation's gradcli executable")
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    this = shutil.which("gradcli", path=os.path.dirname(sys.executable)) or \
        sys.exit("no gradcli beside this python")
    print(f"this: {this}\nother: {args.other}\n{args.runs} runs each, taking turns\n")
    for label, argv in COMMANDS.items():
        mine, theirs = [], []
        for _ in range(args.runs):
            mine.append(run([this, *argv]))
            theirs.append(run([args.other, *argv]))
        m, o = statistics.median(mine), statistics.median(theirs)
        print(f"{label:32} this {m * 1e3:6.0f} ms ({min(mine) * 1e3:.0f}-"
              f"{max(mine) * 1e3:.0f})  other {o * 1e3:6.0f} ms ({min(theirs) * 1e3:.0f}-"
              f"{max(theirs) * 1e3:.0f})  ratio {m / o:.3f}")


if __name__ == "__main__":
    main()
