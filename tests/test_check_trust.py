"""Issue 12, "Trust": the check gives the same, exact status in every route.

Each case runs through the Python API (``gradcli.evaluate(check=True)``), ``gradcli
grad --format json``, and ``gradcli batch`` both ways (records of one program answered
together as arrays, and ``--one-by-one``), which must all agree.  Expected values come
from derivatives worked out by hand below, evaluated with mpmath at 60 digits at the
point's exact binary values: independent of SymPy and of gradcli's engine.
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
from typer.testing import CliRunner

import gradcli
from gradcli.cli.app import app

runner = CliRunner()
mp = mpmath.mp
mp.dps = 60


def cli(*args, input=None):
    r = runner.invoke(app, [str(a) for a in args], input=input)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    return r


def grad_json(program, point, *extra):
    args = ["grad", program, *[f"--{k}={v}" for k, v in point.items()], "--format", "json",
            *extra]
    r = cli(*args)
    assert r.exit_code in (0, 1), (r.exit_code, r.stderr)
    return json.loads(r.stdout), r.exit_code


def batch_lines(records, *extra) -> list:
    text = "".join(json.dumps(r) + "\n" for r in records)
    r = cli("batch", "-q", *extra, input=text)
    return [json.loads(line) for line in r.stdout.splitlines()], r.exit_code


def jsonable(point: dict) -> dict:
    return {k: (v if isinstance(v, list) or math.isfinite(v) else
                ("NaN" if math.isnan(v) else "Infinity" if v > 0 else "-Infinity"))
            for k, v in point.items()}


def every_route(program, point, neighbours=(), neighbour_status="passed", **record) -> dict:
    """The check object of each route, asserting they agree on status and failures.

    In batch the record sits among ``neighbours`` (other points of the same program),
    so that the array path answers the group; its line must equal the one-by-one line."""
    options = {k: v for k, v in record.items() if k in ("upstream", "dtype")}
    if "upstream" in options:
        options["upstream"] = [float(u) for u in options["upstream"]]
    api = gradcli.evaluate(program, point, check=True, **options)
    extra = []
    if "upstream" in record:
        extra += ["--upstream", json.dumps(record["upstream"]).replace('"', "")]
    if "dtype" in record:
        extra += ["--dtype", record["dtype"]]
    obj, code = grad_json(program, point, *extra)
    records = [{"id": k, "expr": program, "vars": jsonable(p)} for k, p in
               enumerate(neighbours)]
    mine = {"id": "me", "expr": program, "vars": jsonable(point), **record}
    records.insert(len(records) // 2, mine)
    together, code_together = batch_lines(records)
    alone, code_alone = batch_lines(records, "--one-by-one")
    assert together == alone and code_together == code_alone
    assert [o["id"] for o in together] == [r["id"] for r in records]
    line = next(o for o in together if o["id"] == "me")
    routes = {"api": api.check, "grad": obj["check"], "batch": line["check"]}
    statuses = {name: c["status"] for name, c in routes.items()}
    assert len(set(statuses.values())) == 1, statuses
    assert len({tuple(c["failed"]) for c in routes.values()}) == 1
    assert code == (1 if statuses["api"] == "failed" else 0)
    for o in together:                          # the neighbours: well-conditioned
        if o["id"] != "me":
            assert o["check"]["status"] == neighbour_status, o
    return routes | {"result": api}


def exact(x) -> mpmath.mpf:
    return mpmath.mpf(float(x))                 # the double's exact binary value


# -- 1. ill-conditioned points: float64 gets the gradient wrong; every route says so --------

def d_log1p_over_x(x):
    return 1 / (x * (1 + x)) - mpmath.log(1 + x) / x ** 2


def d_one_minus_cos(x):
    return mpmath.sin(x) / x ** 2 - 2 * (1 - mpmath.cos(x)) / x ** 3


def d_sqrt_ratio(x):
    return 1 / (2 * x * mpmath.sqrt(1 + x)) - (mpmath.sqrt(1 + x) - 1) / x ** 2


WRONG = [
    ("log(1 + x)/x", {"x": 1e-10}, {"x": lambda p: d_log1p_over_x(p["x"])}, "-0.5"),
    ("(1 - cos(x))/x**2", {"x": 1e-8}, {"x": lambda p: d_one_minus_cos(p["x"])}, "~0"),
    ("(1 - cos(x))/x**2", {"x": 1e-5}, {"x": lambda p: d_one_minus_cos(p["x"])}, "~-8e-7"),
    ("(sqrt(1 + x) - 1)/x", {"x": 1e-9}, {"x": lambda p: d_sqrt_ratio(p["x"])}, "-0.125"),
    ("sqrt(x*x + y*y)", {"x": 1e200, "y": 1e200},
     {"x": lambda p: p["x"] / mpmath.sqrt(p["x"] ** 2 + p["y"] ** 2),
      "y": lambda p: p["y"] / mpmath.sqrt(p["x"] ** 2 + p["y"] ** 2)}, "0.707"),
    ("asinh(x*y)", {"x": -1.787, "y": 1e308},
     {"x": lambda p: p["y"] / mpmath.sqrt(1 + (p["x"] * p["y"]) ** 2),
      "y": lambda p: p["x"] / mpmath.sqrt(1 + (p["x"] * p["y"]) ** 2)}, "0.56"),
]


@pytest.mark.parametrize("program, point, derivatives, truth", WRONG,
                         ids=[f"{c[0]}@{c[1]}" for c in WRONG])
def test_a_gradient_float64_got_wrong_fails_in_every_route(program, point, derivatives,
                                                            truth):
    at = {k: exact(v) for k, v in point.items()}
    true = {n: f(at) for n, f in derivatives.items()}
    routes = every_route(program, point, neighbours=[{k: 0.5 + i / 7 for k in point}
                                                      for i in range(3)])
    grads = routes["result"].grads
    # the premise: the engine's float64 gradient is outside the tolerance of the truth
    assert any(abs(float(grads[n]) - true[n]) > 1e-9 + 1e-7 * abs(true[n]) for n in true)
    assert routes["api"]["status"] == "failed"
    for name, value in true.items():            # the check's reference is the truth
        assert float(routes["api"]["variables"][name]["expected"]) == \
            pytest.approx(float(value), rel=1e-14, abs=1e-300)


def test_an_infinite_point_is_skipped_in_every_route():
    # atan(x) at inf: a limit, not a derivative at a point (batch used to call it passed)
    routes = every_route("atan(x)", {"x": math.inf}, neighbours=[{"x": 0.5}, {"x": 2.0}])
    assert routes["api"]["status"] == "skipped"
    assert "infinite or NaN" in routes["batch"]["reason"]


def test_well_conditioned_neighbours_of_a_cancellation_still_pass():
    # log(1 + x)/x at 1e-3: float64 loses ~6 digits in the cancellation, keeps ~10: passed
    routes = every_route("log(1 + x)/x", {"x": 1e-3}, neighbours=[{"x": 0.7}])
    assert routes["api"]["status"] == "passed"
    truth = d_log1p_over_x(exact(1e-3))
    assert float(routes["api"]["variables"]["x"]["expected"]) == pytest.approx(float(truth),
                                                                               rel=1e-15)


# -- 2. NaN or infinite constants and upstream elements ----------------------------------

@pytest.mark.parametrize("program, point, status, gradient", [
    ("x + exp(1000)", {"x": 1.0}, "passed", 1.0),       # d/dx = 1: the constant is not in it
    ("x*x + 0/0", {"x": 1.0}, "passed", 2.0),            # 2x
    ("x + log(0)", {"x": 1.0}, "passed", 1.0),
    ("x*exp(1000)", {"x": 1.0}, "skipped", math.inf),    # d/dx = exp(1000): the constant
    ("x*(0/0)", {"x": 1.0}, "skipped", math.nan),
])
def test_non_finite_constants_skip_only_what_they_enter(program, point, status, gradient):
    routes = every_route(program, point, neighbours=[{"x": 2.0}, {"x": 3.0}],
                         neighbour_status=status)
    g = float(routes["result"].grads["x"])
    assert g == gradient or (math.isnan(g) and math.isnan(gradient))
    assert routes["api"]["status"] == status
    if status == "skipped":
        assert "NaN or infinite constant" in routes["api"]["variables"]["x"]["reason"]


def test_a_nan_upstream_element_skips_that_element_only():
    routes = every_route("x*2", {"x": [1.0, 2.0]}, upstream=["NaN", 1])
    check = routes["api"]
    assert check["status"] == "partial" and (check["checked"], check["elements"]) == (1, 2)
    entry = check["variables"]["x"]
    assert entry["expected"][1] == 2.0 and math.isnan(entry["expected"][0])
    assert check["reason"] == "1 of 2 elements checked; [0]: a NaN or infinite constant " \
        "enters the derivative"
    assert routes["batch"]["reason"] == check["reason"]


def test_float32_overflow_is_skipped_not_failed():
    # float32 exp(89): e**89 = 4.5e38 > 3.4e38, so inf is what float32 can say
    routes = every_route("exp(x)", {"x": 89.0}, dtype="float32")
    assert math.isinf(float(routes["result"].grads["x"]))
    assert routes["api"]["status"] == "skipped"
    assert "too large for the gradient's dtype" in routes["api"]["reason"]


def test_float32_still_fails_a_wrong_gradient():
    # (1 - cos(x))/x**2 at 1e-2 in float32: the cancellation costs every digit
    routes = every_route("(1 - cos(x))/x**2", {"x": 0.01}, dtype="float32")
    true = d_one_minus_cos(exact(np.float32(0.01)))
    assert abs(float(routes["result"].grads["x"]) - float(true)) > 1e-3
    assert routes["api"]["status"] == "failed"


# -- 3. what used to crash the check -----------------------------------------------------

CRASHED = [
    ("relu(acos(x))", {"x": 2.0}, "skipped", {"x": "acos is not real"}),
    ("minimum(x, asin(y))", {"x": 0.0, "y": 2.0}, "skipped",
     {"y": "asin is not real", "x": "minimum of a value that is not real"}),
    ("clamp(log(x), min=0)", {"x": -1.0}, "skipped", {"x": "log is not real"}),
    ("maximum(x, log(-1))", {"x": 1.0}, "skipped", {"x": "NaN or infinite constant"}),
    ("sign(log2(y))", {"y": 1.071}, "passed", {}),            # d/dy = 0 away from y = 1
    ("sign(asin(x))", {"x": -0.5}, "passed", {}),
    ("maximum(x, abs(1/tan(y**y)))", {"x": 1.0, "y": 1e308}, "skipped",
     {"y": "tan is not real"}),
]


@pytest.mark.parametrize("program, point, status, reasons", CRASHED,
                         ids=[c[0] for c in CRASHED])
def test_what_crashed_the_check_is_skipped_with_a_reason(program, point, status, reasons):
    routes = every_route(program, point)
    assert routes["api"]["status"] == status
    for name, words in reasons.items():
        assert routes["api"]["variables"][name]["status"] == "skipped"
        assert words in routes["api"]["variables"][name]["reason"]
    if status == "passed":
        assert all(float(g) == 0.0 for g in routes["result"].grads.values())


def test_one_such_record_does_not_end_its_chunk():
    records = [{"id": k, "expr": p, "vars": jsonable(pt)}
               for k, (p, pt, _, _) in enumerate(CRASHED * 3)]
    records.insert(5, {"id": "ok", "expr": "x*x", "vars": {"x": 3}})
    out, code = batch_lines(records)
    assert [o["id"] for o in out] == [r["id"] for r in records]
    assert all(o["ok"] for o in out) and code == 0
    assert out[5]["check"]["status"] == "passed" and out[5]["grads"] == {"x": 6.0}


def test_an_exception_anywhere_in_the_check_skips_instead_of_crashing(monkeypatch):
    """The last line of defence: whatever the symbolic route raises, every variable is
    skipped with the exception named."""
    import gradcli.check as check

    def boom(*args):
        raise ValueError("a bug in SymPy")
    monkeypatch.setattr(check, "_symbolic", boom)
    report = check.run_check(gradcli.evaluate("x*y", {"x": 2.0, "y": 3.0}))
    assert report["status"] == "skipped"
    assert report["variables"]["x"]["reason"] == \
        "the check could not run here (ValueError: a bug in SymPy)"


# -- 4. programs PyTorch computes right that the check used to fail ------------------------
# (values as PyTorch 2.x prints them, derived by hand in each comment)

CORPUS = [
    # cc = 1 + x: d/dx sum(cc*cc) = 2 (1 + x)
    ("cc = ones_like(x); cc += x; sum(cc * cc)", {"x": [1.0, 2.0]}, {"x": [4.0, 6.0]}),
    # n = 2x (no grad) then n += x: d(n*n)/dx = 2 n dn/dx = 2 (2x + x) 1 = 12 at x = 2
    ("n = no_grad(x*2); n += x; n*n", {"x": 2.0}, {"x": 12.0}),
    # a constant updated after it was used: y = c + x used c = 1, then c = 2, so
    # sum(y*c) = sum(2 (1 + x)): d/dx = 2
    ("c = ones_like(x); y = c + x; c += 1; sum(y*c)", {"x": [1.0, 3.0]}, {"x": [2.0, 2.0]}),
    # x.grad = 3x^2 w, with a graph; then d/dx sum(g^2) = 2 g 6 x w, d/dw = 2 g 3x^2
    ("t = x**3; backward(t, w, create_graph=True); g = x.grad; backward(sum(g*g))",
     {"x": [1.0, 2.0], "w": [1.0, 3.0]}, {"x": [39.0, 2628.0], "w": [18.0, 864.0]}),
    # x.grad = w (with a graph); d/dx sum(x.grad) = 0, d/dw = 1; w.grad = x + 1
    ("t = x*w; backward(t, w, create_graph=True); backward(sum(x.grad))",
     {"x": [1.0, 2.0], "w": [1.0, 3.0]}, {"x": [1.0, 9.0], "w": [3.0, 12.0]}),
    # without create_graph x.grad is a constant: d/dx (g*x) = g = 2x = 4; 4 + 4
    ("backward(x**2); g = x.grad; backward(g*x)", {"x": 2.0}, {"x": 8.0}),
]


@pytest.mark.parametrize("program, point, grads", CORPUS, ids=[c[0] for c in CORPUS])
def test_programs_pytorch_computes_right_pass(program, point, grads):
    routes = every_route(program, point)
    for name, value in grads.items():
        np.testing.assert_array_equal(routes["result"].grads[name], value)
    assert routes["api"]["status"] == "passed", routes["api"]


@pytest.mark.parametrize("program, point, name, value", [
    # grad(z, y) with z = 3y: 3 (y an intermediate)
    ("y = x**2; z = y*3; grad(z, y)", {"x": 2.0}, "grad(z, y)", 3.0),
    # z = y*x with y = x^2: dz/dy = x (only the path through y) = 2
    ("y = x**2; z = y*x; grad(z, y)", {"x": 2.0}, "grad(z, y)", 2.0),
    # h = sin(y), y = x*x: dh/dy = cos(y) = cos(4)
    ("y = x*x; h = sin(y); grad(h, y)", {"x": 2.0}, "grad(h, y)", math.cos(4.0)),
])
def test_grad_with_respect_to_an_intermediate_is_checked(program, point, name, value):
    routes = every_route(program, point)
    entry = routes["api"]["values"][name]
    assert entry["status"] == "passed" and float(entry["expected"]) == \
        pytest.approx(value, rel=1e-15)


# -- 5. statuses that say what was checked -------------------------------------------------

def test_a_sampled_numeric_check_is_partial_not_passed():
    w = np.linspace(-1, 1, 300)
    # (cumsum mixes elements: one element nudged at a time, so the budget samples)
    result = gradcli.evaluate("sum(sin(w)*cumsum(w, 0))", {"w": w})
    from gradcli.check import run_check
    report = run_check(result, timeout=0.05)
    assert report["method"] == "numeric"
    v = report["variables"]["w"]
    assert 0 < v["checked"] < 300 == v["elements"]
    assert report["status"] == v["status"] == "partial"
    assert f"{v['checked']} of 300 elements checked" in report["reason"]


def test_a_failed_expect_fails_the_check_in_grad_and_batch():
    obj, code = grad_json("x**2", {"x": 3}, "--expect", "x=8")
    assert code == 1 and obj["check"]["status"] == "failed" and obj["check"]["failed"] == ["x"]
    assert obj["check"]["variables"]["x"]["status"] == "passed"      # 2x = 6 is right
    out, code = batch_lines([{"expr": "x**2", "vars": {"x": 3}, "expect": {"x": 8}},
                             {"expr": "x**2", "vars": {"x": 2}},
                             {"expr": "x**2", "vars": {"x": 1}, "expect": {"x": 2}}])
    assert code == 1
    assert [o["check"]["status"] for o in out] == ["failed", "passed", "passed"]
    r = cli("grad", "x**2", "--x", "3", "--expect", "y=8")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "error: --expect y: no gradient named 'y' (gradients: x)\n"


def test_plain_output_carries_grad_results():
    r = cli("grad", "y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)", "--x", "2",
            "--format", "plain")
    assert r.exit_code == 0
    assert r.stdout == "x null\ndy 12\ngrad(dy, x) 12\n"      # 3x^2, 6x at 2
    r = cli("grad", "s = sum(x*w); grad(s, w)", "--x", "[1, 2]", "--w", "[3, 4]",
            "--format", "plain", "--no-check")
    assert r.stdout == "x null\nw null\ngrad(s, w) [1.0,2.0]\n"      # d/dw sum(x*w) = x


@pytest.mark.parametrize("command, program, shape", [
    ("hessian", "5 + 0*2", (2, 2)), ("jacobian", "ones(3)", (3, 2)),
])
def test_derivatives_of_an_output_that_uses_no_variable_are_zeros(command, program, shape):
    """torch.autograd.functional.hessian/jacobian give zeros there (SPEC 4.3)."""
    r = cli(command, program, "--x", "1", "--y", "2", "--format", "json")
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    assert np.array(obj[command]).shape == shape and not np.any(obj[command])
    assert obj["variables"] == ["x", "y"] and obj["check"]["status"] == "passed"
    out, code = batch_lines([{"expr": program, "vars": {"x": 1, "y": 2}, "mode": command}])
    assert code == 0 and out[0][command] == obj[command]


@pytest.mark.parametrize("size", [2, 300])            # the symbolic and the numeric route
def test_cosine_similarity_under_eps_is_skipped_not_failed(size):
    """PyTorch clamps a norm under eps without differentiating the clamp, so its gradient
    there (which gradcli reproduces) is no derivative of the value: the check skips
    both inputs with that reason and never calls the gradient failed; above eps the
    same program passes."""
    b = np.linspace(1.0, 3.0, size)
    tiny = gradcli.evaluate("cosine_similarity(a, b, dim=0)", {"a": np.full(size, 1e-12),
                                                                "b": b}, check=True)
    assert tiny.check["status"] == "skipped"
    assert "clamps a norm under eps" in tiny.check["reason"]
    plain = gradcli.evaluate("cosine_similarity(a, b, dim=0)",
                             {"a": np.linspace(-1.0, 2.0, size), "b": b}, check=True)
    assert plain.check["status"] in ("passed", "partial") and not plain.check["failed"]


def test_differences_that_do_not_settle_are_no_reference():
    """a scaled down to 1e-9 (its norm above eps): cosine similarity varies on that
    scale, so a difference with a 1e-6 step is no reference for the (right, PyTorch's)
    gradient; the smaller steps do not settle either, and the elements are skipped with
    that reason, never failed.  b's differences are fine and pass."""
    b = np.linspace(1.0, 3.0, 300)
    result = gradcli.evaluate("cosine_similarity(a, b, dim=0)",
                              {"a": np.full(300, 1e-9), "b": b}, check=True)
    check = result.check
    assert check["method"] == "numeric" and check["failed"] == []
    assert check["variables"]["b"]["status"] in ("passed", "partial")
    a = check["variables"]["a"]
    assert a["status"] in ("skipped", "partial") and "do not settle" in a["reason"]
