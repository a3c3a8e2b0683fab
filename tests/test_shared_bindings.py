"""evaluate shares the caller's arrays, as torch.from_numpy does (issue 14): no copy of a
large input, never a change to it, and a program that writes into one runs on copies."""

from __future__ import annotations

import numpy as np
import pytest

import gradcli
from gradcli.autograd.random import default_generator
from gradcli.lang.evaluator import evaluate


def _arrays(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal(5), "c": rng.standard_normal(5)}


def test_the_leaves_are_read_only_views_of_the_callers_arrays():
    a = _arrays()
    result = evaluate("sum(x*c)", {"x": a["x"]}, const={"c": a["c"]})
    leaf = result.variables["x"].data
    assert np.shares_memory(leaf, a["x"]) and not leaf.flags.writeable
    assert a["x"].flags.writeable                      # the caller's own array unchanged
    np.testing.assert_array_equal(result.grads["x"], a["c"])


@pytest.mark.parametrize("program, grad", [
    # a constant changed in place, a variable's detach() and .data aliases, a view's alias
    ("c.add_(1)\nsum(c*x)", lambda x, c: c + 1),
    ("x.detach().add_(1)\nsum(x*x)", lambda x, c: 2 * (x + 1)),
    ("x.data.mul_(2)\nsum(x*c)", lambda x, c: c),
    ("y = x[1:3]\ny.data.zero_()\nsum(x*x)", lambda x, c: 2 * np.r_[x[0], 0, 0, x[3:]]),
])
def test_a_program_that_writes_into_an_input_runs_on_copies(program, grad):
    a = _arrays(1)
    kept = {k: v.copy() for k, v in a.items()}
    shared = evaluate(program, {"x": a["x"]}, const={"c": a["c"]})
    copied = evaluate(program, {"x": kept["x"].copy()}, const={"c": kept["c"].copy()},
                      copy=True)
    for k in a:                                        # the caller's arrays: untouched
        np.testing.assert_array_equal(a[k], kept[k])
    np.testing.assert_array_equal(shared.grads["x"], copied.grads["x"])
    np.testing.assert_allclose(shared.grads["x"], grad(kept["x"], kept["c"]), rtol=1e-15)
    assert shared.variables["x"].data.flags.writeable      # the copy, not the caller's


def test_the_run_on_copies_draws_the_same_random_numbers():
    """dropout before the write: the second run starts from the generator's state of the
    first, so the result is what one run on copies gives."""
    a = np.linspace(1, 2, 2000)
    program = "y = dropout(x, 0.5, True)\nc.add_(1)\nsum(y*c)"
    state = default_generator.snapshot()
    shared = evaluate(program, {"x": a}, const={"c": a.copy()})
    default_generator.restore(state)
    copied = evaluate(program, {"x": a}, const={"c": a.copy()}, copy=True)
    np.testing.assert_array_equal(shared.grads["x"], copied.grads["x"])
    assert 0 < np.count_nonzero(shared.grads["x"]) < a.size


def test_the_check_after_a_shared_run():
    a = _arrays(2)
    result = gradcli.evaluate("sum(tanh(x*c)**2)", {"x": a["x"]}, const={"c": a["c"]},
                              check=True)
    assert result.check["status"] == "passed"


def test_copy_true_and_false_as_before():
    a = _arrays(3)
    copied = evaluate("sum(x*2)", {"x": a["x"]}, copy=True).variables["x"].data
    used = evaluate("sum(x*2)", {"x": a["x"]}, copy=False).variables["x"].data
    assert not np.shares_memory(copied, a["x"]) and copied.flags.writeable
    assert used is a["x"]


def test_a_read_only_or_strided_input_is_shared_or_copied_as_it_must_be():
    a = np.arange(10.0)
    a.flags.writeable = False
    leaf = evaluate("sum(x*x)", {"x": a}).variables["x"].data
    assert np.shares_memory(leaf, a)
    strided = np.arange(10.0)[::2]                     # not contiguous: copied
    leaf = evaluate("sum(x*x)", {"x": strided}).variables["x"].data
    assert not np.shares_memory(leaf, strided) and leaf.flags.c_contiguous


def test_an_observer_of_backward_steps_sees_one_run():
    a = _arrays(4)
    program = "s = sum(x*c)\nbackward(s)\nc.add_(1)\nsum(x*c)"
    seen = {True: [], "borrow": []}
    for copy in seen:
        evaluate(program, {"x": a["x"]}, const={"c": a["c"]}, copy=copy,
                 on_node=lambda node, g, grads, copy=copy: seen[copy].append(node.name))
    assert seen["borrow"] == seen[True] and seen[True]
