"""SPEC 3.3-3.6 errors, shape errors, and the values at kinks of SPEC 3.2.

Every message and every kink value below was checked by hand against PyTorch 2.13
(float64): where gradcli's text is PyTorch's, the test compares it exactly; where
SPEC words it differently it follows SPEC.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import gradcli.autograd as ag
from gradcli.autograd import functional as F
from gradcli.errors import AutogradError, GradcliError, InputError, ShapeError

EXACT = dict(rtol=0, atol=1e-12)

SCALAR_OUTPUT = "grad can be implicitly created only for scalar outputs"
NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"
SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph "
    "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
    "you need to backward through the graph a second time or if you need to access saved "
    "tensors after calling backward.")
UNUSED = ("The differentiated Tensor at index 0 appears to not have been used in the graph. "
          "Set allow_unused=True if this is the desired behavior.")
LEAF_FLAGS = "you can only change requires_grad flags of leaf variables."
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
MODIFIED = ("one of the variables needed for gradient computation has been modified by "
            "an inplace operation")


def var(data) -> ag.Tensor:
    return ag.tensor(data, requires_grad=True)


def close(actual, expected):
    actual = actual.data if isinstance(actual, ag.Tensor) else actual
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=float), **EXACT)


def grads(fn, *values, upstream=None):
    """d(sum(fn(*xs) * upstream))/dx for each x, through ag.grad."""
    xs = [var(v) for v in values]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # inf/nan at poles are expected
        out = fn(*xs)
        if upstream is None and out.ndim:
            upstream = np.ones(out.shape)
        return [g.data for g in ag.grad(out, xs, grad_outputs=upstream)]


# ---- 3.3 backward -----------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3,), (2, 2), (1, 2)])
def test_non_scalar_output_needs_a_gradient(shape):
    x = var(np.ones(shape))
    with pytest.raises(AutogradError) as info:
        (x * 2).backward()
    assert str(info.value) == SCALAR_OUTPUT
    assert info.value.kind == "autograd"
    with pytest.raises(AutogradError, match=SCALAR_OUTPUT):
        ag.grad(x * 2, x)


@pytest.mark.parametrize("shape", [(1,), (1, 1)])
def test_one_element_output_needs_no_gradient(shape):
    x = var(np.full(shape, 3.0))
    (x * x).backward()               # numel 1: the gradient defaults to 1, as in PyTorch
    close(x.grad, np.full(shape, 6.0))


@pytest.mark.parametrize("given, wanted", [((2,), (3,)), ((1, 3), (3,)), ((), (3,)),
                                           ((3,), ())])
def test_gradient_of_the_wrong_shape_names_both_shapes(given, wanted):
    x = var(np.ones(wanted))
    y = x * 2
    with pytest.raises(ShapeError) as info:
        y.backward(np.ones(given))
    msg = str(info.value)
    size = lambda shape: f"torch.Size([{', '.join(map(str, shape))}])"  # noqa: E731
    assert msg == (f"Mismatch in shape: grad_output[0] has a shape of {size(given)} and "
                   f"output[0] has a shape of {size(wanted)}.")
    assert info.value.kind == "shape"
    assert x.grad is None


def test_output_that_does_not_require_grad():
    c = ag.tensor([1.0, 2.0])
    with pytest.raises(AutogradError) as info:
        F.sum(c * 2).backward()
    assert str(info.value) == NO_GRAD_FN
    with pytest.raises(AutogradError, match=NO_GRAD_FN):
        c.backward(np.ones(2))
    with ag.no_grad():
        y = F.sum(var([1.0]) * 2)
    with pytest.raises(AutogradError, match=NO_GRAD_FN):
        y.backward()


def test_the_index_of_the_output_that_does_not_require_grad():
    x = var(1.0)
    with pytest.raises(AutogradError) as info:
        ag.backward([x * 2, ag.tensor(1.0)])
    assert str(info.value) == "element 1 of tensors does not require grad and does not " \
                              "have a grad_fn"


def test_second_backward_through_freed_saved_values():
    x = var(2.0)
    y = F.exp(x) * x
    y.backward()
    with pytest.raises(AutogradError) as info:
        y.backward()
    assert str(info.value) == SECOND_BACKWARD
    assert info.value.kind == "autograd"
    # grad() frees the graph too
    z = F.sin(x)
    ag.grad(z, x)
    with pytest.raises(AutogradError, match="a second time"):
        ag.grad(z, x)


@pytest.mark.parametrize("build, expected", [
    (lambda x: x + x, [4.0, 4.0]),                    # AddBackward0 only
    (lambda x: F.sum(x + 1.0), [2.0, 2.0]),
    (lambda x: F.sum(2.0 - x), [-2.0, -2.0]),         # RsubBackward1 saves nothing
    (lambda x: F.sum(-F.reshape(x, (2, 1))), [-2.0, -2.0]),
    (lambda x: F.sum(F.stack([x, x])[0]), [2.0, 2.0]),
    (lambda x: F.mean(x), [1.0, 1.0]),
])
def test_a_graph_that_saved_nothing_runs_again(build, expected):
    """As in PyTorch: only a node that needs a freed saved value raises."""
    x = var([1.0, 2.0])
    y = build(x)
    g = None if y.ndim == 0 else np.ones(y.shape)
    y.backward(g)
    y.backward(g)
    close(x.grad, expected)


@pytest.mark.parametrize("build", [
    lambda x: F.sum(x * 2.0), lambda x: F.sum(x / 2.0), lambda x: F.sum(2.0 / x),
    lambda x: F.sum(x ** 2), lambda x: F.dot(x, x), lambda x: F.sum(F.relu(x)),
    lambda x: F.sum(2.0 ** x), lambda x: F.norm(x),
])
def test_nodes_with_saved_values_raise_on_the_second_backward(build):
    x = var([1.0, 2.0])
    y = build(x)
    y.backward()
    with pytest.raises(AutogradError, match="Specify retain_graph=True"):
        y.backward()


def test_retain_graph_then_free():
    x = var(3.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward(retain_graph=False)
    close(x.grad, 12.0)
    with pytest.raises(AutogradError, match="a second time"):
        y.backward()


def test_create_graph_implies_retain_graph():
    x = var(3.0)
    y = x * x * x
    ag.grad(y, x, create_graph=True)
    y.backward()                     # still there
    close(x.grad, 27.0)


# ---- 3.4 grad -----------------------------------------------------------------------------

def test_grad_of_an_unused_input():
    x, w = var(1.0), var(2.0)
    y = x * 3
    with pytest.raises(AutogradError) as info:
        ag.grad(y, [x, w])
    assert str(info.value) == UNUSED.replace("index 0", "index 1")   # w, the second
    assert info.value.kind == "autograd"
    gx, gw = ag.grad(x * 3, [x, w], allow_unused=True)
    close(gx, 3.0)
    assert gw is None
    assert x.grad is None and w.grad is None


def test_grad_of_an_input_cut_off_by_detach_or_no_grad_is_unused():
    x = var([1.0, 2.0])
    y = F.sum(x.detach() * x.detach()) + F.sum(var([1.0]))
    with pytest.raises(AutogradError, match="appears to not have been used"):
        ag.grad(y, x)
    with ag.no_grad():
        z = F.sum(x * x)
    y = z + F.sum(var([1.0]))
    (g,) = ag.grad(y, x, allow_unused=True)
    assert g is None


def test_grad_of_an_input_that_does_not_require_grad():
    c = ag.tensor(1.0)
    x = var(1.0)
    with pytest.raises(AutogradError, match="One of the differentiated Tensors does not "
                                            "require grad"):
        ag.grad(x * c, c)


def test_grad_wrt_an_intermediate():
    x = var(2.0)
    h = x * x
    y = F.sin(h)
    (gh,) = ag.grad(y, h)
    close(gh, math.cos(4.0))
    assert h.grad is None and x.grad is None


# ---- 3.1 requires_grad_ ----------------------------------------------------------------

def test_requires_grad_on_a_non_leaf():
    """PyTorch's rule (SPEC 3.1 as amended): True changes nothing, False is the error."""
    x = var(1.0)
    y = x * 2
    assert y.requires_grad_() is y and y.grad_fn.name == "MulBackward0"
    with pytest.raises(AutogradError) as info:
        y.requires_grad_(False)
    assert str(info.value) == (LEAF_FLAGS + " If you want to use a computed variable in a "
                               "subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")


def test_requires_grad_on_a_leaf_turns_tracking_on_and_off():
    c = ag.tensor([1.0, 2.0])
    assert c.requires_grad_() is c
    assert c.requires_grad and c.is_leaf
    F.sum(c * c).backward()
    close(c.grad, [2.0, 4.0])
    c.requires_grad_(False)
    assert not (c * c).requires_grad


# ---- 3.6 in-place -----------------------------------------------------------------------

@pytest.mark.parametrize("update", [
    lambda t: t.__iadd__(1.0), lambda t: t.__isub__(1.0), lambda t: t.__imul__(2.0),
    lambda t: t.__itruediv__(2.0)])
def test_inplace_on_a_leaf_that_requires_grad(update):
    x = var([1.0, 2.0])
    with pytest.raises(AutogradError) as info:
        update(x)
    assert str(info.value) == LEAF_INPLACE
    close(x, [1.0, 2.0])
    assert x._version == 0


def test_inplace_on_a_saved_input():
    a = var([1.0, 2.0])
    b = a * 2
    c = b * b                        # MulBackward0 saves b
    b += 1
    assert b._version == 1 and b.grad_fn.name == "AddBackward0"
    with pytest.raises(AutogradError) as info:
        F.sum(c).backward()
    msg = str(info.value)
    assert msg.startswith(MODIFIED)
    assert "[torch.DoubleTensor [2]], which is output 0 of Add," in msg
    assert "is at version 1; expected version 0 instead." in msg


def test_inplace_on_a_saved_output():
    a = var([1.0, 2.0])
    b = F.tanh(a)                    # TanhBackward0 saves its output
    b *= 2
    with pytest.raises(AutogradError) as info:
        F.sum(b).backward()
    msg = str(info.value)
    assert msg.startswith(MODIFIED)
    assert "which is output 0 of Tanh," in msg and "is at version 1; expected version 0" in msg


def test_inplace_on_a_saved_constant():
    x = var([1.0, 2.0])
    c = ag.tensor([3.0, 4.0])
    y = x * c
    c += 1
    with pytest.raises(AutogradError, match="modified by an inplace operation"):
        F.sum(y).backward()


def test_two_inplace_updates_count_versions():
    a = var(1.0)
    b = F.exp(a)
    b += 1
    b += 1
    with pytest.raises(AutogradError, match="is at version 2; expected version 0"):
        b.backward()


def test_inplace_on_a_value_nothing_saved_is_fine():
    a = var([1.0, 2.0])
    b = a + 1                        # AddBackward0 saves nothing
    b *= 3                           # MulBackward0 saves the old b (version 0), not b
    F.sum(b).backward()
    close(a.grad, [3.0, 3.0])
    close(b, [6.0, 9.0])
    assert b.grad_fn.name == "MulBackward0"


def test_inplace_with_a_shape_that_does_not_fit():
    a = var([1.0, 2.0, 3.0])
    b = a * 1
    with pytest.raises(ShapeError, match=r"output with shape \[3\] doesn't match the "
                                         r"broadcast shape \[2, 3\]"):
        b += np.ones((2, 3))


# ---- shape errors -------------------------------------------------------------------

A = np.ones((3, 4))


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
    lambda a, b: a ** b, F.maximum, F.minimum, F.atan2, F.hypot, F.mse_loss])
def test_bad_broadcasting(op):
    with pytest.raises(ShapeError) as info:
        op(var(A), var(np.ones(3)))
    msg = str(info.value)
    if op is F.mse_loss:          # torch.nn.functional's: PyTorch's message, exactly
        assert msg == "The size of tensor a (4) must match the size of tensor b (3) at " \
                      "non-singleton dimension 1"
    else:
        assert "the size of tensor a (4) must match the size of tensor b (3) at " \
               "non-singleton dimension 1" in msg
    assert info.value.kind == "shape"


@pytest.mark.parametrize("a, b, message", [
    ((3, 4), (2, 3), "mat1 and mat2 shapes cannot be multiplied (3x4 and 2x3)"),
    ((3, 4), (3,), "size mismatch, got input (3), mat (3x4), vec (3)"),
    ((3,), (4,), "inconsistent tensor size, expected tensor [3] and src [4] to have the same "
                 "number of elements, but got 3 and 4 elements respectively"),
    ((), (4,), "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ((4,), (3, 4), "mat1 and mat2 shapes cannot be multiplied (1x4 and 3x4)"),
])
def test_bad_matmul(a, b, message):
    with pytest.raises(ShapeError) as info:
        var(np.ones(a)) @ var(np.ones(b))
    assert str(info.value) == message


def test_bad_reshape():
    with pytest.raises(ShapeError) as info:
        F.reshape(var(A), 5, 2)
    assert str(info.value) == "shape '[5, 2]' is invalid for input of size 12"
    with pytest.raises(ShapeError):
        F.reshape(var(A), -1, -1)
    with pytest.raises(ShapeError):
        F.reshape(var(A), 5, -1)


def test_bad_cat():
    with pytest.raises(ShapeError) as info:
        F.cat([var(A), var(np.ones((2, 3)))])
    assert str(info.value) == ("Sizes of tensors must match except in dimension 0. Expected "
                               "size 4 but got size 3 for tensor number 1 in the list.")
    with pytest.raises(ShapeError, match="Tensors must have same number of dimensions: "
                                         "got 2 and 1"):
        F.cat([var(A), var(np.ones(3))])
    with pytest.raises(ShapeError, match="zero-dimensional tensor"):
        F.cat([var(1.0), var(2.0)])


def test_bad_stack():
    with pytest.raises(ShapeError) as info:
        F.stack([var(A), var(np.ones((2, 3)))])
    assert str(info.value) == ("stack expects each tensor to be equal size, but got [3, 4] at "
                               "entry 0 and [2, 3] at entry 1")


@pytest.mark.parametrize("index, message", [
    (3, "index 3 is out of bounds for dimension 0 with size 3"),
    (-4, "index -4 is out of bounds for dimension 0 with size 3"),
    ((0, 4), "index 4 is out of bounds for dimension 1 with size 4"),
    ((slice(1, None), -5), "index -5 is out of bounds for dimension 1 with size 4"),
    ((0, 0, 0), "too many indices for tensor of dimension 2"),
])
def test_index_out_of_range(index, message):
    x = var(A)
    with pytest.raises(ShapeError) as info:
        x[index]
    assert str(info.value) == message


@pytest.mark.parametrize("call", [
    lambda x: F.sum(x, 2), lambda x: F.mean(x, -3), lambda x: F.unsqueeze(x, 3),
    lambda x: F.softmax(x, 2), lambda x: F.squeeze(x, 2), lambda x: F.logsumexp(x, 5)])
def test_dimension_out_of_range(call):
    with pytest.raises(ShapeError, match=r"Dimension out of range \(expected to be in range "
                                         r"of \[-\d, \d\], but got -?\d\)"):
        call(var(A))


def test_trace_needs_a_matrix():
    with pytest.raises(ShapeError, match="trace: expected a matrix, but got tensor with dim 1"):
        F.trace(var(np.ones(3)))


def test_clamp_needs_a_bound():
    with pytest.raises(InputError):
        F.clamp(var(1.0))


def test_errors_are_gradcli_errors_with_kinds():
    for cls, kind in ((AutogradError, "autograd"), (ShapeError, "shape"), (InputError, "input")):
        assert issubclass(cls, GradcliError) and cls.kind == kind


# ---- kinks (SPEC 3.2), all as PyTorch ---------------------------------------------------

def test_relu_at_zero():
    (g,) = grads(F.relu, [-1.0, 0.0, 1.0])
    close(g, [0.0, 0.0, 1.0])


def test_abs_at_zero():
    (g,) = grads(F.abs, [-2.0, 0.0, 2.0], upstream=np.array([1.0, 1.0, 1.0]))
    close(g, [-1.0, 0.0, 1.0])


def test_sign_has_zero_gradient_everywhere():
    (g,) = grads(F.sign, [-2.0, 0.0, 2.0], upstream=np.array([5.0, 6.0, 7.0]))
    close(g, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("kwargs, expected", [
    (dict(min=0.0, max=1.0), [0.0, 1.0, 1.0, 1.0, 0.0]),
    (dict(min=0.0), [0.0, 1.0, 1.0, 1.0, 1.0]),
    (dict(max=1.0), [1.0, 1.0, 1.0, 1.0, 0.0]),
])
def test_clamp_is_one_on_its_bounds(kwargs, expected):
    (g,) = grads(lambda x: F.clamp(x, **kwargs), [-1.0, 0.0, 0.5, 1.0, 2.0],
                 upstream=np.ones(5))
    close(g, expected)


def test_max_splits_evenly_between_ties():
    (g,) = grads(F.max, [1.0, 3.0, 3.0, 2.0, 3.0])
    close(g, [0.0, 1 / 3, 1 / 3, 0.0, 1 / 3])
    (g,) = grads(F.max, [[1.0, 7.0], [7.0, 2.0]])
    close(g, [[0.0, 0.5], [0.5, 0.0]])


def test_min_splits_evenly_between_ties():
    (g,) = grads(F.min, [1.0, 0.0, 1.0, 2.0, 0.0])
    close(g, [0.0, 0.5, 0.0, 0.0, 0.5])
    (g,) = grads(lambda x: F.min(x) * 4.0, [5.0, 5.0, 5.0, 5.0])
    close(g, [1.0, 1.0, 1.0, 1.0])


@pytest.mark.parametrize("fn, ga, gb", [
    (F.maximum, [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]),
    (F.minimum, [0.5, 0.0, 1.0], [0.5, 1.0, 0.0]),
])
def test_maximum_minimum_give_half_on_a_tie(fn, ga, gb):
    a, b = grads(fn, [1.0, 2.0, 3.0], [1.0, 1.0, 4.0], upstream=np.ones(3))
    close(a, ga)
    close(b, gb)


def test_maximum_tie_with_broadcasting():
    a, b = grads(F.maximum, [[1.0, 2.0], [3.0, 0.0]], [1.0, 0.0], upstream=np.ones((2, 2)))
    close(a, [[0.5, 1.0], [1.0, 0.5]])
    close(b, [0.5 + 0.0, 0.0 + 0.5])


@pytest.mark.parametrize("x, expected", [
    ([2.0, 0.0, 3.0, 4.0], [0.0, 24.0, 0.0, 0.0]),       # one zero: the product of the others
    ([2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]),        # two zeros
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    ([[2.0, 0.0], [3.0, 5.0]], [[0.0, 30.0], [0.0, 0.0]]),
    ([0.0], [1.0]),
    (0.0, 1.0),
    ([2.0, 5.0, 3.0], [15.0, 6.0, 10.0]),
])
def test_prod_is_exact_with_zeros(x, expected):
    (g,) = grads(F.prod, x)
    close(g, expected)


def test_prod_second_derivatives_with_zeros():
    """d2 prod / dx_i dx_j = product of the elements other than i and j (0 on the diagonal)."""
    for values, hessian in (([2.0, 0.0, 3.0], [[0, 3, 0], [3, 0, 2], [0, 2, 0]]),
                            ([2.0, 0.0, 0.0], [[0, 0, 0], [0, 0, 2], [0, 2, 0]])):
        x = var(values)
        (g,) = ag.grad(F.prod(x), x, create_graph=True)
        rows = [ag.grad(g[i], x, retain_graph=True)[0].data for i in range(3)]
        close(np.stack(rows), hessian)


def test_norm_at_zero():
    (g,) = grads(F.norm, [0.0, 0.0, 0.0])
    close(g, [0.0, 0.0, 0.0])
    (g,) = grads(F.norm, [3.0, 4.0])
    close(g, [0.6, 0.8])


def test_sqrt_at_zero_is_inf():
    (g,) = grads(F.sqrt, [0.0, 4.0], upstream=np.ones(2))
    assert g[0] == math.inf
    close(g[1], 0.25)


@pytest.mark.parametrize("fn, x, expected", [
    (lambda x: x ** 0.5, [0.0, 4.0], [math.inf, 0.25]),
    (lambda x: x ** 2, [0.0, -3.0], [0.0, -6.0]),
    (lambda x: x ** 0, [0.0, 5.0], [0.0, 0.0]),
    (lambda x: x ** 1, [0.0, 5.0], [1.0, 1.0]),
    (lambda x: 0.0 ** x, [0.0, 1.0, -1.0], [0.0, 0.0, -math.inf]),
    (F.log, [0.0], [math.inf]),
    (lambda x: F.atan2(x, x), [0.0], [0.0]),
])
def test_power_and_log_edges_as_pytorch(fn, x, expected):
    (g,) = grads(fn, x, upstream=np.ones(len(x)))
    close(g, expected)


def test_pow_both_tensors_at_zero_as_pytorch():
    a, b = grads(lambda a, b: a ** b, [0.0, 0.0, 2.0, 0.0], [0.0, 2.0, 0.0, -1.0],
                 upstream=np.ones(4))
    close(a, [0.0, 0.0, 0.0, -math.inf])
    close(b, [0.0, 0.0, math.log(2.0), -math.inf])


def test_atan2_at_the_origin_as_pytorch():
    a, b = grads(F.atan2, [0.0, 0.0, 1.0], [0.0, 1.0, 0.0], upstream=np.ones(3))
    close(a, [0.0, 1.0, 0.0])
    close(b, [0.0, 0.0, -1.0])


def test_number_base_power_saves_its_exponent():
    """PowBackward2 saves the exponent (PyTorch): an in-place change of it is detected."""
    a = var([1.0, 2.0])
    x = a * 1
    y = 0.0 ** x
    x += 1
    with pytest.raises(AutogradError, match="modified by an inplace operation"):
        F.sum(y).backward()


def test_softplus_threshold_as_pytorch():
    (g,) = grads(F.softplus, [19.0, 21.0, -30.0], upstream=np.ones(3))
    close(g, [1 / (1 + math.exp(-19.0)), 1.0, math.exp(-30.0) / (1 + math.exp(-30.0))])


def test_pow_second_derivative_at_exponent_zero_is_pytorchs():
    """PyTorch masks d(a**b)/da to a constant 0 where b == 0, so its derivative wrt b is 0
    there too (mathematically it is a**(b-1) = 1 at a = 1); gradcli does the same."""
    a, b = var(np.ones((3, 4))), var(np.zeros(4))
    ga, gb = ag.grad(F.sum(a ** b), [a, b], create_graph=True)
    close(ga, np.zeros((3, 4)))
    close(gb, np.zeros(4))
    hb = ag.grad(F.sum(ga), [a, b], allow_unused=True)[1]
    close(hb if hb is not None else np.zeros(4), np.zeros(4))


# ---- regressions: 0-d tensors, positional parameters under create_graph ----------------

S0 = 0.7
SIG = 1 / (1 + math.exp(-S0))


@pytest.mark.parametrize("fn, value, grad_fn, d1, d2", [
    (lambda s: F.sum(s, 0), S0, "SumBackward1", 1.0, 0.0),
    (lambda s: F.mean(s, -1), S0, "MeanBackward1", 1.0, 0.0),
    (lambda s: F.sum(s, 0, keepdim=True), S0, "SumBackward1", 1.0, 0.0),
    (lambda s: F.logsumexp(s, 0), S0, "LogsumexpBackward0", 1.0, 0.0),
    (lambda s: F.softmax(s, 0), 1.0, "SoftmaxBackward0", 0.0, 0.0),
    (lambda s: F.log_softmax(s, -1), 0.0, "LogSoftmaxBackward0", 0.0, 0.0),
    (lambda s: F.squeeze(s, 0), S0, "SqueezeBackward1", 1.0, 0.0),
    (F.erf, math.erf(S0), "ErfBackward0", 2 / math.sqrt(math.pi) * math.exp(-S0 * S0),
     -2 * S0 * 2 / math.sqrt(math.pi) * math.exp(-S0 * S0)),
    (F.softplus, math.log1p(math.exp(S0)), "SoftplusBackward0", SIG, SIG * (1 - SIG)),
])
def test_zero_dim_ops_as_pytorch(fn, value, grad_fn, d1, d2):
    """0-d inputs (dim 0 / -1 allowed as in PyTorch); values derived by hand."""
    s = var(S0)
    y = fn(s)
    assert y.grad_fn.name == grad_fn and y.shape == ()
    np.testing.assert_allclose(y.data, value, rtol=1e-15, atol=1e-15)
    (g,) = ag.grad(y, s, create_graph=True)
    np.testing.assert_allclose(g.data, d1, rtol=1e-15, atol=1e-15)
    (h,) = ag.grad(g, s, allow_unused=True) if g.requires_grad else (None,)
    np.testing.assert_allclose(0.0 if h is None else h.data, d2, rtol=1e-14, atol=1e-15)


def test_second_derivative_through_matrix_vector_products():
    """H of sum((M v)^2) is 2 M^T M: the MvBackward0 VJP unsqueezes under create_graph."""
    m = np.array([[1.0, 2.0, 0.5], [-1.0, 0.0, 3.0]])
    v = var([0.3, -0.2, 0.1])
    (g,) = ag.grad(F.sum((ag.tensor(m) @ v) ** 2), v, create_graph=True)
    rows = [ag.grad(g[i], v, retain_graph=True)[0].data for i in range(3)]
    close(np.stack(rows), 2 * m.T @ m)
    w = var([0.3, -0.2])
    (g,) = ag.grad(F.sum((w @ ag.tensor(m)) ** 2), w, create_graph=True)   # 1-D @ 2-D
    rows = [ag.grad(g[i], w, retain_graph=True)[0].data for i in range(2)]
    close(np.stack(rows), 2 * m @ m.T)


# ---- what a node saves decides which in-place updates break a backward (as PyTorch) ------

M2 = [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("build, modified, fails", [
    # a node keeps only what the VJPs of its grad-requiring inputs read (PyTorch 2.13)
    (lambda y, c: y * c, "y", False), (lambda y, c: y * c, "c", True),
    (lambda y, c: c * y, "y", False),
    (lambda y, c: y * 3.0, "y", False),
    (lambda y, c: y / c, "y", False), (lambda y, c: y / c, "c", True),
    (lambda y, c: c / y, "y", True),
    (lambda y, c: y / 3.0, "y", False),
    (lambda y, c: F.reshape(y @ c, (1,)), "y", False),
    (lambda y, c: F.reshape(y @ c, (1,)), "c", True),
    (lambda y, c: ag.tensor(M2) @ y, "y", False),
    (lambda y, c: F.reshape(F.reshape(y, (1, 2)) @ ag.tensor(M2), (2,)), "y", False),
    (lambda y, c: F.hypot(y, c), "c", False), (lambda y, c: F.hypot(y, c), "y", True),
    (lambda y, c: F.hypot(y, c), "out", True),
    (lambda y, c: F.atan2(y, c), "c", True), (lambda y, c: F.maximum(y, c), "c", True),
    (lambda y, c: y ** c, "out", True), (lambda y, c: c ** y, "c", True),
    (lambda y, c: F.exp(y), "y", False), (lambda y, c: F.sin(y), "y", True),
])
def test_which_inplace_updates_break_the_backward(build, modified, fails):
    a = var([1.5, 2.0])
    y = a * 1
    c = ag.tensor([3.0, 4.0])
    out = build(y, c)
    target = {"y": y, "c": c, "out": out}[modified]
    target += 1
    if fails:
        with pytest.raises(AutogradError, match="modified by an inplace operation"):
            F.sum(out).backward()
    else:
        F.sum(out).backward()
        assert a.grad is not None
