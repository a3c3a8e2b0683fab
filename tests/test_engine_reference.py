"""SPEC 3.7: the reference cases, through the Python API of the autograd engine.

Every expected value here is derived by hand from the formula of the case (and was
checked against PyTorch 2.13 by hand); grad_fn names are PyTorch's.  The second half
checks the PyTorch semantics the reference cases rely on: accumulation, retain_grad,
no_grad, detach, zero_grad, grad() leaving ``.grad`` alone, and a 100 000-node chain.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import gradcli.autograd as ag
from gradcli.autograd import functional as F
from gradcli.errors import AutogradError, GradcliError, ShapeError

EXACT = dict(rtol=0, atol=1e-12)

SCALAR_OUTPUT = "grad can be implicitly created only for scalar outputs"
NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"
SECOND_BACKWARD = "Trying to backward through the graph a second time"
RETAIN_HINT = "Specify retain_graph=True"
LEAF_FLAGS = "you can only change requires_grad flags of leaf variables"
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
MODIFIED = ("one of the variables needed for gradient computation has been modified by "
            "an inplace operation")


def var(data) -> ag.Tensor:
    """A bound variable: a leaf tensor that requires grad (SPEC 3.1)."""
    return ag.tensor(data, requires_grad=True)


def const(data) -> ag.Tensor:
    return ag.tensor(data)


def close(actual, expected):
    actual = actual.data if isinstance(actual, ag.Tensor) else actual
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=float), **EXACT)


# ---- 1 -------------------------------------------------------------------------------

def test_case1_polynomial_of_three_variables():
    x1, x2, x3 = var(2.0), var(3.0), var(1.0)
    out = (x1 * x2 + x3) ** 2
    close(out, 49.0)
    assert out.shape == ()
    assert out.grad_fn.name == "PowBackward0"
    assert not out.is_leaf and out.requires_grad
    out.backward()
    # d/dx1 = 2*(x1*x2+x3)*x2 = 2*7*3, d/dx2 = 2*7*x1, d/dx3 = 2*7
    close(x1.grad, 42.0)
    close(x2.grad, 28.0)
    close(x3.grad, 14.0)
    for leaf in (x1, x2, x3):
        assert leaf.is_leaf and leaf.grad_fn is None and leaf.requires_grad
    assert out.grad is None


def test_case1_inner_nodes_are_pytorchs():
    x1, x2, x3 = var(2.0), var(3.0), var(1.0)
    prod = x1 * x2
    s = prod + x3
    out = s ** 2
    assert prod.grad_fn.name == "MulBackward0"
    assert s.grad_fn.name == "AddBackward0"
    assert out.grad_fn.next_functions[0][0] is s.grad_fn
    assert s.grad_fn.next_functions[0][0] is prod.grad_fn
    assert s.grad_fn.next_functions[1][0].name == "AccumulateGrad"
    out.backward()
    assert prod.grad is None and s.grad is None


# ---- 2 -------------------------------------------------------------------------------

def test_case2_quadratic():
    x = var(2.0)
    out = x ** 2 + 3 * x + 1
    close(out, 11.0)
    assert out.grad_fn.name == "AddBackward0"
    out.backward()
    close(x.grad, 7.0)          # 2x + 3


@pytest.mark.parametrize("x0, first, second", [(2.0, 12.0, 12.0), (1.0, 3.0, 6.0)])
def test_case2_second_derivative_through_create_graph(x0, first, second):
    x = var(x0)
    y = x ** 3
    (dy,) = ag.grad(y, x, create_graph=True)
    close(dy, first)            # 3x^2
    assert dy.requires_grad and dy.grad_fn is not None
    (d2y,) = ag.grad(dy, x)
    close(d2y, second)          # 6x
    assert x.grad is None       # grad() never touches .grad


def test_case2_third_derivative():
    x = var(2.0)
    y = x ** 3
    (d1,) = ag.grad(y, x, create_graph=True)
    (d2,) = ag.grad(d1, x, create_graph=True)
    (d3,) = ag.grad(d2, x)
    close(d3, 6.0)


# ---- 3 -------------------------------------------------------------------------------

def test_case3_accumulation_over_two_backwards():
    x = var(2.0)
    y = x ** 2
    z = x
    y.backward()
    close(x.grad, 4.0)
    z.backward()                 # backward of a leaf adds 1 to its own grad
    close(x.grad, 5.0)


def test_case3_repeated_backward_with_retain_graph_accumulates():
    x = var(2.0)
    y = x ** 3
    y.backward(retain_graph=True)
    close(x.grad, 12.0)
    y.backward(retain_graph=True)
    close(x.grad, 24.0)


# ---- 4 -------------------------------------------------------------------------------

def test_case4_vector_output_needs_a_gradient():
    x = var([1.0, 2.0, 3.0])
    y = x ** 2
    with pytest.raises(AutogradError) as info:
        y.backward()
    assert str(info.value) == SCALAR_OUTPUT
    assert info.value.kind == "autograd"
    assert x.grad is None


@pytest.mark.parametrize("upstream", [[1.0, 1.0, 1.0], "ones"])
def test_case4_with_upstream(upstream):
    x = var([1.0, 2.0, 3.0])
    y = x ** 2
    gradient = F.ones_like(y) if upstream == "ones" else ag.tensor(upstream)
    y.backward(gradient)
    close(x.grad, [2.0, 4.0, 6.0])
    assert y.grad is None and y.grad_fn.name == "PowBackward0"


# ---- 5 -------------------------------------------------------------------------------

A5 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_case5_upstream_is_the_input_itself():
    a = var(A5)
    out = a * a
    out.backward(a.detach())
    close(a.grad, 2 * np.array(A5) * np.array(A5))
    close(a.grad, [[2, 8, 18], [32, 50, 72]])
    assert out.grad_fn.name == "MulBackward0"


def test_case5_upstream_ones():
    a = var(A5)
    out = a * a
    out.backward(F.ones_like(out))
    close(a.grad, [[2, 4, 6], [8, 10, 12]])


def test_case5_upstream_may_be_an_array():
    a = var(A5)
    (a * a).backward(np.ones((2, 3)))
    close(a.grad, [[2, 4, 6], [8, 10, 12]])


# ---- 6 -------------------------------------------------------------------------------

def _case6():
    x, y, z = var([1.0, 2.0]), var([3.0, 4.0]), var([5.0, 6.0])
    t = x + y
    loss = F.dot(t, z)
    assert t.grad_fn.name == "AddBackward0"
    assert loss.grad_fn.name == "DotBackward0"
    loss.backward(retain_graph=True)
    close(x.grad, [5.0, 6.0])       # z
    close(y.grad, [5.0, 6.0])       # z
    close(z.grad, [4.0, 6.0])       # t
    assert t.grad is None and not t.is_leaf
    return x, y, z, t


def test_case6_dot_of_a_sum():
    _case6()


def test_case6_then_backward_of_the_intermediate():
    x, y, z, t = _case6()
    t.backward(z)
    close(x.grad, [10.0, 12.0])
    close(y.grad, [10.0, 12.0])
    close(z.grad, [4.0, 6.0])       # unchanged: z is the gradient, not a graph input
    assert t.grad is None


def test_case6_then_backward_of_a_leaf():
    x, y, z, t = _case6()
    z.backward(t)
    close(z.grad, [8.0, 12.0])      # t added to z.grad
    close(x.grad, [5.0, 6.0])
    close(y.grad, [5.0, 6.0])


# ---- 7 -------------------------------------------------------------------------------

def test_case7_requires_grad_on_computed_constants():
    x = const(np.ones((2, 2)))
    x1 = 2 * x
    assert x1.is_leaf and not x1.requires_grad and x1.grad_fn is None
    x1.requires_grad_()
    w1 = 5 * x
    w1.requires_grad_()
    w2 = 6 * x
    w2.requires_grad_()
    y = x1 * w1 * w2
    L = 10 * x - y
    assert L.grad_fn.name == "SubBackward0"
    assert y.grad_fn.name == "MulBackward0"
    L.backward(F.ones_like(L))
    close(x1.grad, np.full((2, 2), -30.0))   # -w1*w2
    close(w1.grad, np.full((2, 2), -12.0))   # -x1*w2
    close(w2.grad, np.full((2, 2), -10.0))   # -x1*w1
    assert x.grad is None and not x.requires_grad
    for leaf in (x1, w1, w2):
        assert leaf.is_leaf and leaf.requires_grad


def test_case7_with_x_requiring_grad():
    x = var(np.ones((2, 2)))
    x1 = 2 * x
    w1 = 5 * x
    w2 = 6 * x
    y = x1 * w1 * w2
    L = 10 * x - y
    L.backward(F.ones_like(L))
    for t in (x1, w1, w2):
        assert not t.is_leaf and t.grad_fn.name == "MulBackward0"
        assert t.grad is None
    close(x.grad, np.full((2, 2), 10.0 - 180.0))   # d/dx (10x - 60x^3) at 1
    assert x1.requires_grad_() is x1 and not x1.is_leaf   # True on a non-leaf: no-op
    with pytest.raises(AutogradError) as info:
        x1.requires_grad_(False)
    assert str(info.value).startswith(LEAF_FLAGS)
    assert info.value.kind == "autograd"


# ---- 8 -------------------------------------------------------------------------------

def test_case8_no_grad_part_is_a_constant():
    x = var(1.0)
    y1 = x ** 2
    with ag.no_grad():
        y2 = x ** 3
    assert not y2.requires_grad and y2.is_leaf and y2.grad_fn is None
    close(y2, 1.0)
    y3 = y1 + y2
    assert y3.grad_fn.name == "AddBackward0"
    y3.backward()
    close(x.grad, 2.0)
    with pytest.raises(AutogradError) as info:
        y2.backward()
    assert str(info.value) == NO_GRAD_FN
    close(x.grad, 2.0)


# ---- 9 -------------------------------------------------------------------------------

def test_case9_second_backward_is_an_error():
    x = var(2.0)
    y = x ** 3
    y.backward()
    close(x.grad, 12.0)
    with pytest.raises(AutogradError) as info:
        y.backward()
    msg = str(info.value)
    assert msg.startswith(SECOND_BACKWARD) and RETAIN_HINT in msg
    assert info.value.kind == "autograd"
    close(x.grad, 12.0)          # nothing was added by the failed backward


def test_case9_with_retain_graph_first():
    x = var(2.0)
    y = x ** 3
    y.backward(retain_graph=True)
    close(x.grad, 12.0)
    y.backward()
    close(x.grad, 24.0)
    with pytest.raises(AutogradError, match=SECOND_BACKWARD):
        y.backward()             # the second one freed the graph


# ---- 10 ------------------------------------------------------------------------------

def test_case10_inplace_on_a_saved_output():
    a = var([0.5, 1.0])
    b = F.exp(a)
    assert b.grad_fn.name == "ExpBackward0"
    b += 1
    assert b.grad_fn.name == "AddBackward0"
    close(b, np.exp([0.5, 1.0]) + 1)
    with pytest.raises(AutogradError) as info:
        F.sum(b).backward()
    assert str(info.value).startswith(MODIFIED)
    assert "is at version 1; expected version 0 instead" in str(info.value)
    assert a.grad is None


# ---- semantics the cases rely on -------------------------------------------------------

def test_leaf_status_of_results():
    x = var([1.0, 2.0])
    c = const([3.0, 4.0])
    assert x.is_leaf and x.requires_grad and x.grad_fn is None and x.grad is None
    assert c.is_leaf and not c.requires_grad
    r = c * 2
    assert r.is_leaf and not r.requires_grad and r.grad_fn is None
    s = x * c
    assert not s.is_leaf and s.requires_grad and s.grad_fn.name == "MulBackward0"


def test_accumulation_across_different_graphs():
    x = var([1.0, -2.0])
    F.sum(x * x).backward()
    F.sum(3 * x).backward()
    close(x.grad, [2.0 + 3.0, -4.0 + 3.0])
    F.sum(F.sin(x)).backward()
    close(x.grad, np.array([5.0, -1.0]) + np.cos([1.0, -2.0]))


def test_accumulation_does_not_alias_the_given_gradient():
    x = var([1.0, 2.0])
    g = np.array([1.0, 1.0])
    (x * 1.0).backward(g)
    (x * 1.0).backward(g)
    close(x.grad, [2.0, 2.0])
    close(g, [1.0, 1.0])


def test_retain_grad_on_non_leaves():
    x = var([1.0, 2.0])
    y = x * x
    y.retain_grad()
    assert y.retains_grad
    z = F.sum(y * 3)
    z.backward(retain_graph=True)
    close(y.grad, [3.0, 3.0])
    close(x.grad, [6.0, 12.0])
    z.backward()
    close(y.grad, [6.0, 6.0])        # retained grads accumulate too
    close(x.grad, [12.0, 24.0])
    assert z.grad is None


def test_retain_grad_survives_an_inplace_update():
    x = var(2.0)
    y = x * 3
    y.retain_grad()
    y += 1                            # y now comes from AddBackward0
    (y * y).backward()
    close(y.grad, 2 * 7.0)
    close(x.grad, 2 * 7.0 * 3)


def test_retain_grad_on_a_constant_is_an_error():
    with pytest.raises(AutogradError, match="can't retain_grad on Tensor that has "
                                             "requires_grad=False"):
        const(1.0).retain_grad()


def test_no_grad_context_and_decorator():
    x = var([1.0, 2.0])
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2
        with ag.enable_grad():
            z = x * 2
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and z.grad_fn.name == "MulBackward0"

    @ag.no_grad()
    def f(t):
        return F.exp(t)

    assert not f(x).requires_grad
    assert ag.is_grad_enabled()


def test_no_grad_restores_the_mode_after_an_error():
    with pytest.raises(ValueError):
        with ag.no_grad():
            raise ValueError("boom")
    assert ag.is_grad_enabled()


def test_inplace_on_a_leaf_is_allowed_under_no_grad():
    x = var([1.0, 2.0])
    with ag.no_grad():
        x += 1
    assert x.is_leaf and x.requires_grad
    close(x, [2.0, 3.0])
    F.sum(x * x).backward()
    close(x.grad, [4.0, 6.0])


def test_detach():
    x = var([1.0, 2.0])
    y = x * x
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    close(d, [1.0, 4.0])
    out = F.sum(y * d)              # d is a constant: d/dx = 2x * d
    out.backward()
    close(x.grad, [2.0 * 1.0 * 1.0, 2.0 * 2.0 * 4.0])
    dx = F.detach(x)
    assert dx.is_leaf and not dx.requires_grad


def test_zero_grad():
    x = var([1.0, 2.0])
    x.zero_grad()                    # like x.grad.zero_(), also when grad is None
    close(x.grad, [0.0, 0.0])
    F.sum(x * x).backward()
    close(x.grad, [2.0, 4.0])
    x.zero_grad()
    close(x.grad, [0.0, 0.0])
    F.sum(x * x).backward()
    close(x.grad, [2.0, 4.0])


def test_grad_does_not_touch_dot_grad():
    x = var([1.0, 2.0])
    y = var(3.0)
    out = F.sum(x * x) * y
    gx, gy = ag.grad(out, [x, y], retain_graph=True)
    close(gx, [6.0, 12.0])
    close(gy, 5.0)
    assert x.grad is None and y.grad is None
    out.backward()
    close(x.grad, [6.0, 12.0])
    gx2, = ag.grad(F.sum(x * x), x)
    close(gx2, [2.0, 4.0])
    close(x.grad, [6.0, 12.0])       # still the backward's value


def test_grad_with_grad_outputs_and_several_outputs():
    x = var([1.0, 2.0])
    a = x * x
    b = F.sum(x) * 1.0
    ga, = ag.grad([a, b], x, grad_outputs=[ag.tensor([1.0, 10.0]), None])
    close(ga, [2.0 * 1.0 * 1.0 + 1.0, 2.0 * 2.0 * 10.0 + 1.0])


def test_backward_with_create_graph_makes_grad_differentiable():
    x = var(2.0)
    (x ** 3).backward(create_graph=True)
    close(x.grad, 12.0)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.backward()
    close(x.grad, 12.0)              # d(3x^2)/dx = 6x


def test_chain_of_100000_nodes_with_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000      # nothing raised it for us
    x = var(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0000001
    assert y.grad_fn.name == "MulBackward0"
    y.backward()
    # each step multiplies the gradient by the same constant
    np.testing.assert_allclose(x.grad.data, 1.0000001 ** 100_000, rtol=1e-9)


def test_chain_of_100000_additions_reusing_a_leaf():
    x = var(1.0)
    y = x
    for _ in range(100_000):
        y = y + x
    y.backward()
    close(x.grad, 100_001.0)
    close(y, 100_001.0)


def test_errors_are_gradcli_errors():
    assert issubclass(AutogradError, GradcliError)
    assert issubclass(ShapeError, GradcliError)
