"""`gradcli grad --explain`: the chain rule node by node, in the order backward runs.

Every expected number is worked out by hand next to the assertion: for the headline
(x1*x2+x3)**2 at x1=2, x2=3, x3=1 the inner values are %1 = x1*x2 = 6, %2 = %1 + x3 = 7
and the output %3 = %2**2 = 49.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

from typer.testing import CliRunner

from gradcli.cli.app import app
from gradcli.cli.explain import Explainer
from gradcli.lang.evaluator import evaluate

runner = CliRunner()
HEADLINE = ("(x1*x2+x3)**2", "--x1", "2", "--x2", "3", "--x3", "1")
ENV = {"COLUMNS": "80", "NO_COLOR": "1", "GRADCLI_DEBUG": None}


def run(*args, code=0, env=None):
    r = runner.invoke(app, ["grad", *map(str, args)], env={**ENV, **(env or {})})
    assert r.exit_code == code, f"exit {r.exit_code}\n{r.stdout}\n{r.stderr}"
    return r


def explain_json(*args):
    obj = json.loads(run(*args, "--explain", "--format", "json").stdout)
    return obj["explain"]


def nodes(steps, grad_fn):
    return [s for s in steps if s["kind"] == "node" and s["grad_fn"] == grad_fn]


def accumulations(steps, leaf):
    return [(s["added"], s["grad"]) for s in steps
            if s["kind"] == "accumulate" and s["leaf"] == leaf]


def by_name(step):
    return {inp["name"]: inp for inp in step["inputs"]}


# -- the headline, step by step --------------------------------------------------------------

def test_headline_steps_in_json():
    steps = explain_json(*HEADLINE)
    assert [s["index"] for s in steps] == list(range(1, len(steps) + 1))
    assert {s["call"] for s in steps} == {1}
    # The engine runs the output's node first.
    assert steps[0]["grad_fn"] == "PowBackward0" and steps[0]["node"] == "%3"

    (pow_,) = nodes(steps, "PowBackward0")
    assert pow_["upstream"] == 1 and pow_["expr"] == "%2**2"
    p = by_name(pow_)["%2"]
    # d/d%2 (%2**2) = 2*%2 = 2*7 = 14, and 1 * 14 = 14 goes on
    assert p["local"] == "d/d %2 (%2**2) = 2*%2 = 2*7 = 14"
    assert p["local_value"] == 14 and p["grad"] == 14 and p["chain"] == "1 * 14 = 14"

    (add,) = nodes(steps, "AddBackward0")
    assert add["upstream"] == 14
    a = by_name(add)
    assert set(a) == {"%1", "x3"}
    assert a["%1"]["grad"] == 14 and a["x3"]["grad"] == 14
    assert a["x3"]["local"] == "d/d x3 (%1 + x3) = 1"

    (mul,) = nodes(steps, "MulBackward0")
    assert mul["upstream"] == 14 and mul["expr"] == "x1*x2"
    m = by_name(mul)
    assert m["x1"]["local"] == "d/d x1 (x1*x2) = x2 = 3"
    assert m["x2"]["local"] == "d/d x2 (x1*x2) = x1 = 2"
    assert m["x1"]["chain"] == "14 * 3 = 42" and m["x1"]["grad"] == 42     # 14*3
    assert m["x2"]["chain"] == "14 * 2 = 28" and m["x2"]["grad"] == 28     # 14*2

    assert accumulations(steps, "x1") == [(42, 42)]
    assert accumulations(steps, "x2") == [(28, 28)]
    assert accumulations(steps, "x3") == [(14, 14)]
    assert len(steps) == 6          # three nodes, three AccumulateGrad sinks


def test_headline_reads_like_a_hand_derivation():
    out = run(*HEADLINE, "--explain").stdout
    assert "Chain rule, node by node" in out
    for text in ("PowBackward0  %3 = %2**2",
                 "d/d %2 (%2**2) = 2*%2 = 2*7 = 14",
                 "-> %2 gets 1 * 14 = 14",
                 "-> x3 gets 14 * 1 = 14",
                 "d/d x1 (x1*x2) = x2 = 3",
                 "-> x1 gets 14 * 3 = 42",
                 "-> x2 gets 14 * 2 = 28",
                 "AccumulateGrad  x1.grad += 42"):
        assert text in out, text
    # the steps come after the Gradients table and before the Graph table
    assert out.index("Gradients") < out.index("Chain rule") < out.index("Graph")
    # numbered in backward order: 1. Pow, 2. Add, then the rest
    numbered = re.findall(r"^\s*(\d+)\. (\w+)", out, flags=re.M)
    assert [n for n, _ in numbered] == ["1", "2", "3", "4", "5", "6"]
    assert numbered[0][1] == "PowBackward0" and numbered[1][1] == "AddBackward0"


def test_explanation_fits_80_columns():
    out = run(*HEADLINE, "--explain").stdout
    block = out[out.index("Chain rule"):out.index("Graph")]
    assert all(len(line.rstrip()) <= 80 for line in block.splitlines())


def test_plain_format_appends_the_steps_as_text():
    out = run(*HEADLINE, "--explain", "--format", "plain").stdout.splitlines()
    assert out[:3] == ["x1 42", "x2 28", "x3 14"]        # the grads stay first for awk
    assert any(line.strip() == "1. PowBackward0  %3 = %2**2" for line in out)
    assert any("x1.grad += 42" in line for line in out)


def test_without_explain_there_is_no_trace():
    r = run(*HEADLINE)
    assert "Chain rule" not in r.stdout
    assert "explain" not in json.loads(run(*HEADLINE, "--format", "json").stdout)


# -- accumulation across backward calls ---------------------------------------------------------

def test_two_backward_calls_show_the_accumulation():
    args = ("y = x**2; z = x; backward(y); backward(z)", "--x", "2")
    steps = explain_json(*args)
    # backward(y): d(x**2)/dx = 2*2 = 4; backward(z) with z = x: 1, so 4 + 1 = 5
    assert accumulations(steps, "x") == [(4, 4), (1, 5)]
    assert [s["call"] for s in steps if s["kind"] == "accumulate"] == [1, 2]
    out = run(*args, "--explain").stdout
    assert "backward call 1: backward(y)" in out and "backward call 2" in out
    assert "x.grad += 4   (x.grad = 4)" in out
    assert "x.grad += 1   (x.grad = 5)" in out


def test_retain_graph_twice_accumulates_12_then_24():
    steps = explain_json("y = x**3; backward(y, retain_graph=True); backward(y)", "--x", "2")
    # d(x**3)/dx = 3*x**2 = 12 at x = 2, added twice
    assert accumulations(steps, "x") == [(12, 12), (12, 24)]
    locals_ = [by_name(s)["x"]["local"] for s in nodes(steps, "PowBackward0")]
    assert locals_ == ["d/d x (x**3) = 3*x**2 = 3*2**2 = 12"] * 2


def test_gradients_from_several_paths_are_summed():
    steps = explain_json("x*x + x", "--x", "3")
    # x*x sends 3 and 3 (d/dx of each factor is the other, 3), the add sends 1: 7
    (acc,) = [s for s in steps if s["kind"] == "accumulate"]
    assert acc["added"] == 7 and acc["paths"] == 3 and sorted(acc["summed"]) == [1, 3, 3]
    out = run("x*x + x", "--x", "3", "--explain").stdout
    assert "summed over 3 paths" in out


# -- tensors ----------------------------------------------------------------------------------

def test_tensor_steps_show_compact_values():
    steps = explain_json("x**2", "--x", "[1, 2, 3]", "--upstream", "ones")
    (pow_,) = nodes(steps, "PowBackward0")
    assert pow_["upstream"] == [1, 1, 1]
    x = by_name(pow_)["x"]
    assert x["local_value"] == [2, 4, 6] and x["grad"] == [2, 4, 6]       # 2*x
    assert x["chain"] == "[1, 1, 1] * [2, 4, 6] = [2, 4, 6]"
    assert accumulations(steps, "x") == [([2, 4, 6], [2, 4, 6])]


def test_broadcast_gradient_is_summed_to_the_input_shape():
    steps = explain_json("x*y", "--x", "[1, 2, 3]", "--y", "2", "--upstream", "ones")
    y = by_name(nodes(steps, "MulBackward0")[0])["y"]
    # d/dy (x*y) = x = [1, 2, 3]; y is a scalar: 1 + 2 + 3 = 6
    assert y["grad"] == 6 and "summed to shape ()" in y["chain"]


def test_large_tensors_are_summarised():
    out = run("sum(x*x)", "--x", "[" + ", ".join(map(str, range(100))) + "]",
              "--explain").stdout
    assert "(shape [100])" in out and "…" in out
    block = out[out.index("Chain rule"):out.index("Graph")]
    assert len(block.splitlines()) < 30


def test_reductions_and_products_show_formula_and_result():
    steps = explain_json("sum(w @ x)", "--w", "[[1, 2], [3, 4]]", "--x", "[1, 1]")
    (mv,) = nodes(steps, "MvBackward0")
    w = by_name(mv)["w"]
    assert w["local"].startswith("d/d w (w @ x) = outer(g, x)")
    assert w["grad"] == [[1, 1], [1, 1]] and "local_value" not in w
    (sum_,) = nodes(steps, "SumBackward0")
    assert by_name(sum_)["%1"]["grad"] == [1, 1]


def test_mean_plugs_in_its_count():
    steps = explain_json("mean(x)", "--x", "[1, 2, 3, 4]")
    x = by_name(nodes(steps, "MeanBackward0")[0])["x"]
    assert x["local"] == "d/d x (mean(x)) = 1/N = 1/4" and x["grad"] == [0.25] * 4


def test_constants_get_no_gradient():
    steps = explain_json("x*c", "--x", "2", "--const", "c=3")
    (mul,) = nodes(steps, "MulBackward0")
    assert list(by_name(mul)) == ["x"]               # nothing is sent to the constant
    assert by_name(mul)["x"]["local"] == "d/d x (x*c) = c = 3"


def test_grad_calls_are_explained_without_accumulation():
    steps = explain_json("y = x**3; grad(y, x)", "--x", "2")
    (pow_,) = nodes(steps, "PowBackward0")
    assert by_name(pow_)["x"]["local"] == "d/d x (x**3) = 3*x**2 = 3*2**2 = 12"
    assert by_name(pow_)["x"]["grad"] == 12
    # grad() returns the gradient: nothing is added into x.grad
    assert not [s for s in steps if s.get("kind") == "accumulate"]


# -- long graphs --------------------------------------------------------------------------------

def test_long_trace_is_summarised_and_full_graph_shows_all():
    chain = "+".join(["x"] * 200)
    out = run(chain, "--x", "1", "--explain", "--no-check").stdout
    # 199 AddBackward0 nodes and one AccumulateGrad: 200 steps, 10 + 10 shown
    assert "... 180 more steps (--full-graph shows all)" in out
    assert "x.grad += 200" in out and "summed over 200 paths" in out
    full = run(chain, "--x", "1", "--explain", "--no-check", "--full-graph").stdout
    assert "more steps" not in full
    assert re.search(r"^\s*100\. AddBackward0", full, flags=re.M)


def test_json_keeps_every_step():
    chain = "+".join(["x"] * 200)
    steps = explain_json(chain, "--x", "1", "--no-check")
    assert len(steps) == 200 and all(s["kind"] != "gap" for s in steps)


def test_steps_with_a_limit_work_out_only_the_ends():
    ex = Explainer()
    result = evaluate("+".join(["x"] * 50), {"x": 2.0}, on_node=ex.on_node)
    steps = ex.steps(result, 5)
    kinds = [s["kind"] for s in steps]
    assert kinds == ["node"] * 5 + ["gap"] + ["node"] * 4 + ["accumulate"]
    assert steps[5]["count"] == 40
    assert steps[-1]["added"] == 50 and steps[-1]["paths"] == 50


# -- the installed command ----------------------------------------------------------------------

def _script() -> list:
    here = shutil.which("gradcli", path=os.path.dirname(sys.executable))
    found = here or shutil.which("gradcli")
    return [found] if found else [sys.executable, "-m", "gradcli"]


def gradcli(*args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("GRADCLI_DEBUG", "FORCE_COLOR")}
    env["COLUMNS"] = "80"
    return subprocess.run([*_script(), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_installed_command_explains_the_headline():
    p = gradcli("grad", *HEADLINE, "--explain")
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout                    # not a terminal: no escape codes
    assert "d/d x1 (x1*x2) = x2 = 3" in p.stdout and "x1 gets 14 * 3 = 42" in p.stdout
    p = gradcli("grad", *HEADLINE, "--explain", "--format", "json")
    steps = json.loads(p.stdout)["explain"]
    assert accumulations(steps, "x1") == [(42, 42)]


def test_installed_command_explains_a_100000_term_chain(tmp_path):
    program = tmp_path / "chain.grad"
    program.write_text("+".join(["x"] * 100_000))
    start = time.monotonic()
    p = gradcli("grad", "-f", program, "--x", "2", "--explain", "--no-check")
    elapsed = time.monotonic() - start
    assert p.returncode == 0, p.stderr
    assert "... 99,980 more steps (--full-graph shows all)" in p.stdout
    assert "x.grad += 100000" in p.stdout
    assert len(p.stdout.splitlines()) < 400          # the graph tables are summarised too
    assert elapsed < 240, f"{elapsed:.1f} s"
