"""What tests/test_ops_torch.py cannot express for the ops of generate_elem.py: the
double-backward graphs PyTorch records (elem.json's "double", written by torch),
PyTorch's errors for bad arguments, and values at the edges (no degrees of freedom,
zeros in cumprod, ties)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import gradcli
import gradcli.autograd as ag
from gradcli.autograd import functional as F
from gradcli.autograd.ops import gamma
from gradcli.errors import GradcliError
from test_ops_torch import array, graph

DATA = json.loads((Path(__file__).parent / "data" / "ops" / "elem.json").read_text())
DOUBLE = DATA["double"]


@pytest.mark.parametrize("case", DOUBLE, ids=[f"{c['fn']}/{c['kwargs']}" for c in DOUBLE])
def test_double_backward_records_pytorchs_graph(case):
    xs = [ag.tensor(array(a), requires_grad=a["dtype"].startswith("float"))
          for a in case["args"]]
    out = F.NAMESPACE[case["fn"]](*xs, **case["kwargs"])
    upstream = ag.tensor(array(case["upstream"]), requires_grad=True)
    grads = ag.grad(out, [x for x in xs if x.requires_grad], grad_outputs=upstream,
                    create_graph=True)
    for got, want, tree in zip(grads, case["grads"], case["graphs"]):
        np.testing.assert_allclose(got.data, array(want), rtol=1e-12, atol=1e-13)
        assert graph(got.grad_fn) == tree


def test_logcumsumexp_third_derivative_is_pytorchs_nan():
    """PyTorch's formula takes log|g| with the lowest float where g has the other sign:
    its second derivative is right, its third NaN (torch 2.13 at x = 1: g 0.8207,
    h 1.0185, then nan) -- and so here."""
    x = ag.tensor(1.0, requires_grad=True)
    u = 0.3 * x ** 3 + F.sin(x)
    y = F.sum(F.logcumsumexp(F.stack([u, u * u, F.sin(u)]), 0) *
              ag.tensor([0.3, -0.2, 0.45]))
    g, = ag.grad(y, [x], create_graph=True)
    h, = ag.grad(g, [x], create_graph=True)
    with np.errstate(all="ignore"):
        k, = ag.grad(h, [x])
    assert round(g.item(), 4) == 0.8207 and round(h.item(), 4) == 1.0185
    assert np.isnan(k.item())


@pytest.mark.parametrize("case", DATA["float32"],
                         ids=[f"{c['fn']}/{c['kwargs']}" for c in DATA["float32"]])
def test_float32_accumulates_as_pytorch_bit_for_bit(case):
    out = F.NAMESPACE[case["fn"]](ag.tensor(array(case["args"][0])), **case["kwargs"])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, array(case["value"]))


def _fails(call, message: str):
    with pytest.raises(GradcliError) as info:
        call()
    assert message in str(info.value)


X = ag.tensor([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]], requires_grad=True)


@pytest.mark.parametrize("call, message", [
    (lambda: F.cumsum(X, 2), "Dimension out of range (expected to be in range of [-2, 1], "
                             "but got 2)"),
    (lambda: F.cumprod(X, -3), "Dimension out of range"),
    (lambda: F.logcumsumexp(ag.tensor([1, 2]), 0),
     "\"logcumsumexp_out_cpu\" not implemented for 'Long'"),
    (lambda: F.var(ag.tensor([1, 2])),
     "std and var only support floating point and complex dtypes"),
    (lambda: F.std(X, 0.5), "var() received an invalid combination of arguments"
     .replace("var", "std")),
    (lambda: F.var(X, correction=1, unbiased=True),
     "var() received an invalid combination of arguments"),
    (lambda: F.amax(X, 3), "Dimension out of range (expected to be in range of [-2, 1], "
                           "but got 3)"),
    (lambda: F.amax(F.zeros(0, 3)), "amax(): Expected reduction dim to be specified for "
                                     "input.numel() == 0."),
    (lambda: F.amin(F.zeros(0, 3), 0), "amin(): Expected reduction dim 0 to have non-zero "
                                        "size."),
    (lambda: F.amax(X, (0, 0)), "appears multiple times in the list of dims"),
    (lambda: F.argmax(F.zeros(0)), "argmax(): Expected reduction dim to be specified for "
                                    "input.numel() == 0."),
    (lambda: F.argmin(ag.tensor([True, False])), "argmin(): does not support bool input"),
])
def test_bad_arguments_are_pytorchs_errors(call, message):
    _fails(call, message)


@pytest.mark.parametrize("program", [
    "cumsum(x).sum()", "cumsum(x, 3).sum()", "var(x, 'a')", "var(x, [0, 'a'])",
    "std(x, keepdim=2)", "amax(x, [0, 0])", "argmax(x, 5)", "logcumsumexp(x > 1, 0).sum()",
    "var(x, correction='a')", "cumprod(x, dim=None).sum()",
])
def test_bad_calls_in_programs_are_clear_errors(program):
    with pytest.raises(GradcliError) as info:
        gradcli.evaluate(program, {"x": [[1.0, 2.0], [3.0, 4.0]]})
    assert "internal" not in str(info.value).lower()


def test_no_degrees_of_freedom_give_pytorchs_nan_inf_and_warning():
    one = ag.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match=r"var\(\): degrees of freedom is <= 0"):
        out = F.var(one)
    assert np.isnan(out.item())
    two = ag.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert F.var(two, correction=2).item() == np.inf
        # the whole tensor: inf (NaN where an element equals the mean); along a dim:
        # 2/0 * (x - mean)
        assert ag.grad(F.var(two, correction=2), [two])[0].tolist() == [np.inf, np.inf]
        assert ag.grad(F.var(two, 0, correction=2), [two])[0].tolist() == [-np.inf, np.inf]
        assert ag.grad(F.var(two, 0, correction=3), [two])[0].tolist() == [1.0, -1.0]
        assert np.isnan(ag.grad(F.std(two, 0, correction=2), [two])[0].data).all()
        assert ag.grad(F.std(two, 0, correction=3), [two])[0].tolist() == [0.0, 0.0]
        flat = ag.tensor([1.0, 1.0], requires_grad=True)
        assert np.isnan(ag.grad(F.var(flat, correction=2), [flat])[0].data).all()


def test_std_of_equal_elements_has_gradient_zero():
    x = ag.tensor([2.0, 2.0, 2.0], requires_grad=True)
    assert F.std(x).item() == 0.0
    assert ag.grad(F.std(x), [x])[0].tolist() == [0.0, 0.0, 0.0]


def test_var_overloads_read_as_pytorchs():
    x = ag.tensor([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])
    np.testing.assert_allclose(F.var(x, False).data, np.var(x.data))
    np.testing.assert_allclose(F.var(x, 0, False).data, np.var(x.data, axis=0))
    np.testing.assert_allclose(F.std(x, [0, 1], True, True).data,
                               np.std(x.data, ddof=1, keepdims=True))
    np.testing.assert_allclose(x.var(dim=1, correction=0.5).data,
                               np.sum((x.data - x.data.mean(1, keepdims=True)) ** 2, 1) / 2.5)


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, -1.5], [0.0, 1.5, 0.0, 2.0],
                                    [0.0, 0.0, 2.0]])
def test_cumprod_with_zeros_second_derivative_matches_differences(values):
    """Exact at the zeros (the products of the other elements), to the second order."""
    x0 = np.asarray(values)
    u = np.linspace(0.5, -0.7, x0.size)
    v = np.linspace(-0.3, 0.9, x0.size)

    def first(a, create_graph=False):
        x = ag.tensor(a, requires_grad=True)
        return x, ag.grad(F.cumprod(x, 0), [x], grad_outputs=ag.tensor(u),
                          create_graph=create_graph)[0]
    x, g = first(x0, True)
    hvp = ag.grad(F.sum(g * ag.tensor(v)), [x])[0].data
    h = 1e-6
    want = [(np.sum((first(x0 + h * e)[1].data - first(x0 - h * e)[1].data) * v)) / (2 * h)
            for e in np.eye(x0.size)]
    np.testing.assert_allclose(hvp, want, rtol=1e-6, atol=1e-8)
    grad = first(x0)[1].data
    exact = [sum(u[j] * np.prod([x0[i] for i in range(j + 1) if i != k])
                 for j in range(k, x0.size)) for k in range(x0.size)]
    np.testing.assert_allclose(grad, exact, rtol=1e-15, atol=0)


def test_amax_splits_ties_evenly_and_argmax_takes_the_first():
    x = ag.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    assert ag.grad(F.sum(F.amax(x, 1)), [x])[0].tolist() == [[0, 0.5, 0.5], [1 / 3] * 3]
    assert F.argmax(x, 1).tolist() == [1, 0] and F.argmax(x).dtype == np.int64
    assert F.argmin(x, keepdim=True).shape == (1, 1)


def test_method_forms():
    x = ag.tensor([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])
    for name, args in [("cumsum", (0,)), ("cumprod", (1,)), ("logcumsumexp", (1,)),
                       ("var", ()), ("std", (1,)), ("amax", ()), ("amin", (0,)),
                       ("argmax", ()), ("argmin", (1,))]:
        np.testing.assert_array_equal(getattr(x, name)(*args).data,
                                      F.NAMESPACE[name](x, *args).data)


# ---- rounding and remainders ------------------------------------------------------------

I = ag.tensor([3, -7, 4])
B = ag.tensor([True, False])


@pytest.mark.parametrize("call, message, python_type", [
    (lambda: F.floor(B), "\"floor_vml_cpu\" not implemented for 'Bool'", "NotImplementedError"),
    (lambda: F.ceil(B), "\"ceil_vml_cpu\" not implemented for 'Bool'", "NotImplementedError"),
    (lambda: F.round(B), "\"round_vml_cpu\" not implemented for 'Bool'", "NotImplementedError"),
    (lambda: F.trunc(B), "\"trunc_vml_cpu\" not implemented for 'Bool'", "NotImplementedError"),
    (lambda: F.frac(I), "\"frac_cpu\" not implemented for 'Long'", "NotImplementedError"),
    (lambda: F.round(I, decimals=1), "\"round_cpu\" not implemented for 'Long'",
     "NotImplementedError"),
    (lambda: F.fmod(B, B), "\"fmod_cpu\" not implemented for 'Bool'", "NotImplementedError"),
    (lambda: F.remainder(B, B), "\"remainder_cpu\" not implemented for 'Bool'",
     "NotImplementedError"),
    (lambda: F.fmod(I, ag.tensor([0, 1, 2])), "ZeroDivisionError", "RuntimeError"),
    (lambda: F.remainder(I, 0), "ZeroDivisionError", "RuntimeError"),
    (lambda: F.fmod(2, I), "fmod() received an invalid combination of arguments",
     "TypeError"),
    (lambda: F.fmod(ag.tensor([1.0, 2.0]), ag.tensor([1.0, 2.0, 3.0])),
     "must match the size of tensor b (3) at non-singleton dimension 0", None),
])
def test_rounding_errors_are_pytorchs(call, message, python_type):
    with pytest.raises(GradcliError) as info:
        call()
    assert message in str(info.value)
    if python_type is not None:
        assert info.value.python_type == python_type


def test_rounding_keeps_integers_and_rounds_half_to_even():
    assert F.floor(I).dtype == np.int64 and F.floor(I).tolist() == [3, -7, 4]
    assert F.round(ag.tensor([0.5, 1.5, 2.5, -0.5])).tolist() == [0.0, 2.0, 2.0, -0.0]
    # PyTorch's scaling: nearbyint(x * 10**d) / 10**d, and for d < 0 by division
    assert F.round(ag.tensor([0.15, 1.25, 2.35, -0.45]), decimals=1).tolist() == \
        [0.2, 1.2, 2.4, -0.4]
    assert F.round(ag.tensor([1234.5678]), decimals=-2).tolist() == [1200.0]
    assert F.round(ag.tensor(2.5, requires_grad=True), decimals=0).grad_fn.name == \
        "RoundBackward1"


def test_remainder_and_fmod_values_at_the_edges_are_pytorchs():
    a, b = ag.tensor([5.0, -5.0]), ag.tensor([-3.0, 3.0])
    assert F.remainder(a, b).tolist() == [-1.0, 1.0]
    assert F.fmod(a, b).tolist() == [2.0, -2.0]
    assert np.signbit(F.remainder(ag.tensor([-0.0, 3.0]), 1.5).data).tolist() == [True, False]
    assert F.remainder(ag.tensor([1e-20, -1e-20]), 3.0).tolist() == [1e-20, 3.0]
    assert np.isnan(F.fmod(ag.tensor(np.inf), 3.0).item())
    assert F.remainder(ag.tensor(-3.0), np.inf).item() == np.inf
    assert F.fmod(ag.tensor(-3.0), np.inf).item() == -3.0
    assert np.isnan(F.fmod(ag.tensor([2.0]), 0.0).item())
    assert F.fmod(I, 2.5).dtype.kind == "f"          # the default float dtype
    assert F.remainder(I, -2).tolist() == [-1, -1, 0]


def test_remainder_gradients_are_one_and_minus_the_floor_quotient():
    a = ag.tensor([2.5, -3.7, 4.0], requires_grad=True)
    b = ag.tensor([1.5, -2.0, 0.75], requires_grad=True)
    ga, gb = ag.grad(F.sum(F.remainder(a, b)), [a, b])
    assert ga.tolist() == [1.0, 1.0, 1.0]
    assert gb.tolist() == (-np.floor_divide(a.data, b.data)).tolist()
    ga, gb = ag.grad(F.sum(F.fmod(a, b)), [a, b])
    assert gb.tolist() == (-np.trunc(a.data / b.data)).tolist()


@pytest.mark.parametrize("program", [
    "floor(x > 1)", "round(x, decimals=0.5)", "round(x, decimals='a')", "fmod(x, 'a')",
    "remainder(x)", "frac(x, 2)", "fmod(x, [1, 2, 3])",
])
def test_bad_rounding_calls_in_programs_are_clear_errors(program):
    with pytest.raises(GradcliError) as info:
        gradcli.evaluate(program, {"x": [[1.0, 2.0], [3.0, 4.0]]})
    assert "internal" not in str(info.value).lower()


# ---- special functions --------------------------------------------------------------------

def _ulps(got, exact) -> float:
    exact = float(exact)
    return abs(got - exact) / np.spacing(abs(exact)) if exact else abs(got)


def test_lgamma_and_erfinv_are_accurate_to_a_few_ulps_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(5)
    with mpmath.workprec(200):
        for xs, bound in [(rng.uniform(0.01, 10, 400), 6), (1 + rng.uniform(-1e-3, 1e-3, 50), 4),
                          (2 + rng.uniform(-1e-3, 1e-3, 50), 4), (rng.uniform(10, 1e5, 50), 4),
                          (10 ** rng.uniform(-300, -2, 30), 2)]:
            got = F.lgamma(ag.tensor(xs)).data
            assert max(_ulps(g, mpmath.loggamma(mpmath.mpf(x))) for g, x in zip(got, xs)) <= bound
        # x < 0: the reflection formula (an absolute error next to log|Gamma|'s zeros)
        xs = rng.uniform(-10, 0, 200)
        got = F.lgamma(ag.tensor(xs)).data
        exact = np.array([float(mpmath.log(abs(mpmath.gamma(mpmath.mpf(x))))) for x in xs])
        np.testing.assert_allclose(got, exact, rtol=1e-13, atol=1e-14)
        for ys in (rng.uniform(-0.999, 0.999, 400), 1 - 10 ** rng.uniform(-15, -1, 60)):
            got = F.erfinv(ag.tensor(ys)).data
            assert max(_ulps(g, mpmath.erfinv(mpmath.mpf(y))) for g, y in zip(got, ys)) <= 2


def test_digamma_and_polygamma_follow_pytorchs_algorithms():
    """PyTorch's digamma (a recurrence to 10, then its asymptotic series: a few ulps,
    more next to its root 1.4616...), trigamma (~1e-9 relative) and zeta-based
    polygamma(n >= 2), against mpmath."""
    mpmath = pytest.importorskip("mpmath")
    xs = np.array([0.3, 0.7, 1.0, 2.5, 5.0, 9.7, 10.0, 31.0, -0.5, -2.3])
    with mpmath.workprec(200):
        for n, rtol in ((0, 1e-14), (1, 1e-9), (2, 1e-14), (3, 1e-14)):
            exact = [float(mpmath.polygamma(n, mpmath.mpf(x))) for x in xs]
            got = F.digamma(ag.tensor(xs)).data if n == 0 else gamma.polygamma(xs, n)
            np.testing.assert_allclose(got, exact, rtol=rtol)


def test_special_values_at_poles_and_edges_are_pytorchs():
    lg = F.lgamma(ag.tensor([0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 1.0, 2.0])).data
    assert lg[:5].tolist() == [np.inf] * 5 and np.isnan(lg[5]) and lg[6:].tolist() == [0, 0]
    dg = F.digamma(ag.tensor([0.0, -0.0, -1.0, np.inf, -np.inf])).data
    assert dg[0] == -np.inf and dg[1] == np.inf and np.isnan(dg[2]) and dg[3] == np.inf
    assert np.isnan(dg[4])
    ei = F.erfinv(ag.tensor([1.0, -1.0, 1.5, -0.0])).data
    assert ei[0] == np.inf and ei[1] == -np.inf and np.isnan(ei[2])
    assert ei[3] == 0 and np.signbit(ei[3])
    assert F.sinc(ag.tensor([0.0, 0.5])).tolist() == [1.0, 2 / np.pi]
    assert F.lgamma(ag.tensor([1, 2, 3])).dtype == np.float64        # integers: floats


def test_sinc_derivatives_at_zero_are_pytorchs():
    """sinc'(0) = 0; its second derivative at 0 is NaN in PyTorch (0/0 inside the
    where it masks), and so here."""
    x = ag.tensor([0.0, 0.5], requires_grad=True)
    g, = ag.grad(F.sum(F.sinc(x)), [x], create_graph=True)
    assert g.data[0] == 0.0
    with np.errstate(invalid="ignore"):
        h, = ag.grad(F.sum(g), [x])
    assert np.isnan(h.data[0]) and np.isfinite(h.data[1])


def test_lgamma_third_derivative_records_polygamma():
    x = ag.tensor([0.7, 3.2], requires_grad=True)
    g1, = ag.grad(F.sum(F.lgamma(x)), [x], create_graph=True)
    g2, = ag.grad(F.sum(g1), [x], create_graph=True)
    g3, = ag.grad(F.sum(g2), [x], create_graph=True)
    assert g1.grad_fn.name == "MulBackward0" and g3.grad_fn.name == "MulBackward0"
    names = set()
    stack = [g3.grad_fn]
    while stack:
        node = stack.pop()
        names.add(node.name)
        stack.extend(n for n, _ in node.next_functions if n is not None)
    assert "PolygammaBackward0" in names
    mpmath = pytest.importorskip("mpmath")
    np.testing.assert_allclose(g3.data, [float(mpmath.polygamma(2, v)) for v in x.data],
                               rtol=1e-13)


# ---- masked_fill -----------------------------------------------------------------------

M = ag.tensor([True, False, True])


@pytest.mark.parametrize("call, message", [
    (lambda: F.masked_fill(X, ag.tensor([1.0, 0.0, 1.0]), 0.5),
     "masked_fill_ only supports boolean masks, but got mask with dtype double"),
    (lambda: F.masked_fill(X, ag.tensor([1, 0, 1]), 0.5),
     "masked_fill_ only supports boolean masks, but got mask with dtype long int"),
    (lambda: X.masked_fill(M, ag.tensor([1.0, 2.0])),
     "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 "
     "dimension(s)."),
    (lambda: X.masked_fill(ag.tensor([True, False]), 0.5),
     "the size of tensor a (3) must match the size of tensor b (2) at non-singleton "
     "dimension 1"),
    (lambda: I.masked_fill(M, float("nan")),
     "value cannot be converted to type int64_t without overflow"),
    (lambda: X.masked_fill(M, "a"), "masked_fill() received an invalid combination"),
])
def test_masked_fill_errors_are_pytorchs(call, message):
    _fails(call, message)


def test_masked_fill_keeps_the_input_dtype_and_broadcasts_with_the_mask():
    assert I.masked_fill(M, 2.5).tolist() == [2, -7, 2] and I.masked_fill(M, 2.5).dtype == \
        np.int64
    assert I.masked_fill(M, ag.tensor(7.9)).tolist() == [7, -7, 7]
    assert B.masked_fill(ag.tensor([True, False]), 0).tolist() == [False, False]
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = x.masked_fill(ag.tensor([[True], [False]]), -1.0)
    assert out.shape == (2, 3) and out.grad_fn.name == "MaskedFillBackward0"
    assert ag.grad(F.sum(out), [x])[0].tolist() == [1.0, 1.0, 1.0]
    v = ag.tensor(2.0)
    assert x.masked_fill(M, v).grad_fn.name == "MaskedFillBackward1"   # by the type


def test_masked_fill_value_gradient_counts_the_mask():
    x = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    v = ag.tensor(2.5, requires_grad=True)
    gx, gv = ag.grad(F.sum(F.masked_fill(x, M, v) * x), [x, v])
    assert gv.item() == 1 + 3 + 4 + 6
    assert gx.tolist() == [[2.5, 4.0, 2.5], [2.5, 10.0, 2.5]]


# ---- operators and in-place forms ------------------------------------------------------

def test_mod_operator_and_inplace_forms():
    x = ag.tensor([2.5, -1.25, 3.7], requires_grad=True)
    assert (x % 1.5).grad_fn.name == "RemainderBackward0"
    np.testing.assert_array_equal((x % 1.5).data, F.remainder(x, 1.5).data)
    np.testing.assert_allclose((7.0 % x.detach()).data, [2.0, -0.5, 3.3], rtol=1e-15)
    swapped = 7.0 % x                  # PyTorch has no derivative for remainder(NUMBER, t)
    assert swapped.grad_fn.name == "NotImplemented"
    with pytest.raises(GradcliError, match="derivative for aten::remainder is not "
                                           "implemented"):
        ag.grad(F.sum(swapped), [x])
    u = x * 2
    u.masked_fill_(ag.tensor([True, False, False]), 5.0)
    u %= 1.5
    assert u.grad_fn.name == "RemainderBackward0"
    assert ag.grad(F.sum(u), [x])[0].tolist() == [0.0, 2.0, 2.0]
    with pytest.raises(GradcliError, match="a leaf Variable that requires grad"):
        x.masked_fill_(ag.tensor([True, False, False]), 1.0)


def test_round_of_a_tensor_in_a_script_is_pytorchs_type_error():
    script = "import torch\nx = torch.tensor([1.5])\nround(x)\n"
    from gradcli.api import run
    with pytest.raises(GradcliError) as info:
        run(script)
    assert "type Tensor doesn't define __round__ method" in str(info.value)


def test_edges_of_the_arguments_are_pytorchs():
    x = ag.tensor([1.0, 2.0, 3.5], requires_grad=True)
    assert np.isnan(F.round(x, decimals=400).data).all()        # x * inf / inf
    assert np.isnan(F.round(x, decimals=-400).data).all()       # 0 * inf
    _fails(lambda: F.round(x, decimals=10 ** 20), "Overflow when unpacking long long")
    # an empty dim list reduces everything (the value; PyTorch's gradient there is inf)
    assert F.var(x, []).item() == F.var(x).item()
    assert F.amax(x, []).item() == 3.5
    result = gradcli.evaluate("round(x, decimals=10**18)", {"x": [1.0, 2.0]},
                              upstream=np.ones(2))
    assert np.isnan(result.value).all()
