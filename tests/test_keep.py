"""A run keeps only what is asked for (issue 14): large intermediates become summaries,
what the user sees does not change, and the check replays the program."""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcli
from gradcli.autograd.summary import ArraySummary
from gradcli.autograd.tensor_str import PrintOptions, format_body
from gradcli.cli.jsonout import result_object
from gradcli.lang.evaluator import evaluate

PROGRAM = "sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w)"


def _inputs(n: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(n) for name in ("x", "w", "b")}


def _arrays_held(result, size: int) -> int:
    """How many distinct arrays of ``size`` elements ``result`` reaches (modules and
    classes, which reach everything, are not followed)."""
    seen, stack, found = set(), [result], set()
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, (type, type(sys))):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            base = o if o.base is None else o.base
            if o.size == size or getattr(base, "size", 0) == size:
                found.add(id(base))
            continue
        stack.extend(gc.get_referents(o))
    return len(found)


def test_a_result_keeps_the_inputs_and_gradients_not_the_intermediates():
    n = 5000
    summary = evaluate(PROGRAM, _inputs(n))
    # the three leaves (copies of the bindings) and their three gradients, nothing else
    assert _arrays_held(summary, n) == 6
    assert summary.summarised == 6          # w*x, +b, tanh, **2, sigmoid, *w
    everything = evaluate(PROGRAM, _inputs(n), keep="all")
    assert everything.summarised == 0
    assert _arrays_held(everything, n) == 12


def test_small_runs_keep_every_value():
    result = evaluate(PROGRAM, _inputs(1000))
    assert result.summarised == 0
    assert all(isinstance(row.value, np.ndarray) for row in result.graph)


def test_a_deleted_result_frees_its_arrays_at_once_without_the_garbage_collector():
    result = evaluate(PROGRAM, _inputs(2000))
    leaf = weakref.ref(result.variables["x"])
    node = weakref.ref(result.graph[-1].node)
    gc.disable()
    try:
        del result
        assert leaf() is None and node() is None       # no cycle held them
    finally:
        gc.enable()


def test_summaries_hold_the_statistics_of_the_values():
    inputs = _inputs(3000, seed=3)
    summary = evaluate(PROGRAM, inputs)
    everything = evaluate(PROGRAM, inputs, keep="all")
    assert [r.name for r in summary.graph] == [r.name for r in everything.graph]
    for s, a in zip(summary.graph, everything.graph):
        if isinstance(s.value, ArraySummary):
            assert s.value.shape == a.value.shape and s.value.dtype == a.value.dtype
            assert s.value.min == a.value.min() and s.value.max == a.value.max()
            assert s.value.mean == a.value.mean()
        else:
            np.testing.assert_array_equal(s.value, a.value)
    for name, grad in everything.grads.items():
        np.testing.assert_array_equal(summary.grads[name], grad)


def test_the_json_object_is_the_same_whatever_is_kept():
    inputs = _inputs(1500, seed=5)
    summary = result_object(evaluate(PROGRAM, inputs), graph=True)
    everything = result_object(evaluate(PROGRAM, inputs, keep="all"), graph=True)
    assert summary == everything
    row = summary["graph"][3]
    assert row["value"]["summary"] is True and row["value"]["shape"] == [1500]


def test_a_stand_in_cannot_be_used_as_values():
    result = evaluate(PROGRAM, _inputs(2000))
    summary = result.graph[3].value
    with pytest.raises(TypeError, match="only a summary"):
        np.asarray(summary)
    assert result.graph[3].tensor.shape == (2000,)
    assert result.graph[3].tensor.grad_fn.name == "MulBackward0"


_shapes = st.sampled_from([(1001,), (2000,), (40, 30), (3, 400), (7, 8, 20), (2, 3, 4, 50),
                           (1, 1001), (1200, 1)])


@settings(max_examples=60, deadline=None)
@given(shape=_shapes, dtype=st.sampled_from(["float64", "float32", "int64", "bool"]),
       scale=st.sampled_from([1e-6, 1.0, 1e5, 1e9]), seed=st.integers(0, 2 ** 16),
       special=st.booleans(), precision=st.integers(0, 10))
def test_a_summary_prints_exactly_as_the_array(shape, dtype, scale, seed, special, precision):
    """PyTorch decides widths and modes from the printed elements only, so the edges a
    summary keeps print byte for byte as the whole array does."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * scale
    if special and dtype.startswith("float"):
        a.reshape(-1)[::97] = np.nan
        a.reshape(-1)[5::89] = -np.inf
    a = a.astype(dtype) if dtype != "bool" else a > 0
    for width in (80, 60, 10 ** 6):
        options = PrintOptions(precision=precision, linewidth=width)
        assert format_body(ArraySummary.of(a), options=options) == \
            format_body(a, options=options)


_X = {"x": np.array([-1.0, 0.5, 2.0])}


@pytest.mark.parametrize("program, bindings", [
    # a small input (the symbolic route), a 1200-element intermediate
    ("sum(tanh(x.expand(400, 3) * 2)**2)", _X),
    # a kink in the large intermediate: x[1] skipped, as with every value kept
    ("sum(relu(x.expand(400, 3)))", {"x": np.array([-1.0, 0.0, 2.0])}),
    # an in-place update of a large intermediate
    ("z = x.expand(400, 3) * 1; z.mul_(2); sum(z**3)", _X),
    # dropout: the replay draws the run's masks again
    ("sum(dropout(x.expand(400, 3), 0.5, True)**2)", _X),
])
def test_the_check_replays_the_program_and_agrees_with_a_run_that_kept_everything(
        program, bindings):
    from gradcli.autograd.random import default_generator
    state = default_generator.snapshot()
    summary = gradcli.evaluate(program, bindings, check=True)
    default_generator.restore(state)          # (the same dropout masks in both runs)
    everything = gradcli.evaluate(program, bindings, check=True, keep="all")
    assert summary.summarised > 0 and everything.summarised == 0
    np.testing.assert_equal(summary.check, everything.check)
    assert summary.check["method"] == "symbolic"
    assert summary.check["status"] == ("partial" if "relu" in program else "passed")


@pytest.mark.parametrize("program", ["sum(tanh(x.expand(400, 3) * 2)**2)",
                                     "sum(tanh(x.expand(4, 300) * 2)**2)"])
def test_a_wrong_gradient_still_fails_the_check_after_a_summarised_run(program):
    """The check compares the run's own gradients, not the replay's (the symbolic route,
    and the numeric one past 256 elements)."""
    from gradcli.check import run_check
    bindings = {"x": np.array([-1.0, 0.5, 2.0] * (1 if "400, 3" in program else 100))}
    result = evaluate(program, bindings)
    assert result.summarised
    result.grads["x"] = result.grads["x"].copy()
    result.grads["x"][1] *= 1 + 1e-3
    report = run_check(result)
    assert report["status"] == "failed" and report["failed"] == ["x"]


def test_matrices_check_after_a_summarised_run():
    bindings = {"v": np.linspace(-1, 1, 8), "W": np.linspace(-1, 1, 8 * 1200).reshape(1200, 8)}
    jac = gradcli.jacobian("tanh(W @ v)", bindings, wrt=["v"], check=True)
    assert jac.shape == (1200, 8) and jac.check["status"] == "passed"


def test_keep_must_be_known():
    with pytest.raises(ValueError, match="keep must be one of"):
        evaluate("x*2", {"x": 1.0}, keep="some")


# -- during the run: what the program has let go of is freed at once ---------------------

_RELEASE_PROGRAMS = [
    PROGRAM,
    "y = w*x\ny = y + b\nz = y*y\nsum(z) + sum(y)",
    "y = x*w*0.1\ny.mul_(2)\nsum(y*b)",
    "y = x*w\nv = y[3:1500]\nv.mul_(3)\nsum(y)",
    "y = (x*w).detach()\nsum(y*b)",
    "a, c = split(x*w, 1000)\nsum(a*c[:1000]) + sum(b)",
    "y = cat([x*w, b*2])\nsum(y**2)",
    "y = x*w\ny.retain_grad()\nsum(y*b)",
    "g = grad(sum(sin(x*w)), x, create_graph=True)[0]\nsum(g*b)",
    "y = no_grad(x*w)\nsum(y*b + x)",
    "s = sum((x*w)**2)\nbackward(s)\nsum(x*b)",
    "stack([x*w, b]).sum(0).mean() + (x*x).max()",
    "y = x*w\nm = y.reshape(20, -1)\nsum(m.T @ m[:, :3])",
    "y = x*w\ny2 = y\ndel_ = 0\nsum(y2 * b)",
]


@pytest.mark.parametrize("program", _RELEASE_PROGRAMS)
def test_what_is_freed_during_the_run_changes_nothing_the_user_sees(program):
    """Large results the program no longer refers to become summaries while it runs
    (aliases, views, in-place updates, multi-output ops, lists, retained grads, grad()
    with create_graph, explicit backward); the JSON, graph rows and gradients are those
    of a run that kept everything."""
    inputs = _inputs(2000, seed=7)
    summary = evaluate(program, inputs)
    everything = evaluate(program, inputs, keep="all")
    assert summary.summarised > 0
    assert result_object(summary, graph=True) == result_object(everything, graph=True)
    assert [(r.name, r.grad_fn, r.inputs) for r in summary.graph] == \
        [(r.name, r.grad_fn, r.inputs) for r in everything.graph]
    for name, grad in everything.grads.items():
        np.testing.assert_array_equal(summary.grads[name], grad)


def test_intermediates_are_freed_while_the_program_runs_not_when_it_ends():
    """At the first backward step a summarised run holds the arrays the bare engine
    holds (the inputs and the two saved results, tanh's and sigmoid's), not every
    intermediate; numpy's allocations are traced by tracemalloc."""
    import tracemalloc
    from gradcli.autograd import functional as F
    from gradcli.autograd.tensor import Tensor
    n = 100_000
    inputs = _inputs(n, seed=2)
    arrays = 8 * n

    def held_at_backward(keep):
        seen = []
        start = tracemalloc.get_traced_memory()[0]
        result = evaluate(PROGRAM, inputs, keep=keep, copy=False,    # (as the CLI)
                          on_node=lambda *a: seen.append(
                              tracemalloc.get_traced_memory()[0]) if not seen else None)
        del result
        return (seen[0] - start) / arrays

    tracemalloc.start()
    try:
        summary, everything = held_at_backward("summary"), held_at_backward("all")
        start = tracemalloc.get_traced_memory()[0]
        x, w, b = (Tensor._make(inputs[k], None).requires_grad_() for k in "xwb")
        loss = F.sum(F.tanh(w * x + b) ** 2) + F.mean(F.sigmoid(x) * w)
        engine = (tracemalloc.get_traced_memory()[0] - start) / arrays
        del loss
    finally:
        tracemalloc.stop()
    assert round(engine) == 2
    assert summary < engine + 0.2
    assert everything > engine + 3.8          # w*x, +b, **2 and sigmoid*w as well
