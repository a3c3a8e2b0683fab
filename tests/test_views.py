"""Views, shared storage and in-place updates (SPEC 3.8) against PyTorch.

Each program of ``tests/data/engine/view_cases.py`` runs on gradcli and must describe
exactly as PyTorch described it in ``view.json`` (written once by ``make_expected.py``):
the same error at the same statement with the same message, and for every tensor the
same values, gradients, grad_fn names, flags and versions.  Values and gradients are
derived independently below for the issue's examples.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import gradcli.autograd as ag
from gradcli.autograd import functional as F
from gradcli.errors import AutogradError

from engine_programs import describe, differences   # tests/ is on the path (rootdir)

DATA = os.path.join(os.path.dirname(__file__), "data", "engine", "view.json")
with open(DATA) as _f:
    EXPECTED = json.load(_f)


@pytest.mark.parametrize("case_id", sorted(EXPECTED))
def test_like_pytorch(case_id):
    case = EXPECTED[case_id]
    got = describe(case["source"], "gradcli")
    assert differences(case["expected"], got) == [], case["source"]


# ---- the examples, derived by hand ---------------------------------------------

def test_inplace_through_a_view_reaches_the_base():
    # t = 2x = [2, 4]; v = t[0] += 1 -> t = [3, 4]; L = 9 + 16 = 25
    # dL/dt = 2t = [6, 8]; t[0] = 2x0 + 1, t[1] = 2x1 -> dL/dx = [12, 16]
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    t = x * 2
    v = t[0]
    v += 1
    L = F.sum(t * t)
    L.backward()
    assert L.item() == 25.0
    np.testing.assert_array_equal(x.grad.data, [12.0, 16.0])
    assert t.grad_fn.name == "CopySlices" and v.grad_fn.name == "AsStridedBackward0"
    assert t._version == v._version == 1 and v._base is t


def test_detach_shares_storage_and_version():
    # d += 1 changes t's value to [3, 5] but not its history (t = 2x):
    # L = sum(t * x) = 3 + 10 = 13; dL/dx = t + 2x = [5, 9]
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    t = x * 2
    d = F.detach(t)
    d += 1
    L = F.sum(t * x)
    L.backward()
    assert L.item() == 13.0
    np.testing.assert_array_equal(x.grad.data, [5.0, 9.0])
    assert t._version == d._version == 1


def test_detach_modifying_a_saved_output_is_the_inplace_error():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    t = F.exp(x)
    d = t.detach()
    d += 1
    with pytest.raises(AutogradError, match=r"output 0 of Exp, is at version 1; expected "
                                            r"version 0 instead"):
        F.sum(t).backward()


def test_torch_data_has_its_own_version_counter():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    t = F.exp(x)
    d = t.torch_data
    d *= 100
    F.sum(t).backward()                   # no error: the change went unnoticed
    np.testing.assert_allclose(x.grad.data, 100 * np.exp([1.0, 2.0]))
    assert t._version == 0 and d._version == 1


def test_views_share_memory_for_every_view_kind():
    t = ag.tensor(np.arange(12.0).reshape(3, 4))
    views = [t[1], t[1:], t[:, 2], t.T, t.reshape(4, 3), F.transpose(t, 0, 1),
             F.permute(t, 1, 0), F.unsqueeze(t, 0), F.squeeze(F.unsqueeze(t, 0)),
             F.expand(t[0:1], 3, 4), F.diagonal(t), F.narrow(t, 1, 1, 2), t.view(12),
             F.reshape(t.T, 2, 2, 3), F.detach(t), t.torch_data]
    for v in views:
        assert np.shares_memory(v.data, t.data)
        assert v.storage_key is t.storage_key
    assert not np.shares_memory(F.reshape(t.T, 12).data, t.data)   # a copy, as in PyTorch
