"""The linear-algebra ops beyond what tests/test_ops_torch.py checks per case, against
PyTorch 2.13's own output (tests/data/ops/linalg.json and linalg_script.out, written by
generate_linalg.py; torch is never imported here): the graphs PyTorch records for first
derivatives taken with create_graph, its messages for calls it refuses, a script's
output byte for byte, and the values at singular matrices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import gradcli
import gradcli.autograd as ag
from gradcli.autograd import functional as F
from gradcli.errors import GradcliError
from test_ops_torch import array, graph

DATA = Path(__file__).parent / "data" / "ops"
LINALG = json.loads((DATA / "linalg.json").read_text())


def _call(spec, requires_grad):
    """A string argument stays a string (einsum's equation)."""
    xs = [ag.tensor(array(a), requires_grad=requires_grad) for a in spec["args"]
          if not isinstance(a, str)]
    strings = [a for a in spec["args"] if isinstance(a, str)]
    return xs, F.NAMESPACE[spec["fn"]](*spec.get("before", ()), *strings, *xs,
                                       **spec.get("kwargs", {}))


DOUBLE = LINALG["double_backward"]


@pytest.mark.parametrize("spec", DOUBLE, ids=[d["fn"] for d in DOUBLE])
def test_create_graph_records_pytorchs_nodes(spec):
    xs, out = _call(spec, True)
    grads = ag.grad(out, xs, grad_outputs=ag.tensor(array(spec["upstream"])),
                    create_graph=True)
    assert [graph(g.grad_fn) for g in grads] == spec["graphs"]


ERRORS = LINALG["errors"]


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
@pytest.mark.parametrize("spec", ERRORS, ids=[e["fn"] for e in ERRORS])
def test_refused_calls_give_pytorchs_message(spec):
    with pytest.raises(GradcliError) as info:
        _call(spec, False)
    assert info.value.message == spec["message"]


def test_a_script_prints_what_pytorch_prints():
    script = (DATA / "linalg_script.py").read_text()
    assert gradcli.run(script) == (DATA / "linalg_script.out").read_text()


def test_singular_matrices_as_pytorch():
    a = ag.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    det = F.det(a)
    assert det.item() == 0.0
    assert np.array_equal(ag.grad(det, [a])[0].data, np.zeros((2, 2)))
    s = F.slogdet(a)
    assert s.sign.item() == 0.0 and s.logabsdet.item() == -np.inf
    g = ag.grad(s.logabsdet, [a])[0].data
    assert np.array_equal(g, [[-np.inf, np.inf], [np.inf, -np.inf]])
    assert ag.grad(F.slogdet(a).sign, [a], allow_unused=True) == (None,)
    assert np.isnan(F.logdet(ag.tensor([[1.0, 2.0], [3.0, 4.0]])).item())


def test_slogdet_parts_by_name_in_programs():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    result = gradcli.evaluate("slogdet(A).logabsdet", {"A": a}, check=True)
    assert result.value == pytest.approx(np.log(5.0), rel=1e-15)
    np.testing.assert_allclose(result.grads["A"], np.linalg.inv(a).T, rtol=1e-14)
    assert result.check["status"] == "passed"


def test_det_twice_at_a_singular_matrix_is_a_clear_error():
    a = ag.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    with pytest.raises(GradcliError, match="singular"):
        ag.grad(F.det(a), [a], create_graph=True)


@pytest.mark.parametrize("program", [
    "kron(ones(20000), ones(20000))", "outer(ones(20000), ones(20000))",
    "einsum('i,j->ij', ones(20000), ones(20000))", "diag(ones(2), 20000)",
    "tensordot(ones(20000), ones(20000), 0)", "bmm(ones(1, 20000, 1), ones(1, 1, 20000))"])
def test_products_over_the_size_limit_are_refused_before_computing(program):
    with pytest.raises(GradcliError, match="the result would have"):
        gradcli.evaluate(program + ".sum()", {})


def test_huge_diagonals_are_pytorchs_overflow_error():
    with pytest.raises(GradcliError, match="Overflow when unpacking long long"):
        F.triu(ag.tensor(np.ones((2, 2))), 10 ** 20)
    assert np.array_equal(F.triu(ag.tensor(np.ones((2, 2))), 2 ** 62).data, np.zeros((2, 2)))


def test_empty_matrices_as_pytorch():
    """PyTorch: det of a 0x0 matrix is 1, its logabsdet 0; empty batches stay empty."""
    a = ag.tensor(np.zeros((0, 0)), requires_grad=True)
    det = F.det(a)
    assert det.item() == 1.0 and ag.grad(det, [a])[0].shape == (0, 0)
    assert F.slogdet(a).logabsdet.item() == 0.0
    assert F.inverse(ag.tensor(np.zeros((2, 0, 0)))).shape == (2, 0, 0)
    assert F.solve(ag.tensor(np.zeros((0, 0))), ag.tensor(np.zeros(0))).shape == (0,)
    assert F.det(ag.tensor(np.zeros((0, 2, 2)))).shape == (0,)


@pytest.mark.parametrize("shapes, dtypes, message", [
    (((3, 4), (4,)), ("float32", "float64"),
     "addmv input tensors must have the same dtype, but got Double, Float, and Double"),
    (((2, 3, 4), (4,)), ("float64", "int64"),
     "addmv input tensors must have the same dtype, but got Long, Double, and Long"),
    (((2, 3, 4), (4, 5)), ("float64", "float32"),
     "expected m1 and m2 to have the same dtype, but got: double != float"),
    (((2, 3, 4), (2, 4, 5)), ("float64", "float32"),
     "expected scalar type Double but found Float"),
    (((3, 4), (2, 4, 5)), ("float32", "float64"),
     "expected scalar type Float but found Double"),
])
def test_mixed_dtype_products_give_pytorchs_message(shapes, dtypes, message):
    """(PyTorch 2.13's messages: the batched @ reaches mv, mm or bmm.)"""
    a, b = (ag.tensor(np.ones(s, dtype=d)) for s, d in zip(shapes, dtypes))
    with pytest.raises(GradcliError) as info:
        a @ b
    assert info.value.message == message
