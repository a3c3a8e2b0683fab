"""The cross-check layer (SPEC 5): SymPy's symbolic derivatives, central differences as a
fallback, kinks, --expect, time budgets, and that the check can fail.

Every expected value is independent of gradcli's engine: either derived by hand (the
derivation sits next to it) or computed in the test by ``sympy.diff`` /
``sympy.hessian`` / ``Matrix.jacobian`` on an expression built here from SymPy symbols
(never from text).  gradcli's own formulas are compared as SymPy objects
(``Replay.expected``), evaluated at several random points.
"""

from __future__ import annotations

import json
import math
import re
import time

import numpy as np
import pytest
import sympy as sp
from typer.testing import CliRunner

from gradcli.autograd.ops import REGISTRY
from gradcli.check import check_expectations, run_check
from gradcli.check.compiled import CompiledCheck, NotCacheable
from gradcli.check.symbolic import Replay, Timeout
from gradcli.cli.app import app
from gradcli.lang.evaluator import evaluate

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "GRADCLI_DEBUG": None}


def S(name: str) -> sp.Symbol:
    """The symbol gradcli gives a bound element: ``x``, or ``w[0,1]`` (real)."""
    return sp.Symbol(name, real=True)


def tensor_symbols(name: str, shape: tuple) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = S(f"{name}[{','.join(map(str, idx))}]")
    return out


def replay(result) -> Replay:
    return Replay(result, time.monotonic() + 60).run()


def cli(*args, code=0):
    r = runner.invoke(app, [str(a) for a in args], env=ENV)
    assert r.exit_code == code, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def cli_json(*args, code=0) -> dict:
    return json.loads(cli(*args, "--format", "json", code=code).stdout)


def point_value(expr, point: dict) -> float:
    """An expression at a point, exactly substituted, evaluated to 30 digits."""
    subs = {s: sp.Rational(repr(float(v))) for s, v in point.items()}
    return complex(expr.xreplace(subs).evalf(30)).real


def assert_same_function(mine, theirs, points):
    """Two SymPy expressions agree at every point (to 1e-13: constants written as floats
    in a hand-built expression are 53-bit SymPy Floats)."""
    for point in points:
        a, b = point_value(mine, point), point_value(theirs, point)
        assert math.isfinite(a) and abs(a - b) <= 1e-13 * max(1.0, abs(a)), (point, a, b)


def near(center: dict, rng, n=4, spread=0.1) -> list:
    """Random points around ``center`` (name -> value; scalar symbols only), inside the
    domain when the center is well inside it."""
    out = []
    for _ in range(n):
        out.append({s: v + spread * max(1.0, abs(v)) * rng.uniform(-1, 1)
                    for s, v in center.items()})
    return out


# == 1. gradcli's formulas are SymPy's own derivatives ======================================
#
# Each case: program, scalar bindings, and a function building the same expression by hand
# from SymPy symbols.  The derivative SymPy takes of the hand expression must equal, as a
# function (random points around the binding), the expected gradient gradcli's replay
# built, and the check of the run must pass with the engine's gradient matching it.

x, y, z = S("x"), S("y"), S("z")

SCALAR_CASES = [
    ("polynomial", "x**3*y - 2*x*y**2 + 5*z - 7", {"x": 1.5, "y": -0.5, "z": 2.0},
     x**3 * y - 2 * x * y**2 + 5 * z - 7),
    ("division", "(x + 1)/(y*y + 2) - 3/x", {"x": 1.2, "y": 0.7, "z": 0.0},
     (x + 1) / (y**2 + 2) - 3 / x + 0 * z),
    ("trig", "sin(x)*cos(y) + tan(x*y) - cos(z)**2", {"x": 0.4, "y": 0.9, "z": 1.1},
     sp.sin(x) * sp.cos(y) + sp.tan(x * y) - sp.cos(z)**2),
    ("inverse trig", "asin(x) + acos(y) + atan(x*y*z)", {"x": 0.3, "y": -0.4, "z": 2.0},
     sp.asin(x) + sp.acos(y) + sp.atan(x * y * z)),
    ("hyperbolic", "sinh(x)*cosh(y) + tanh(x - y) + asinh(x*z)", {"x": 0.3, "y": 0.8, "z": -1.5},
     sp.sinh(x) * sp.cosh(y) + sp.tanh(x - y) + sp.asinh(x * z)),
    ("exp and log", "exp(x*y) + log(x) + log2(y) + log10(x*y) + log1p(z) + expm1(y) + exp2(x)",
     {"x": 1.3, "y": 0.6, "z": 0.4},
     sp.exp(x * y) + sp.log(x) + sp.log(y, 2) + sp.log(x * y, 10) + sp.log(1 + z)
     + sp.exp(y) - 1 + 2**x),
    ("roots", "sqrt(x*y) + rsqrt(x) + reciprocal(y) + square(z)", {"x": 2.0, "y": 0.5, "z": 3.0},
     sp.sqrt(x * y) + 1 / sp.sqrt(x) + 1 / y + z**2),
    ("pow, tensor exponent", "x**y + z**2.5 + 2**(x*z)", {"x": 1.7, "y": 0.6, "z": 1.2},
     x**y + z**sp.Rational(5, 2) + 2**(x * z)),
    ("atan2 and hypot", "atan2(x, y) + hypot(y, z)", {"x": -0.8, "y": 0.6, "z": 1.5},
     sp.atan2(x, y) + sp.sqrt(y**2 + z**2)),
    ("sigmoid softplus silu erf", "sigmoid(x) + softplus(x*y) + silu(y) + erf(x - z)",
     {"x": 0.7, "y": -1.2, "z": 0.2},
     1 / (1 + sp.exp(-x)) + sp.log(1 + sp.exp(x * y)) + y / (1 + sp.exp(-y)) + sp.erf(x - z)),
    ("clamp away from its bounds", "clamp(x, min=-1, max=1)*y + clamp(z, min=0)",
     {"x": 0.3, "y": 2.0, "z": 0.5}, sp.Min(sp.Max(x, -1), 1) * y + sp.Max(z, 0)),
    ("clamp outside its bounds", "clamp(x, max=1)*y + clamp(z, min=-1, max=1)",
     {"x": 1.6, "y": 2.0, "z": -1.5}, sp.Min(x, 1) * y + sp.Min(sp.Max(z, -1), 1)),
    ("maximum and minimum away from ties", "maximum(x, y)*z + minimum(x*z, y)",
     {"x": 0.3, "y": 0.8, "z": 1.4}, sp.Max(x, y) * z + sp.Min(x * z, y)),
    ("abs and relu away from 0", "abs(x - y) + relu(z) + relu(-x)*y",
     {"x": -0.5, "y": 1.5, "z": 0.7}, sp.Abs(x - y) + sp.Max(z, 0) + sp.Max(-x, 0) * y),
    ("deep chain", "tanh(sin(exp(x*y)) + log(1 + z**2))**3", {"x": 0.2, "y": 0.4, "z": 1.0},
     sp.tanh(sp.sin(sp.exp(x * y)) + sp.log(1 + z**2))**3),
    ("chained sums", "x + 2*y - z + x*y*z - x + 0.5*y", {"x": 0.5, "y": 1.5, "z": 2.5},
     x + 2 * y - z + x * y * z - x + sp.Rational(1, 2) * y),
]


@pytest.mark.parametrize("label, program, point, f", SCALAR_CASES,
                         ids=[c[0] for c in SCALAR_CASES])
def test_formulas_are_sympys_derivatives(label, program, point, f):
    rng = np.random.default_rng(sum(map(ord, label)))
    result = evaluate(program, point)
    rep = replay(result)
    points = [{S(n): v for n, v in point.items()}] + \
        near({S(n): v for n, v in point.items()}, rng)
    for name in point:
        expected = rep.expected[name]
        assert expected.shape == ()
        assert_same_function(sp.diff(f, S(name)), expected[()], points)
    report = run_check(result)
    assert report["status"] == "passed" and report["method"] == "symbolic"
    assert report["failed"] == []
    subs = {S(n): v for n, v in point.items()}
    for name in point:
        hand = point_value(sp.diff(f, S(name)), subs)
        entry = report["variables"][name]
        assert entry["status"] == "passed"
        assert float(entry["expected"]) == pytest.approx(hand, rel=1e-15, abs=1e-300)
        if result.grads[name] is None:         # an unused variable: derivative 0
            assert hand == 0 and entry["reason"].startswith("grad is None")
        else:
            assert float(result.grads[name]) == pytest.approx(hand, rel=1e-12, abs=1e-14)
        assert report["symbolic"][name] == entry["formula"] == str(rep.expected[name][()])


def test_headline_formula_and_values():
    # (x1*x2 + x3)**2 at (2, 3, 1): 2*x2*(x1*x2 + x3) = 42, 2*x1*(...) = 28, 2*(...) = 14
    result = evaluate("(x1*x2+x3)**2", {"x1": 2, "x2": 3, "x3": 1})
    report = run_check(result)
    x1, x2, x3 = S("x1"), S("x2"), S("x3")
    rep = replay(result)
    assert rep.expected["x1"][()] == 2 * x2 * (x1 * x2 + x3)
    assert rep.expected["x3"][()] == 2 * (x1 * x2 + x3)
    assert {n: float(e["expected"]) for n, e in report["variables"].items()} == \
        {"x1": 42.0, "x2": 28.0, "x3": 14.0}
    assert report["max_abs_err"] == 0 and report["max_ulp_err"] == 0
    assert report["rtol"] == 1e-7 and report["atol"] == 1e-9


# -- tensors -----------------------------------------------------------------------------

def _tensor_case(program, bindings, build, const=None, upstream=None, seed=0):
    """Run a tensor program; compare every element's expected gradient with
    sympy.diff of the hand-built scalar objective, at the point and nearby."""
    rng = np.random.default_rng(seed)
    result = evaluate(program, bindings, const=const, upstream=upstream)
    rep = replay(result)
    syms = {n: (tensor_symbols(n, np.shape(v)) if np.ndim(v) else np.asarray(S(n), object))
            for n, v in bindings.items()}
    objective = build(**syms)
    center = {}
    for n, v in bindings.items():
        for s, val in zip(np.asarray(syms[n]).reshape(-1), np.asarray(v, float).reshape(-1)):
            center[s] = float(val)
    fixed = {}                  # constants are symbols in the replay too, at their value
    for n, v in (const or {}).items():
        names = tensor_symbols(n, np.shape(v)) if np.ndim(v) else np.asarray(S(n), object)
        for s, val in zip(np.asarray(names).reshape(-1), np.asarray(v, float).reshape(-1)):
            fixed[s] = float(val)
    points = [{**p, **fixed} for p in [center] + near(center, rng, n=2)]
    center = points[0]
    for n in bindings:
        expected = rep.expected[n]
        assert expected.shape == np.shape(bindings[n])
        for idx in np.ndindex(expected.shape):
            s = np.asarray(syms[n])[idx]
            assert_same_function(sp.diff(objective, s), expected[idx], points)
    report = run_check(result)
    assert report["status"] == "passed", report
    assert report["method"] == "symbolic"
    for n in bindings:
        hand = np.array([point_value(sp.diff(objective, s), center)
                         for s in np.asarray(syms[n]).reshape(-1)]).reshape(np.shape(bindings[n]))
        np.testing.assert_allclose(report["variables"][n]["expected"], hand, rtol=1e-15,
                                   atol=1e-300)
        np.testing.assert_allclose(result.grads[n], hand, rtol=1e-12, atol=1e-14)
    return result, report


W23 = [[0.5, -1.0, 0.25], [1.5, 0.75, -0.5]]
V3 = [0.2, -0.4, 0.9]


def _sum(a):
    return sp.Add(*np.asarray(a, dtype=object).reshape(-1))


def test_matmul_tanh_layer():
    # sum_i tanh(sum_j w[i,j] v[j] + b[i])**2
    def build(w, v, b):
        return _sum([sp.tanh(_sum(w[i] * v) + b[i])**2 for i in range(2)])
    _tensor_case("sum(tanh(w @ v + b)**2)", {"w": W23, "v": V3, "b": [0.1, -0.3]}, build)


def test_matrix_matrix_and_vector_matrix_products():
    a = [[1.0, 2.0], [0.5, -1.0]]
    bm = [[0.3, -0.2, 1.1], [0.7, 0.4, -0.6]]

    def build(a, b, v):
        ab = np.dot(a, b)                     # object arrays: exact SymPy products
        return _sum(ab * ab) + _sum(np.dot(v, a))
    _tensor_case("sum((a @ b)**2) + sum(v @ a)", {"a": a, "b": bm, "v": [0.3, -0.8]}, build)


def test_reductions_sum_mean_prod_norm():
    w = [0.5, -1.5, 2.0, 0.25]

    def build(w):
        return _sum(w * w) + _sum(w) / 4 * sp.Mul(*w) + sp.sqrt(_sum(w * w))
    _tensor_case("sum(w**2) + mean(w)*prod(w) + norm(w)", {"w": w}, build)


def test_reductions_over_a_dim():
    def build(w):
        rows = [_sum(w[i]) for i in range(2)]                 # sum(w, 1)
        cols = [_sum(w[:, j]) / 2 for j in range(3)]          # mean(w, 0)
        return rows[0] * rows[1] + _sum(np.array(cols, dtype=object)**3)
    _tensor_case("r = sum(w, 1); prod(r) + sum(mean(w, 0)**3)", {"w": W23}, build)


def test_logsumexp_softmax_log_softmax():
    c = [1.0, -2.0, 0.5]

    def build(w):
        lse = sp.log(_sum([sp.exp(e) for e in w]))
        soft = [sp.exp(e) / _sum([sp.exp(t) for t in w]) for e in w]
        logsoft = [e - lse for e in w]
        return lse + _sum(np.array(soft, dtype=object) * c) + logsoft[1]**2
    _tensor_case("logsumexp(w, 0) + sum(softmax(w, 0)*c) + log_softmax(w, 0)[1]**2",
                 {"w": [0.3, -1.1, 0.8]}, build, const={"c": c})


def test_softmax_over_rows_of_a_matrix():
    def build(w):
        out = 0
        for i in range(2):
            den = _sum([sp.exp(e) for e in w[i]])
            out += sp.exp(w[i, 0]) / den * (i + 1) + sp.log(den)
        return out
    _tensor_case("s = softmax(w, 1); s[0, 0] + 2*s[1, 0] + sum(logsumexp(w, 1))",
                 {"w": W23}, build)


def test_indexing_and_slices():
    def build(w):
        return w[0, 1] * w[1, 0] + _sum(w[1, 1:]) ** 2 + w[-1, -1] ** 3 + _sum(w[:, 0] * w[:, 2])
    _tensor_case("w[0, 1]*w[1, 0] + sum(w[1, 1:])**2 + w[-1, -1]**3 + sum(w[:, 0]*w[:, 2])",
                 {"w": W23}, build)


def test_stack_cat_reshape_transpose():
    def build(x, y, v):
        st = [x * y, x + y]
        ct = list(v) + [2 * e for e in v]
        m = np.array(ct, dtype=object).reshape(2, 3).T             # reshape(cat, 2, 3).T
        return st[0] * 3 + st[1] * -1 + _sum(m[:, 1] * m[:, 0]) + m[2, 1] ** 2
    _tensor_case("s = stack([x*y, x + y]); m = reshape(cat([v, 2*v]), 2, 3).T; "
                 "s[0]*3 - s[1] + sum(m[:, 1]*m[:, 0]) + m[2, 1]**2",
                 {"x": 0.5, "y": -2.0, "v": V3}, build)


def test_elementwise_on_tensors_with_broadcast_and_upstream():
    u = [1.0, -2.0, 0.5]

    def build(w, b):
        return _sum([(sp.exp(w[i]) * b + sp.sin(w[i] * b)) * u[i] for i in range(3)])
    _tensor_case("exp(w)*b + sin(w*b)", {"w": V3, "b": 1.5}, build, upstream=u)


def test_mse_loss_and_trace():
    t = [[1.0, 0.0], [2.0, -1.0]]

    def build(a):
        d = a - np.array(t, dtype=object)
        return _sum(d * d) / 4 + (a[0, 0] + a[1, 1]) ** 2
    _tensor_case("mse_loss(a, t) + trace(a)**2", {"a": [[0.5, 1.0], [1.5, 2.0]]}, build,
                 const={"t": t})


def test_maximum_max_min_away_from_ties():
    def build(w, v):
        return sp.Max(*w) * sp.Min(*v) + _sum([sp.Max(a, b) for a, b in zip(w, v)])
    _tensor_case("max(w)*min(v) + sum(maximum(w, v))",
                 {"w": [0.3, 1.2, -0.4], "v": [0.9, 0.1, -1.0]}, build)


# -- programs with autograd statements ------------------------------------------------

def test_two_backwards_accumulate():
    # backward(x**2) then backward(x*w): x gets 2x + w = 4 + 3, w gets x = 2
    result = evaluate("y = x**2; z = x*w; backward(y); backward(z)", {"x": 2, "w": 3})
    rep = replay(result)
    assert sp.simplify(rep.expected["x"][()] - (2 * x + S("w"))) == 0
    assert rep.expected["w"][()] == x
    report = run_check(result)
    assert report["status"] == "passed"
    assert {n: float(e["expected"]) for n, e in report["variables"].items()} == \
        {"x": 7.0, "w": 2.0}


def test_retain_graph_backward_twice():
    # x**3 twice: 2 * 3x**2 = 24 at x = 2
    result = evaluate("y = x**3; backward(y, retain_graph=True); backward(y)", {"x": 2})
    report = run_check(result)
    assert float(report["variables"]["x"]["expected"]) == 24.0
    assert report["status"] == "passed"
    assert sp.simplify(replay(result).expected["x"][()] - 6 * x**2) == 0


def test_zero_grad_resets_the_expected_gradient():
    # backward(x**2); zero_grad(x); backward(x**3): only 3x**2 = 12 at x = 2
    result = evaluate("y = x**2; backward(y); zero_grad(x); z = x**3; backward(z)", {"x": 2})
    assert float(result.grads["x"]) == 12.0
    assert replay(result).expected["x"][()] == 3 * x**2
    report = run_check(result)
    assert report["status"] == "passed"
    assert float(report["variables"]["x"]["expected"]) == 12.0


def test_grad_with_create_graph_is_checked_as_values():
    # y = x**3: dy = 3x**2 = 12, d2y = 6x = 12 at x = 2
    result = evaluate("y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)", {"x": 2})
    report = run_check(result)
    assert report["status"] == "passed"
    values = report["values"]
    assert set(values) == {"dy", "grad(dy, x)"}
    assert float(values["dy"]["expected"]) == 12.0 and values["dy"]["status"] == "passed"
    assert float(values["grad(dy, x)"]["expected"]) == 12.0
    rep = replay(result)
    derivatives = [d[()] for _, d in rep.values]
    assert derivatives[0] == sp.diff(x**3, x) and derivatives[1] == sp.diff(x**3, x, 2)
    assert values["dy"]["formula"] == str(3 * x**2)


def test_no_grad_and_detach_are_constants():
    # y1 + y2*x with y2 = no_grad(x**3) = 8 (a constant): d/dx = 2x + 8 = 12 at x = 2
    result = evaluate("y1 = x**2; y2 = no_grad(x**3); y1 + y2*x", {"x": 2})
    rep = replay(result)
    assert sp.simplify(rep.expected["x"][()] - (2 * x + 8)) == 0
    report = run_check(result)
    assert report["status"] == "passed" and float(report["variables"]["x"]["expected"]) == 12
    # d = detach(x*y) = 6 is a constant: d/dx (d*x + y) = 6, d/dy = 1
    result = evaluate("d = detach(x*y); d*x + y", {"x": 2, "y": 3})
    rep = replay(result)
    assert rep.expected["x"][()] == 6 and rep.expected["y"][()] == 1
    assert run_check(result)["status"] == "passed"


def test_requires_grad_on_computed_values_reference_case_7():
    # SPEC 3.7 case 7: L = 10x - x1*w1*w2 with x1 = 2, w1 = 5, w2 = 6 (x = 1, constant):
    # dL/dx1 = -w1*w2 = -30, dL/dw1 = -x1*w2 = -12, dL/dw2 = -x1*w1 = -10
    program = ("x1 = 2*x; requires_grad_(x1); w1 = 5*x; requires_grad_(w1); w2 = 6*x; "
               "requires_grad_(w2); y = x1*w1*w2; L = 10*x - y; backward(L, ones_like(L))")
    result = evaluate(program, {}, const={"x": [[1, 1], [1, 1]]})
    report = run_check(result)
    assert report["status"] == "passed"
    for name, value in (("x1", -30), ("w1", -12), ("w2", -10)):
        np.testing.assert_array_equal(report["variables"][name]["expected"],
                                      np.full((2, 2), value))
    rep = replay(result)
    assert rep.expected["x1"][0, 1] == -S("w1[0,1]") * S("w2[0,1]")


def test_in_place_updates_are_replayed():
    # t = x*y; t += x; t *= y  ->  (x*y + x)*y: d/dx = (y + 1)*y = 12, d/dy = 2xy + x = 14
    result = evaluate("t = x*y; t += x; t *= y; t", {"x": 2, "y": 3})
    rep = replay(result)
    assert sp.simplify(rep.expected["x"][()] - (y + 1) * y) == 0
    assert sp.simplify(rep.expected["y"][()] - (2 * x * y + x)) == 0
    report = run_check(result)
    assert report["status"] == "passed"
    assert float(report["variables"]["x"]["expected"]) == 12
    assert float(report["variables"]["y"]["expected"]) == 14


def test_wrt_const_and_of():
    # only x requires grad; y is a constant 3: d/dx (x**2 * y) = 2xy = 12 at x = 2
    result = evaluate("a = x**2*y; b = a + x; a", {"x": 2, "y": 3}, wrt=["x"])
    report = run_check(result)
    assert list(report["variables"]) == ["x"] and report["status"] == "passed"
    assert float(report["variables"]["x"]["expected"]) == 12
    result = evaluate("a = x**2*y; b = a + x; a", {"x": 2}, const={"y": 3}, of="b")
    report = run_check(result)
    assert float(report["variables"]["x"]["expected"]) == 13           # 2xy + 1
    assert report["status"] == "passed"


# == 2. kinks: the derivative is undefined at the point, so the check skips ================
#
# Each case: program, bindings at the kink, the engine's (PyTorch's) gradient there, the
# words the reason must contain, and bindings away from the kink where the same program
# must pass.

KINKS = [
    ("relu(x)", {"x": 0.0}, {"x": 0.0}, "relu has a kink at 0", {"x": 0.5}),
    ("abs(x)", {"x": 0.0}, {"x": 0.0}, "abs has a kink at 0", {"x": -0.5}),
    ("sign(x)*3", {"x": 0.0}, {"x": 0.0}, "sign jumps at 0", {"x": 2.0}),
    ("clamp(x, min=-1, max=1)", {"x": 1.0}, {"x": 1.0}, "clamp has kinks at its bounds",
     {"x": 0.5}),
    ("clamp(x, min=-1, max=1)", {"x": -1.0}, {"x": 1.0}, "clamp has kinks at its bounds",
     {"x": -1.5}),
    ("maximum(x, y)", {"x": 1.0, "y": 1.0}, {"x": 0.5, "y": 0.5}, "a tie", {"x": 1.0, "y": 2.0}),
    ("minimum(x, y)*2", {"x": -3.0, "y": -3.0}, {"x": 1.0, "y": 1.0}, "a tie",
     {"x": -3.0, "y": 2.0}),
    ("max(w)", {"w": [1.0, 3.0, 3.0]}, {"w": [0.0, 0.5, 0.5]}, "a tie for the extreme element",
     {"w": [1.0, 3.0, 2.0]}),
    ("max(w)", {"w": [2.0, 2.0, 2.0]}, {"w": [1 / 3, 1 / 3, 1 / 3]},
     "a tie for the extreme element", {"w": [2.0, 2.5, 2.0]}),
    ("min(w)", {"w": [-1.0, 4.0, -1.0]}, {"w": [0.5, 0.0, 0.5]}, "a tie for the extreme element",
     {"w": [-1.0, 4.0, -2.0]}),
    ("sqrt(x)", {"x": 0.0}, {"x": math.inf}, "undefined or infinite", {"x": 4.0}),
    ("x**0.5", {"x": 0.0}, {"x": math.inf}, "undefined or infinite", {"x": 4.0}),
    ("x**y", {"x": 0.0, "y": 0.0}, {"x": 0.0, "y": 0.0}, "undefined or infinite",
     {"x": 2.0, "y": 0.0}),
    ("x**y", {"x": 0.0, "y": 2.0}, {"x": 0.0, "y": 0.0}, "undefined or infinite",
     {"x": 0.5, "y": 2.0}),
    ("norm(w)", {"w": [0.0, 0.0]}, {"w": [0.0, 0.0]}, "undefined or infinite",
     {"w": [3.0, 4.0]}),
    ("log(x)", {"x": 0.0}, {"x": math.inf}, "undefined or infinite", {"x": 2.0}),
    ("sum(relu(w))", {"w": [0.0, 0.0]}, {"w": [0.0, 0.0]}, "relu has a kink",
     {"w": [-1.0, 0.5]}),
]


@pytest.mark.parametrize("program, at, checked", [
    ("sum(relu(w))", {"w": [-1.0, 0.0, 2.0]}, [True, False, True]),
    ("sum(abs(w - 1))", {"w": [1.0, 2.0, 0.0, 1.0]}, [False, True, True, False]),
    ("sum(maximum(w, v))", {"w": [1.0, 2.0], "v": [1.0, 0.0]}, [False, True]),
    ("sum(clamp(w, 0, 1))", {"w": [[0.0, 0.5], [1.0, 3.0]]}, [[False, True], [False, True]]),
    ("sum(relu(w.expand(50, 3)))", {"w": [-1.0, 0.0, 2.0]}, [True, False, True]),
])
def test_an_elementwise_kink_skips_only_the_elements_at_it(program, at, checked):
    """SPEC 5's partial: the elements away from the kink are checked (and pass)."""
    report = run_check(evaluate(program, at))
    assert report["status"] == "partial" and report["failed"] == [], report
    entry = report["variables"]["w"]
    assert entry["checked"] == int(np.sum(checked)), entry
    expected = np.asarray(entry["expected"], dtype=float)
    assert np.array_equal(np.isfinite(expected), np.asarray(checked)), entry


@pytest.mark.parametrize("program, at, grads, words, away", KINKS,
                         ids=[f"{c[0]}@{c[1]}" for c in KINKS])
def test_kinks_are_skipped_with_a_reason(program, at, grads, words, away):
    result = evaluate(program, at)
    for name, value in grads.items():                   # PyTorch's values at the kink
        np.testing.assert_allclose(result.grads[name], value, rtol=1e-15)
    report = run_check(result)
    assert report["status"] == "skipped", report
    assert report["failed"] == []
    assert words in report["reason"]                     # the summary says why
    for name in grads:
        entry = report["variables"][name]
        assert entry["status"] == "skipped" and words in entry["reason"]
    report = run_check(evaluate(program, away))
    assert report["status"] == "passed", report
    assert all(e["status"] == "passed" and "reason" not in e
               for e in report["variables"].values())


def test_a_kink_skips_only_the_variables_it_touches():
    # relu(x) + y**2 at x = 0: x is skipped, y = 2y = 6 is checked
    # (SPEC 5: some elements checked, some not, is "partial", saying how many)
    report = run_check(evaluate("relu(x) + y**2", {"x": 0.0, "y": 3.0}))
    assert report["status"] == "partial"
    assert (report["checked"], report["elements"]) == (1, 2)
    assert report["variables"]["x"]["status"] == "skipped"
    assert report["variables"]["y"]["status"] == "passed"
    assert float(report["variables"]["y"]["expected"]) == 6.0
    assert report["reason"] == "1 of 2 elements checked; x: relu has a kink at 0 (PyTorch " \
        "uses 0)"


def test_a_kink_does_not_hide_a_failure_elsewhere(monkeypatch):
    # a wrong square VJP (3x instead of 2x) on y, a kink on x: y still fails
    monkeypatch.setattr(REGISTRY["square"], "vjps", (lambda F, g, x, out: g * (3 * x),))
    report = run_check(evaluate("relu(x) + square(y)", {"x": 0.0, "y": 3.0}))
    assert report["status"] == "failed" and report["failed"] == ["y"]
    assert report["variables"]["x"]["status"] == "skipped"


def test_grad_values_at_a_kink_are_skipped_not_failed():
    # grad(relu(x), x) at 0: PyTorch 0, SymPy Heaviside(0) = 1/2; undefined there
    result = evaluate("grad(relu(x)*y, x)", {"x": 0.0, "y": 2.0})
    report = run_check(result)
    assert report["status"] != "failed" and report["failed"] == []
    (entry,) = report["values"].values()
    assert entry["status"] == "skipped" and "relu has a kink" in entry["reason"]
    report = run_check(evaluate("grad(relu(x)*y, x)", {"x": 0.5, "y": 2.0}))
    (entry,) = report["values"].values()
    assert entry["status"] == "passed" and float(entry["expected"]) == 2.0


def test_kink_in_the_numeric_route_is_skipped():
    # 2001 elements with w[1000] = 0 exactly: a difference quotient across relu's kink
    # gives 1/2, PyTorch 0; the numeric route must skip, not fail
    w = np.linspace(-1, 1, 2001)
    assert w[1000] == 0
    report = run_check(evaluate("sum(relu(w))", {"w": w}))
    assert report["method"] == "numeric"
    assert report["status"] == "skipped" and report["failed"] == []
    assert "relu has a kink" in report["variables"]["w"]["reason"]
    w[1000] = 1e-3                                        # away from it: checked, passes
    report = run_check(evaluate("sum(relu(w))", {"w": w}), timeout=120)   # (every element:
    assert report["method"] == "numeric" and report["status"] == "passed"  # not a sample)
    np.testing.assert_allclose(report["variables"]["w"]["expected"], (w > 0).astype(float),
                               atol=1e-6)


def test_kink_in_a_constant_part_is_not_a_kink():
    # relu(x) under no_grad is a constant: the gradient 2x = 0 at x = 0 is well defined
    report = run_check(evaluate("c = no_grad(relu(x)); x**2 + c", {"x": 0.0}))
    assert report["status"] == "passed"
    assert "reason" not in report["variables"]["x"]


def test_sign_at_zero_does_not_crash_the_check():
    # d sign(x)/dx = 2*DiracDelta(x): SymPy calls DiracDelta(0) real and finite, but it has
    # no float value; it must read as undefined, not raise
    report = run_check(evaluate("sign(x) + x", {"x": 0.0}))
    assert report["status"] == "skipped" and "sign jumps at 0" in report["reason"]
    report = run_check(evaluate("sign(x) + x", {"x": -2.0}))
    assert report["status"] == "passed"
    assert float(report["variables"]["x"]["expected"]) == 1.0


def test_a_non_finite_point_is_undefined_not_a_limit():
    # sin(x)*y at x = inf, y = 0: SymPy's d/dx is y*cos(oo) = 0*AccumBounds(-1, 1) = 0,
    # the engine's 0*cos(inf) = NaN; there is no derivative at an infinite point
    result = evaluate("sin(x)*y", {"x": math.inf, "y": 0.0})
    report = run_check(result)
    assert report["status"] == "skipped" and report["failed"] == []
    assert all(e["status"] == "skipped" for e in report["variables"].values())
    assert "infinite or NaN" in report["variables"]["y"]["reason"]
    # a derivative that does not depend on the infinite coordinate is still checked
    report = run_check(evaluate("x + 2*y", {"x": math.inf, "y": 1.0}))
    assert report["status"] == "passed"
    assert float(report["variables"]["y"]["expected"]) == 2.0
    report = run_check(evaluate("x*y", {"x": math.nan, "y": 2.0}))
    assert report["variables"]["x"]["status"] == "passed"          # d/dx = y = 2
    assert report["variables"]["y"]["status"] == "skipped"         # d/dy = x = NaN


def test_kink_through_the_cli_exits_0_and_says_why():
    r = cli("grad", "relu(x)", "--x", "0")
    assert re.search(r"^check\s+skipped \(symbolic\) — relu has a kink at 0", r.stdout, re.M)
    obj = cli_json("grad", "maximum(x, y)", "--x", "2", "--y", "2")
    assert obj["grads"] == {"x": 0.5, "y": 0.5}
    assert obj["check"]["status"] == "skipped"
    assert obj["check"]["variables"]["x"]["reason"] == "a tie (PyTorch gives 1/2 to each)"


# == 3. the numeric fallback ===============================================================

W2000 = np.random.default_rng(7).uniform(-2, 2, 2000)


def test_2000_elements_fall_back_to_central_differences():
    # d/dw sum(sin(w)*w) = cos(w)*w + sin(w)
    result = evaluate("sum(sin(w)*w)", {"w": W2000})
    report = run_check(result, timeout=120)               # a budget for every element
    assert report["method"] == "numeric" and report["status"] == "passed"
    assert report["reason"].startswith("2000 tensor elements (over 256); central differences")
    assert report["symbolic"] == {} and report["failed"] == []
    entry = report["variables"]["w"]
    hand = np.cos(W2000) * W2000 + np.sin(W2000)
    assert not np.isnan(entry["expected"]).any()         # every element was nudged
    # each quotient carries eps*|sum|/h ~ 1e-7 of rounding: within the stated atol 1e-6
    np.testing.assert_allclose(entry["expected"], hand, rtol=0, atol=1e-6)
    assert report["max_abs_err"] < 1e-6
    assert report["rtol"] == 1e-7 and report["atol"] == 1e-9      # as asked ...
    assert "rtol 1e-05, atol 1e-06" in report["reason"]          # ... widened for quotients


def test_the_limit_is_256_elements_in_all():
    w = np.linspace(0.5, 1.5, 128)
    # 128 + 128 elements: symbolic; 128 + 129: numeric (d/dv sum(w*v) = w)
    report = run_check(evaluate("sum(w*v)", {"w": w, "v": w}), timeout=120)  # not time
    assert report["method"] == "symbolic" and report["status"] == "passed"
    report = run_check(evaluate("sum(w*v[1:])", {"w": w, "v": np.linspace(0, 1, 129)}),
                       timeout=120)
    assert report["method"] == "numeric" and report["status"] == "passed"
    assert "257 tensor elements (over 256)" in report["reason"]
    np.testing.assert_allclose(report["variables"]["v"]["expected"][1:], w, atol=1e-8)
    assert abs(report["variables"]["v"]["expected"][0]) < 1e-8       # v[0] is unused


def test_numeric_route_with_explicit_backwards_and_zero_grad():
    # backward(sum(w**2)); zero_grad(w); backward(sum(w**3)): only 3w**2 counts;
    # v gets both: d/dv sum(v*w) = w, twice
    w = np.linspace(-1, 1, 300)
    program = "backward(sum(w**2 + v*w)); zero_grad(w); backward(sum(w**3 + v*w))"
    report = run_check(evaluate(program, {"w": w, "v": w}), timeout=120)
    assert report["method"] == "numeric" and report["status"] == "passed"
    np.testing.assert_allclose(report["variables"]["w"]["expected"], 3 * w**2 + w, atol=1e-7)
    np.testing.assert_allclose(report["variables"]["v"]["expected"], 2 * w, atol=1e-7)


@pytest.mark.parametrize("options, expected", [
    # a non-scalar output with an upstream: the objective is sum(output * upstream)
    ({"upstream": "ones"}, lambda w: np.cos(w) * w + np.sin(w)),
    ({"upstream": W2000[:300]}, lambda w: (np.cos(w) * w + np.sin(w)) * W2000[:300]),
    # of=: the variable treated as the output, not the program's last value
    ({"of": "y", "upstream": "ones"}, lambda w: np.cos(w) * w + np.sin(w)),
])
def test_the_numeric_route_reads_the_implicit_backwards_objective_off_the_output(
        options, expected):
    """The nudged runs skip the implicit backward (nothing reads its gradients) and take
    sum(output * upstream) from the output; the differences are the gradient's."""
    w = W2000[:300]
    result = evaluate("y = sin(w)*w\ny * 2", {"w": w}, **options)
    report = run_check(result, timeout=120)
    assert report["method"] == "numeric" and report["status"] == "passed"
    scale = 1 if "of" in options else 2
    np.testing.assert_allclose(report["variables"]["w"]["expected"], scale * expected(w),
                               atol=1e-6)


# == 4. a wrong VJP is caught: the check can fail ===========================================

def _sin_off_by_a_thousandth(F, g, x, out):
    return g * F.cos(x) * 1.001


@pytest.fixture
def wrong_sin(monkeypatch):
    monkeypatch.setattr(REGISTRY["sin"], "vjps", (_sin_off_by_a_thousandth,))


@pytest.fixture
def swapped_mul(monkeypatch):
    a, b = REGISTRY["mul"].vjps
    monkeypatch.setattr(REGISTRY["mul"], "vjps", (b, a))


def test_wrong_vjp_fails_the_symbolic_check_and_not_the_expected_value(monkeypatch):
    point = {"x": 0.5, "y": 2.0}
    good = run_check(evaluate("sin(x)*y", point))
    assert good["status"] == "passed"
    monkeypatch.setattr(REGISTRY["sin"], "vjps", (_sin_off_by_a_thousandth,))
    result = evaluate("sin(x)*y", point)
    assert float(result.grads["x"]) == pytest.approx(1.001 * math.cos(0.5) * 2, rel=1e-15)
    bad = run_check(result)
    assert bad["status"] == "failed" and bad["failed"] == ["x"]
    assert bad["method"] == "symbolic"
    entry = bad["variables"]["x"]
    assert entry["status"] == "failed" and entry["reason"].startswith("differs by 0.00176")
    assert entry["abs_err"] == pytest.approx(0.001 * math.cos(0.5) * 2, rel=1e-9)
    assert bad["variables"]["y"]["status"] == "passed"          # sin's forward is fine
    # independence: the wrong VJP changed actual, never expected
    assert float(entry["expected"]) == float(good["variables"]["x"]["expected"]) == \
        pytest.approx(2 * math.cos(0.5), rel=1e-15)
    assert float(entry["actual"]) != float(good["variables"]["x"]["actual"])
    assert bad["symbolic"]["x"] == good["symbolic"]["x"] == "y*cos(x)"


def test_swapped_mul_vjps_fail(swapped_mul):
    # x*y at (2, 3): the swapped VJPs give dx = x = 2, dy = y = 3; expected 3 and 2
    result = evaluate("x*y", {"x": 2, "y": 3})
    assert {n: float(g) for n, g in result.grads.items()} == {"x": 2.0, "y": 3.0}
    report = run_check(result)
    assert report["status"] == "failed" and report["failed"] == ["x", "y"]
    assert float(report["variables"]["x"]["expected"]) == 3.0
    assert float(report["variables"]["y"]["expected"]) == 2.0


def test_swapped_mul_vjps_fail_in_a_tensor_program(swapped_mul):
    # sum(w*v): expected dw = v, dv = w; swapped, the engine gives dw = w, dv = v
    report = run_check(evaluate("sum(w * v)", {"w": V3, "v": [1.0, 2.0, 3.0]}))
    assert report["status"] == "failed" and set(report["failed"]) == {"w", "v"}
    np.testing.assert_array_equal(report["variables"]["w"]["expected"], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(report["variables"]["w"]["actual"], V3)


def test_wrong_vjp_fails_the_numeric_check(monkeypatch):
    good = run_check(evaluate("sum(sin(w)*w)", {"w": W2000}), timeout=120)
    monkeypatch.setattr(REGISTRY["sin"], "vjps", (_sin_off_by_a_thousandth,))
    bad = run_check(evaluate("sum(sin(w)*w)", {"w": W2000}), timeout=120)
    assert bad["method"] == "numeric"
    assert bad["status"] == "failed" and bad["failed"] == ["w"]
    assert bad["variables"]["w"]["reason"].startswith("differs by")
    # the differences do not run backward: the expected value is unchanged
    np.testing.assert_array_equal(bad["variables"]["w"]["expected"],
                                  good["variables"]["w"]["expected"])
    np.testing.assert_allclose(bad["variables"]["w"]["actual"] - good["variables"]["w"]["actual"],
                               0.001 * np.cos(W2000) * W2000, rtol=1e-9, atol=1e-15)


SLOW_SYMBOLIC = "sum(exp(sin(w))*cos(w))"       # 250 elements: seconds for SymPy
W250 = np.linspace(-1.2, 1.3, 250)


def _hand_slow(w):
    # d/dw exp(sin w) cos w = exp(sin w) (cos(w)**2 - sin w)
    return np.exp(np.sin(w)) * (np.cos(w) ** 2 - np.sin(w))


def test_a_tiny_timeout_falls_back_to_numeric_and_catches_a_wrong_vjp(monkeypatch):
    report = run_check(evaluate(SLOW_SYMBOLIC, {"w": W250}), timeout=0.3)
    checked = ~np.isnan(report["variables"]["w"]["expected"])
    assert checked.any()
    # (what 0.3 s of differences reached: all of it passed, or a part, and it says so)
    assert report["method"] == "numeric"
    assert report["status"] == ("passed" if checked.all() else "partial")
    assert report["reason"].startswith("the symbolic check took over 0.3 s; central differences")
    np.testing.assert_allclose(report["variables"]["w"]["expected"][checked],
                               _hand_slow(W250)[checked], atol=1e-7)
    monkeypatch.setattr(REGISTRY["sin"], "vjps", (_sin_off_by_a_thousandth,))
    report = run_check(evaluate(SLOW_SYMBOLIC, {"w": W250}), timeout=0.3)
    assert report["method"] == "numeric"
    assert report["status"] == "failed" and report["failed"] == ["w"]


def test_symbolic_over_budget_falls_back(monkeypatch, wrong_sin):
    # a SymPy that never finishes in time (every budget check says: over), deterministic
    def over(self):
        raise Timeout
    monkeypatch.setattr(Replay, "_tick", over)
    report = run_check(evaluate("sin(x)*y", {"x": 0.5, "y": 2.0}), timeout=5)
    assert report["method"] == "numeric"
    assert report["reason"].startswith("the symbolic check took over 5 s")
    assert report["status"] == "failed" and report["failed"] == ["x"]
    assert float(report["variables"]["x"]["expected"]) == pytest.approx(2 * math.cos(0.5),
                                                                        abs=1e-8)
    assert float(report["variables"]["y"]["expected"]) == pytest.approx(math.sin(0.5), abs=1e-8)


def test_wrong_vjp_through_the_cli_exits_1(wrong_sin):
    r = cli("grad", "sin(x)*y", "--x", "0.5", "--y", "2", code=1)
    assert re.search(r"^check\s+failed \(symbolic", r.stdout, re.M)
    obj = cli_json("grad", "sin(x)*y", "--x", "0.5", "--y", "2", code=1)
    assert obj["check"]["status"] == "failed" and obj["check"]["failed"] == ["x"]
    assert obj["check"]["variables"]["x"]["expected"] == pytest.approx(2 * math.cos(0.5))
    # numeric route through the CLI: a budget too small for SymPy
    w = json.dumps([round(v, 6) for v in W250.tolist()])
    r = cli("grad", SLOW_SYMBOLIC, "--w", w, "--check-timeout", "0.3", code=1)
    assert re.search(r"^check\s+failed \(numeric", r.stdout, re.M)
    assert cli("grad", "sin(x)*y", "--x", "0.5", "--y", "2", "--no-check").exit_code == 0


def test_zero_budget_checks_nothing_and_says_so():
    report = run_check(evaluate("sin(x)*y", {"x": 0.5, "y": 2.0}), timeout=0)
    assert report["method"] == "numeric" and report["status"] == "skipped"
    assert "time budget reached, checked x: 0 of 1 elements, y: 0 of 1 elements" in \
        report["reason"]
    for entry in report["variables"].values():
        assert entry["status"] == "skipped"
        assert entry["reason"] == "the time budget ran out before any element was checked"


def test_float32_uses_widened_tolerances():
    # tanh(x*y)/y in float32: d/dy is off by ~4e-7 relative, beyond 1e-7
    result = evaluate("tanh(x*y)/y", {"x": 0.37, "y": 1.9}, dtype="float32")
    report = run_check(result, rtol=1e-7, atol=1e-9)
    assert report["rtol"] == 1e-4 and report["atol"] == 1e-6
    assert report["status"] == "passed"
    entry = report["variables"]["y"]
    assert entry["abs_err"] > 1e-9 + 1e-7 * abs(float(entry["expected"]))
    # the expected value is at the float32 point (x, y rounded to float32)
    xs, ys = (float(np.float32(v)) for v in (0.37, 1.9))
    hand = xs * (1 - math.tanh(xs * ys) ** 2) / ys - math.tanh(xs * ys) / ys**2
    assert float(entry["expected"]) == pytest.approx(hand, rel=1e-14)
    # the same numbers in float64 meet the narrow tolerances
    report = run_check(evaluate("tanh(x*y)/y", {"x": 0.37, "y": 1.9}))
    assert report["rtol"] == 1e-7 and report["status"] == "passed"
    # looser user tolerances are kept as they are
    assert run_check(result, rtol=1e-3, atol=1e-2)["rtol"] == 1e-3


# == 5. --expect NAME=VALUE ===============================================================

def test_check_expectations_values():
    grads = {"x": np.array(7.0), "w": np.array([2.0, 4.0]), "n": None}
    report = check_expectations(grads, {"x": 7.0000000001, "w": [2.0, 4.0]}, 1e-7, 1e-9)
    assert report["x"]["status"] == "passed" and report["w"]["status"] == "passed"
    assert report["w"]["abs_err"] == 0.0
    report = check_expectations(grads, {"x": 8.0, "w": [2.0, 4.5]}, 1e-7, 1e-9)
    assert report["x"] == {"expected": 8.0, "actual": grads["x"], "abs_err": 1.0,
                           "status": "failed", "reason": "differs by 1 (rtol 1e-07, atol 1e-09)"}
    assert report["w"]["status"] == "failed" and report["w"]["abs_err"] == 0.5
    report = check_expectations(grads, {"w": [2.0, 4.0, 6.0]}, 1e-7, 1e-9)
    assert report["w"]["status"] == "failed" and report["w"]["abs_err"] is None
    assert report["w"]["reason"] == "shape [2] does not match the expected shape [3]"
    report = check_expectations(grads, {"q": 1.0, "n": 0.0}, 1e-7, 1e-9)
    assert report["q"]["reason"] == "no gradient named 'q' (gradients: x, w, n)"
    assert report["n"] == {"expected": 0.0, "actual": None, "abs_err": None,
                           "status": "failed", "reason": "n.grad is None"}
    # a scalar broadcasts over a tensor; NaN equals NaN; the tolerances are honoured
    assert check_expectations(grads, {"w": 3.0}, 0.5, 0)["w"]["status"] == "passed"
    assert check_expectations({"x": np.array(np.nan)}, {"x": math.nan}, 0, 0)["x"]["status"] \
        == "passed"
    assert check_expectations(grads, {"x": 7.1}, 0, 0.2)["x"]["status"] == "passed"
    assert check_expectations(grads, {"x": 7.1}, 0, 0.05)["x"]["status"] == "failed"


def test_expect_through_the_cli():
    # x**2 + 3x + 1 at 2: 2x + 3 = 7
    obj = cli_json("grad", "x**2 + 3*x + 1", "--x", "2", "--expect", "x=7")
    assert obj["check"]["expect"]["x"]["status"] == "passed"
    assert obj["check"]["status"] == "passed" and obj["check"]["failed"] == []
    obj = cli_json("grad", "x**2 + 3*x + 1", "--x", "2", "--expect", "x=7.5", code=1)
    assert obj["check"]["variables"]["x"]["status"] == "passed"  # SymPy agrees with the engine
    assert obj["check"]["failed"] == ["x"]                # ... but the user's value does not,
    assert obj["check"]["status"] == "failed"             # and that fails the check
    assert obj["check"]["expect"]["x"]["reason"] == "differs by 0.5 (rtol 1e-07, atol 1e-09)"
    # tensors, shape mismatch, unknown names
    args = ("grad", "w**2", "--w", "[1, 2]", "--upstream", "ones")
    assert cli_json(*args, "--expect", "w=[2, 4]")["check"]["expect"]["w"]["status"] == "passed"
    obj = cli_json(*args, "--expect", "w=[2, 4, 6]", code=1)
    assert obj["check"]["expect"]["w"]["reason"] == \
        "shape [2] does not match the expected shape [3]"
    r = cli(*args, "--expect", "v=1", code=2)             # a name with no gradient: usage
    assert r.stderr == "error: --expect v: no gradient named 'v' (gradients: w)\n"
    r = cli(*args, "--expect", "w=[2, 5]", code=1)
    assert re.search(r"^expect\s+w: failed \(expected \[2, 5\], got \[2, 4\]\) — differs by 1",
                     r.stdout, re.M)
    # --rtol/--atol apply to --expect too; --no-check keeps --expect
    cli(*args, "--expect", "w=[2, 4.1]", "--atol", "0.2")
    cli(*args, "--expect", "w=[2, 4.1]", "--no-check", code=1)
    cli(*args, "--expect", "w=[2, 4]", "--no-check")
    # an --expect failure with a passing check, or a failing check with a passing
    # --expect: both exit 1
    assert cli("grad", "x*2", "--x", "1", "--expect", "x=3", "-q", code=1).stdout == ""


def test_expect_and_a_failing_check(wrong_sin):
    # the engine says 1.001*cos(0) = 1.001; the user expects that; SymPy says 1
    obj = cli_json("grad", "sin(x)", "--x", "0", "--expect", "x=1.001", code=1)
    assert obj["check"]["status"] == "failed" and obj["check"]["failed"] == ["x"]
    assert obj["check"]["expect"]["x"]["status"] == "passed"


# == 6. independence: expected values never come from the engine ===========================

def test_expected_values_ignore_every_vjp(monkeypatch):
    # run the programs, then break every VJP of the table: the symbolic check runs none
    # of them, and its expected values do not move
    programs = [("sum(tanh(w @ v + b)**2)", {"w": W23, "v": V3, "b": [0.1, -0.3]}),
                ("softplus(x)*erf(y) + atan2(x, y)", {"x": 0.3, "y": -0.8}),
                ("y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)", {"x": 2.0})]
    results = [evaluate(p, b) for p, b in programs]
    before = [run_check(r) for r in results]
    assert all(r["status"] == "passed" for r in before)

    def poisoned(*args, **kw):
        raise AssertionError("the check ran a VJP")
    for op in REGISTRY.values():
        monkeypatch.setattr(op, "vjps", tuple(None if v is None else poisoned
                                              for v in op.vjps))
    for result, good in zip(results, before):
        again = run_check(result)
        assert again["status"] == "passed"
        for key in ("variables", "values"):
            for name, entry in good.get(key, {}).items():
                np.testing.assert_array_equal(again[key][name]["expected"], entry["expected"])


# == 7. the compiled check (batch): the same expected values, also able to fail ==========

def test_compiled_check_agrees_with_the_replay(wrong_sin):
    result = evaluate("sin(x)*y + exp(x*y)", {"x": 0.5, "y": 2.0})
    compiled = CompiledCheck(result)
    point = {"x": 0.5, "y": 2.0}
    expected = {n: v for n, (v, _) in compiled.expected(point).items()}
    # y cos(x) + y exp(xy), sin(x) + x exp(xy)
    assert expected["x"] == pytest.approx(2 * math.cos(0.5) + 2 * math.exp(1.0), rel=1e-15)
    assert expected["y"] == pytest.approx(math.sin(0.5) + 0.5 * math.exp(1.0), rel=1e-15)
    # the compiled check answers a certain pass only; the wrong sin VJP is the full
    # check's to report
    assert compiled.report(result.grads, point, 1e-7, 1e-9, 1.8e308) is None
    assert run_check(result)["failed"] == ["x"]
    right = {"x": np.asarray(expected["x"]), "y": np.asarray(expected["y"])}
    assert compiled.report(right, point, 1e-7, 1e-9, 1.8e308)["status"] == "passed"
    # many points at once
    batch = compiled.expected({"x": np.array([0.5, 1.0]), "y": np.array([2.0, -1.0])}, batch=2)
    np.testing.assert_allclose(batch["y"][0], [math.sin(0.5) + 0.5 * math.exp(1.0),
                                               math.sin(1.0) + math.exp(-1.0)], rtol=1e-15)
    with pytest.raises(NotCacheable):       # a constant that depends on the point
        CompiledCheck(evaluate("c = no_grad(x*2); c*x", {"x": 1.0}))


# -- points that would make exact SymPy arithmetic run forever ---------------------------

def test_negative_base_to_a_point_power_is_checked_at_once():
    """x**y at x = -701.22..., y = 134.57...: with the point as exact Rationals SymPy
    raised a Rational to a Rational with a 15-digit numerator and never finished."""
    start = time.monotonic()
    result = evaluate("x**y", {"x": -701.2247301244605, "y": 134.5715096621566})
    report = run_check(result, timeout=5.0)
    assert time.monotonic() - start < 3.0
    assert report["method"] == "symbolic" and report["status"] == "skipped"
    assert all(math.isnan(e["expected"]) for e in report["variables"].values())


def test_point_values_are_the_floats_exact_binary_values():
    from gradcli.check.symbolic import exact_point
    for x in (0.1, -701.2247301244605, 5e-324, 2.0 ** 60 + 2 ** 8, -0.0):
        p = exact_point(x)
        assert isinstance(p, sp.Float) and sp.Rational(p) == sp.Rational(*x.as_integer_ratio())


def test_time_limit_stops_one_long_sympy_call():
    from gradcli.check import time_limit
    base = sp.Rational(-6168037955647455, 8796093022208)       # -701.2247301244605
    power = sp.Rational(295925879281823, 2199023255552)        # 134.5715096621566
    start = time.monotonic()
    with pytest.raises(Timeout):
        with time_limit(start + 0.5):
            base ** power                          # exact: would run for hours
    assert time.monotonic() - start < 2.0
    with time_limit(time.monotonic() + 5):         # a quick call: no alarm left behind
        assert sp.Integer(2) ** 10 == 1024
    time.sleep(0.01)


def test_time_limit_bounds_the_symbolic_route(monkeypatch):
    """A symbolic check stuck in one SymPy call gives way to central differences."""
    import gradcli.check as check
    def stuck(*args):
        return sp.Rational(-6168037955647455, 8796093022208) ** \
            sp.Rational(295925879281823, 2199023255552)
    monkeypatch.setattr(check, "_symbolic", stuck)
    start = time.monotonic()
    report = run_check(evaluate("x*y", {"x": 2.0, "y": 3.0}), timeout=0.5)
    assert time.monotonic() - start < 3.0
    assert report["method"] == "numeric" and report["status"] == "passed"
    assert "took over 0.5 s" in report["reason"]


@pytest.mark.parametrize("program, point", [
    ("sqrt(x)*y", {"x": -1.0, "y": 0.0}),
    ("log(x)*y + y", {"x": -2.0, "y": 0.0}),
    ("asin(x)*y", {"x": 3.0, "y": 0.0}),
])
def test_outside_the_reals_is_skipped_not_failed(program, point):
    """PyTorch's gradient there is NaN (0 * NaN); SymPy's y/(2*sqrt(x)) is exactly 0 at
    y = 0. Neither is a reference: the check skips, naming the op."""
    result = evaluate(program, point)
    assert math.isnan(float(result.grads["x"])) or program.startswith("log")   # y/x: -0.0
    report = run_check(result)
    assert report["status"] == "skipped" and not report["failed"]
    assert "is not real at this point" in report["variables"]["x"]["reason"]
    r = CliRunner().invoke(app, ["grad", program] + [f"--{k}={v}" for k, v in point.items()])
    assert r.exit_code == 0, r.output


def test_a_nan_input_is_not_called_outside_the_reals():
    from gradcli.autograd.ops import REGISTRY
    from gradcli.autograd.ops.core import undefined_at
    sqrt = REGISTRY["sqrt"]
    assert undefined_at(sqrt, [np.array(np.nan)], np.array(np.nan), {}) is None
    assert undefined_at(sqrt, [np.array(4.0)], np.array(2.0), {}) is None
    assert "sqrt" in undefined_at(sqrt, [np.array([4.0, -1.0])], np.array([2.0, np.nan]), {})
