"""The loss functions, linear and the activations of nn_functional against PyTorch.

Expected values come from tests/data/nn/losses.json, written once by PyTorch 2.13
(tests/data/nn/generate.py): for each case the value, the gradient of every input that
requires grad for a random upstream, the whole grad_fn graph (names and edges, None
included), the warnings, or the error (type and message).  Second derivatives
(create_graph) are checked against finite differences of the first, with hypothesis
drawing the points.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradcli.autograd as ag
from gradcli.autograd import nn_functional as F
from gradcli.autograd.tensor import Tensor
from gradcli.errors import GradcliError

DATA = json.loads((Path(__file__).parent / "data" / "nn" / "losses.json").read_text())
CASES = DATA["cases"]

# float64: PyTorch and numpy sum in different orders (pairwise vs cascade), a few ulps of
# the largest term; float32: the same, at float32's ulp (2**-23 ~ 1.2e-7)
TOLERANCE = {"float64": dict(rtol=1e-12, atol=1e-13), "float32": dict(rtol=1e-6, atol=1e-6)}


def array(spec) -> np.ndarray:
    return np.asarray(spec["data"], dtype=spec["dtype"]).reshape(spec["shape"])


def build(spec):
    """A case argument as gradcli takes it: tensors, class indices as numpy arrays."""
    if isinstance(spec, dict) and spec.get("kind") == "tensor":
        return ag.tensor(array(spec), requires_grad=spec["requires_grad"])
    if isinstance(spec, dict) and spec.get("kind") == "indices":
        return array(spec)
    return spec


def graph(fn):
    """The grad_fn tree as generate.py writes PyTorch's."""
    if fn is None:
        return None
    root = [fn.name, []]
    stack = [(fn, root)]
    while stack:
        node, out = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                out[1].append(None)
                continue
            child = [nxt.name, []]
            out[1].append(child)
            stack.append((nxt, child))
    return root


def run(case):
    args = [build(a) for a in case["args"]]
    kwargs = {k: build(v) for k, v in case["kwargs"].items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(F, case["fn"])(*args, **kwargs)
    return args, out, [str(w.message) for w in caught]


def _python_type(error) -> str:
    return error.python_name         # the exception a script sees (errors.PYTHON_TYPES)


ERRORS = [c for c in CASES if "error" in c]
VALUES = [c for c in CASES if "error" not in c]
def _marked(case):
    return pytest.param(case, id=case["id"])


@pytest.mark.parametrize("case", ERRORS, ids=[c["id"] for c in ERRORS])
def test_errors_are_pytorchs(case):
    with pytest.raises(GradcliError) as info:
        run(case)
    assert info.value.message == case["error"]["message"]
    assert _python_type(info.value) == case["error"]["type"]


@pytest.mark.parametrize("case", [_marked(c) for c in VALUES])
def test_value_gradients_and_graph_are_pytorchs(case):
    args, out, caught = run(case)
    value = array(case["value"])
    tol = TOLERANCE[case["value"]["dtype"]]
    assert out.dtype == value.dtype and out.shape == value.shape
    np.testing.assert_allclose(out.data, value, **tol, equal_nan=True)
    assert graph(out.grad_fn) == case["graph"]
    assert caught == case["warnings"]
    if "grads" not in case:
        return
    inputs = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
    grads = ag.grad(out, inputs, grad_outputs=ag.tensor(array(case["upstream"])),
                    allow_unused=True)
    for i, (got, want) in enumerate(zip(grads, case["grads"])):
        if want is None:
            assert got is None
            continue
        np.testing.assert_allclose(got.data, array(want), **tol, err_msg=f"input {i}")
        assert got.dtype == array(want).dtype


def test_the_data_covers_every_loss_and_reduction():
    fns = {c["fn"] for c in VALUES}
    assert fns >= {"mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "linear",
                   "binary_cross_entropy", "binary_cross_entropy_with_logits",
                   "cross_entropy", "nll_loss"}
    for fn in fns - {"linear", "relu", "sigmoid", "tanh", "silu", "softplus", "softmax",
                     "log_softmax"}:
        reductions = {c["kwargs"].get("reduction", "mean") for c in VALUES if c["fn"] == fn}
        assert reductions == {"mean", "sum", "none"}, fn


# ---- class indices as gradcli hands them over -------------------------------------------

def _ce_case():
    return next(c for c in VALUES if c["id"] == "ce/mean/ls=0.0/2d")


@pytest.mark.parametrize("as_target", [
    lambda a: a.tolist(),                                   # a list, as in programs
    lambda a: Tensor._make(a, None),                        # an int64 tensor
    lambda a: ag.tensor(a.astype(np.float64)),              # float tensor of whole numbers
    lambda a: ag.tensor(a.astype(np.float32), dtype=np.float32),
], ids=["list", "int64", "float64", "float32"])
def test_class_indices_arrive_in_every_form(as_target):
    case = _ce_case()
    x = build(case["args"][0])
    out = F.cross_entropy(x, as_target(array(case["args"][1])))
    np.testing.assert_allclose(out.data, array(case["value"]), **TOLERANCE["float64"])
    assert out.grad_fn.name == "NllLossBackward0"


def test_non_integral_class_indices_are_pytorchs_dtype_error():
    x = ag.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(GradcliError, match="expected target dtype to be Long or Byte, but "
                                           "got Double"):
        F.cross_entropy(x, ag.tensor([0.5, 1.0]))
    with pytest.raises(GradcliError, match="but got Bool"):
        F.nll_loss(x, np.array([True, False]))


def test_a_weight_that_requires_grad_is_refused_as_in_pytorch():
    x = ag.tensor(np.zeros((2, 3)), requires_grad=True)
    w = ag.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(GradcliError, match="'nll_loss_forward' is not differentiable with "
                                           "respect to argument 'weight'"):
        F.nll_loss(x, [0, 1], weight=w)
    with ag.no_grad():
        assert F.nll_loss(x, [0, 1], weight=w).item() == 0.0


# ---- second derivatives: create_graph against finite differences -------------------------

H = 1e-6
SETTINGS = settings(max_examples=15, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _first(fn, arrays, upstream):
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    return [g.data for g in ag.grad(fn(*xs), xs, grad_outputs=ag.tensor(upstream))]


def _differences(fn, arrays):
    result = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            x0 = a[idx]
            a[idx] = x0 + H
            up = fn(arrays)
            a[idx] = x0 - H
            down = fn(arrays)
            a[idx] = x0
            g[idx] = (up - down) / (2 * H)
        result.append(g)
    return result


def check_second_derivatives(fn, arrays, upstream, v, backward_name):
    """HVP through create_graph matches differences of the first derivative, and the
    gradient's own node is PyTorch's double-backward node."""
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    firsts = ag.grad(fn(*xs), xs, grad_outputs=ag.tensor(upstream), create_graph=True)
    if backward_name is not None:
        assert firsts[0].grad_fn.name == backward_name
    phi = sum(ag.functional.sum(g * ag.tensor(w)) for g, w in zip(firsts, v))
    hvp = ag.grad(phi, xs, allow_unused=True)
    numeric = _differences(lambda arrs: float(sum(np.sum(g * w) for g, w in zip(
        _first(fn, arrs, upstream), v))), [np.array(a, copy=True) for a in arrays])
    for i, (h, n) in enumerate(zip(hvp, numeric)):
        got = np.zeros_like(n) if h is None else h.data
        np.testing.assert_allclose(got, n, rtol=1e-5, atol=1e-5, err_msg=f"input {i}")


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _away_from(points, width):
    """Values at least ``width`` from each kink in ``points`` (finite differences need a
    smooth neighbourhood)."""
    return _floats(-3, 3).filter(lambda v: all(abs(v - p) > width for p in points))


SECOND_ORDER = {
    # name: (function of the inputs, strategies of the 2 inputs, double-backward node)
    "mse": (lambda a, b, r: F.mse_loss(a, b, reduction=r), (_floats(-3, 3), _floats(-3, 3)),
            "MseLossBackwardBackward0"),
    "smooth_l1": (lambda a, b, r: F.smooth_l1_loss(a, b, reduction=r, beta=0.7),
                  (_floats(-3, 3), _floats(-3, 3)), "SmoothL1LossBackwardBackward0"),
    "huber": (lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=0.6),
              (_floats(-3, 3), _floats(-3, 3)), "HuberLossBackwardBackward0"),
    "bce": (lambda a, b, r: F.binary_cross_entropy(a, b, reduction=r, weight=np.array(
        [0.5, 1.5, 1.0])), (_floats(0.05, 0.95), _floats(0.001, 0.999)),
        "BinaryCrossEntropyBackwardBackward0"),
    "bce_logits": (lambda a, b, r: F.binary_cross_entropy_with_logits(
        a, b, reduction=r, pos_weight=np.array([0.5, 2.0, 1.0])),
        (_floats(-4, 4), _floats(0.0, 1.0)), None),
    "cross_entropy(probs)": (lambda a, b, r: F.cross_entropy(a, b, reduction=r,
                                                             label_smoothing=0.1),
                             (_floats(-3, 3), _floats(0.0, 1.0)), None),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
@SETTINGS
@given(data=st.data())
def test_second_derivatives_match_finite_differences(name, reduction, data):
    fn, elements, node = SECOND_ORDER[name]
    if name in ("smooth_l1", "huber"):       # keep |a - b| off the switch point
        width = 0.7 if name == "smooth_l1" else 0.6
        a = data.draw(hnp.arrays(np.float64, (2, 3), elements=_floats(-3, 3)), label="a")
        gap = data.draw(hnp.arrays(np.float64, (2, 3), elements=_away_from(
            (-width, width), 0.01)), label="gap")
        arrays = [a, a - gap]
    else:
        arrays = [data.draw(hnp.arrays(np.float64, (2, 3), elements=e), label=f"x{i}")
                  for i, e in enumerate(elements)]
    out_shape = (2, 3) if reduction == "none" else ()
    if name == "cross_entropy(probs)" and reduction == "none":
        out_shape = (2,)
    upstream = data.draw(hnp.arrays(np.float64, out_shape, elements=_floats(-1, 1)), label="g")
    v = [data.draw(hnp.arrays(np.float64, (2, 3), elements=_floats(-1, 1)), label=f"v{i}")
         for i in range(2)]
    check_second_derivatives(lambda a, b: fn(a, b, reduction), arrays, upstream, v, node)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@SETTINGS
@given(data=st.data())
def test_cross_entropy_with_indices_second_derivatives(reduction, data):
    x = data.draw(hnp.arrays(np.float64, (3, 4), elements=_floats(-3, 3)), label="x")
    target = np.array([0, 3, 1])
    out_shape = (3,) if reduction == "none" else ()
    upstream = data.draw(hnp.arrays(np.float64, out_shape, elements=_floats(-1, 1)), label="g")
    v = [data.draw(hnp.arrays(np.float64, (3, 4), elements=_floats(-1, 1)), label="v")]
    check_second_derivatives(
        lambda a: F.cross_entropy(a, target, reduction=reduction, label_smoothing=0.2,
                                  weight=np.array([1.0, 0.5, 2.0, 1.5])), [x], upstream, v,
        None)


def test_nll_loss_gradient_is_its_own_node_and_linear():
    """NllLossBackward0's gradient records NllLossBackwardBackward0, whose derivative wrt
    the input is zero (the gradient does not depend on it) and wrt the upstream is
    nll_loss itself."""
    x = ag.tensor(np.array([[0.1, -0.3, 0.7], [1.2, 0.4, -0.5]]), requires_grad=True)
    g = ag.tensor(np.array(2.0), requires_grad=True)
    out = F.nll_loss(x, [2, 0])
    (gx,) = ag.grad(out, x, grad_outputs=g, create_graph=True)
    assert gx.grad_fn.name == "NllLossBackwardBackward0"
    np.testing.assert_array_equal(gx.data, [[0, 0, -1.0], [-1.0, 0, 0]])
    v = ag.tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    dx, dg = ag.grad(ag.functional.sum(gx * v), [x, g])
    np.testing.assert_array_equal(dx.data, np.zeros((2, 3)))
    assert dg.item() == pytest.approx(-(3.0 + 4.0) / 2)


# ---- SymPy counterparts: what the symbolic check replays ---------------------------------

def _sympy_replay(op, arrays, params):
    """The op's SymPy counterpart on symbols, as gradcli.check.symbolic applies it."""
    import sympy as sp

    from gradcli.autograd.ops import STRUCTURAL
    from gradcli.autograd.ops.core import emap
    syms = []
    for k, a in enumerate(arrays):
        s = np.empty(a.shape, dtype=object)
        for idx in np.ndindex(a.shape):
            s[idx] = sp.Symbol(f"x{k}_{'_'.join(map(str, idx))}", real=True)
        syms.append(s)
    if op.sympy is STRUCTURAL:
        out = op.forward(*syms, **params)
    elif op.elementwise:
        out = emap(lambda *xs: op.sympy(sp, *xs, **params), *syms)
    else:
        out = op.sympy(sp, *syms, **params)
    point = {s: sp.Float(float(v), 30) for k, a in enumerate(arrays)
             for s, v in zip(syms[k].reshape(-1), a.reshape(-1))}
    return sp, np.asarray(out, dtype=object), syms, point


W3 = np.array([0.5, 1.5, 2.0])
SYMPY_CASES = [
    ("mse_loss", [(2, 3), (2, 3)], {"reduction": "mean"}),
    ("mse_loss", [(2, 3), (3,)], {"reduction": "none"}),          # broadcasting
    ("smooth_l1_loss", [(2, 3), (2, 3)], {"reduction": "sum", "beta": 0.7}),
    ("huber_loss", [(2, 3), (2, 3)], {"reduction": "mean", "delta": 0.6}),
    ("binary_cross_entropy", [(2, 3), (2, 3)], {"reduction": "mean", "weight": W3}),
    ("binary_cross_entropy_with_logits", [(2, 3), (2, 3)],
     {"reduction": "sum", "weight": W3, "pos_weight": np.array([2.0, 0.5, 1.0])}),
    ("nll_loss", [(3, 3)], {"target": np.array([0, 2, 1]), "weight": W3, "reduction": "mean",
                            "ignore_index": 1}),
    ("nll_loss", [(3,)], {"target": np.array(2), "weight": None, "reduction": "none",
                          "ignore_index": -100}),
    ("nll_loss2d", [(2, 3, 1, 2)], {"target": np.array([[[0, 2]], [[1, 1]]]), "weight": None,
                                    "reduction": "sum", "ignore_index": -100}),
    ("addmm", [(3,), (2, 4), (4, 3)], {}),
    ("nn_unsafe_view", [(2, 3)], {"shape": (3, 2)}),
    ("nn_mul_scalar", [(2, 3)], {"other": 0.9}),
    ("nn_div_scalar", [(2, 3)], {"other": 4}),
    ("nn_add_scalar", [(2, 3)], {"other": 0.025}),
    ("nn_masked_fill", [(2, 3)], {"mask": np.array([True, False, True]), "value": 0.0}),
]


@pytest.mark.parametrize("name, shapes, params", SYMPY_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SYMPY_CASES)])
def test_sympy_counterparts_give_the_engines_values_and_gradients(name, shapes, params):
    from gradcli.autograd.function import apply
    from gradcli.autograd.ops import REGISTRY
    op = REGISTRY[name]
    rng = np.random.default_rng(len(name))
    lo, hi = (0.1, 0.9) if name == "binary_cross_entropy" else (-2.0, 2.0)
    arrays = [rng.uniform(lo, hi, s) for s in shapes]
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    out = apply(op, *xs, **params)
    upstream = rng.uniform(-1, 1, out.shape)
    grads = ag.grad(out, xs, grad_outputs=ag.tensor(upstream), allow_unused=True)

    sp, sym_out, syms, point = _sympy_replay(op, arrays, params)
    assert sym_out.shape == out.shape
    values = np.array([float(v.subs(point)) if hasattr(v, "subs") else float(v)
                       for v in sym_out.reshape(-1)]).reshape(out.shape)
    np.testing.assert_allclose(values, out.data, rtol=1e-12, atol=1e-12)
    objective = sp.Add(*[v * sp.Float(float(u), 30) for v, u in
                         zip(sym_out.reshape(-1), np.asarray(upstream).reshape(-1))])
    for k, (g, s) in enumerate(zip(grads, syms)):
        want = np.array([float(sp.diff(objective, e).subs(point)) for e in s.reshape(-1)])
        got = np.zeros(s.size) if g is None else g.data.reshape(-1)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"input {k}")


def test_kinks_are_reported_where_the_loss_switches_formula():
    from gradcli.autograd.ops import REGISTRY
    from gradcli.autograd.ops.core import undefined_at
    a, b = np.array([1.0, 2.0]), np.array([0.3, 2.5])       # |a - b| = 0.7, 0.5
    assert "switches formula" in undefined_at(REGISTRY["smooth_l1_loss"], [a, b], None,
                                              {"reduction": "mean", "beta": 0.7})
    assert undefined_at(REGISTRY["huber_loss"], [a, b], None,
                        {"reduction": "mean", "delta": 0.6}) is None
    p = np.array([0.0, 0.5])
    assert "clamps" in undefined_at(REGISTRY["binary_cross_entropy"], [p, p], None, {})
