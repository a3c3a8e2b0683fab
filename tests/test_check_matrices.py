"""Hessians and Jacobians (SPEC 4.3) and their check (SPEC 5): against hand-derived
matrices and against ``sympy.hessian`` / ``Matrix.jacobian`` of expressions built here
from SymPy symbols (never from text); through ``gradcli.lang.derivatives`` with
``check_matrix`` and through ``gradcli hessian|jacobian --format json``.  Also the
numeric fallback over 256 elements, kinks, and a wrong VJP caught in a Hessian.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import sympy as sp
from typer.testing import CliRunner

from gradcli.autograd.ops import REGISTRY
from gradcli.check.matrices import check_matrix
from gradcli.cli.app import app
from gradcli.lang import derivatives
from gradcli.lang.evaluator import evaluate

runner = CliRunner()
ENV = {"COLUMNS": "200", "NO_COLOR": "1", "GRADCLI_DEBUG": None}


def S(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def tensor_symbols(name: str, shape: tuple) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = S(f"{name}[{','.join(map(str, idx))}]")
    return out


def at(matrix: sp.Matrix, point: dict) -> np.ndarray:
    """A SymPy matrix at a point (exact substitution, 30 digits, then floats)."""
    subs = {s: sp.Rational(repr(float(v))) for s, v in point.items()}
    return np.array([[float(e.xreplace(subs).evalf(30)) for e in row]
                     for row in matrix.tolist()], dtype=float).reshape(matrix.shape)


def cli(*args, code=0):
    r = runner.invoke(app, [str(a) for a in args], env=ENV)
    assert r.exit_code == code, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def cli_json(*args, code=0) -> dict:
    return json.loads(cli(*args, "--format", "json", code=code).stdout)


def hessian_of(program, bindings, **kw):
    result = evaluate(program, bindings, implicit_backward=False, **kw)
    H, labels = derivatives.hessian(result)
    return result, H, labels


def jacobian_of(program, bindings, **kw):
    result = evaluate(program, bindings, implicit_backward=False, **kw)
    J, outputs, labels = derivatives.jacobian(result)
    return result, J, outputs, labels


x, y, z = S("x"), S("y"), S("z")
S2, C2 = math.sin(2.0), math.cos(2.0)
# f = x**2*y + sin(x*y) at (1, 2), by hand: f_xx = 2y - y**2 sin(xy) = 4 - 4 sin 2,
# f_xy = 2x + cos(xy) - xy sin(xy) = 2 + cos 2 - 2 sin 2, f_yy = -x**2 sin(xy) = -sin 2
HAND_H = np.array([[4 - 4 * S2, 2 + C2 - 2 * S2], [2 + C2 - 2 * S2, -S2]])


# == Hessians ============================================================================

def test_hessian_by_hand_and_by_sympy():
    result, H, labels = hessian_of("x**2*y + sin(x*y)", {"x": 1, "y": 2})
    assert labels == ["x", "y"]
    np.testing.assert_allclose(H, HAND_H, rtol=0, atol=1e-14)
    f = x**2 * y + sp.sin(x * y)
    np.testing.assert_allclose(at(sp.hessian(f, [x, y]), {x: 1, y: 2}), HAND_H, atol=1e-15)
    report = check_matrix(result, "hessian", H)
    assert report["status"] == "passed" and report["method"] == "symbolic"
    entry = report["variables"]["hessian"]
    np.testing.assert_allclose(entry["expected"], HAND_H, rtol=1e-15, atol=1e-15)
    assert report["max_abs_err"] < 1e-14 and report["failed"] == []


TENSOR_HESSIANS = [
    # program, bindings, hand-built expression (symbols as gradcli names them)
    ("sum(w**3) + w[0]*w[1]*z + exp(w[2]*z)", {"w": [0.5, -1.0, 0.3], "z": 1.5, "u": 2.0},
     lambda w, z, u: sum(e**3 for e in w) + w[0] * w[1] * z + sp.exp(w[2] * z)),
    ("trace(w @ w) + w[0, 1]**2*w[1, 0] + log(w[1, 1])", {"w": [[1.0, 2.0], [0.5, 3.0]]},
     lambda w: (w[0, 0]**2 + 2 * w[0, 1] * w[1, 0] + w[1, 1]**2) + w[0, 1]**2 * w[1, 0]
     + sp.log(w[1, 1])),
    ("logsumexp(w, 0)", {"w": [0.2, -0.7, 1.1]},
     lambda w: sp.log(sum(sp.exp(e) for e in w))),
    ("sum(tanh(m @ v)) * x", {"m": [[0.1, 0.2], [-0.3, 0.4]], "v": [1.0, -1.0], "x": 0.5},
     lambda m, v, x: (sp.tanh(m[0, 0] * v[0] + m[0, 1] * v[1])
                      + sp.tanh(m[1, 0] * v[0] + m[1, 1] * v[1])) * x),
    ("atan2(x, y)*hypot(x, z) + sigmoid(x*y*z)", {"x": 0.4, "y": 1.3, "z": -0.6},
     lambda x, y, z: sp.atan2(x, y) * sp.sqrt(x**2 + z**2) + 1 / (1 + sp.exp(-x * y * z))),
]


def _symbols(bindings):
    return {n: tensor_symbols(n, np.shape(v)) if np.ndim(v) else np.asarray(S(n), object)
            for n, v in bindings.items()}


def _flat(syms) -> list:
    return [s for a in syms.values() for s in np.asarray(a).reshape(-1)]


def _point(bindings, syms) -> dict:
    return {s: v for n in bindings for s, v in
            zip(np.asarray(syms[n]).reshape(-1), np.asarray(bindings[n], float).reshape(-1))}


@pytest.mark.parametrize("program, bindings, build", TENSOR_HESSIANS,
                         ids=[c[0] for c in TENSOR_HESSIANS])
def test_hessian_matches_sympy_hessian(program, bindings, build):
    syms = _symbols(bindings)
    f = build(**{n: (a if a.ndim else a[()]) for n, a in syms.items()})
    flat = _flat(syms)
    want = at(sp.hessian(f, flat), _point(bindings, syms))
    result, H, labels = hessian_of(program, bindings)
    assert labels == [str(s) for s in flat]
    np.testing.assert_allclose(H, want, rtol=1e-12, atol=1e-13)
    report = check_matrix(result, "hessian", H)
    assert report["status"] == "passed" and report["method"] == "symbolic"
    np.testing.assert_allclose(report["variables"]["hessian"]["expected"], want, rtol=1e-14,
                               atol=1e-15)


def test_logsumexp_hessian_by_hand():
    # H = diag(s) - s s^T, s = softmax(w)
    w = np.array([0.2, -0.7, 1.1])
    s = np.exp(w) / np.exp(w).sum()
    _, H, _ = hessian_of("logsumexp(w, 0)", {"w": w})
    np.testing.assert_allclose(H, np.diag(s) - np.outer(s, s), rtol=0, atol=1e-15)


def test_unused_variables_give_zero_rows_and_columns():
    # f = x**2 * y; u and the matrix m are unused: their rows and columns are 0
    result, H, labels = hessian_of("x**2*y", {"x": 3.0, "m": [[1.0, 2.0]], "y": 2.0, "u": 1.0})
    assert labels == ["x", "m[0,0]", "m[0,1]", "y", "u"]
    want = np.zeros((5, 5))
    want[0, 0] = 2 * 2.0                          # f_xx = 2y
    want[0, 3] = want[3, 0] = 2 * 3.0             # f_xy = 2x
    np.testing.assert_array_equal(H, want)
    assert check_matrix(result, "hessian", H)["status"] == "passed"


def test_hessian_cli_json_against_sympy():
    w, b = tensor_symbols("w", (2,)), S("b")
    f = sp.exp(w[0] * w[1]) + b * w[0]**2 + sp.sin(b)
    want = at(sp.hessian(f, [w[0], w[1], b]), {w[0]: 0.5, w[1]: -1.0, b: 2.0})
    obj = cli_json("hessian", "exp(w[0]*w[1]) + b*w[0]**2 + sin(b)", "--w", "[0.5, -1]",
                   "--b", "2")
    assert obj["variables"] == ["w[0]", "w[1]", "b"]
    np.testing.assert_allclose(obj["hessian"], want, rtol=1e-13, atol=1e-14)
    assert obj["check"]["status"] == "passed" and obj["check"]["method"] == "symbolic"
    np.testing.assert_allclose(obj["check"]["variables"]["hessian"]["expected"], want,
                               rtol=1e-14, atol=1e-15)
    obj = cli_json("hessian", "x**2*y + sin(x*y)", "--x", "1", "--y", "2")
    np.testing.assert_allclose(obj["hessian"], HAND_H, rtol=0, atol=1e-14)


def test_hessian_at_a_kink_is_skipped():
    # relu(x)*y at x = 0: H_xx, H_xy = relu'(0) are undefined; H_yy = 0 is checked
    result, H, _ = hessian_of("relu(x)*y", {"x": 0.0, "y": 2.0})
    np.testing.assert_array_equal(H, [[0, 0], [0, 0]])            # PyTorch: relu'(0) = 0
    report = check_matrix(result, "hessian", H)
    assert report["status"] == "partial" and "relu has a kink at 0" in report["reason"]
    assert (report["checked"], report["elements"]) == (1, 4)
    result, H, _ = hessian_of("relu(x)*y", {"x": 0.5, "y": 2.0})
    np.testing.assert_array_equal(H, [[0, 1], [1, 0]])
    assert check_matrix(result, "hessian", H)["status"] == "passed"
    r = cli("hessian", "relu(x)*y", "--x", "0", "--y", "2")
    assert re.search(r"^check\s+partial \(symbolic, max abs error 0\) — 1 of 4 elements "
                     r"checked; .*relu has a kink", r.stdout, re.M)


def _sin_off_by_a_thousandth(F, g, x, out):
    return g * F.cos(x) * 1.001


def test_wrong_vjp_is_caught_in_a_hessian(monkeypatch):
    monkeypatch.setattr(REGISTRY["sin"], "vjps", (_sin_off_by_a_thousandth,))
    result, H, _ = hessian_of("x**2*y + sin(x*y)", {"x": 1, "y": 2})
    assert not np.allclose(H, HAND_H, rtol=1e-6)
    report = check_matrix(result, "hessian", H)
    assert report["status"] == "failed" and report["failed"] == ["hessian"]
    # the expected matrix is SymPy's, untouched by the engine
    np.testing.assert_allclose(report["variables"]["hessian"]["expected"], HAND_H, atol=1e-14)
    r = cli("hessian", "x**2*y + sin(x*y)", "--x", "1", "--y", "2", code=1)
    assert re.search(r"^check\s+failed \(symbolic", r.stdout, re.M)
    obj = cli_json("hessian", "x**2*y + sin(x*y)", "--x", "1", "--y", "2", code=1)
    assert obj["check"]["failed"] == ["hessian"]


# -- the numeric fallback ----------------------------------------------------------------

W257 = np.linspace(0.0, 0.01, 257)           # sum = 1.285: sin(sum) = 0.96, far from 0


def test_numeric_hessian_over_256_elements(monkeypatch):
    # sin(sum(w)): every entry is -sin(sum(w)); too many pairs for 1 s: a spread sample
    result, H, labels = hessian_of("sin(sum(w))", {"w": W257})
    assert len(labels) == 257 and labels[0] == "w[0]" and labels[-1] == "w[256]"
    np.testing.assert_allclose(H, np.full((257, 257), -math.sin(W257.sum())), atol=1e-13)
    report = check_matrix(result, "hessian", H, timeout=0.5)
    # a sample of the entries: partial, never "passed" (SPEC 5)
    assert report["method"] == "numeric" and report["status"] == "partial"
    assert report["reason"].startswith("257 tensor elements (over 256); central differences")
    assert 10 < report["checked"] < report["elements"] == 66049
    assert re.search(r"time budget reached: \d+ of 66049 entries checked", report["reason"])
    expected = report["variables"]["hessian"]["expected"]
    checked = ~np.isnan(expected)
    assert checked.sum() > 10
    np.testing.assert_allclose(expected[checked], -math.sin(W257.sum()), atol=1e-4)
    np.testing.assert_array_equal(checked, checked.T)              # symmetric pairs
    # a wrong VJP: every entry is off by 0.1 %, so any checked entry catches it
    monkeypatch.setattr(REGISTRY["sin"], "vjps", (_sin_off_by_a_thousandth,))
    result, H, _ = hessian_of("sin(sum(w))", {"w": W257})
    report = check_matrix(result, "hessian", H, timeout=0.5)
    assert report["method"] == "numeric" and report["status"] == "failed"


def test_numeric_jacobian_over_256_elements(monkeypatch):
    w = np.linspace(-1.5, 1.5, 300)
    result, J, outputs, labels = jacobian_of("2*sin(w)", {"w": w})
    np.testing.assert_allclose(J, np.diag(2 * np.cos(w)), rtol=0, atol=1e-15)
    assert outputs[0] == "out[0]" and labels[-1] == "w[299]"
    report = check_matrix(result, "jacobian", J)
    assert report["method"] == "numeric" and report["status"] == "passed"
    assert report["reason"].startswith("300 tensor elements (over 256)")
    np.testing.assert_allclose(report["variables"]["jacobian"]["expected"],
                               np.diag(2 * np.cos(w)), atol=1e-8)
    monkeypatch.setattr(REGISTRY["sin"], "vjps", (_sin_off_by_a_thousandth,))
    result, J, _, _ = jacobian_of("2*sin(w)", {"w": w})
    report = check_matrix(result, "jacobian", J)
    assert report["method"] == "numeric" and report["status"] == "failed"
    # through the CLI, numeric: exit 1
    r = cli("jacobian", "2*sin(w)", "--w", json.dumps(w.tolist()), code=1)
    assert re.search(r"^check\s+failed \(numeric", r.stdout, re.M)


def test_zero_budget_for_a_matrix_checks_nothing_and_says_so():
    result, J, _, _ = jacobian_of("stack([x*y, x + y])", {"x": 2, "y": 3})
    report = check_matrix(result, "jacobian", J, timeout=0)
    assert report["method"] == "numeric" and report["status"] == "skipped"
    assert report["reason"].startswith("the symbolic check took over 0 s")
    assert "time budget reached: 0 of 4 entries checked" in report["reason"]
    assert report["variables"]["jacobian"]["reason"] == \
        "the time budget ran out before any entry was checked"
    obj = cli_json("hessian", "x**2*y", "--x", "1", "--y", "2", "--check-timeout", "0")
    assert obj["check"]["status"] == "skipped" and obj["check"]["method"] == "numeric"
    assert obj["hessian"] == [[4, 2], [2, 0]]                    # [[2y, 2x], [2x, 0]]


def test_numeric_matrix_route_skips_kinks():
    w = np.linspace(-1, 1, 301)                  # w[150] = 0: relu's kink
    result, J, _, _ = jacobian_of("relu(w)", {"w": w})
    report = check_matrix(result, "jacobian", J)
    assert report["method"] == "numeric" and report["status"] == "skipped"
    assert "relu has a kink at 0" in report["reason"]


# == Jacobians ===========================================================================

def test_jacobian_of_matrix_vector_product():
    # out_i = sum_j w[i,j] v[j]: d out_i/d w[i,j] = v[j], d out_i/d v[j] = w[i,j]
    result, J, outputs, labels = jacobian_of("w @ v", {"w": [[1, 2], [3, 4]], "v": [5, 6]})
    assert outputs == ["out[0]", "out[1]"]
    assert labels == ["w[0,0]", "w[0,1]", "w[1,0]", "w[1,1]", "v[0]", "v[1]"]
    np.testing.assert_array_equal(J, [[5, 6, 0, 0, 1, 2], [0, 0, 5, 6, 3, 4]])
    w, v = tensor_symbols("w", (2, 2)), tensor_symbols("v", (2,))
    out = sp.Matrix(np.dot(w, v).tolist())
    flat = list(w.reshape(-1)) + list(v)
    point = dict(zip(flat, [1, 2, 3, 4, 5, 6]))
    np.testing.assert_array_equal(at(out.jacobian(flat), point), J)
    report = check_matrix(result, "jacobian", J)
    assert report["status"] == "passed" and report["max_abs_err"] == 0


def test_jacobian_of_stack_and_unused_variable():
    # stack([x*y, x + y]) at (2, 3): [[y, x], [1, 1]] = [[3, 2], [1, 1]]; u unused: zeros
    result, J, outputs, labels = jacobian_of("stack([x*y, x + y])", {"x": 2, "u": 7, "y": 3})
    assert labels == ["x", "u", "y"] and outputs == ["out[0]", "out[1]"]
    np.testing.assert_array_equal(J, [[3, 0, 2], [1, 0, 1]])
    out = sp.Matrix([x * y, x + y])
    np.testing.assert_array_equal(at(out.jacobian([x, S("u"), y]), {x: 2, y: 3}), J)
    assert check_matrix(result, "jacobian", J)["status"] == "passed"


def test_jacobian_of_softmax_by_hand():
    # d s_i/d w_j = s_i (delta_ij - s_j)
    w = np.array([0.5, -0.25, 1.0])
    s = np.exp(w) / np.exp(w).sum()
    result, J, _, _ = jacobian_of("softmax(w, 0)", {"w": w})
    np.testing.assert_allclose(J, np.diag(s) - np.outer(s, s), rtol=0, atol=1e-15)
    report = check_matrix(result, "jacobian", J)
    assert report["status"] == "passed" and report["method"] == "symbolic"


def test_jacobian_cli_json_of_a_matrix_output_against_sympy():
    # out = w * v (broadcast over rows) + x: 2x2 output, flattened row-major
    w, v = tensor_symbols("w", (2, 2)), tensor_symbols("v", (2,))
    out = [sp.exp(w[i, j] * v[j]) + x for i in range(2) for j in range(2)]
    flat = list(w.reshape(-1)) + list(v) + [x]
    point = dict(zip(flat, [0.1, 0.2, 0.3, 0.4, 1.5, -0.5, 2.0]))
    want = at(sp.Matrix(out).jacobian(flat), point)
    obj = cli_json("jacobian", "exp(w * v) + x", "--w", "[[0.1, 0.2], [0.3, 0.4]]",
                   "--v", "[1.5, -0.5]", "--x", "2")
    assert obj["outputs"] == ["out[0,0]", "out[0,1]", "out[1,0]", "out[1,1]"]
    assert obj["variables"] == ["w[0,0]", "w[0,1]", "w[1,0]", "w[1,1]", "v[0]", "v[1]", "x"]
    np.testing.assert_allclose(obj["jacobian"], want, rtol=1e-14, atol=1e-15)
    assert obj["check"]["status"] == "passed" and obj["check"]["method"] == "symbolic"


def test_jacobian_of_a_scalar_is_the_gradient_row():
    result, J, outputs, _ = jacobian_of("x**2*y + sin(x*y)", {"x": 1, "y": 2})
    # (2xy + y cos(xy), x**2 + x cos(xy)) = (4 + 2 cos 2, 1 + cos 2)
    assert outputs == ["out"]
    np.testing.assert_allclose(J, [[4 + 2 * C2, 1 + C2]], rtol=0, atol=1e-15)
    assert check_matrix(result, "jacobian", J)["status"] == "passed"


def test_wrong_vjp_is_caught_in_a_jacobian(monkeypatch):
    a, b = REGISTRY["mul"].vjps
    monkeypatch.setattr(REGISTRY["mul"], "vjps", (b, a))
    r = cli("jacobian", "stack([x*y, x + y])", "--x", "2", "--y", "3", code=1)
    assert re.search(r"^check\s+failed \(symbolic", r.stdout, re.M)
