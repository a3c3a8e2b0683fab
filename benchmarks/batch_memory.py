"""Batch memory: peak RSS of `gradcli batch` stays flat whatever the record count.

    python benchmarks/batch_memory.py [--sizes 100000 1000000] [--array] [--no-check]
                                      [--one-by-one] [--keep DIR]

For each size, writes that many records (the scalar programs of batch_programs.json,
random points, streamed to a file so the generator holds nothing), then runs
`gradcli batch FILE > /dev/null` as a whole process and reads the child's own peak
resident set size from os.wait4 (the kernel's ru_maxrss of that one process, so runs
do not contaminate each other); every run starts with an empty derivative cache, so
each imports SymPy.  Prints each peak, the time, and the ratio of the
largest to the smallest size.  Target (SPEC 4.2, "memory stays flat"): 1 000 000
records within 1.2x of the peak for 100 000.  --array writes the records as one JSON
array on a single line (as `jq -c` prints one), which must stream just the same.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = 1.2


def make_records(path: str, n: int, seed: int = 1, array: bool = False) -> int:
    """n records cycling over the benchmark programs, as JSON Lines or (``array``) one
    JSON array on one line; returns the file size."""
    with open(os.path.join(HERE, "batch_programs.json")) as fh:
        programs = json.load(fh)
    rng = random.Random(seed)
    sep, end = (",", "") if array else ("\n", "\n")
    with open(path, "w") as fh:
        fh.write("[" if array else "")
        for i in range(n):
            p = programs[i % len(programs)]
            record = json.dumps({"id": i, "expr": p["expr"], "vars": {
                v: round(rng.uniform(0.5, 2.0), 6) for v in p["vars"]}})
            fh.write((sep if array and i else "") + record + end)
        fh.write("]\n" if array else "")
    return os.path.getsize(path)


def peak_rss(cmd: list) -> tuple:
    """Run cmd (stdout to /dev/null); return (peak RSS in MiB, seconds, exit code, stderr)."""
    with open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=devnull, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    kib = usage.ru_maxrss / 1024 if sys.platform == "darwin" else usage.ru_maxrss
    return kib / 1024, elapsed, proc.returncode, stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--no-check", action="store_true", help="pass --no-check to gradcli")
    ap.add_argument("--one-by-one", action="store_true", help="pass --one-by-one")
    ap.add_argument("--array", action="store_true",
                    help="input as one JSON array on a single line, not JSON Lines")
    ap.add_argument("--keep", metavar="DIR", help="write the record files here and keep them")
    args = ap.parse_args()
    gradcli = shutil.which("gradcli")
    base = [gradcli] if gradcli else [sys.executable, "-m", "gradcli"]
    tmp = args.keep or tempfile.mkdtemp(prefix="gradcli-batch-memory-")
    os.makedirs(tmp, exist_ok=True)
    extra = (["--no-check"] if args.no_check else []) + \
        (["--one-by-one"] if args.one_by_one else [])
    peaks = {}
    try:
        for n in args.sizes:
            path = os.path.join(tmp, f"records-{n}.{'json' if args.array else 'jsonl'}")
            size = make_records(path, n, array=args.array)
            # an empty derivative cache for every size: each run derives with SymPy
            os.environ["GRADCLI_CACHE_DIR"] = os.path.join(tmp, f"cache-{n}")
            rss, elapsed, code, stderr = peak_rss(base + ["batch", path] + extra)
            if code != 0:                      # every record is valid and must pass
                raise SystemExit(f"gradcli batch failed (exit {code}): {stderr[-800:]}")
            summary = stderr.strip().splitlines()[-1] if stderr.strip() else ""
            peaks[n] = rss
            print(f"{n:>10,} records ({size / 2**20:7.1f} MiB in): peak RSS {rss:7.1f} MiB, "
                  f"{elapsed:7.1f} s, exit {code}  [{summary}]", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    small, large = min(peaks), max(peaks)
    if small != large:
        ratio = peaks[large] / peaks[small]
        verdict = "ok" if ratio <= TARGET else "OVER TARGET"
        print(f"ratio {large:,} / {small:,}: {ratio:.3f}  (target <= {TARGET})  {verdict}")


if __name__ == "__main__":
    main()
