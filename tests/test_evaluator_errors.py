"""Errors of the evaluator: message, kind and position (SPEC 2, 3.3-3.6), limits, and the
long chain that must evaluate without recursion (SPEC 2, last paragraph)."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from gradcli.errors import (AutogradError, BindError, GradcliError, InputError, LimitError,
                            ParseError, ShapeError)
from gradcli.lang.evaluator import evaluate
from gradcli.lang.pyops import ScriptError

B = {"x": 2.0, "v": [1.0, 2.0, 3.0], "m": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}


def error(program, bindings=None, **kw) -> GradcliError:
    with pytest.raises(GradcliError) as info:
        evaluate(program, B if bindings is None else bindings, **kw)
    return info.value


def check(program, cls, message, line, column, bindings=None, **kw) -> GradcliError:
    e = error(program, bindings, **kw)
    assert type(e) is cls, (type(e), e.message)
    assert e.kind == cls.kind
    assert e.message == message
    assert (e.line, e.column) == (line, column)
    assert e.source == program
    return e


def caret_target(e: GradcliError) -> str:
    """The character the caret of e.context() points at."""
    text, pointer = e.context().split("\n")
    col = pointer.index("^")
    return text[col]


@pytest.fixture
def default_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(old)


# -- names ---------------------------------------------------------------------------------

def test_unbound_variable():
    e = check("y = x3 + 1", BindError, "unbound variable 'x3': pass --x3 VALUE", 1, 5)
    assert caret_target(e) == "x"
    assert e.context() == "  y = x3 + 1\n      ^"


def test_unbound_variable_on_a_later_line():
    e = check("y = x*2\n\n  z = y + q\n", BindError, "unbound variable 'q': pass --q VALUE",
              3, 11)
    assert e.context() == "  " + "  z = y + q" + "\n" + "  " + " " * 10 + "^"
    assert e.where() == "line 3, column 11"


def test_unbound_variable_reports_the_first():
    check("x1 + x3", BindError, "unbound variable 'x1': pass --x1 VALUE", 1, 1)


def test_a_function_used_as_a_value():
    check("exp + 1", BindError, "'exp' is a function: call it, e.g. exp(x)", 1, 1)


def test_unknown_function_with_suggestion():
    e = check("y = exp(x)\nz = tahn(y)", ParseError,
              "unknown function 'tahn' — did you mean 'tanh'?", 2, 5)
    assert caret_target(e) == "t"


def test_unknown_method_with_suggestion():
    check("x.summ()", ParseError, "unknown function 'summ' — did you mean 'sum'?", 1, 3)


def test_unknown_function_without_suggestion():
    check("foo(x)", ParseError, "unknown function 'foo'", 1, 1)


def test_unknown_attribute():
    e = check("v.foo + 1", ScriptError, "'Tensor' object has no attribute 'foo'", 1, 3)
    assert e.python_name == "AttributeError"
    e = check("v.sumn()", ParseError, "unknown function 'sumn' — did you mean 'sum'?", 1, 3)


# -- arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("program, message, column", [
    ("exp(x, x)", "exp() takes at most 1 argument but 2 were given", 1),
    ("clamp(x, 1, 2, 3)", "clamp() takes at most 3 arguments but 4 were given", 1),
    ("1 + sum()", "sum() missing required argument 'input'", 5),
    ("backward()", "backward() missing required argument 'tensor'", 1),
    ("grad(x)", "grad() missing required argument 'inputs'", 1),
    ("reshape(m)", "reshape() missing required argument 'shape'", 1),
    ("logsumexp(m)", "logsumexp() missing required argument 'dim'", 1),
    ("maximum(x)", "maximum() missing required argument 'other'", 1),
    ("exp(x, foo=1)", "exp() got an unexpected keyword argument 'foo'", 8),
    ("sum(v, dim=0, keepdim=True, out=1)", "sum() got an unexpected keyword argument 'out'",
     29),
    ("exp(x, input=x)", "exp() got multiple values for argument 'input'", 8),
    ("exp(x, x=x)", "exp() got an unexpected keyword argument 'x'", 8),
    ("sum(v, 0, dim=0)", "sum() got multiple values for argument 'dim'", 11),
    ("sum(v, keepdim=3)", "sum(): keepdim must be True or False", 1),
    ("backward(x, create_graph=2)", "backward(): create_graph must be True or False", 1),
    ("clamp(x, min=v)", "clamp(): min must be a number", 1),
    ("clamp(x)", "clamp: at least one of 'min' or 'max' must not be None", 1),
    ("stack(v)", "stack() expects a list of tensors, e.g. stack([a, b])", 1),
    ("stack([])", "stack() expects a non-empty list of tensors", 1),
    ("sum(v, dim=x)", "sum(): dim must be an integer, got a tensor of shape []", 1),
    ("ones(2.5)", "ones(): shape must be an integer, got 2.5", 1),
    ("softmax(v, [0])", "softmax(): dim must be one integer", 1),
    ("stack([v], None)", "stack(): dim must be an integer, got None", 1),
    ("softmax(v, dim=None)", "softmax(): dim must be an integer, got None", 1),
    ("zero_grad(1)", "zero_grad() needs a tensor, got 1", 1),
    ("y = backward(x)", "backward() has no value to assign", 5),
    ("backward(x*x) + 1", "backward() has no value", 15),
    ("True * x", "True cannot be used as a number here", 6),
    ("2 @ 3", "@ needs tensors of at least one dimension, not numbers", 3),
])
def test_argument_errors(program, message, column):
    e = error(program)
    assert isinstance(e, InputError), (type(e), e.message)
    assert e.kind == "input"
    assert e.message == message
    assert (e.line, e.column) == (1, column)


def test_keyword_error_caret_points_at_the_keyword():
    e = error("exp(x, foo=1)")
    assert caret_target(e) == "f"


def test_duplicate_keyword_is_a_parse_error():
    check("sum(v, dim=0, dim=1)", ParseError, "duplicate keyword argument 'dim'", 1, 15)


# -- indices and shapes ------------------------------------------------------------------------

@pytest.mark.parametrize("program, cls, message, column", [
    ("v[3]", ShapeError, "index 3 is out of bounds for dimension 0 with size 3", 2),
    ("v[-4]", ShapeError, "index -4 is out of bounds for dimension 0 with size 3", 2),
    ("m[2, 0]", ShapeError, "index 2 is out of bounds for dimension 0 with size 2", 2),
    ("m[0, 3]", ShapeError, "index 3 is out of bounds for dimension 1 with size 3", 2),
    ("m[0, 0, 0]", ShapeError, "too many indices for tensor of dimension 2", 2),
    ("v[1.5]", InputError, "index must be an integer, got 1.5", 2),
    ("v[x]", InputError, "index must be an integer, got a tensor of shape []", 2),
    ("v['a']", InputError, "index must be an integer, got 'a'", 2),
    ("v[0:x]", InputError, "slice bound must be an integer, got a tensor of shape []", 3),
    ("v[::0]", InputError, "step must be greater than zero", 2),
    ("v[::-1]", InputError, "step must be greater than zero", 2),
    ("x.grad[0]", InputError, "None cannot be used as a value here (a .grad is None until "
                              "a backward pass reaches its tensor, and a non-leaf's stays None "
                              "unless retain_grad() was called on it)", 7),
])
def test_index_errors(program, cls, message, column):
    e = error(program)
    assert type(e) is cls and e.message == message, (type(e), e.message)
    assert (e.line, e.column) == (1, column)
    assert caret_target(e) == program[column - 1]


@pytest.mark.parametrize("program, message, column", [
    ("v + m.T", "add: the size of tensor a (3) must match the size of tensor b (2) at "
                "non-singleton dimension 1 (shapes [3] and [3, 2])", 3),
    ("m @ m", "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)", 3),
    ("v @ m", "mat1 and mat2 shapes cannot be multiplied (1x3 and 2x3)", 3),
    ("x @ v", "both arguments to matmul need to be at least 1D, but they are 0D and 1D", 3),
    ("matmul(2, 3)", "both arguments to matmul need to be at least 1D, but they are 0D and "
                     "0D", 1),
    ("dot(v, m)", "1D tensors expected, but got 1D and 2D tensors", 1),
    ("reshape(m, 4)", "shape '[4]' is invalid for input of size 6", 1),
    ("stack([v, m])", "stack expects each tensor to be equal size, but got [3] at entry 0 "
                      "and [2, 3] at entry 1", 1),
    ("cat([x, x])", "zero-dimensional tensor (at position 0) cannot be concatenated", 1),
    ("sum(v, 1)", "Dimension out of range (expected to be in range of [-1, 0], but got 1)",
     1),
    ("trace(v)", "trace: expected a matrix, but got tensor with dim 1", 1),
    ("ones(-1)", "Trying to create tensor with negative dimension -1: [-1]", 1),
    ("y = 1; y = [[1, 2], [3]] * x", "array literal is ragged: every row needs the same "
                                     "length", 12),
    ("backward(v, [1, 2])", "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) "
                            "and output[0] has a shape of torch.Size([3]).", 1),
])
def test_shape_errors(program, message, column):
    e = error(program, upstream="ones")
    assert type(e) is ShapeError, (type(e), e.message)
    assert e.kind == "shape"
    assert e.message == message
    assert (e.line, e.column) == (1, column)


def test_upstream_shape_error_names_both_shapes():
    e = error("v*2", upstream=[[1.0, 2.0, 3.0]])
    assert type(e) is ShapeError
    assert "[1, 3]" in e.message and "[3]" in e.message


# -- autograd errors ---------------------------------------------------------------------------

SECOND = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the "
          "graph are freed when you call .backward() or autograd.grad(). Specify "
          "retain_graph=True if you need to backward through the graph a second time or if "
          "you need to access saved tensors after calling backward.")


def test_second_backward():
    e = check("y = x*x; backward(y); backward(y)", AutogradError, SECOND, 1, 23)
    assert caret_target(e) == "b"


def test_second_backward_after_grad():
    check("y = x**3; g = grad(y, x); backward(y)", AutogradError, SECOND, 1, 27)


def test_second_backward_through_a_node_that_saved_nothing_runs_again():
    # SPEC 3.3: an add saved nothing, so a second backward through it works
    r = evaluate("y = x + x; backward(y); backward(y)", {"x": 1.0})
    assert float(r.grads["x"]) == 4.0


def test_implicit_scalar_error_in_backward():
    check("y = v*2; backward(y)", AutogradError,
          "grad can be implicitly created only for scalar outputs", 1, 10)


def test_implicit_scalar_error_of_the_implicit_backward():
    check("y = 1\ny = v*2", AutogradError,
          "grad can be implicitly created only for scalar outputs (the output has shape "
          "[3]: pass --upstream ones, or a gradient of that shape)", 2, 1)


@pytest.mark.parametrize("program, column", [
    ("backward(x.data)", 1), ("y = 2; backward(detach(x) * 2)", 8),
    ("y = no_grad(x*x); y.backward()", 21),
])
def test_does_not_require_grad(program, column):
    check(program, AutogradError,
          "element 0 of tensors does not require grad and does not have a grad_fn", 1, column)


def test_does_not_require_grad_of_the_implicit_backward():
    check("y = x*2; ones_like(y)", AutogradError,
          "element 0 of tensors does not require grad and does not have a grad_fn (the "
          "output does not depend on any variable that requires grad)", 1, 10)


def test_wrt_nothing_means_nothing_requires_grad():
    e = error("x*x", {"x": 1.0}, wrt=[])
    assert isinstance(e, AutogradError)


def test_requires_grad_on_non_leaf():
    check("y = x*2; requires_grad_(y, False)", AutogradError,
          "you can only change requires_grad flags of leaf variables. If you want to use a "
          "computed variable in a subgraph that doesn't require differentiation use "
          "var_no_grad = var.detach().", 1, 10)


def test_retain_grad_without_requires_grad():
    check("retain_grad(x.data)", AutogradError,
          "can't retain_grad on Tensor that has requires_grad=False", 1, 1)


def test_grad_of_an_input_that_does_not_require_grad():
    check("grad(x*x, x.data)", AutogradError,
          "One of the differentiated Tensors does not require grad", 1, 1)


def test_grad_of_an_unused_input():
    check("y = x*x\ngrad(y, v)", AutogradError,
          "The differentiated Tensor at index 0 appears to not have been used in the graph. "
          "Set allow_unused=True if this is the desired behavior.", 2, 1)


def test_inplace_on_a_leaf():
    check("y = 1; x += 1", AutogradError,
          "a leaf Variable that requires grad is being used in an in-place operation.", 1, 8)


def test_inplace_modified_saved_value():
    e = check("y = exp(x); y += 1; y", AutogradError,
              "one of the variables needed for gradient computation has been modified by an "
              "inplace operation: [torch.DoubleTensor []], which is output 0 of Exp, is "
              "at version 1; expected version 0 instead. Hint: enable anomaly detection to "
              "find the operation that failed to compute its gradient, with "
              "torch.autograd.set_detect_anomaly(True, check_nan=False).", 1, 21)
    assert caret_target(e) == "y"


def test_inplace_modified_saved_input():
    # mul saves both inputs; b is modified after being saved
    e = error("b = v*1; c = b*b; b += 1; backward(sum(c))")
    assert isinstance(e, AutogradError)
    assert e.message.startswith("one of the variables needed for gradient computation has "
                                "been modified by an inplace operation")
    assert (e.line, e.column) == (1, 27)


def test_assignment_to_an_input():
    e = check("y = 1\nv = y", BindError, "cannot assign to 'v': it is an input variable",
              2, 1)
    assert caret_target(e) == "v"


# -- bindings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("bindings, message", [
    ({"__x": 1.0}, "'__x' is not a valid variable name (letters, digits and _; not "
                   "starting with __)"),
    ({"2x": 1.0}, "'2x' is not a valid variable name (letters, digits and _; not starting "
                  "with __)"),
    ({"x": "1"}, "--x: expected a number or an array of numbers, got '1'"),
    ({"x": None}, "--x: expected a number or an array of numbers, got None"),
    ({"x": True}, "--x: expected a number or an array of numbers, got True"),
    ({"x": [1, None]}, "--x: expected a number or an array of numbers, got None in the "
                       "array"),
    ({"x": ["1", "2"]}, "--x: expected a number or an array of numbers, got '1' in the "
                        "array"),
    ({"x": [[1, 2], [3]]}, "--x: expected a number or a rectangular array of numbers (rows "
                           "of equal length)"),
    ({"x": 2 ** 1100}, "--x: a number is too large for float64"),
    ({"x": np.array(["a"])}, "--x: expected numbers, got an array of <U1"),
    ({"x": {"a": 1}}, "--x: expected a number or an array of numbers, got {'a': 1}"),
])
def test_binding_errors(bindings, message):
    e = error("1", bindings)
    assert type(e) is BindError and e.message == message, (type(e), e.message)
    assert e.line is None


def test_binding_big_but_finite_ints_are_fine():
    r = evaluate("x*1", {"x": 2 ** 70})
    assert float(r.value) == 2.0 ** 70


# -- limits -------------------------------------------------------------------------------------

def test_nesting_200_is_fine_201_is_a_limit_error(default_recursion_limit):
    r = evaluate("(" * 200 + "x" + ")" * 200, {"x": 2.0})
    assert float(r.grads["x"]) == 1.0
    e = check("(" * 201 + "x" + ")" * 201, LimitError,
              "expression nested too deeply (over 200 levels)", 1, 201, {"x": 2.0})
    assert caret_target(e) == "("


@pytest.mark.parametrize("build", [
    lambda n: "exp(" * n + "x" + ")" * n,
    lambda n: "x**" * n + "1",
    lambda n: "-" * n + "x",
    lambda n: "sum(" + "[(" * (n // 2) + "1" + ")]" * (n // 2) + ")*x",
    lambda n: "x*" + "c[" * n + "0" + "]" * n,
])
def test_nesting_limit_of_calls_powers_signs_and_brackets(build, default_recursion_limit):
    if "[(" not in build(2):                     # (a literal 100 deep is over 32 dims)
        evaluate(build(200), {"x": 0.5}, const={"c": [0.0]})
    e = error(build(202), {"x": 0.5}, const={"c": [0.0]})
    assert type(e) is LimitError and e.kind == "limit"
    assert e.message == "expression nested too deeply (over 200 levels)"


def test_program_over_one_megabyte():
    program = "x+" * 500_000 + "x"               # 1 000 001 bytes
    check(program, LimitError, "program is 1000001 bytes; the limit is 1000000", 1, 1,
          {"x": 1.0})


def test_program_of_one_megabyte_evaluates():
    program = "y = x*x   # " + "é" * 499_993 + "\ny"   # 1 000 000 bytes in UTF-8
    assert len(program.encode("utf-8")) == 1_000_000
    r = evaluate(program, {"x": 3.0})
    assert float(r.grads["x"]) == 6.0
    e = error(program + " ", {"x": 3.0})
    assert type(e) is LimitError and e.message == "program is 1000001 bytes; the limit is " \
        "1000000"


def test_array_literal_dimensions_limit():
    r = evaluate("sum(" + "[" * 32 + "1" + "]" * 32 + ") * x", {"x": 1.0})
    assert float(r.value) == 1.0
    check("y = 1; " + "[" * 33 + "1" + "]" * 33 + " * x", LimitError,
          "array literal has over 32 dimensions; the limit is 32", 1, 8, {"x": 1.0})
    deep = 1.0
    for _ in range(33):
        deep = [deep]
    e = error("x", {"x": deep})
    assert type(e) is LimitError and e.message == "--x: over 32 dimensions; the limit is 32"
    assert evaluate("sum(x)", {"x": deep[0]}).shape == ()


@pytest.mark.parametrize("bindings, message", [
    ({"x": [1, 2, 3]}, "--x: 3 elements; the limit is 2"),
    ({"x": np.ones(3)}, "--x: 3 elements; the limit is 2"),
    ({"x": [[1, 2], [3, 4]]}, "--x: over 2 elements; the limit is 2"),
])
def test_bound_tensor_size_limit(bindings, message):
    e = error("x", bindings, max_elements=2)
    assert type(e) is LimitError and e.message == message


def test_const_tensor_size_limit():
    e = error("1", {}, const={"c": [1, 2, 3]}, max_elements=2)
    assert type(e) is LimitError and e.message == "--c: 3 elements; the limit is 2"


@pytest.mark.parametrize("program, message, column", [
    ("[1, 2, 3, 4, 5] * x", "array literal has 5 elements; the limit is 4", 1),
    ("ones(5) * x", "a tensor of shape [5] has 5 elements; the limit is 4", 1),
    ("zeros(2, 3) * x", "a tensor of shape [2, 3] has 6 elements; the limit is 4", 1),
    ("ones(0, 5) * x", "a tensor of shape [0, 5] has a dimension over the limit of 4 "
                       "elements", 1),
    ("reshape(v, 3, 1) * v", "the result would have 9 elements; the limit is 4", 18),
    ("reshape(v, 3, 1) @ reshape(v, 1, 3)", "the result would have 9 elements; the limit "
                                            "is 4", 18),
    ("maximum(reshape(v, 3, 1), v)", "the result would have 9 elements; the limit is 4", 1),
    ("cat([v, v])", "the result would have 6 elements; the limit is 4", 1),
    ("stack([v, v])", "the result would have 6 elements; the limit is 4", 1),
    ("c = reshape(zeros(3), 1, 3); c += reshape(v, 3, 1)",
     "the result would have 9 elements; the limit is 4", 30),
])
def test_tensor_size_limit_in_programs(program, message, column):
    e = error(program, {"x": 1.0, "v": [1.0, 2.0, 3.0]}, max_elements=4, upstream="ones")
    assert type(e) is LimitError, (type(e), e.message)
    assert e.message == message
    assert (e.line, e.column) == (1, column)


def test_default_size_limit_refuses_huge_tensors_without_allocating():
    for program in ("ones(10**9) * x", "zeros(2**40) * x", "ones(10**20) * x",
                    "ones(0, 10**20) * x"):
        e = error(program, {"x": 1.0})
        assert type(e) is LimitError, (program, e.message)
        assert "the limit is 100000000" in e.message or "limit of 100000000" in e.message
    e = error("reshape(ones(20000), 20000, 1) * ones(20000)", {"x": 1.0})
    assert type(e) is LimitError
    assert e.message == "the result would have 400000000 elements; the limit is 100000000"


def test_within_the_limit_is_fine():
    r = evaluate("ones(2, 2) * x", {"x": 1.0}, max_elements=4, upstream="ones")
    assert r.shape == (2, 2)
    r = evaluate("reshape(v, 2, 1) * v", {"v": [1.0, 2.0]}, max_elements=4, upstream="ones")
    assert r.shape == (2, 2)


# -- context() -------------------------------------------------------------------------------

def test_context_caret_under_the_column():
    e = error("y = x*2; z = y @ v")
    assert type(e) is ShapeError
    assert e.context() == "  y = x*2; z = y @ v\n                 ^"
    assert caret_target(e) == "@"
    assert e.where() == "column 16"


def test_context_of_a_long_line_keeps_the_caret_on_target():
    program = "x+" * 100 + "q + " + "x+" * 100 + "x"
    e = error(program)
    assert e.column == 201
    assert caret_target(e) == "q"
    text, pointer = e.context().split("\n")
    assert len(text) <= 80


def test_context_without_a_position_is_empty():
    e = error("x", {"x": 1.0}, of="nothing")
    assert e.line is None and e.context() == ""


def test_errors_serialise():
    e = error("y = q")
    assert e.to_dict() == {"kind": "bind", "message": "unbound variable 'q': pass --q VALUE",
                           "line": 1, "column": 5}


# -- the long chain ----------------------------------------------------------------------------

def _chain(n: int):
    program = "+".join(["x"] * n)
    start = time.process_time()
    r = evaluate(program, {"x": 2.0})
    elapsed = time.process_time() - start
    assert float(r.value) == 2.0 * n
    assert float(r.grads["x"]) == float(n)
    assert len(r.graph) == n                     # the leaf and n - 1 additions
    assert r.graph[-1].grad_fn == "AddBackward0"
    assert r.graph[-1].name == f"%{n - 1}"
    return elapsed


def test_long_chain_evaluates_and_scales_linearly(default_recursion_limit):
    t1 = _chain(100_000)
    t2 = _chain(200_000)
    assert t2 / t1 < 4, (t1, t2)


def test_long_chain_with_retain_grad_and_mixed_ops(default_recursion_limit):
    n = 20_000
    program = "y = " + "+".join(["x*x"] * n) + "\ny"
    r = evaluate(program, {"x": 3.0}, retain_grad=True)
    assert float(r.value) == 9.0 * n
    assert float(r.grads["x"]) == 6.0 * n
    assert all(g.grad is not None for g in r.graph)


# -- hints for the usual typing mistakes (issue 16) --------------------------------------

@pytest.mark.parametrize("program, message", [
    ("ln(x)", "unknown function 'ln' — did you mean 'log'?"),
    ("arctan(x)", "unknown function 'arctan' — did you mean 'atan'?"),
    ("sine(x)", "unknown function 'sine' — did you mean 'sin'?"),
    ("sin x", "expected ';' or a new line, found 'x' (to call sin, write sin(x))"),
    ("x \u2212 1", "unexpected character '\u2212' (minus sign): write '-'"),
    ("x\u00b2", "unexpected character '\u00b2' (superscript two): write '**2'"),
    ("2 \u00d7 x", "unexpected character '\u00d7' (multiplication sign): write '*'"),
    ("x*2,5", "the output is a tuple of 2 values (a comma separates them): did you mean "
              "2.5? (decimals take a point)"),
])
def test_typing_mistakes_get_a_hint(program, message):
    assert error(program, {"x": 2.0}).message == message


def test_bound_names_the_program_never_reads_are_listed():
    r = evaluate("x * 2", {"x": 1.0, "y": 3.0, "X": 2.0})
    assert r.unused == ["y", "X"]
