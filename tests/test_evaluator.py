"""Tests of the program evaluator, gradcli.lang.evaluator.evaluate (SPEC 2, 3, 6).

Every reference case of SPEC 3.7 is run as a PROGRAM.  Expected values are derived by
hand (the derivation is in the comment next to each) and were cross-checked once with
PyTorch by hand; no test imports torch.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradcli.autograd.tensor import Tensor
from gradcli.errors import (AutogradError, BindError, GradcliError, InputError, ShapeError)
from gradcli.lang.evaluator import evaluate

TOL = dict(rtol=0, atol=1e-12)

SCALAR_ERROR = "grad can be implicitly created only for scalar outputs"
NOT_REQUIRING = "element 0 of tensors does not require grad and does not have a grad_fn"
SECOND_BACKWARD = "Trying to backward through the graph a second time"
RETAIN_HINT = "Specify retain_graph=True"
LEAF_FLAG = "you can only change requires_grad flags of leaf variables."
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
MODIFIED = ("one of the variables needed for gradient computation has been modified by an "
            "inplace operation")


def close(actual, expected, tol=TOL):
    assert actual is not None
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, **tol)


def error(program, bindings=None, cls=GradcliError, **kw) -> GradcliError:
    with pytest.raises(GradcliError) as info:
        evaluate(program, bindings or {}, **kw)
    assert isinstance(info.value, cls), (type(info.value), info.value)
    return info.value


def row(result, name):
    rows = [r for r in result.graph if r.name == name]
    assert len(rows) == 1, [r.name for r in result.graph]
    return rows[0]


def leaf(result, name):
    rows = [r for r in result.leaves if r.name == name]
    assert len(rows) == 1, [r.name for r in result.leaves]
    return rows[0]


# == SPEC 3.7 reference cases ==========================================================

def test_case1_value_grads_grad_fn():
    # d/dx1 (x1*x2+x3)^2 = 2*7*x2 = 42, d/dx2 = 2*7*x1 = 28, d/dx3 = 2*7 = 14
    r = evaluate("(x1*x2+x3)**2", {"x1": 2, "x2": 3, "x3": 1})
    close(r.value, 49.0)
    assert r.shape == ()
    assert r.grad_fn == "PowBackward0"
    assert list(r.grads) == ["x1", "x2", "x3"]
    close(r.grads["x1"], 42.0)
    close(r.grads["x2"], 28.0)
    close(r.grads["x3"], 14.0)
    assert r.upstream is None                     # implicit gradient 1 of a scalar


def test_case1_graph_rows_in_topological_order():
    r = evaluate("(x1*x2+x3)**2", {"x1": 2, "x2": 3, "x3": 1})
    assert [(g.name, g.grad_fn, g.inputs) for g in r.graph] == [
        ("x1", None, []), ("x2", None, []), ("x3", None, []),
        ("%1", "MulBackward0", ["x1", "x2"]),
        ("%2", "AddBackward0", ["%1", "x3"]),
        ("%3", "PowBackward0", ["%2", "2"]),
    ]
    close(row(r, "%1").value, 6.0)
    close(row(r, "%2").value, 7.0)
    # intermediates keep grad None without retain_grad; leaves show their grad
    assert [g.grad is None for g in r.graph] == [False, False, False, True, True, True]
    assert [g.is_leaf for g in r.graph] == [True, True, True, False, False, False]


def test_case2_polynomial():
    # d/dx (x^2 + 3x + 1) = 2x + 3 = 7 at x = 2
    r = evaluate("x**2 + 3*x + 1", {"x": 2})
    close(r.value, 11.0)
    close(r.grads["x"], 7.0)
    assert r.grad_fn == "AddBackward0"


@pytest.mark.parametrize("x, expected", [(2.0, 12.0), (1.0, 6.0)])
def test_case2_second_derivative_by_grad_create_graph(x, expected):
    # d2/dx2 x^3 = 6x
    r = evaluate("y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)", {"x": x})
    close(r.value, expected)
    assert r.grads == {"x": None}                 # grad() does not touch .grad
    assert r.grad_fn is None                      # the last grad() had no create_graph
    assert r.upstream is None


def test_case2_first_derivative_is_differentiable():
    # dy = 3x^2 = 12 at x=2, recorded as a graph (create_graph): it has a grad_fn
    r = evaluate("y = x**3; dy = grad(y, x, create_graph=True); dy", {"x": 2})
    close(r.value, 12.0)
    assert r.grad_fn == "MulBackward0"           # as PyTorch records 3 * x**2 * 1
    assert r.grads == {"x": None}


def test_case3_accumulation_over_two_backwards():
    # x.grad = 2x (from y) + 1 (from z = x) = 5
    r = evaluate("y = x**2; z = x; backward(y); backward(z)", {"x": 2})
    close(r.grads["x"], 5.0)
    close(r.value, 2.0)                           # output: z = x, the last value


def test_case3_second_backward_with_retain_graph_accumulates():
    # 3x^2 = 12 after the first backward; without zero_grad it becomes 24
    r = evaluate("y = x**3; backward(y, retain_graph=True); first = x.grad * 1; "
                 "backward(y); first", {"x": 2})
    close(r.value, 12.0)
    close(r.grads["x"], 24.0)


def test_case3_grad_alias_sees_the_accumulation():
    # as in PyTorch, g1 IS x.grad, which the second backward accumulates into
    r = evaluate("y = x**3; backward(y, retain_graph=True); g1 = x.grad; backward(y); g1",
                 {"x": 2})
    close(r.value, 24.0)


def test_case3_zero_grad_between_backwards():
    r = evaluate("y = x**3; backward(y, retain_graph=True); zero_grad(x); backward(y); "
                 "x.grad", {"x": 2})
    close(r.value, 12.0)
    close(r.grads["x"], 12.0)


def test_case4_vector_output_without_upstream_is_the_scalar_error():
    e = error("x**2", {"x": [1, 2, 3]}, AutogradError)
    assert e.kind == "autograd"
    assert e.message == (SCALAR_ERROR + " (the output has shape [3]: pass --upstream ones, "
                         "or a gradient of that shape)")
    assert (e.line, e.column) == (1, 1)          # the statement that gives the output


@pytest.mark.parametrize("upstream", [[1, 1, 1], "ones", np.ones(3), (1.0, 1.0, 1.0)])
def test_case4_with_upstream(upstream):
    r = evaluate("x**2", {"x": [1, 2, 3]}, upstream=upstream)
    close(r.grads["x"], [2.0, 4.0, 6.0])
    close(r.upstream, [1.0, 1.0, 1.0])
    assert r.grad_fn == "PowBackward0"


def test_case5_upstream_value_and_ones():
    a = [[1, 2, 3], [4, 5, 6]]
    # d/da sum(a*a * g) = 2*a*g
    r = evaluate("a*a", {"a": a}, upstream=a)
    close(r.grads["a"], 2 * np.array(a, float) ** 2)
    close(r.upstream, a)
    r = evaluate("a*a", {"a": a}, upstream="ones")
    close(r.grads["a"], [[2, 4, 6], [8, 10, 12]])
    assert r.grad_fn == "MulBackward0"
    close(r.value, [[1, 4, 9], [16, 25, 36]])


CASE6 = {"x": [1.0, 2.0], "y": [3.0, 4.0], "z": [5.0, 6.0]}     # t = x + y = [4, 6]


def test_case6_dot_backward():
    r = evaluate("t = x + y; loss = dot(t, z); backward(loss, retain_graph=True)", CASE6)
    close(r.grads["x"], [5, 6])                  # = z
    close(r.grads["y"], [5, 6])                  # = z
    close(r.grads["z"], [4, 6])                  # = t
    assert row(r, "t").grad is None              # a non-leaf keeps no grad
    assert row(r, "t").grad_fn == "AddBackward0"
    assert row(r, "loss").grad_fn == "DotBackward0"
    assert not leaf(r, "t").is_leaf and leaf(r, "t").grad is None
    close(r.value, 56.0)                         # the output: loss (backward has no value)
    assert r.grad_fn == "DotBackward0"


def test_case6_then_backward_t_z_adds_z_again():
    r = evaluate("t = x + y; loss = dot(t, z); backward(loss, retain_graph=True); "
                 "backward(t, z)", CASE6)
    close(r.grads["x"], [10, 12])
    close(r.grads["y"], [10, 12])
    close(r.grads["z"], [4, 6])                  # unchanged


def test_case6_then_backward_z_t_only_touches_z():
    r = evaluate("t = x + y; loss = dot(t, z); backward(loss, retain_graph=True); "
                 "backward(z, t)", CASE6)
    close(r.grads["x"], [5, 6])
    close(r.grads["y"], [5, 6])
    close(r.grads["z"], [8, 12])                 # += t


CASE7 = ("x1 = 2*x; requires_grad_(x1); w1 = 5*x; requires_grad_(w1); w2 = 6*x; "
         "requires_grad_(w2); y = x1*w1*w2; L = 10*x - y; backward(L, ones_like(L))")


def test_case7_requires_grad_on_computed_constants():
    # L = 10x - x1*w1*w2: dL/dx1 = -w1*w2 = -30, dL/dw1 = -x1*w2 = -12, dL/dw2 = -10
    r = evaluate(CASE7, {}, const={"x": [[1, 1], [1, 1]]})
    assert set(r.grads) == {"x1", "w1", "w2"}    # x is constant: not in grads
    close(r.grads["x1"], np.full((2, 2), -30.0))
    close(r.grads["w1"], np.full((2, 2), -12.0))
    close(r.grads["w2"], np.full((2, 2), -10.0))
    for name in ("x1", "w1", "w2"):
        lr = leaf(r, name)
        assert lr.is_leaf and lr.requires_grad and lr.grad_fn is None
    x = leaf(r, "x")
    assert x.is_leaf and not x.requires_grad and x.grad is None
    assert "bound with --const" in x.note
    assert not leaf(r, "y").is_leaf and leaf(r, "y").grad_fn == "MulBackward0"
    assert leaf(r, "L").grad_fn == "SubBackward0"
    close(r.value, np.full((2, 2), 10 - 2 * 5 * 6.0))


def test_case7_with_x_requiring_grad_intermediates_are_not_leaves():
    program = "x1 = 2*x; w1 = 5*x; w2 = 6*x; y = x1*w1*w2; L = 10*x - y; " \
              "backward(L, ones_like(L))"
    r = evaluate(program, {"x": [[1, 1], [1, 1]]})
    # L = 10x - 60x^3: dL/dx = 10 - 180x^2 = -170
    close(r.grads["x"], np.full((2, 2), -170.0))
    for name in ("x1", "w1", "w2"):
        g = row(r, name)
        assert not g.is_leaf and g.grad is None and g.grad_fn == "MulBackward0"
    assert list(r.grads) == ["x"]


def test_case7_requires_grad_on_a_non_leaf():
    """SPEC 3.1 as amended (PyTorch): True on a non-leaf changes nothing; False is the
    leaf-only error."""
    r = evaluate("x1 = 2*x; requires_grad_(x1); sum(x1)", {"x": [[1, 1], [1, 1]]})
    close(r.grads["x"], np.full((2, 2), 2.0))
    e = error("x1 = 2*x; requires_grad_(x1, False)", {"x": [[1, 1], [1, 1]]}, AutogradError)
    assert e.message.startswith(LEAF_FLAG)
    assert (e.line, e.column) == (1, 11)


def test_case8_no_grad_part_is_constant():
    # y3 = x^2 + const: grad 2x = 2 at x = 1
    r = evaluate("y1 = x**2; y2 = no_grad(x**3); y3 = y1 + y2", {"x": 1})
    close(r.grads["x"], 2.0)
    close(r.value, 2.0)
    y2 = row(r, "y2")
    assert y2.grad_fn is None and not y2.requires_grad and y2.is_leaf
    assert "computed under no_grad" in leaf(r, "y2").note


def test_case8_backward_of_no_grad_value_is_an_error():
    e = error("y1 = x**2; y2 = no_grad(x**3); y3 = y1 + y2; backward(y2)", {"x": 1},
              AutogradError)
    assert e.message == NOT_REQUIRING
    assert (e.line, e.column) == (1, 46)
    assert e.kind == "autograd"


def test_case9_second_backward_error():
    e = error("y = x**3; backward(y); backward(y)", {"x": 2}, AutogradError)
    assert e.message.startswith(SECOND_BACKWARD) and RETAIN_HINT in e.message
    assert (e.line, e.column) == (1, 24)


def test_case9_with_retain_graph_first():
    r = evaluate("y = x**3; backward(y, retain_graph=True); a = x.grad * 1; backward(y); a",
                 {"x": 2})
    close(r.value, 12.0)
    close(r.grads["x"], 24.0)


def test_case10_inplace_on_saved_output():
    e = error("b = exp(a); b += 1; backward(sum(b))", {"a": [1.0, 2.0]}, AutogradError)
    assert e.message.startswith(MODIFIED)
    assert "output 0 of Exp," in e.message and "version 1; expected version 0" in e.message
    assert (e.line, e.column) == (1, 21)


def test_case10_implicit_backward_points_at_the_output_statement():
    e = error("b = exp(a); b += 1; sum(b)", {"a": [1.0, 2.0]}, AutogradError)
    assert e.message.startswith(MODIFIED)
    assert (e.line, e.column) == (1, 21)


# == options: of, wrt, const, upstream, retain_grad, dtype =================================

def test_of_selects_the_output():
    r = evaluate("y = x*w; z = y + 1", {"x": 3.0, "w": 2.0}, of="y")
    close(r.value, 6.0)
    assert r.grad_fn == "MulBackward0"
    close(r.grads["x"], 2.0)
    close(r.grads["w"], 3.0)


def test_of_an_unknown_name():
    e = error("y = x*2", {"x": 1.0}, BindError, of="q")
    assert e.message == "--of q: the program has no variable 'q'"


def test_of_with_wrong_upstream_shape_has_no_program_position():
    e = error("y = x*v; 3", {"x": 3.0, "v": [1.0, 2.0]}, ShapeError, of="y", upstream=[1])
    assert "[1]" in e.message and "[2]" in e.message
    assert e.line is None


def test_wrt_limits_the_variables():
    r = evaluate("y = x*w; z = y + 1", {"x": 3.0, "w": 2.0}, wrt=["x"])
    assert r.grads == {"x": pytest.approx(2.0)}
    w = leaf(r, "w")
    assert not w.requires_grad and w.grad is None and "not in --wrt" in w.note


def test_wrt_unknown_and_const_clash():
    assert error("x", {"x": 1.0}, BindError, wrt=["q"]).message == \
        "--wrt q: no variable 'q' is bound"
    e = error("x*w", {"x": 1.0}, BindError, const={"w": 2.0}, wrt=["w"])
    assert e.message == "--wrt w: 'w' is bound with --const"


def test_const_binding():
    r = evaluate("y = x*w; z = y + 1", {"x": 3.0}, const={"w": 2.0})
    assert list(r.grads) == ["x"]
    close(r.grads["x"], 2.0)
    assert not row(r, "w").requires_grad


def test_const_and_variable_with_the_same_name():
    e = error("x", {"x": 1.0}, BindError, const={"x": 2.0})
    assert e.message == "'x' is bound twice (as a variable and with --const)"


def test_upstream_wrong_shape_names_both_shapes():
    e = error("x**2", {"x": [1, 2, 3]}, ShapeError, upstream=[1, 1])
    assert e.kind == "shape"
    assert "[2]" in e.message and "[3]" in e.message
    assert e.message == ("--upstream: Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) "
                         "and output[0] has a shape of torch.Size([3]).")
    assert (e.line, e.column) == (1, 1)


def test_upstream_scalar_for_vector_output_is_a_shape_error():
    e = error("x**2", {"x": [1, 2, 3]}, ShapeError, upstream=1.0)
    assert "[]" in e.message and "[3]" in e.message


def test_upstream_bad_values():
    e = error("x**2", {"x": [1, 2]}, InputError, upstream="one")
    assert e.message == "--upstream: expected a value or 'ones', got 'one'"
    e = error("x**2", {"x": [1, 2]}, BindError, upstream=[1, None])
    assert e.message.startswith("--upstream: expected a number or an array of numbers")


def test_upstream_is_refused_when_the_program_calls_backward():
    # an upstream that would be silently ignored is an error, naming where it should go
    e = error("y = x*v; backward(y, v)", {"x": 2.0, "v": [1.0, 2.0]}, InputError,
              upstream="ones")
    assert "--upstream has no effect here" in e.message and "backward(y" in e.message
    r = evaluate("y = x*v; backward(y, v)", {"x": 2.0, "v": [1.0, 2.0]})
    close(r.grads["x"], 5.0)                     # sum(v * v)
    assert r.upstream is None


def test_retain_grad_option_shows_every_intermediate_grad():
    r = evaluate("(x1*x2+x3)**2", {"x1": 2, "x2": 3, "x3": 1}, retain_grad=True)
    grads = {g.name: float(g.grad) for g in r.graph}
    # d/d%3 = 1, d/d%2 = 2*7 = 14, d/d%1 = 14
    assert grads == {"x1": 42.0, "x2": 28.0, "x3": 14.0, "%1": 14.0, "%2": 14.0, "%3": 1.0}
    assert [g.is_leaf for g in r.graph] == [True] * 3 + [False] * 3
    assert r.grads == {"x1": 42.0, "x2": 28.0, "x3": 14.0}


def test_retain_grad_option_with_named_intermediates():
    r = evaluate("y = x*2; z = y*y; z", {"x": 3.0}, retain_grad=True)
    close(row(r, "y").grad, 12.0)                # dz/dy = 2y
    close(row(r, "z").grad, 1.0)
    close(row(r, "x").grad, 24.0)
    assert leaf(r, "y").note == "not a leaf: grad kept because retain_grad() was called"


def test_retain_grad_statement():
    r = evaluate("y = x*x; retain_grad(y); z = y*3; backward(z); y.grad", {"x": 2.0})
    close(r.value, 3.0)
    close(r.grads["x"], 12.0)
    close(row(r, "y").grad, 3.0)


def test_float32():
    r = evaluate("sum(x*x*x)", {"x": [1.0, 2.0]}, dtype="float32")
    assert r.value.dtype == np.float32
    assert r.grads["x"].dtype == np.float32
    np.testing.assert_allclose(r.grads["x"], [3.0, 12.0], rtol=1e-6)
    r = evaluate("x / 3", {"x": 1.0}, dtype="float32")
    assert r.value.dtype == np.float32
    assert float(r.value) == float(np.float32(1) / np.float32(3))


def test_float32_array_literal_and_upstream():
    r = evaluate("[1, 2] * x", {"x": 2.0}, dtype="float32", upstream=[1.0, 1.0])
    assert r.value.dtype == np.float32
    assert r.grads["x"].dtype == np.float32
    close(r.grads["x"], 3.0)


def test_bad_dtype():
    e = error("x", {"x": 1.0}, BindError, dtype="int32")
    assert e.message == "dtype must be float64 or float32, got int32"


# == implicit backward and the output ======================================================

def test_no_implicit_backward_when_the_program_calls_grad():
    r = evaluate("y = x**3; g = grad(y, x); g", {"x": 2.0})
    close(r.value, 12.0)
    assert r.grads == {"x": None}


def test_no_implicit_backward_when_the_program_calls_backward():
    r = evaluate("y = x**2; backward(y); z = y * 100", {"x": 3.0})
    close(r.grads["x"], 6.0)                     # not 600: z is not differentiated
    close(r.value, 900.0)


def test_output_is_the_last_statement_with_a_value():
    r = evaluate("y = x**2; backward(y); retain_grad(y)", {"x": 3.0})
    close(r.value, 9.0)
    assert r.grad_fn == "PowBackward0"
    r = evaluate("a = x*2\nb = x*3\n", {"x": 1.0})
    close(r.value, 3.0)
    close(r.grads["x"], 3.0)                     # only b is differentiated


def test_program_with_only_backward_has_no_value():
    r = evaluate("backward(x*x)", {"x": 3.0})
    assert r.value is None and r.shape is None and r.grad_fn is None
    close(r.grads["x"], 6.0)


def test_program_without_output():
    e = error("retain_grad(x)", {"x": 1.0}, InputError)
    assert e.message == "the program has no output: write an expression, e.g. x**2"
    e = error("", {"x": 1.0}, InputError)
    assert e.message.startswith("the program has no output")


def test_output_none_is_a_value_with_its_reason():
    # like print(x.grad) in PyTorch: None, not an error; no implicit backward from None
    r = evaluate("y = x*1; x.grad", {"x": 1.0})
    assert r.value is None and r.grads == {"x": None}
    assert r.none_reason == "x.grad is None: no backward() had run when x.grad was read"
    assert not [e for e in r.events if e[0] == "backward"]
    assert leaf(r, "x").note == "grad is None: no backward() ran"


def test_output_not_requiring_grad():
    e = error("1 + 2", {"x": 1.0}, AutogradError)
    assert e.message.startswith(NOT_REQUIRING)
    assert (e.line, e.column) == (1, 1)
    e = error("y = x*2; x.data", {"x": 1.0}, AutogradError)
    assert e.message.startswith(NOT_REQUIRING)
    assert (e.line, e.column) == (1, 10)


def test_backward_of_a_leaf():
    r = evaluate("backward(x); x*5", {"x": 3.0})
    close(r.grads["x"], 1.0)


def test_grads_include_unreached_leaves_as_none():
    r = evaluate("x*2", {"x": 1.0, "unused": [1.0, 2.0]})
    assert r.grads["unused"] is None
    assert leaf(r, "unused").note == "grad is None: the program never uses unused"


# == assignment and in-place updates ===========================================================

def test_assignment_to_an_input_is_an_error():
    e = error("y = 1\nx = y", {"x": 1.0}, BindError)
    assert e.message == "cannot assign to 'x': it is an input variable"
    assert (e.line, e.column) == (2, 1)
    e = error("w = 1", {"x": 1.0}, BindError, const={"w": 2.0})
    assert e.message == "cannot assign to 'w': it is an input variable"


def test_inplace_on_a_const_input_is_allowed():
    r = evaluate("c += 1; c*x", {"x": 3.0}, const={"c": 1.0})
    close(r.value, 6.0)
    close(r.grads["x"], 2.0)
    assert [(g.name, g.grad_fn, g.inputs) for g in r.graph] == [
        ("x", None, []), ("c", None, []), ("c@v1", None, ["c", "1"]),
        ("%1", "MulBackward0", ["c@v1", "x"])]
    close(row(r, "c").value, 1.0)                # the value before the update
    close(row(r, "c@v1").value, 2.0)


def test_inplace_on_a_const_input_with_a_grad_requiring_value():
    # c = 1 + x = 4 becomes a non-leaf; (1 + x) * x: d/dx = 1 + 2x = 7
    r = evaluate("c += x; c*x", {"x": 3.0}, const={"c": 1.0})
    close(r.value, 12.0)
    close(r.grads["x"], 7.0)
    assert list(r.grads) == ["x"]                # c is no longer a leaf
    assert row(r, "c@v1").grad_fn == "AddBackward0"


def test_inplace_on_a_leaf_requiring_grad_is_an_error():
    e = error("y = x*1; x += 1", {"x": 3.0}, AutogradError)
    assert e.message == LEAF_INPLACE
    assert (e.line, e.column) == (1, 10)


def test_inplace_on_a_made_leaf_is_an_error():
    e = error("w = 2*c; requires_grad_(w); w *= 2", {}, AutogradError, const={"c": 1.0})
    assert e.message == LEAF_INPLACE


def test_inplace_on_an_intermediate_that_was_not_saved():
    # b = a + 1 (add saves nothing) -> += 1 -> -= 2: b = a, grad 1
    r = evaluate("b = a + 1; b += 1; b -= 2; c = b * 1; sum(c)", {"a": [0.0, 1.0]})
    close(r.value, 1.0)
    close(r.grads["a"], [1.0, 1.0])
    assert [(g.name, g.grad_fn, g.inputs) for g in r.graph] == [
        ("a", None, []), ("b", "AddBackward0", ["a", "1"]),
        ("b@v1", "AddBackward0", ["b", "1"]), ("b@v2", "SubBackward0", ["b@v1", "2"]),
        ("c", "MulBackward0", ["b@v2", "1"]), ("%1", "SumBackward0", ["c"])]
    close(row(r, "b").value, [1.0, 2.0])
    close(row(r, "b@v1").value, [2.0, 3.0])
    close(row(r, "b@v2").value, [0.0, 1.0])


def test_inplace_on_a_number_variable():
    r = evaluate("a = 2; a *= x; a", {"x": 3.0})
    close(r.value, 6.0)
    close(r.grads["x"], 2.0)


def test_inplace_on_none():
    e = error("y = x.grad; y += 1", {"x": 3.0}, InputError)
    assert e.message.startswith("None cannot be used as a value here")


def test_inplace_shape_mismatch():
    e = error("c += v; c", {"v": [1.0, 2.0]}, ShapeError, const={"c": 1.0})
    assert e.message == "output with shape [] doesn't match the broadcast shape [2]"


# == attributes, methods, indexing ==========================================================

def test_grad_attribute():
    r = evaluate("y = x*x; backward(y); x.grad * 10", {"x": 3.0})
    close(r.value, 60.0)


def test_grad_attribute_is_none_before_backward():
    e = error("x.grad + 1", {"x": 3.0}, InputError)
    assert e.message.startswith("None cannot be used as a value here")
    assert (e.line, e.column) == (1, 8)


def test_transpose_attribute():
    r = evaluate("m.T", {"m": [[1, 2, 3], [4, 5, 6]]}, upstream=[[1, 2], [3, 4], [5, 6]])
    assert r.grad_fn == "PermuteBackward0"
    close(r.value, [[1, 4], [2, 5], [3, 6]])
    close(r.grads["m"], [[1, 3, 5], [2, 4, 6]])


def test_data_attribute_is_detached():
    # m.data * m: only the second factor is differentiated
    r = evaluate("sum(m.data * m)", {"m": [1.0, 2.0]})
    close(r.grads["m"], [1.0, 2.0])


def test_unknown_attribute():
    e = error("x.foo", {"x": 1.0}, InputError)
    assert e.message == "'Tensor' object has no attribute 'foo'"
    assert (e.line, e.column) == (1, 3)


def test_method_sugar():
    r = evaluate("x.sum()", {"x": [1.0, 2.0, 3.0]})
    assert r.grad_fn == "SumBackward0"
    close(r.grads["x"], [1, 1, 1])
    r = evaluate("(x*y).sum(0)", {"x": [[1.0, 2, 3]], "y": [[1.0], [2.0]]}, upstream="ones")
    assert r.grad_fn == "SumBackward1"
    close(r.value, [3, 6, 9])
    close(r.grads["x"], [[3, 3, 3]])             # sum of y
    close(r.grads["y"], [[6], [6]])              # sum of x
    r = evaluate("m.t().exp().sum()", {"m": [[0.0, 1.0]]})
    close(r.grads["m"], [[1.0, np.e]])


def test_backward_method():
    r = evaluate("y = (x*x).sum(); y.backward(); x.grad", {"x": [1.0, 2.0, 3.0]})
    close(r.value, [2, 4, 6])
    close(r.grads["x"], [2, 4, 6])


def test_backward_method_with_gradient_and_keyword():
    r = evaluate("y = x*x; y.backward(v, retain_graph=True); y.backward(v)",
                 {"x": [1.0, 2.0], "v": [1.0, 10.0]}, wrt=["x"])
    close(r.grads["x"], [4.0, 80.0])             # 2 * (2x * v)


def test_matmul_indexing_and_transpose_together():
    # (m@v).sum() + m.T[1,0]*v[-1]; m.T[1,0] = m[0,1] = 2, v[-1] = 2
    r = evaluate("(m @ v).sum() + m.T[1, 0] * v[-1]",
                 {"m": [[1, 2, 3], [4, 5, 6]], "v": [1, -1, 2]})
    close(r.value, 20.0)
    close(r.grads["m"], [[1, 1, 2], [1, -1, 2]])
    close(r.grads["v"], [5, 7, 11])


M = {"m": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}


@pytest.mark.parametrize("program, value, grad_fn, grad", [
    ("m[0]", [1, 2, 3], "SelectBackward0", [[1, 1, 1], [0, 0, 0]]),
    ("m[-1]", [4, 5, 6], "SelectBackward0", [[0, 0, 0], [1, 1, 1]]),
    ("m[1, 2]", 6, "SelectBackward0", [[0, 0, 0], [0, 0, 1]]),
    ("m[-2, -1]", 3, "SelectBackward0", [[0, 0, 1], [0, 0, 0]]),
    ("m[1:]", [[4, 5, 6]], "SliceBackward0", [[0, 0, 0], [1, 1, 1]]),
    ("m[:, 0]", [1, 4], "SelectBackward0", [[1, 0, 0], [1, 0, 0]]),
    ("m[-1, 1:]", [5, 6], "SliceBackward0", [[0, 0, 0], [0, 1, 1]]),
    ("m[0, ::2]", [1, 3], "SliceBackward0", [[1, 0, 1], [0, 0, 0]]),
    ("m[:, :-1]", [[1, 2], [4, 5]], "SliceBackward0", [[1, 1, 0], [1, 1, 0]]),
    ("m[0][1]", 2, "SelectBackward0", [[0, 1, 0], [0, 0, 0]]),
])
def test_indexing(program, value, grad_fn, grad):
    r = evaluate(program, M, upstream="ones")
    close(r.value, value)
    assert r.grad_fn == grad_fn
    close(r.grads["m"], grad)


def test_slice_bounds_from_expressions():
    r = evaluate("v[1:1+2]", {"v": [1.0, 2.0, 3.0, 4.0]}, upstream="ones")
    close(r.value, [2, 3])


# == array literals, stack, keywords, constants ====================================================

def test_array_literal_of_numbers_is_a_constant_tensor():
    r = evaluate("c = [[1, 2], [3, 4]]; sum(c * x)", {"x": 2.0})
    close(r.value, 20.0)
    close(r.grads["x"], 10.0)
    c = row(r, "c")
    assert c.is_leaf and not c.requires_grad and c.grad is None
    close(c.value, [[1, 2], [3, 4]])
    assert c.shape == (2, 2)


def test_array_literal_with_expressions_of_numbers():
    r = evaluate("[1 + 1, -2, 2**3, pi] * x", {"x": 1.0}, upstream="ones")
    close(r.value, [2, -2, 8, np.pi])


def test_array_literal_alone_does_not_require_grad():
    e = error("[1, 2, 3]", {"x": 1.0}, AutogradError)
    assert e.message.startswith(NOT_REQUIRING)


def test_array_literal_with_a_tensor_points_at_stack():
    e = error("y = 1\ny = [x, 2] * 2", {"x": 1.0}, InputError)
    assert e.message == ("array literal elements must be numbers; to build a tensor from "
                         "tensors use stack([...]) or cat([...])")
    assert (e.line, e.column) == (2, 5)


def test_array_literal_ragged():
    e = error("[[1, 2], [3]] * x", {"x": 1.0}, ShapeError)
    assert e.message == "array literal is ragged: every row needs the same length"
    assert (e.line, e.column) == (1, 1)


@pytest.mark.parametrize("program, shown", [
    ("[1, x.grad]", "None"), ("[True, 1]", "True"), ("[backward(x)]", "backward()'s result"),
])
def test_array_literal_with_non_numbers(program, shown):
    e = error(program, {"x": 1.0}, InputError)
    assert e.message == f"array literal elements must be numbers, got {shown}"


def test_stack():
    # stack([a*b, a+b]) with upstream [1, 10]: da = b + 10 = 13, db = a + 10 = 12
    r = evaluate("stack([a*b, a + b])", {"a": 2.0, "b": 3.0}, upstream=[1.0, 10.0])
    assert r.grad_fn == "StackBackward0"
    close(r.value, [6, 5])
    close(r.grads["a"], 13.0)
    close(r.grads["b"], 12.0)


def test_stack_with_dim_keyword_and_cat():
    r = evaluate("sum(stack([x, y], dim=1) * [[1, 2], [3, 4]])",
                 {"x": [1.0, 1.0], "y": [1.0, 1.0]})
    close(r.grads["x"], [1, 3])
    close(r.grads["y"], [2, 4])
    r = evaluate("cat([x, y * 2]).sum()", {"x": [1.0], "y": [1.0, 1.0]})
    close(r.grads["y"], [2, 2])


def test_keyword_arguments():
    r = evaluate("sum(m, dim=1, keepdim=True)", M, upstream=[[1.0], [2.0]])
    assert r.shape == (2, 1)
    close(r.value, [[6], [15]])
    close(r.grads["m"], [[1, 1, 1], [2, 2, 2]])
    r = evaluate("clamp(x, min=0)", {"x": [-1.0, 2.0]}, upstream="ones")
    assert r.grad_fn == "ClampBackward1"
    close(r.grads["x"], [0, 1])
    r = evaluate("clamp(x, max=1)", {"x": [-1.0, 2.0]}, upstream="ones")
    close(r.value, [-1, 1])
    close(r.grads["x"], [1, 0])


def test_keyword_arguments_of_autograd_statements():
    r = evaluate("y = x**3; g = grad(outputs=y, inputs=x, create_graph=True); "
                 "backward(tensor=g)", {"x": 2.0})
    close(r.grads["x"], 12.0)                    # d/dx 3x^2 = 6x


def test_shape_varargs_and_lists():
    for program in ("reshape(m, 3, 2)", "reshape(m, [3, 2])", "reshape(m, shape=[3, 2])",
                    "m.reshape(3, 2)", "view(m, -1, 2)"):
        r = evaluate(program, M, upstream="ones")
        assert r.shape == (3, 2), program
        assert r.grad_fn == "ViewBackward0"
    r = evaluate("ones(shape=2) * x", {"x": 3.0}, upstream="ones")
    close(r.value, [3, 3])
    r = evaluate("zeros(2, 3) + x", {"x": 3.0}, upstream="ones")
    close(r.grads["x"], 6.0)


def test_constants_pi_and_e():
    r = evaluate("pi*x + e", {"x": 2.0})
    close(r.value, 2 * np.pi + np.e)
    close(r.grads["x"], np.pi)


def test_a_binding_named_like_a_constant_wins():
    r = evaluate("e*x", {"x": 2.0, "e": 3.0})
    close(r.value, 6.0)
    close(r.grads["e"], 2.0)
    r = evaluate("pi*x", {"x": 2.0}, const={"pi": 3.0})
    close(r.grads["x"], 3.0)


def test_a_variable_named_like_a_constant_wins():
    r = evaluate("pi = 3; pi*x", {"x": 2.0})
    close(r.grads["x"], 3.0)


def test_comments_and_multiline_programs():
    program = """# a comment line
    y = x*x      # square
    ; ;
    z = (y +
         1)      # a bracket joins lines
    z
    """
    r = evaluate(program.replace("\n    ", "\n"), {"x": 2.0})
    close(r.value, 5.0)
    close(r.grads["x"], 4.0)


def test_statement_positions_in_multiline_programs():
    e = error("y = x*2\n\n  z = y + q\n", {"x": 1.0}, BindError)
    assert (e.line, e.column) == (3, 11)
    assert e.message == "unbound variable 'q': pass --q VALUE"


def test_power_and_signs():
    r = evaluate("-x**2 + 2^x", {"x": 3.0})
    close(r.value, -9 + 8)
    close(r.grads["x"], -6 + 8 * np.log(2))


def test_number_only_arithmetic_is_plain():
    r = evaluate("a = 2**10; b = a / 4 - 1; b*x", {"x": 1.0})
    close(r.value, 255.0)


def test_grad_fns_of_number_operands():
    cases = {"2 - x": "RsubBackward1", "x - 2": "SubBackward0", "2 / x": "MulBackward0",
             "x ** 2": "PowBackward0", "x ** x": "PowBackward1", "2 ** x": "PowBackward2",
             "-x": "NegBackward0", "x @ x": "DotBackward0"}
    for program, name in cases.items():
        r = evaluate(program, {"x": [2.0]} if "@" in program else {"x": 2.0},
                     upstream="ones" if "@" not in program else None)
        assert r.grad_fn == name, program


def test_no_grad_and_detach():
    r = evaluate("y = no_grad(x*x) * x + detach(x) * x", {"x": 3.0})
    close(r.value, 36.0)
    close(r.grads["x"], 12.0)                    # both constants: 9 + 3
    assert "detached" in " ".join(lr.note for lr in r.leaves)


def test_no_grad_restores_grad_mode():
    r = evaluate("y = no_grad(exp(x)); z = x*x; z", {"x": 1.0})
    assert r.grad_fn == "MulBackward0"
    close(r.grads["x"], 2.0)


def test_higher_order_by_backward_create_graph():
    # backward(y, create_graph=True) gives x.grad = 3x^2 with a graph; grad of it: 6x
    r = evaluate("y = x**3; backward(y, create_graph=True); g = x.grad; grad(g, x)",
                 {"x": 2.0})
    close(r.value, 12.0)
    close(r.grads["x"], 12.0)


def test_third_derivative():
    r = evaluate("y = x**4; a = grad(y, x, create_graph=True); "
                 "b = grad(a, x, create_graph=True); grad(b, x)", {"x": 2.0})
    close(r.value, 24 * 2.0)                     # d3/dx3 x^4 = 24x


def test_allow_unused():
    r = evaluate("y = x*2; g = grad(y, w, allow_unused=True); y", {"x": 1.0, "w": 1.0})
    assert r.grads == {"x": None, "w": None}
    e = error("y = x*2; grad(y, w)", {"x": 1.0, "w": 1.0}, AutogradError)
    assert e.message == ("The differentiated Tensor at index 0 appears to not have been used "
                         "in the graph. Set allow_unused=True if this is the desired "
                         "behavior.")
    assert (e.line, e.column) == (1, 10)


def test_python_api_evaluates_and_checks_on_request():
    import gradcli
    r = gradcli.evaluate("x*x", {"x": 3.0})
    close(r.grads["x"], 6.0)
    assert r.check is None                       # check=False by default (SPEC 6)
    r = gradcli.evaluate("x*x", {"x": 3.0}, check=True)
    assert r.check["status"] == "passed" and r.check["symbolic"] == {"x": "2*x"}


def test_bindings_accept_tensors_and_arrays():
    t = Tensor(np.array([1.0, 2.0]))
    r = evaluate("sum(a*b)", {"a": t, "b": np.array([3, 4])})
    close(r.grads["a"], [3, 4])
    close(r.grads["b"], [1, 2])
    assert r.grads["b"].dtype == np.float64      # int input, float tensor


def test_evaluating_a_parsed_program():
    from gradcli.lang.functions import FUNCTIONS
    from gradcli.lang.parser import parse
    program = parse("x*x*x", functions=FUNCTIONS)
    close(evaluate(program, {"x": 1.0}).grads["x"], 3.0)
    close(evaluate(program, {"x": 2.0}).grads["x"], 12.0)


def test_grad_mode_is_restored_after_an_error():
    from gradcli.autograd.grad_mode import is_grad_enabled
    with pytest.raises(GradcliError):
        evaluate("no_grad(exp(x, x))", {"x": 1.0})
    assert is_grad_enabled()
    with pytest.raises(GradcliError):
        evaluate("no_grad(q)", {"x": 1.0})
    assert is_grad_enabled()


# -- the language grown for PyTorch users (issue 11) ------------------------------------

def test_torch_and_f_prefixes_methods_and_attributes():
    r = evaluate("torch.sin(x) + F.relu(x) + x.exp()", {"x": 1.5})
    close(r.value, np.sin(1.5) + 1.5 + np.exp(1.5))
    close(r.grads["x"], np.cos(1.5) + 1 + np.exp(1.5))


def test_each_expression_statement_value_is_kept_in_order():
    r = evaluate("y = x**2; z = x; y.backward(); x.grad; z.backward(); x.grad",
                 {"x": 2.0})
    assert [(s.col, float(v.data)) for s, v in r.outputs] == [(32, 4.0), (54, 5.0)]
    close(r.value, 5.0)


def test_zero_item_is_leaf_and_print():
    r = evaluate("y = x**2; y.backward(); x.grad.zero_(); x.is_leaf; y.is_leaf; "
                 "print('value', y.item()); y.item()", {"x": 3.0})
    assert [v if not hasattr(v, "data") else float(v.data) for _, v in r.outputs] == \
        [0.0, True, False, 9.0]
    assert r.printed == "value 9.0\n"
    close(r.grads["x"], 0.0)


def test_a_leaf_made_with_torch_tensor_is_a_checked_variable():
    from gradcli.check import run_check
    r = evaluate("x2 = torch.tensor([2.0, 1.0], requires_grad=True); (x2 * x).sum()",
                 {"x": 3.0})
    close(r.grads["x2"], [3.0, 3.0])
    close(r.grads["x"], 3.0)
    report = run_check(r)
    assert report["status"] == "passed"
    assert report["variables"]["x2"]["status"] == "passed"


def test_python_statements_in_a_grad_program():
    r = evaluate("s = 0\nfor i in range(3):\n    s = s + x**i\ns", {"x": 2.0})
    close(r.value, 1 + 2 + 4)
    close(r.grads["x"], 0 + 1 + 4)          # d/dx (1 + x + x^2) at 2
    r = evaluate("def f(t):\n    return t * t if t > 0 else -t\nf(x)", {"x": -3.0})
    close(r.value, 3.0)
    close(r.grads["x"], -1.0)
