"""Reading batch input: a large element, and many small ones, as a JSON array and as
JSON Lines, whole processes taking turns.

    python benchmarks/batch_reader.py [--mb 10] [--records 200000] [--repeat 3]
                                      [--gradcli PATH] [--baseline PATH]

Inputs: one record whose "vars" hold a tensor of --mb megabytes of JSON (plus one
small record after it), and --records small records; each as one JSON array and as
JSON Lines.  Timed with --no-check (the reader and the engine, not SymPy), best of
--repeat.  With --baseline, another gradcli (an earlier build) runs in the same turns.
The array and JSON Lines times of one build should be close: an element costs what a
line costs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def write_inputs(tmp: str, mb: int, records: int) -> dict:
    n = mb * (1 << 20) // 11                     # "1.2345678, " is 11 bytes
    big = {"id": "big", "expr": "sum(x*x)", "vars": {"x": [1.2345678] * n}}
    small = [{"id": k, "expr": "x*y + sin(x)", "vars": {"x": k % 97 / 7, "y": 2.5}}
             for k in range(records)]
    tail = {"id": "after", "expr": "x*2", "vars": {"x": 1}}
    paths = {}
    for name, items in (("big", [big, tail]), ("small", small)):
        texts = [json.dumps(item) for item in items]
        for kind, text in (("array", "[" + ",\n".join(texts) + "]\n"),
                           ("lines", "\n".join(texts) + "\n")):
            path = os.path.join(tmp, f"{name}.{kind}.json")
            with open(path, "w") as fh:
                fh.write(text)
            paths[name, kind] = path
    return paths


def run(cmd: list) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-400:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=10)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gradcli", default=shutil.which("gradcli"))
    ap.add_argument("--baseline", default=None)
    args = ap.parse_args()
    builds = {"this build": args.gradcli}
    if args.baseline:
        builds["baseline"] = args.baseline
    tmp = tempfile.mkdtemp()
    paths = write_inputs(tmp, args.mb, args.records)
    best: dict = {}
    for _ in range(args.repeat):
        for build, exe in builds.items():
            for (name, kind), path in paths.items():
                key = (build, name, kind)
                best[key] = min(best.get(key, float("inf")),
                                run([exe, "batch", path, "-q", "--no-check"]))
    print(f"one {args.mb} MB element (+1 record), and {args.records:,} small records; "
          f"--no-check, best of {args.repeat}")
    for build in builds:
        for name in ("big", "small"):
            a, lines = best[build, name, "array"], best[build, name, "lines"]
            print(f"{build:>10}  {name:>5}: array {a:7.2f} s   JSON Lines {lines:7.2f} s   "
                  f"(array / lines {a / lines:.2f}x)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
