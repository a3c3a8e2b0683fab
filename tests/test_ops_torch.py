"""The ops of SPEC 3.9 against PyTorch 2.13 (tests/data/ops/*.json, written once by
tests/data/ops/generate*.py; torch is never imported here).

For each case: through the Python API, the value, the grad_fn tree and the gradients for
PyTorch's upstream; through the language (``gradcli.evaluate``), the same value and
gradients and the SymPy check passing (``skipped`` for a point at a kink); and second
derivatives (create_graph) against finite differences of the first, at points hypothesis
draws around the case's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradcli
import gradcli.autograd as ag
from gradcli.autograd import functional as F

# ops.json (generate.py) and one file per further group of ops (generate_GROUP.py)
FILES = [json.loads(p.read_text()) for p in
         sorted((Path(__file__).parent / "data" / "ops").glob("*.json"))]
CASES = [case for data in FILES for case in data["cases"]]
TOL = dict(rtol=1e-12, atol=1e-13)
CHECKED = 24                    # elements up to which a case also runs the SymPy check


def array(spec) -> np.ndarray:
    return np.asarray(spec["data"], dtype=spec["dtype"]).reshape(spec["shape"])


def graph(fn):
    if fn is None:
        return None
    root = [fn.name, []]
    stack = [(fn, root)]
    while stack:
        node, out = stack.pop()
        for nxt, _ in node.next_functions:
            child = None if nxt is None else [nxt.name, []]
            out[1].append(child)
            if nxt is not None:
                stack.append((nxt, child))
    return root


def ids(cases):
    return [c["id"] for c in cases]


def leaves(case) -> list:
    """Float arguments require grad; bool and integer ones (masks, indices) do not."""
    return [ag.tensor(array(a), requires_grad=a["dtype"].startswith("float"))
            for a in case["args"]]


def _resolve(a, xs):
    return xs[a["arg"]] if isinstance(a, dict) else a


def call(case, xs) -> list:
    """The case's call through the Python API (its ``call`` order of positional
    arguments, if it has one), its outputs as a list (one per part of a tuple)."""
    order = case.get("call")
    args = xs if order is None else [_resolve(a, xs) for a in order]
    kwargs = {k: _resolve(v, xs) for k, v in case["kwargs"].items()}
    out = F.NAMESPACE[case["fn"]](*args, **kwargs)
    return list(out) if case.get("parts") else [out]


def per_part(case, key: str) -> list:
    return case[key] if case.get("parts") else [case[key]]


def upstreams(case) -> list:
    return [ag.tensor(array(u)) for u in per_part(case, "upstream")]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_python_api_matches_pytorch(case):
    xs = leaves(case)
    outs = call(case, xs)
    assert len(outs) == len(per_part(case, "value"))
    for out, value, tree in zip(outs, per_part(case, "value"), per_part(case, "graph")):
        want = array(value)
        assert out.shape == want.shape and out.dtype == want.dtype
        np.testing.assert_allclose(out.data, want, **TOL)
        assert graph(out.grad_fn) == tree
    if not any(out.requires_grad for out in outs):   # an integer result (argmax): no grad
        assert all(spec is None for spec in case["grads"])
        return
    grads = ag.grad(outs, [x for x in xs if x.requires_grad], grad_outputs=upstreams(case),
                    allow_unused=True)
    for got, spec in zip(grads, case["grads"]):
        if spec is None:
            assert got is None
        else:
            np.testing.assert_allclose(got.data, array(spec), **TOL)


def _literal(v) -> str:
    return repr(v) if isinstance(v, (str, bool, int, float)) else json.dumps(v)


def program(case) -> tuple:
    """The call as a program; a bool argument is bound as 0/1 and written ``(xi > 0.5)``."""
    names = [f"x{i}" for i in range(len(case["args"]))]
    values = [array(a) for a in case["args"]]
    written = [f"({n} > 0.5)" if v.dtype == bool else n for n, v in zip(names, values)]

    def text(a):
        return written[a["arg"]] if isinstance(a, dict) else _literal(a)
    order = case.get("call")
    args = written if order is None else [text(a) for a in order]
    args = args + [f"{k}={text(v)}" for k, v in case["kwargs"].items()]
    bindings = {n: (v.astype(np.float64) if v.dtype == bool else v)
                for n, v in zip(names, values)}
    return f"{case['fn']}({', '.join(args)})", bindings, {
        n for n, v in zip(names, values) if v.dtype.kind != "f"}


def _integer_result(case) -> bool:
    return not any(v["dtype"].startswith("float") for v in per_part(case, "value"))


SMALL = [c for c in CASES if sum(np.prod(a["shape"]) for a in c["args"]) <= CHECKED]


@pytest.mark.parametrize("case", SMALL, ids=ids(SMALL))
def test_programs_match_pytorch_and_pass_the_check(case):
    """A tuple result (``parts``) runs as one program per part, ``split(x, 2)[k]``; the
    parts' gradients add up to PyTorch's for all of them."""
    text, bindings, constants = program(case)
    const = {k: v for k, v in bindings.items() if k in constants}
    bindings = {k: v for k, v in bindings.items() if k not in const}
    if _integer_result(case):       # argmax: its value only (nothing to differentiate)
        result = gradcli.evaluate(text, bindings, const=const, implicit_backward=False)
        np.testing.assert_array_equal(result.value, array(case["value"]))
        return
    parts = per_part(case, "value")
    texts = [f"{text}[{k}]" for k in range(len(parts))] if case.get("parts") else [text]
    totals = {}
    for text, value, up in zip(texts, parts, per_part(case, "upstream")):
        upstream = array(up)
        result = gradcli.evaluate(text, bindings, const=const,
                                  upstream=upstream if upstream.ndim else None, check=True)
        np.testing.assert_allclose(result.value, array(value), **TOL)
        for name in bindings:
            if result.grads[name] is None:      # a part backward never takes to it
                continue                        # (slogdet's sign)
            g = np.asarray(result.grads[name]) * (1 if upstream.ndim else upstream)
            totals[name] = totals.get(name, 0) + g
        status = result.check["status"]
        if not case["kink"]:
            assert status == "passed", result.check
        else:   # the elements at a kink are skipped, the others (if any) pass
            assert status in ("skipped", "partial") and result.check["failed"] == [], \
                result.check
            entries = result.check["variables"].values()
            assert any(e["checked"] < e["elements"] for e in entries), result.check
            assert all(e["status"] in ("passed", "partial", "skipped") for e in entries)
    for name, spec in zip(bindings, case["grads"]):
        if spec is not None:
            np.testing.assert_allclose(totals[name], array(spec), rtol=1e-12, atol=1e-12)


# ---- second derivatives: create_graph against differences of the first ------------------

H = 1e-6
SMOOTH = [c for c in CASES if not c["kink"] and len(c["args"][0]["shape"]) == 1 and
          not _integer_result(c) and all(a["dtype"].startswith("float") for a in c["args"])]


def _first(case, arrays, upstream):
    xs = [ag.tensor(a, requires_grad=True) for a in arrays]
    return xs, ag.grad(call(case, xs), xs, grad_outputs=upstream, create_graph=True)


@pytest.mark.parametrize("case", SMOOTH, ids=ids(SMOOTH))
@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_second_derivatives_match_differences(case, data):
    base = [array(a) for a in case["args"]]
    # around the case's point, never more than half way to 0 (lgamma's 0.001 sits next
    # to a pole, where a difference quotient is no reference)
    arrays = [b + np.minimum(0.05, np.abs(b) / 2) * np.asarray(data.draw(st.lists(
                  st.floats(-1, 1), min_size=b.size, max_size=b.size))).reshape(b.shape)
              for b in base]
    upstream = upstreams(case)
    v = [np.asarray(data.draw(st.lists(st.floats(-1, 1), min_size=a.size, max_size=a.size)))
         .reshape(a.shape) for a in arrays]
    xs, firsts = _first(case, arrays, upstream)
    inner = sum(ag.functional.sum(g * ag.tensor(vi)) for g, vi in zip(firsts, v))
    # a piecewise-linear op's gradient is constant in x: nothing to differentiate
    hvp = ag.grad(inner, xs, allow_unused=True) if inner.requires_grad else [None] * len(xs)
    for k, a in enumerate(arrays):
        want = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            moved = [b.copy() for b in arrays]
            moved[k][idx] += H
            up = _first(case, moved, upstream)[1]
            moved[k][idx] -= 2 * H
            down = _first(case, moved, upstream)[1]
            want[idx] = sum(np.sum((u.data - d.data) * vi) for u, d, vi in zip(up, down, v)) \
                / (2 * H)
        got = np.zeros_like(a) if hvp[k] is None else hvp[k].data
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_data_is_pytorchs():
    assert FILES and all(data["torch"].startswith("2.13") for data in FILES)
