"""Derivatives of any order, with PyTorch's double-backward nodes.

* ``names.json`` (written by PyTorch, ``tests/data/engine/make_expected.py``): for every
  op of the op table, the whole graph that create_graph records for its gradient, and
  for the gradient of that, as text -- node names (TanhBackwardBackward0,
  ThresholdBackwardBackward0, MulBackward1, ...), edges and their order -- and the values.
* Third derivatives of every op at three points each (hypothesis), against central
  finite differences of the second derivative computed by the engine.
* The issue's cases, derived by hand.
"""

from __future__ import annotations

import json
import math
import os

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gradcli.autograd as ag
from gradcli.autograd import functional as F

from engine_programs import describe, differences

DATA = os.path.join(os.path.dirname(__file__), "data", "engine", "names.json")
with open(DATA) as _f:
    EXPECTED = json.load(_f)


@pytest.mark.parametrize("case_id", sorted(EXPECTED))
def test_gradient_graphs_like_pytorch(case_id):
    case = EXPECTED[case_id]
    got = describe(case["source"], "gradcli")
    assert differences(case["expected"], got, rtol=1e-10, atol=1e-12) == [], case["source"]


# ---- the cases -------------------------------------------------------------------

def test_relu_second_derivative_is_zero_not_an_error():
    x = ag.tensor(0.5, requires_grad=True)
    (g,) = ag.grad(F.relu(x), x, create_graph=True)
    assert g.grad_fn.name == "ThresholdBackwardBackward0" and g.item() == 1.0
    (h,) = ag.grad(g, x)
    assert h.item() == 0.0


def test_square_third_derivative_is_zero():
    x = ag.tensor(0.5, requires_grad=True)
    (g,) = ag.grad(F.square(x), x, create_graph=True)       # 2x
    (h,) = ag.grad(g, x, create_graph=True)                 # 2
    assert g.item() == 1.0 and h.item() == 2.0 and h.requires_grad
    (k,) = ag.grad(h, x)
    assert k.item() == 0.0


@pytest.mark.parametrize("fn, name", [(F.tanh, "TanhBackwardBackward0"),
                                      (F.sigmoid, "SigmoidBackwardBackward0"),
                                      (F.relu, "ThresholdBackwardBackward0"),
                                      (F.softplus, "SoftplusBackwardBackward0")])
def test_double_backward_node_names(fn, name):
    x = ag.tensor([0.5, -1.5], requires_grad=True)
    (g,) = ag.grad(F.sum(fn(x)), x, create_graph=True)
    assert g.grad_fn.name == name


# ---- third derivatives against finite differences of the second --------------------------

def _derivatives(f, x0: float, order: int) -> float:
    """d^order f / dx^order at x0 by repeated grad(create_graph=True)."""
    x = ag.tensor(x0, requires_grad=True)
    y = f(x)
    for k in range(order):
        if not (isinstance(y, ag.Tensor) and y.requires_grad):
            return 0.0                          # what was left is a constant
        (y,) = ag.grad(y, x, create_graph=k < order - 1, allow_unused=True)
        if y is None:
            return 0.0
    return y.item()


def _check_third(f, x0: float, jumps: bool = False) -> None:
    """Against central differences of the second derivative, Richardson-extrapolated
    (steps h and h/2: the error is O(h**4), so a large fifth derivative cannot pass
    for a wrong third one).  ``jumps``: f is piecewise smooth (rounding), and a point
    whose differences straddle a jump has no reference: hypothesis draws another (the
    steps h, h/2 and h/4 disagree there by the jump over h; it found round's jump at
    u = 0.55 within 1e-3 of x = 0.5293)."""
    def central(h):
        return (_derivatives(f, x0 + h, 2) - _derivatives(f, x0 - h, 2)) / (2 * h)
    h = 1e-3 * max(1.0, abs(x0))
    if jumps:
        wide, narrow = central(h), central(h / 4)
        assume(abs(wide - narrow) <= 1e-3 * max(1.0, abs(narrow)))
    d3 = _derivatives(f, x0, 3)
    fd = (4 * central(h / 2) - central(h)) / 3
    assert math.isclose(d3, fd, rel_tol=1e-6, abs_tol=1e-6), (d3, fd)


def cube_plus(x):
    """An inner function with nonzero derivatives of every order (so each op's VJPs are
    differentiated as far as the chain rule reaches)."""
    return x * x * x * 0.3 + F.sin(x)


def _lift(op, *others):
    return lambda x: op(cube_plus(x), *others)


C = ag.tensor([0.3, -0.2, 0.45])
THIRD = {
    # elementwise, in their smooth domains (u = cube_plus(x) = 0.3 x**3 + sin x)
    "exp": (F.exp, (-1, 1)), "exp2": (F.exp2, (-1, 1)), "expm1": (F.expm1, (-1, 1)),
    "log": (lambda u: F.log(u + 3.0), (-1, 1)), "log2": (lambda u: F.log2(u + 3.0), (-1, 1)),
    "log10": (lambda u: F.log10(u + 3.0), (-1, 1)),
    "log1p": (lambda u: F.log1p(u + 2.0), (-1, 1)),
    "sqrt": (lambda u: F.sqrt(u + 3.0), (-1, 1)), "rsqrt": (lambda u: F.rsqrt(u + 3.0), (-1, 1)),
    "reciprocal": (lambda u: F.reciprocal(u + 3.0), (-1, 1)),
    "sin": (F.sin, (-2, 2)), "cos": (F.cos, (-2, 2)), "tan": (F.tan, (-0.7, 0.7)),
    "asin": (lambda u: F.asin(u * 0.5), (-1, 1)), "acos": (lambda u: F.acos(u * 0.5), (-1, 1)),
    "atan": (F.atan, (-2, 2)), "sinh": (F.sinh, (-2, 2)), "cosh": (F.cosh, (-2, 2)),
    "tanh": (F.tanh, (-2, 2)), "asinh": (F.asinh, (-2, 2)), "erf": (F.erf, (-1.5, 1.5)),
    "sigmoid": (F.sigmoid, (-2, 2)), "softplus": (F.softplus, (-2, 2)),
    "silu": (F.silu, (-2, 2)), "square": (F.square, (-2, 2)),
    "abs": (lambda u: F.abs(u + 3.0), (-1, 1)), "relu": (lambda u: F.relu(u + 3.0), (-1, 1)),
    "sign": (lambda u: F.sign(u + 3.0) * u, (-1, 1)),
    "clamp": (lambda u: F.clamp(u, -5.0, 5.0), (-1, 1)), "neg": (lambda u: -u, (-2, 2)),
    "pow-3": (lambda u: u ** 3, (-2, 2)), "pow-2.5": (lambda u: (u + 3.0) ** 2.5, (-1, 1)),
    "pow-base": (lambda u: 1.7 ** u, (-2, 2)), "rsub": (lambda u: 2.0 - u * u, (-2, 2)),
    "rdiv": (lambda u: 2.0 / (u + 3.0), (-1, 1)),
    # binary, the variable on both sides
    "add": (lambda u: u + u * u, (-2, 2)), "sub": (lambda u: u * u - u, (-2, 2)),
    "mul": (lambda u: u * F.sin(u), (-2, 2)), "div": (lambda u: F.sin(u) / (u + 3.0), (-1, 1)),
    "pow-tensor": (lambda u: (u + 3.0) ** (u * 0.5), (-1, 1)),
    "maximum": (lambda u: F.maximum(u, u * u + 1.0), (-1, 1)),
    "minimum": (lambda u: F.minimum(u, u * u + 1.0), (-1, 1)),
    "atan2": (lambda u: F.atan2(u, u * u + 1.0), (-2, 2)),
    "hypot": (lambda u: F.hypot(u, u * u + 1.0), (-2, 2)),
    # SPEC 3.9 (issue 15), each in a smooth region
    "gelu": (F.gelu, (-2, 2)), "gelu-tanh": (lambda u: F.gelu(u, approximate="tanh"), (-2, 2)),
    "leaky_relu": (lambda u: F.leaky_relu(u - 3.0, 0.2) * u, (-1, 1)),
    "elu": (lambda u: F.elu(u - 3.0, alpha=0.5), (-1, 1)),
    "selu": (lambda u: F.selu(u - 3.0), (-1, 1)),
    "celu": (lambda u: F.celu(u - 3.0, alpha=2.0), (-1, 1)),
    "hardtanh": (lambda u: F.hardtanh(u * 0.2) * u, (-2, 2)),
    "relu6": (lambda u: F.relu6(u + 3.0) ** 2, (-1, 1)),
    "logsigmoid": (F.logsigmoid, (-2, 2)), "mish": (F.mish, (-2, 2)),
    "hardsigmoid": (lambda u: F.hardsigmoid(u * 0.5) * u, (-2, 2)),
    "hardswish": (lambda u: F.hardswish(u * 0.5), (-2, 2)),
    "atanh": (lambda u: F.atanh(u * 0.3), (-1, 1)), "acosh": (lambda u: F.acosh(u + 3.0), (-1, 1)),
    "erfc": (F.erfc, (-1.5, 1.5)), "logit": (lambda u: F.logit(u * 0.2 + 0.5), (-1, 1)),
    "xlogy": (lambda u: F.xlogy(u + 3.0, u * u + 1.0), (-1, 1)),
    "logaddexp": (lambda u: F.logaddexp(u, u * u), (-2, 2)),
    "logaddexp2": (lambda u: F.logaddexp2(u, u * u), (-2, 2)),
    "clamp_min": (lambda u: F.clamp_min(u, -5.0) ** 3, (-1, 1)),
    "clamp_max": (lambda u: F.clamp_max(u, 5.0) ** 3, (-1, 1)),
    "where": (lambda u: F.where(u > -5.0, u * u * u, u), (-1, 1)),
    "smooth_l1_loss": (lambda u: F.smooth_l1_loss(F.stack([u, u * u]),
                                                  F.stack([F.sin(u), u + 0.1])), (-0.5, 0.5)),
    "huber_loss": (lambda u: F.huber_loss(F.stack([u, u * u]), F.stack([F.sin(u), u + 0.1]),
                                          delta=2.0), (-0.5, 0.5)),
    "binary_cross_entropy_with_logits": (lambda u: F.binary_cross_entropy_with_logits(
        F.stack([u, u * u]), F.stack([F.sigmoid(u * 0.5), F.sigmoid(-u)])), (-1, 1)),
    "nll_loss": (lambda u: F.nll_loss(F.log_softmax(F.stack([F.stack([u, u * u, F.sin(u)])]),
                                                    1), [1]) * u, (-1, 1)),
    "addmm": (lambda u: F.sum(F.addmm(F.stack([u, u * u]), F.stack([F.stack([u, 1.0])]),
                                      F.stack([F.stack([u, u]), F.stack([F.sin(u), 2.0])]))
                              ** 2), (-1, 1)),
    # SPEC 3.9 (issue 15): cumulative and statistical reductions, rounding (flat between
    # its jumps: times u**3), remainders, special functions, masked_fill
    "cumsum": (lambda u: F.sum(F.cumsum(F.stack([u, u * u, F.sin(u)]), 0) ** 3), (-2, 2)),
    "cumprod": (lambda u: F.sum(F.cumprod(F.stack([u + 3.0, u * u + 1.0, F.sin(u)]), 0)),
                (-1, 1)),
    "var": (lambda u: F.var(F.stack([u, u * u, F.sin(u)])), (-2, 2)),
    "std": (lambda u: F.std(F.stack([u, u * u + 1.0, F.sin(u)]), 0), (-2, 2)),
    "amax": (lambda u: F.amax(F.stack([u, u * u + 5.0, F.sin(u)])), (-1, 1)),
    "amin": (lambda u: F.amin(F.stack([u, u * u + 5.0, F.sin(u) + 9.0]), 0), (-1, 1)),
    "floor": (lambda u: F.floor(u * 0.1 + 3.3) * u ** 3, (-1, 1)),
    "ceil": (lambda u: F.ceil(u * 0.1 + 3.3) * u ** 3, (-1, 1)),
    "trunc": (lambda u: F.trunc(u * 0.1 + 3.3) * u ** 3, (-1, 1)),
    "round": (lambda u: F.round(u * 0.1 + 3.1) * u ** 3 + F.round(u, decimals=1) * u,
              (-1, 1)),
    "frac": (lambda u: F.frac(u * 0.1 + 3.3) ** 3, (-1, 1)),
    "fmod": (lambda u: F.fmod(u * 0.2 + 3.3, u * 0.1 + 2.0) ** 3 + F.fmod(u * u, 7.0) * u,
             (-1, 1)),
    "remainder": (lambda u: F.remainder(u * 0.2 + 3.3, u * 0.1 + 2.0) ** 3 +
                  F.remainder(u * u, 7.0) * u, (-1, 1)),
    "erfinv": (lambda u: F.erfinv(u * 0.5), (-1, 1)),
    "lgamma": (lambda u: F.lgamma(u + 3.0), (-1, 1)),
    "digamma": (lambda u: F.digamma(u + 3.0), (-1, 1)),
    "sinc": (F.sinc, (-2, 2)),
    "masked_fill": (lambda u: F.sum(F.masked_fill(F.stack([u, u * u, F.sin(u)]),
                                                  [True, False, False], 0.5) ** 3) +
                    F.sum(F.masked_fill(F.stack([u, F.sin(u)]), [False, True], u * u) ** 3),
                    (-1, 1)),
    # SPEC 3.9's shape ops and layer_norm, on a vector made from the variable
    "flip": (lambda u: F.sum(F.flip(F.stack([u, u * u, F.sin(u)]), 0) ** 3 * C), (-2, 2)),
    "roll": (lambda u: F.sum(F.roll(F.stack([u, u * u, F.sin(u)]), 1) ** 3 * C), (-2, 2)),
    "repeat": (lambda u: F.sum(F.stack([u, u * u]).repeat(2, 2) ** 3), (-2, 2)),
    "gather": (lambda u: F.sum(F.gather(F.stack([u, u * u, F.sin(u)]), 0, [2, 0, 2]) ** 3 * C),
               (-2, 2)),
    "index_select": (lambda u: F.sum(F.index_select(F.stack([u, u * u, F.sin(u)]), 0,
                                                    [2, 2, 1]) ** 3 * C), (-2, 2)),
    "layer_norm": (lambda u: F.sum(F.layer_norm(F.stack([u, u * u + 1.0, F.sin(u) - 1.0]),
                                                [3]) * C), (-1, 1)),
    # reductions and products over a vector made from the variable
    "sum": (lambda u: F.sum(F.stack([u, u * u, F.sin(u)]) ** 2), (-2, 2)),
    "mean": (lambda u: F.mean(F.stack([u, u * u, F.sin(u)]) ** 2), (-2, 2)),
    "prod": (lambda u: F.prod(F.stack([u + 3.0, u * u + 1.0, F.cos(u) + 2.0])), (-1, 1)),
    "max": (lambda u: F.max(F.stack([u, u * u + 5.0, F.sin(u)])), (-1, 1)),
    "min": (lambda u: F.min(F.stack([u, u * u + 5.0, F.sin(u) + 9.0])), (-1, 1)),
    "norm": (lambda u: F.norm(F.stack([u, u * u + 1.0, F.sin(u)])), (-2, 2)),
    "logsumexp": (lambda u: F.logsumexp(F.stack([u, u * u, F.sin(u)]), 0), (-2, 2)),
    "softmax": (lambda u: F.sum(F.softmax(F.stack([u, u * u, F.sin(u)]), 0) * C), (-2, 2)),
    "log_softmax": (lambda u: F.sum(F.log_softmax(F.stack([u, u * u, F.sin(u)]), 0) * C),
                    (-2, 2)),
    "mse_loss": (lambda u: F.mse_loss(F.stack([u, u * u]), F.stack([F.sin(u), u + 1.0])),
                 (-2, 2)),
    "dot": (lambda u: F.dot(F.stack([u, u * u]), F.stack([F.sin(u), u])), (-2, 2)),
    "mv": (lambda u: F.sum(F.mv(F.stack([F.stack([u, u * u]), F.stack([F.sin(u), u])]),
                                F.stack([u, F.cos(u)])) ** 2), (-2, 2)),
    "mm": (lambda u: F.trace(F.mm(F.stack([F.stack([u, u * u]), F.stack([F.sin(u), u])]),
                                  F.stack([F.stack([u, 1.0 + u]), F.stack([u * u, u])]).T)),
           (-2, 2)),
    "matmul-vm": (lambda u: F.sum(F.matmul(F.stack([u, u * u]),
                                            F.stack([F.stack([u, 1.0]), F.stack([2.0, u])]))
                                  ** 2), (-2, 2)),
    "trace": (lambda u: F.trace(F.stack([F.stack([u * u, u]), F.stack([u, F.sin(u)])])) ** 2,
              (-2, 2)),
    # linear algebra: matrices of u kept far from singular
    "bmm": (lambda u: F.sum(F.bmm(F.unsqueeze(_well(u), 0), F.unsqueeze(_well(u), 0)) ** 2),
            (-1, 1)),
    "triu": (lambda u: F.sum(F.triu(_well(u)) ** 3), (-1, 1)),
    "tril": (lambda u: F.sum(F.tril(_well(u), -1) ** 3), (-1, 1)),
    "det": (lambda u: F.det(_well(u)), (-1, 1)),
    "inverse": (lambda u: F.sum(F.inverse(_well(u)) ** 2), (-1, 1)),
    "solve": (lambda u: F.sum(F.solve(_well(u), F.stack([u, u * u])) ** 2), (-1, 1)),
    "cholesky": (lambda u: F.sum(F.cholesky(F.stack([F.stack([u * u + 4.0, u]),
                                                     F.stack([u, u + 3.0])])) ** 2),
                 (-1, 1)),
    # shapes: views and copies in the chain
    "views": (lambda u: F.sum(F.reshape(F.stack([u, u * u, F.sin(u), u]), 2, 2).T[1] ** 3),
              (-2, 2)),
    "expand-diagonal": (lambda u: F.sum(F.diagonal(F.expand(F.unsqueeze(
        F.stack([u, u * u]), 0), 2, 2)) ** 3), (-2, 2)),
    "cat-narrow-squeeze": (lambda u: F.sum(F.squeeze(F.unsqueeze(F.narrow(
        F.cat([F.stack([u, u * u]), F.stack([F.sin(u)])]), 0, 1, 2), 1)) ** 3), (-2, 2)),
    "reshape-copy": (lambda u: F.sum(F.reshape(F.stack([F.stack([u, u * u]),
                                                       F.stack([F.sin(u), u])]).T, 4) ** 3),
                     (-2, 2)),
    "clone": (lambda u: F.sum(F.stack([u, u * u]).clone() ** 3), (-2, 2)),
    "sum-mean-dims": (lambda u: F.sum(F.sum(_matrix(u), 0) ** 3) + F.sum(F.mean(_matrix(u), 1,
                                                                                  keepdim=True) ** 3),
                      (-2, 2)),
    "t-transpose-squeeze": (lambda u: F.sum(F.squeeze(F.squeeze(F.unsqueeze(F.unsqueeze(
        F.transpose(F.t(_matrix(u)), 0, 1), 0), 3), 0)) ** 3), (-2, 2)),
    "select-slice": (lambda u: F.sum(_matrix(u)[1] ** 3) + F.sum(_matrix(u)[:, 1:] ** 3),
                     (-2, 2)),
    "inplace-view": (lambda u: _inplace_through_view(u), (-2, 2)),
    "inplace-fill-copy-zero": (lambda u: _fill_copy_zero(u), (-2, 2)),
}


def _well(u):
    return F.stack([F.stack([u + 3.0, u * u]), F.stack([F.sin(u), u ** 3 + 3.0])])


def _matrix(u):
    return F.stack([F.stack([u, u * u]), F.stack([F.sin(u), u ** 3])])


def _fill_copy_zero(u):
    t = _matrix(u) * 1.0
    t[0].fill_(u * u)
    t[1].copy_(F.stack([u, F.cos(u)]))
    z = F.stack([u, u]) * 1.0
    z.zero_()
    w = F.stack([u, u * u]) * 1.0
    w[1].fill_(2.5)
    return F.sum(t ** 3) + F.sum(z) + F.sum(w ** 3)


def _inplace_through_view(u):
    t = F.stack([u, u * u, F.sin(u)])
    t[1:].mul_(u)
    return F.sum(t ** 3)


JUMPY = {"floor", "ceil", "trunc", "round", "frac", "fmod", "remainder"}


@pytest.mark.parametrize("name", sorted(THIRD))
@settings(max_examples=3, deadline=None, database=None)
@given(data=st.data())
def test_third_derivative(name, data):
    fn, (lo, hi) = THIRD[name]
    x0 = data.draw(st.floats(lo, hi, allow_nan=False).filter(lambda v: abs(v) > 1e-3))
    _check_third(_lift(fn), x0, jumps=name in JUMPY)


def test_every_differentiable_op_has_a_third_derivative_case():
    """Each op of the table that has a gradient is reached by some case above."""
    seen = set()
    for fn, (lo, hi) in THIRD.values():
        x = ag.tensor((lo + hi) / 2 + 0.1, requires_grad=True)
        out = _lift(fn)(x)
        stack, visited = [out.grad_fn], set()
        while stack:
            node = stack.pop()
            if node is None or id(node) in visited:
                continue
            visited.add(id(node))
            if hasattr(node, "op"):
                seen.add(node.op.name)
                if hasattr(node, "fn"):             # CopySlices: the in-place op inside
                    stack.append(node.fn)
            stack.extend(node.next_edges)
    differentiable = {name for name, op in ag.REGISTRY.items()
                      if not op.internal and any(v is not None for v in op.vjps + (op.joint,))}
    # to_copy: test_dtypes.py; binary_cross_entropy: PyTorch's own third derivative is
    # not the true one (below); logcumsumexp: PyTorch's is NaN (test_ops_elem.py);
    # floor_divide: a backward through it is PyTorch's error (test_run_cli.py)
    assert differentiable - seen - {"to_copy", "binary_cross_entropy", "logcumsumexp",
                                    "floor_divide"} == set()


def test_binary_cross_entropy_third_derivative_is_pytorchs():
    """PyTorch 2.13's binary_cross_entropy_double_backward is not differentiated exactly
    once more: at x0 = 1 its third derivative of this function is 6.891616392895863
    (torch, float64), where differences of its second give 7.6493.  gradcli computes
    PyTorch's value."""
    def f(u):
        return F.binary_cross_entropy(F.sigmoid(F.stack([u, u * u])),
                                      F.stack([F.sigmoid(u * 0.5), F.sigmoid(-u)]).detach())
    assert math.isclose(_derivatives(_lift(f), 1.0, 3), 6.891616392895863, rel_tol=1e-12)


def test_the_buffer_a_create_graph_gradient_is_copied_into_shows_zeros():
    """PyTorch copies a leaf's first create_graph gradient into a new empty buffer
    (CopyBackwards); the graph lists it, so it must hold zeros, not stray memory."""
    import numpy as np

    from gradcli.lang.evaluator import evaluate
    result = evaluate("backward(sum(x**3), create_graph=True)\nx.grad", {"x": [2.0, 3.0]})
    copy = next(r for r in result.graph if r.grad_fn == "CopyBackwards")
    buffer = result.graph[copy.sources[0]]
    assert buffer.is_leaf and not buffer.requires_grad
    np.testing.assert_array_equal(buffer.value, [0.0, 0.0])
    np.testing.assert_array_equal(copy.value, [12.0, 27.0])
