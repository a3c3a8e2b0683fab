"""Jacobians and Hessians by batched VJPs (gradcli.autograd.batched) agree with one
backward per output element (the engine's own grad, checked against PyTorch elsewhere)
and with central differences, for ops that have a batch rule, elementwise ops and ops
that fall back to a per-row loop."""

from __future__ import annotations

import numpy as np
import pytest

import gradcli
from gradcli.autograd import batched, engine
from gradcli.autograd.tensor import Tensor
from gradcli.lang import derivatives
from gradcli.lang.evaluator import evaluate

RNG = np.random.default_rng(7)
A = RNG.normal(size=(3, 4))
B = RNG.normal(size=(4, 2))
V = RNG.normal(size=4)
U = RNG.normal(size=3)

PROGRAMS = [
    ("tanh(w @ v)", {"w": A, "v": V}),                        # Mv rule, elementwise
    ("sigmoid(a @ b) * 2 - 1", {"a": A, "b": B}),               # Mm rule
    ("dot(v, v) * v", {"v": V}),                                # Dot rule, broadcast
    ("exp(w) / (1 + w**2) + u.reshape(3, 1)", {"w": A, "u": U}),  # broadcasting sum_to
    ("sum(w, 0) * log(1 + v**2)", {"w": A, "v": V}),            # sum over a dim: loop
    ("softmax(w, 1)", {"w": A}),                                # loop
    ("w[1:, ::2].T @ u[1:]", {"w": A, "u": U}),                 # views: loop
    ("stack([sum(v), prod(v), max(v)])", {"v": V}),             # variadic: loop
    ("x**3 * sin(x) + x", {"x": 0.7}),                          # scalar output
]


def per_row_jacobian(result) -> np.ndarray:
    """One engine.grad per output element: the reference."""
    found = derivatives.variables(result)
    out = result.output
    tensors = [t for _, t in found]
    rows = []
    for i in range(out.data.size):
        basis = np.zeros(out.data.size)
        basis[i] = 1.0
        grads = engine.grad(out, tensors, grad_outputs=Tensor._make(
            basis.reshape(out.shape), None), retain_graph=True, allow_unused=True)
        rows.append(np.concatenate([np.zeros(t.data.size) if g is None
                                    else g.data.reshape(-1) for g, t in zip(grads, tensors)]))
    return np.array(rows)


def central_jacobian(program, bindings) -> np.ndarray:
    names = list(bindings)
    flat = np.concatenate([np.ravel(bindings[n]).astype(float) for n in names])
    sizes = [np.size(bindings[n]) for n in names]

    def f(x):
        parts, at = {}, 0
        for n, size in zip(names, sizes):
            parts[n] = x[at:at + size].reshape(np.shape(bindings[n]))
            at += size
        return np.ravel(evaluate(program, parts, implicit_backward=False).value)

    h = 1e-6
    cols = []
    for k in range(flat.size):
        e = np.zeros(flat.size)
        e[k] = h
        cols.append((f(flat + e) - f(flat - e)) / (2 * h))
    return np.array(cols).T


@pytest.mark.parametrize("program,bindings", PROGRAMS, ids=[p for p, _ in PROGRAMS])
def test_batched_jacobian_matches_per_row_and_differences(program, bindings):
    result = evaluate(program, bindings, implicit_backward=False)
    J, _, _ = derivatives.jacobian(result)
    np.testing.assert_allclose(J, per_row_jacobian(result), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(J, central_jacobian(program, bindings), rtol=1e-6, atol=1e-7)


def test_chunks_give_the_same_rows(monkeypatch):
    result = evaluate("tanh(w @ v) * v[0]", {"w": RNG.normal(size=(9, 4)), "v": V},
                      implicit_backward=False)
    whole, _, _ = derivatives.jacobian(result)
    monkeypatch.setattr(derivatives, "CHUNK_ELEMENTS", 10)      # chunks of 1 row
    chunked, _, _ = derivatives.jacobian(result)
    np.testing.assert_array_equal(whole, chunked)
    assert batched.flowing_size([result.output], [result.variables["w"]]) == 36


def test_hessian_matches_second_differences_of_the_gradient():
    bindings = {"w": A, "v": V}
    program = "sum(tanh(w @ v)**2)"
    H = gradcli.hessian(program, bindings, wrt=["v"])
    # central differences of the gradient (from the engine) in v
    h = 1e-6
    cols = []
    for k in range(4):
        e = np.zeros(4)
        e[k] = h
        up = gradcli.evaluate(program, {**bindings, "v": V + e}, wrt=["v"]).grads["v"]
        down = gradcli.evaluate(program, {**bindings, "v": V - e}, wrt=["v"]).grads["v"]
        cols.append((up - down) / (2 * h))
    np.testing.assert_allclose(H, np.array(cols).T, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H, H.T, rtol=1e-13, atol=1e-15)
