"""dtypes, PyTorch's type promotion and the Tensor methods of ``gradcli run``.

Each program of ``tests/data/engine/dtype_cases.py`` runs on gradcli and must describe
exactly as PyTorch described it in ``dtype.json``: result dtypes under both default
float dtypes, values (float32 ones to the last bit), errors and their messages.
"""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest

import gradcli.autograd as ag
from gradcli.autograd import functional as F

from engine_programs import describe, differences

DATA = os.path.join(os.path.dirname(__file__), "data", "engine", "dtype.json")
with open(DATA) as _f:
    EXPECTED = json.load(_f)


@pytest.mark.parametrize("case_id", sorted(EXPECTED))
def test_like_pytorch(case_id):
    case = EXPECTED[case_id]
    got = describe(case["source"], "gradcli")
    # float32 math functions (exp, tanh, ...) may differ in the last bit or two: PyTorch
    # computes them with MKL, gradcli with numpy (measured in test_float32_ulps.py)
    assert differences(case["expected"], got, rtol=0, atol=0, f32_rtol=2.5e-7) == [], \
        case["source"]


def test_a_function_of_a_number_is_a_weak_number():
    """x * exp(0.5) with x float32 stays float32: exp(0.5) is computed in float64 (a
    Python number, as math.exp gives it) and rounded to float32 for the product."""
    x = ag.tensor(1.1, dtype="float32", requires_grad=True)
    y = x * F.exp(0.5)
    assert y.dtype == np.float32
    assert y.item() == float(np.float32(1.1) * np.float32(np.exp(0.5)))
    assert y.item() == 1.8135933876037598          # PyTorch 2.13's value
    y.backward()
    assert x.grad.dtype == np.float32 and x.grad.item() == float(np.float32(np.exp(0.5)))


def test_default_dtype_is_per_thread():
    seen = {}

    def other():
        seen["other"] = ag.get_default_dtype()

    with ag.default_dtype("float32"):
        assert F.ones(2).dtype == np.float32 and ag.tensor(1.5).dtype == np.float32
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen["other"] == np.float64 and ag.get_default_dtype() == np.float64
    assert ag.tensor(1.5).dtype == np.float64


def test_a_script_leaves_the_default_dtype_as_it_found_it():
    """A script runs with float32 as PyTorch's default and may set another; afterwards the
    Python API is as before (unset: float64 tensors, float32 nn parameters), not left
    with an explicit setting that nn and rand would follow."""
    from gradcli.autograd import dtypes
    from gradcli.autograd.nn import Linear
    from gradcli.lang.script import run_script
    assert dtypes.default_if_set() is None
    out, error = run_script("import torch\ntorch.set_default_dtype(torch.float64)\n"
                            "print(torch.ones(1).dtype)\n")
    assert error is None and out == "torch.float64\n"
    assert dtypes.default_if_set() is None
    assert Linear(2, 1).weight.data.dtype == np.float32
    with dtypes.default_dtype(np.float32):
        assert dtypes.default_if_set() == np.float32
    assert dtypes.default_if_set() is None
