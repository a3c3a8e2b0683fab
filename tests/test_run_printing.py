"""Printing in scripts: random straight-line scripts that build tensors and print them
must show exactly what the repr rules (gradcli.autograd.tensor_str, itself checked
against 2584 reprs PyTorch printed) give for the same values; and the tensors of the
PyTorch-written corpus, typed into a script, print as PyTorch printed them."""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli.autograd.tensor_str import tensor_repr
from gradcli.lang.script import run_script

CORPUS = pathlib.Path(__file__).resolve().parent / "data" / "torch" / "repr_cases.jsonl"


def literal(x: float) -> str:
    if math.isnan(x):
        return "float('nan')"
    if math.isinf(x):
        return "float('inf')" if x > 0 else "-float('inf')"
    return repr(x)


def nested(array: np.ndarray) -> str:
    if array.ndim == 0:
        return literal(float(array)) if array.dtype.kind == "f" else repr(array.item())
    return "[" + ", ".join(nested(a) for a in array) + "]"


MAGNITUDES = st.sampled_from([1e-5, 1e-3, 0.1, 1.0, 10.0, 1e3, 1e6])
VALUES = st.one_of(
    st.builds(lambda m, u: m * u, MAGNITUDES, st.floats(-1, 1, allow_nan=False)),
    st.integers(-1000, 1000).map(float),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.0]))
SHAPES = st.sampled_from([(), (1,), (3,), (7,), (2, 3), (4, 2), (1, 5)])


@st.composite
def arrays(draw):
    shape = draw(SHAPES)
    n = int(np.prod(shape))
    return np.array(draw(st.lists(VALUES, min_size=n, max_size=n)),
                    dtype=np.float64).reshape(shape)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrays(), st.sampled_from(["float32", "float64"]), st.booleans(),
       st.sampled_from(["", " * 2", " + 1", "[0]" ]))
def test_scripts_print_as_the_repr_rules_say(data, dtype, requires_grad, op):
    if op == "[0]" and data.ndim == 0:
        op = ""
    script = (f"import torch\nx = torch.tensor({nested(data)}, dtype=torch.{dtype}, "
              f"requires_grad={requires_grad})\nprint(x{op})\n")
    out, error = run_script(script)
    assert error is None, error
    x = data.astype(dtype)
    value = {"": x, " * 2": x * np.asarray(2, dtype), " + 1": x + np.asarray(1, dtype),
             "[0]": x[0] if x.ndim else x}[op]
    grad_fn = None
    if requires_grad and op:
        grad_fn = {" * 2": "MulBackward0", " + 1": "AddBackward0",
                   "[0]": "SelectBackward0"}[op]
    expected = tensor_repr(np.asarray(value), requires_grad=requires_grad and not op,
                           grad_fn=grad_fn, default_dtype="float32")
    assert out == expected + "\n"


def test_the_pytorch_corpus_typed_into_scripts():
    """Every corpus tensor given by its data (not the summarised ones), as a script
    would write it, prints as PyTorch 2.13 printed it."""
    checked = 0
    for line in CORPUS.read_text().splitlines():
        case = json.loads(line)
        if "data" not in case or case["grad_fn"] or case["dtype"] not in (
                "float32", "float64", "int64", "bool"):
            continue
        data = np.array(case["data"], dtype=object)
        data = np.vectorize(lambda v: {"NaN": math.nan, "Infinity": math.inf,
                                       "-Infinity": -math.inf}.get(v, v),
                            otypes=[object])(data) if data.size else data
        array = np.array(data.tolist(), dtype=case["dtype"]).reshape(case["shape"])
        text = nested(array) if array.size else "[]"
        if not array.size and array.ndim != 1:
            continue                 # a literal cannot say (2, 0): torch.zeros can
        script = (f"import torch\nprint(torch.tensor({text}, dtype=torch.{case['dtype']}, "
                  f"requires_grad={case['requires_grad']}))\n")
        out, error = run_script(script)
        assert error is None, (script, error)
        assert out == case["repr"] + "\n", script
        checked += 1
    assert checked > 1000


def test_linspace_gives_pytorchs_values_to_the_last_bit():
    """torch.linspace rounds each value once (a fused multiply-add, counting up to the
    middle and down after it); tests/data/torch/linspace.json was written by PyTorch."""
    import json
    from pathlib import Path
    from gradcli.lang.script import run_script
    cases = json.loads((Path(__file__).parent / "data" / "torch" /
                        "linspace.json").read_text())
    lines = ["import torch"] + [
        f"print(torch.linspace({c['start']!r}, {c['end']!r}, {c['steps']}, "
        f"dtype=torch.{c['dtype']}).tolist())" for c in cases]
    printed, error = run_script("\n".join(lines) + "\n")
    assert error is None
    got = [json.loads(line) for line in printed.splitlines()]     # Python's float repr
    assert got == [c["values"] for c in cases]
