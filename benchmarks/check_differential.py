"""The check against an independent exact oracle, as large a run as you like.

    python benchmarks/check_differential.py [--programs 20000] [--seed 12] [--batch]

The programs and the oracle are tests/differential.py (random expression trees, a
third of them at points that break float64; forward-mode dual numbers in mpmath with
hand-written rules).  Prints, per (oracle verdict, check status), how many variables
fell there, and every disagreement: a crash, a false pass or a false failure.  With
--batch the same records also go through `gradcli batch` in one process, which must
give each the status the grad route gives it.  Exit status 1 on any disagreement.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

ALLOWED = {"passed": {"passed", "skipped"}, "failed": {"failed", "skipped"},
           "undefined": {"skipped"}, "too large": {"skipped"},
           "ambiguous": {"passed", "skipped"}}


def grad_route(cases) -> tuple:
    import differential as D

    import gradcli
    from gradcli.check import run_check
    counts, wrong, reports = collections.Counter(), [], []
    for text, tree, point in cases:
        try:
            result = gradcli.evaluate(text, point)
            report = run_check(result, timeout=120)
        except Exception as exc:  # noqa: BLE001 - a crash is what this run looks for
            wrong.append(("crash", text, point, repr(exc)))
            reports.append(None)
            continue
        reports.append(report)
        try:
            verdicts = D.oracle(tree, point, result.grads)
        except D.Unknowable:
            counts["oracle cannot evaluate"] += 1
            continue
        for name, (verdict, exact) in verdicts.items():
            status = report["variables"][name]["status"]
            counts[f"{verdict:>9} / {status}"] += 1
            if status not in ALLOWED[verdict]:
                wrong.append((verdict, status, text, point, name,
                              None if exact is None else float(exact),
                              report["variables"][name].get("reason")))
    return counts, wrong, reports


def batch_route(cases, reports) -> list:
    """Records whose batch status differs from the grad route's."""
    text = "".join(json.dumps({"id": k, "expr": t, "vars": p}) + "\n"
                   for k, (t, _, p) in enumerate(cases))
    proc = subprocess.run([sys.executable, "-m", "gradcli", "batch", "-q",
                           "--check-timeout", "120"], input=text.encode(),
                          capture_output=True, check=False)
    different = []
    for line in proc.stdout.decode().splitlines():
        o = json.loads(line)
        report = reports[o["id"]]
        if report is None:
            continue
        if not o["ok"] or (o["check"]["status"], o["check"]["failed"]) != \
                (report["status"], report["failed"]):
            different.append((cases[o["id"]][0], cases[o["id"]][2], o.get("check"),
                              report["status"]))
    return different


def main() -> int:
    import differential as D
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--batch", action="store_true", help="also run the batch route")
    args = ap.parse_args()
    cases = D.cases(args.programs, args.seed)
    start = time.perf_counter()
    counts, wrong, reports = grad_route(cases)
    elapsed = time.perf_counter() - start
    print(f"{args.programs} programs, seed {args.seed}: {elapsed:.1f} s "
          f"({1000 * elapsed / args.programs:.0f} ms a program)")
    print("oracle verdict / check status: variables")
    for key, n in sorted(counts.items()):
        print(f"  {key:<30} {n}")
    for w in wrong:
        print("DISAGREES:", w)
    if args.batch:
        start = time.perf_counter()
        different = batch_route(cases, reports)
        print(f"batch route: {time.perf_counter() - start:.1f} s, "
              f"{len(different)} records with another status")
        for d in different[:20]:
            print("BATCH DIFFERS:", d)
        wrong += different
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
