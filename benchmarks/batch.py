"""Batch throughput: gradcli batch against a PyTorch per-record loop and a JSON-only floor.

    python benchmarks/batch.py [--records 30000] [--repeat 7] [--gradcli PATH]
                               [--torch-python PATH] [--baseline PATH]

30 000 records over the 10 programs of batch_programs.json (scalar variables), timed
as whole processes in one run, best of --repeat (the variants take turns, so a
slow spell of a shared machine hits them all alike):
  1. gradcli batch (check on, the default: its first run, when SymPy derives and caches
     each program's gradients, and the best later run) and with --no-check;
  2. the same job as a PyTorch loop (torch 2.13 if importable by the python given with
     --torch-python; programs hand-written as Python functions, so torch pays no parsing);
  3. the floor: read each record with stdlib json, write a result line of the same size.
Targets: gradcli >= 10x faster than the torch loop; within 3x of the floor; check on
within 2x of check off.  --baseline PATH times another gradcli (an earlier build) in
the same turns, check on and off, so that a change is measured side by side.
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

FLOOR = r'''
import json, sys
out = sys.stdout
template = open(sys.argv[2]).read()
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    rec = json.loads(line)
    # a result line as long as gradcli's answer for this record
    out.write(template.replace("ID", json.dumps(rec.get("id"))) + "\n")
'''

TORCH = r'''
import json, sys, torch
torch.set_grad_enabled(True)
F = {
 "poly":    lambda x, y: x**3 - 2*x**2*y + 3*y - 1,
 "poly2":   lambda x, y, z: (x*y + z)**2 + x*z,
 "trig":    lambda x, y: torch.sin(x)*torch.cos(y) + torch.tan(x*y/10),
 "explog":  lambda x, y: torch.exp(-x*x) + torch.log(1 + y*y),
 "sqrt":    lambda x, y: torch.sqrt(x*x + y*y + 1),
 "sigmoid": lambda w, x, b: torch.sigmoid(w*x + b),
 "atan2":   lambda x, y: torch.atan2(y, x) + torch.hypot(x, y),
 "relu":    lambda x, y: torch.relu(x - 0.3) + torch.nn.functional.softplus(y),
 "tanh":    lambda a, x: torch.tanh(a*x)**2 + x/a,
 "mixed":   lambda x: torch.exp((x*x + 1)/10)*torch.sin(x),
}
programs = {p["expr"]: p for p in json.load(open(sys.argv[2]))}
out = sys.stdout
for line in open(sys.argv[1]):
    rec = json.loads(line)
    p = programs[rec["expr"]]
    xs = [torch.tensor(float(rec["vars"][v]), dtype=torch.float64, requires_grad=True)
          for v in p["vars"]]
    y = F[p["name"]](*xs)
    y.backward()
    out.write(json.dumps({"id": rec["id"], "ok": True, "value": y.item(),
                          "grads": {v: x.grad.item() for v, x in zip(p["vars"], xs)}}) + "\n")
'''


def make_records(path: str, n: int) -> None:
    programs = json.load(open(os.path.join(HERE, "batch_programs.json")))
    rng = random.Random(1)
    with open(path, "w") as fh:
        for i in range(n):
            p = programs[i % len(programs)]
            fh.write(json.dumps({"id": i, "expr": p["expr"], "vars": {
                v: round(rng.uniform(0.5, 2.0), 6) for v in p["vars"]}}) + "\n")


def run_once(cmd, stdout_path) -> float:
    with open(stdout_path, "w") as out:
        t = time.perf_counter()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed: {proc.stderr.decode()[-500:]}")
    return elapsed


def best_of(variants: dict, repeat: int) -> dict:
    """name -> best time of (cmd, stdout path), the variants taking turns."""
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(repeat):
        for name, (cmd, path) in variants.items():
            best[name] = min(best[name], run_once(cmd, path))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=30000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--gradcli", default=shutil.which("gradcli"),
                    help="the gradcli script to time (default: the one on PATH)")
    ap.add_argument("--torch-python", default=None,
                    help="a python that can import torch (default: this one, if it can)")
    ap.add_argument("--baseline", default=None,
                    help="another gradcli script to time in the same turns")
    args = ap.parse_args()
    gradcli = args.gradcli or sys.exit("gradcli is not installed")
    tmp = tempfile.mkdtemp()
    records = os.path.join(tmp, "records.jsonl")
    make_records(records, args.records)
    answers = os.path.join(tmp, "answers.jsonl")
    n = args.records

    # The batch check keeps its SymPy derivatives in a cache directory: the first run
    # computes them (importing SymPy), later runs over the same programs reuse them.
    # The first run is timed alone and repeated, each time with an empty cache.
    os.environ["GRADCLI_CACHE_DIR"] = os.path.join(tmp, "cache")
    t_cold = float("inf")
    for _ in range(max(1, args.repeat // 2)):
        shutil.rmtree(os.environ["GRADCLI_CACHE_DIR"], ignore_errors=True)
        t_cold = min(t_cold, run_once([gradcli, "batch", records, "-q"], answers))
    lines = open(answers).read().splitlines()
    ok = sum('"status":"passed"' in line for line in lines)
    sample = lines[0]
    template = json.dumps({**json.loads(sample), "id": "ID"}).replace('"ID"', "ID")
    with open(os.path.join(tmp, "template.json"), "w") as fh:
        fh.write(template)
    floor_py = os.path.join(tmp, "floor.py")
    with open(floor_py, "w") as fh:
        fh.write(FLOOR)
    variants = {
        "check": ([gradcli, "batch", records, "-q"], answers),
        "nocheck": ([gradcli, "batch", records, "-q", "--no-check"],
                    os.path.join(tmp, "nocheck.out")),
        "floor": ([sys.executable, floor_py, records, os.path.join(tmp, "template.json")],
                  os.path.join(tmp, "floor.out")),
    }
    if args.baseline:
        base_env = os.path.join(tmp, "base-cache")
        warm = dict(os.environ, GRADCLI_CACHE_DIR=base_env)
        subprocess.run([args.baseline, "batch", records, "-q"], stdout=subprocess.DEVNULL,
                       env=warm, check=False)                  # its cache, warmed once
        variants["base check"] = (["env", f"GRADCLI_CACHE_DIR={base_env}", args.baseline,
                                   "batch", records, "-q"], os.path.join(tmp, "base.out"))
        variants["base nocheck"] = ([args.baseline, "batch", records, "-q", "--no-check"],
                                    os.path.join(tmp, "base-nocheck.out"))
    torch_py = args.torch_python or sys.executable
    has_torch = subprocess.run([torch_py, "-c", "import torch"],
                               capture_output=True).returncode == 0
    if has_torch:
        torch_script = os.path.join(tmp, "torch_loop.py")
        with open(torch_script, "w") as fh:
            fh.write(TORCH)
        variants["torch"] = ([torch_py, torch_script, records,
                              os.path.join(HERE, "batch_programs.json")],
                             os.path.join(tmp, "torch.out"))
    best = best_of(variants, args.repeat)
    t_check, t_nocheck, t_floor = best["check"], best["nocheck"], best["floor"]

    print(f"records: {n} over 10 programs (scalar variables); best of {args.repeat}")
    print(f"gradcli: {gradcli}")
    print(f"gradcli batch, first run (SymPy derives): {t_cold:7.2f} s  "
          f"{n / t_cold:9,.0f} records/s")
    print(f"gradcli batch (check on):   {t_check:7.2f} s  {n / t_check:9,.0f} records/s  "
          f"({ok} checks passed; derivatives cached)")
    print(f"gradcli batch --no-check:   {t_nocheck:7.2f} s  {n / t_nocheck:9,.0f} records/s")
    print(f"floor (json in/out only):   {t_floor:7.2f} s  {n / t_floor:9,.0f} records/s")
    print(f"  check on / check off:     {t_check / t_nocheck:7.2f}x  (target <= 2; "
          f"first run {t_cold / t_nocheck:.2f}x)")
    print(f"  check off / floor:        {t_nocheck / t_floor:7.2f}x  (target <= 3)")
    print(f"  check on / floor:         {t_check / t_floor:7.2f}x")
    if args.baseline:
        b_check, b_nocheck = best["base check"], best["base nocheck"]
        print(f"baseline: {args.baseline}")
        print(f"baseline batch (check on):  {b_check:7.2f} s  {n / b_check:9,.0f} records/s"
              f"  (this build: {t_check / b_check:.2f}x its time)")
        print(f"baseline batch --no-check:  {b_nocheck:7.2f} s  {n / b_nocheck:9,.0f} "
              f"records/s  (this build: {t_nocheck / b_nocheck:.2f}x its time)")
        print(f"  baseline check on / off:  {b_check / b_nocheck:7.2f}x")
    if not has_torch:
        print("torch loop: skipped (torch not importable; pass --torch-python)")
        return
    t_torch = best["torch"]
    print(f"torch per-record loop:      {t_torch:7.2f} s  {n / t_torch:9,.0f} records/s")
    print(f"  torch / gradcli (check on):  {t_torch / t_check:6.1f}x faster  (target >= 10; "
          f"first run {t_torch / t_cold:.1f}x)")
    print(f"  torch / gradcli (no check):  {t_torch / t_nocheck:6.1f}x faster")
    if args.baseline:
        print(f"  torch / baseline (check on): {t_torch / best['base check']:6.1f}x faster")


if __name__ == "__main__":
    main()
