"""The numeric check's elementwise route (gradcli.check.elementwise): every element of a
variable nudged at once where the program keeps elements apart.

Oracles: SymPy's symbolic derivative (the check's own symbolic route, run on the same
program at a size it takes), gradients derived by hand, and the per-element route."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradcli
from gradcli.autograd.ops import REGISTRY
from gradcli.check import elementwise, numeric, run_check
from gradcli.lang.evaluator import evaluate

RNG = np.random.default_rng(7)


def point(n: int = 40, shapes=None) -> dict:
    shapes = shapes or {"x": (n,), "w": (n,), "b": (n,)}
    return {k: RNG.uniform(-1.5, 1.5, size=s) for k, s in shapes.items()}


def planned(program: str, bindings: dict, **options) -> dict:
    result = evaluate(program, bindings, keep="all", **options)
    return elementwise.plan(result, list(bindings))


# -- 1. the plan: what the route takes, with which weights ---------------------------------

def test_a_sum_of_reductions_is_planned_with_its_weights():
    plans = planned("sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w) - 2*sum(x)/4", point(40))
    assert {n: len(t) for n, t in plans.items()} == {"x": 3, "w": 2, "b": 1}
    weights = sorted(float(t.weight) for t in plans["x"])
    assert weights == pytest.approx([-0.5, 1 / 40, 1.0], rel=1e-15)
    assert [t.source for t in plans["x"] if float(t.weight) == -0.5] == [-1]   # x itself


def test_an_elementwise_output_is_planned_with_its_upstream():
    up = RNG.normal(size=40)
    plans = planned("tanh(w*x + b)", point(40), upstream=up)
    for terms in plans.values():
        (term,) = terms
        np.testing.assert_array_equal(term.weight, up)


def test_broadcasting_keeps_each_element_to_one_element_of_the_variable():
    shapes = {"x": (3, 1), "w": (1, 4), "b": (4,)}
    plans = planned("sum(sin(x*w) + b*x)", point(shapes=shapes))
    assert set(plans) == {"x", "w", "b"}


def test_one_reduction_counted_twice_is_one_term():
    plans = planned("e = exp(x); sum(e) + mean(e)", point(30, {"x": (30,)}))
    (term,) = plans["x"]
    assert float(term.weight) == pytest.approx(1 + 1 / 30, rel=1e-15)


@pytest.mark.parametrize("program, left", [
    ("sum(w @ x + b)", {"b"}),                  # a product mixes elements
    ("sum(cumsum(x, 0) * w) + sum(b)", {"w", "b"}),
    ("sum(x.reshape(4, 10) * 2) + sum(w*b)", {"w", "b"}),
    ("sum(x)**2 + sum(w*b)", {"w", "b"}),        # a reduction inside a non-linear function
    ("sum(x) * sum(x*w) + sum(b)", {"w", "b"}),  # a product of two sums in x
    ("c = no_grad(x*2); sum(c*x) + sum(w*b)", {"w", "b"}),   # a constant to autograd
])
def test_what_mixes_elements_is_left_to_the_per_element_route(program, left):
    assert set(planned(program, point(40))) == left


@pytest.mark.parametrize("program", [
    "y = sum(x*w*b); y.backward(); z = sum(x**2 + w + b); z.backward(); z",
    "c = b*1; c.add_(1); sum(x*w*c)",
    "sum(x*x.detach()*w*b)",
])
def test_programs_the_route_does_not_take(program):
    assert planned(program, point(40)) == {}


# -- 2. every element, right: against SymPy, the per-element route and hand values --------

UNARY = ["sin", "tanh", "sigmoid", "exp", "atan", "cos"]
BINARY = ["+", "-", "*"]


@st.composite
def elementwise_expr(draw, depth=0):
    """A random elementwise expression in x, w and b (smooth: no kinks)."""
    if depth >= 3 or draw(st.booleans()):
        return draw(st.sampled_from(["x", "w", "b", "x", "w", "0.5", "1.5"]))
    if draw(st.booleans()):
        return f"{draw(st.sampled_from(UNARY))}({draw(elementwise_expr(depth + 1))})"
    op = draw(st.sampled_from(BINARY))
    return f"({draw(elementwise_expr(depth + 1))} {op} {draw(elementwise_expr(depth + 1))})"


@st.composite
def separable_program(draw):
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        reduce = draw(st.sampled_from(["sum", "mean"]))
        scale = draw(st.sampled_from(["", "2*", "-0.5*", "3/7*"]))
        terms.append(f"{scale}{reduce}({draw(elementwise_expr())} * x * w * b)")
    return " + ".join(terms)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=separable_program(), n=st.integers(2, 30))
def test_every_element_agrees_with_sympy(program, n):
    """At a size SymPy takes (3n <= 256 elements), the symbolic route's expected value is
    an independent oracle for every element the elementwise route differences."""
    bindings = point(n)
    result = evaluate(program, bindings, keep="all")
    plans = elementwise.plan(result, list(bindings))
    assert set(plans) == {"x", "w", "b"}, program
    symbolic = run_check(result, timeout=60)
    assert symbolic["method"] == "symbolic" and symbolic["status"] == "passed", symbolic
    import time
    found = numeric.expected_gradients(result, time.monotonic() + 60, 1e-5, 1e-6)
    for name, entry in symbolic["variables"].items():
        expected, _, done, unsettled, whole = found[name]
        assert whole
        assert done.all() and not unsettled.any()
        truth = np.asarray(entry["expected"], dtype=float)
        np.testing.assert_allclose(expected, truth, rtol=1e-6, atol=1e-7)


def test_the_elementwise_route_equals_the_per_element_route(monkeypatch):
    bindings = point(50)
    program = "sum(tanh(w*x + b)**2) - 3*mean(exp(sin(x))*w)"
    result = evaluate(program, bindings)
    whole = run_check(result, timeout=60)
    monkeypatch.setattr(elementwise, "plan", lambda result, names: {})
    one_by_one = run_check(result, timeout=60)
    for name in bindings:
        assert whole["variables"][name]["checked"] == 50
        np.testing.assert_allclose(whole["variables"][name]["expected"],
                                   one_by_one["variables"][name]["expected"],
                                   rtol=1e-6, atol=1e-8)


def test_a_nonscalar_output_with_an_upstream_against_hand_values():
    x, w = RNG.normal(size=2000), RNG.normal(size=2000)
    up = RNG.normal(size=2000)
    result = gradcli.evaluate("w*sin(x)", {"x": x, "w": w}, upstream=up, check=True)
    check = result.check
    assert check["status"] == "passed" and check["method"] == "numeric"
    np.testing.assert_allclose(check["variables"]["x"]["expected"], up * w * np.cos(x),
                               rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(check["variables"]["w"]["expected"], up * np.sin(x),
                               rtol=1e-8, atol=1e-9)


# -- 3. a wrong gradient fails, where it is wrong ------------------------------------------

def _one_element_wrong(F, g, x, out):
    right = np.array(g * np.cos(x), dtype=np.float64)
    right.reshape(-1)[1234] *= 1.001
    return right


def test_one_wrong_element_of_thirty_thousand_fails_there(monkeypatch):
    x, w = RNG.normal(size=30_000), RNG.normal(size=30_000)
    program = "sum(sin(x)*w) + mean(x*w)"
    good = run_check(evaluate(program, {"x": x, "w": w}), timeout=30)
    assert good["status"] == "passed"
    assert good["variables"]["x"]["checked"] == 30_000
    monkeypatch.setattr(REGISTRY["sin"], "vjps", (_one_element_wrong,))
    bad = run_check(evaluate(program, {"x": x, "w": w}), timeout=30)
    assert bad["status"] == "failed" and bad["failed"] == ["x"]
    entry = bad["variables"]["x"]
    assert entry["failed_at"] == [[1234]]
    assert entry["reason"].startswith("differs by")
    assert bad["variables"]["w"]["status"] == "passed"
    # the differences run no backward: the reference is unchanged
    np.testing.assert_array_equal(entry["expected"], good["variables"]["x"]["expected"])


def test_a_wrong_vjp_fails_every_element_it_touches(monkeypatch):
    monkeypatch.setattr(REGISTRY["tanh"], "vjps",
                        (lambda F, g, x, out: g * (1 - out * out) * 1.0001,))
    x = RNG.normal(size=5000)
    result = gradcli.evaluate("sum(tanh(x)*2)", {"x": x}, check=True)
    entry = result.check["variables"]["x"]
    assert result.check["status"] == "failed" and entry["checked"] == 5000
    assert entry["failed_at"] == [[k] for k in range(10)]


# -- 4. where a difference is no derivative: never failed ---------------------------------

def test_a_branch_on_a_value_is_no_reference_not_a_failure():
    """sum(x) sits 1e-9 above the branch: every nudge takes the other path, whose
    difference quotient (0.5) is no derivative of the branch PyTorch took (3x**2)."""
    program = "s = sum(x)\nif s > 0:\n    y = sum(x**3)\nelse:\n    y = sum(sin(x))\ny"
    x = np.zeros(400)
    x[0] = 1e-9
    check = run_check(evaluate(program, {"x": x}), timeout=1.0)
    assert check["failed"] == [] and check["status"] in ("skipped", "partial")
    assert "branches on a value" in check["reason"]
    x[0] = 0.5                              # far from the branch: checked whole
    check = run_check(evaluate(program, {"x": x}), timeout=5)
    assert check["status"] == "passed" and check["variables"]["x"]["checked"] == 400


def test_a_kink_in_a_planned_program_is_skipped():
    x = np.linspace(-1, 1, 401)             # x[200] = 0: relu's kink
    check = run_check(evaluate("sum(relu(x)*w)", {"x": x, "w": np.ones(401)}))
    assert check["variables"]["x"]["status"] == "skipped"
    assert check["variables"]["w"]["status"] == "passed"


def test_a_branch_that_swaps_which_tensor_flows_is_no_reference_either():
    """Both branches run the same ops on different tensors (x*2 or w*2, w equal to x
    here, so the difference across the branch settles, on 1 where 2 is right): the
    path says where each op's tensors came from, so a nudge across the branch is told
    apart."""
    program = "s = sum(x).item()\nif s > 0:\n    y = sum(x*2)\nelse:\n    y = sum(w*2)\ny"
    x = np.zeros(400)
    x[0] = 1e-9
    check = run_check(evaluate(program, {"x": x, "w": x.copy()}), timeout=1.0)
    assert check["failed"] == [] and check["variables"]["x"]["status"] in ("skipped",
                                                                            "partial")
    assert "branches on a value" in check["variables"]["x"]["reason"]
    assert check["variables"]["w"]["status"] == "passed"
