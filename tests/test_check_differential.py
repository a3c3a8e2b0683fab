"""The check against an independent exact oracle, on 2000 random programs (issue 12).

Programs and the oracle are in tests/differential.py: expression trees over x, y, z,
a third of them cancellations and overflows at points chosen to break float64
(``log(1 + x)/x`` at 1e-10, ``sqrt(x*x + y*y)`` at 1e200), and forward-mode dual
numbers in mpmath at 80+ digits with hand-written derivative rules.  For each variable
the check must agree with the oracle:

* the oracle's "passed"/"failed" (the derivative exists and the gradient is / is not
  within atol + rtol*|exact|): the check says the same, or at most "skipped" (a
  kink float64 sees that is not there exactly; counted, and rare);
* "undefined" (outside the reals) and "too large" (past float64): the check skips;
* "ambiguous" (through a kink, a tie, an infinite slope, where a pointwise chain rule
  cannot decide): the check may pass or skip, never fail.

Zero crashes, zero false passes, zero false failures.  The batch route (compiled
formulas, the array path) must give each record the status the grad route gives it.
A bigger run: ``python benchmarks/check_differential.py --programs 20000``.
"""

from __future__ import annotations

import collections
import json

import pytest
from typer.testing import CliRunner

import differential as D
import gradcli
from gradcli.check import run_check
from gradcli.cli.app import app

PROGRAMS = 2000
SEED = 12
ALLOWED = {
    "passed": {"passed", "skipped"},
    "failed": {"failed", "skipped"},
    "undefined": {"skipped"},
    "too large": {"skipped"},
    "ambiguous": {"passed", "skipped"},
}


@pytest.fixture(scope="module")
def judged():
    """(text, point, report, oracle verdicts or None) per case, checked once."""
    out = []
    for text, tree, point in D.cases(PROGRAMS, SEED):
        result = gradcli.evaluate(text, point)
        report = run_check(result, timeout=120)    # the symbolic route, always
        try:
            verdicts = D.oracle(tree, point, result.grads)
        except D.Unknowable:                      # sin(exp(1e300)): no oracle either
            verdicts = None
        out.append((text, point, report, verdicts))
    return out


def test_the_check_agrees_with_the_exact_oracle(judged):
    counts = collections.Counter()
    wrong = []
    for text, point, report, verdicts in judged:
        if verdicts is None:
            counts["unknowable"] += 1
            continue
        for name, (verdict, exact) in verdicts.items():
            status = report["variables"][name]["status"]
            counts[verdict, status] += 1
            if status not in ALLOWED[verdict]:
                wrong.append((text, point, name, verdict, status, exact,
                              report["variables"][name].get("reason")))
    assert not wrong, "\n".join(map(str, wrong[:20]))
    # the run is a real test of the check: many failures caught, many passes, many
    # points outside the reals, and almost nothing skipped that could be decided
    decided = sum(counts[v, s] for v in ("passed", "failed") for s in ("passed", "failed"))
    false_skips = counts["passed", "skipped"] + counts["failed", "skipped"]
    assert counts["failed", "failed"] >= 80, counts
    assert counts["passed", "passed"] >= 1500, counts
    assert counts["undefined", "skipped"] >= 100, counts
    assert false_skips <= 0.01 * decided, counts
    assert counts["unknowable"] <= 0.01 * PROGRAMS, counts


def test_batch_gives_each_record_the_status_grad_gives_it(judged):
    """The same records through `gradcli batch`: plain records of one program are
    answered together from the compiled formulas (float64 with error bounds, exact
    where that cannot decide); every record must get the grad route's status."""
    repeated = collections.Counter(case[0] for case in judged)
    picked = [(k, case) for k, case in enumerate(judged)
              if k % 4 == 0 or repeated[case[0]] > 1]
    text = "".join(json.dumps({"id": k, "expr": t, "vars": {n: v for n, v in p.items()}})
                   + "\n" for k, (t, p, _, _) in picked)
    r = CliRunner().invoke(app, ["batch", "-q", "--check-timeout", "120"], input=text)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["id"] for o in lines] == [k for k, _ in picked]
    groups = collections.Counter(t for _, (t, _, _, _) in picked)
    assert max(groups.values()) >= 5                 # the array path had groups to answer
    different = []
    for o, (k, (t, p, report, _)) in zip(lines, picked):
        assert o["ok"], o
        if (o["check"]["status"], o["check"]["failed"]) != (report["status"],
                                                            report["failed"]):
            different.append((t, p, o["check"]["status"], report["status"]))
    assert not different, "\n".join(map(str, different[:20]))
