"""nn's modules and gradcli's seeded generator.

What PyTorch prints for modules comes from tests/data/nn/printing.json (written by
PyTorch 2.13, tests/data/nn/generate.py); the rest checks PyTorch's documented
behaviour: registration order, parameter names, zero_grad, train/eval, nn.Linear's
initial distribution, the loss modules against the functions, and a tutorial's training
loop.
"""

from __future__ import annotations

import json
import math
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import gradcli.autograd as ag
from gradcli.autograd import nn, nn_functional as F, optim
from gradcli.autograd import random as R
from gradcli.autograd.nn import Parameter
from gradcli.errors import GradcliError

PRINTING = json.loads((Path(__file__).parent / "data" / "nn" / "printing.json").read_text())


# ---- printing ------------------------------------------------------------------------------

def test_modules_print_as_pytorch():
    mlp = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    nested = nn.Sequential(nn.Sequential(nn.Linear(1, 2), nn.Tanh()), nn.Sigmoid(),
                           nn.Linear(2, 3, bias=False), nn.Softmax(dim=1))
    assert repr(mlp) == PRINTING["mlp"]
    assert repr(nested) == PRINTING["nested"]
    assert repr(nn.Sequential()) == PRINTING["empty"]
    modules = [nn.ReLU(), nn.ReLU(inplace=True), nn.Softmax(), nn.Softmax(dim=0),
               nn.MSELoss(), nn.L1Loss(), nn.CrossEntropyLoss(label_smoothing=0.1),
               nn.BCELoss(), nn.BCEWithLogitsLoss(), nn.NLLLoss()]
    assert [repr(m) for m in modules] == PRINTING["modules"]
    assert [n for n, _ in nested.named_parameters()] == PRINTING["named_parameters"]


def test_parameter_repr_is_pytorchs_prefix_and_the_tensor():
    p = Parameter(ag.tensor([1.0, 2.0]))
    first, rest = repr(p).split("\n", 1)
    assert first == PRINTING["parameter_prefix"]
    assert rest == ag.Tensor.__repr__(p)


def test_deep_nesting_needs_no_recursion():
    depth = 3 * sys.getrecursionlimit()
    model = nn.Linear(1, 1)
    for _ in range(depth):
        model = nn.Sequential(model)
    text = repr(model)
    assert text.count("Sequential(") == depth and text.endswith(")\n" + ")")
    assert len(list(model.parameters())) == 2
    assert next(model.named_parameters())[0] == ".".join(["0"] * depth + ["weight"])


# ---- registration ----------------------------------------------------------------------------

class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.scale = 2.0                        # a plain attribute, not registered
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(3, 1)
        self.extra = Parameter(ag.tensor([0.5]))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale + self.extra


def test_attributes_register_parameters_and_children_in_order():
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters()] == [
        "extra", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert [type(c).__name__ for c in m.modules()] == ["TwoLayer", "Linear", "Tanh", "Linear"]
    assert all(p.is_leaf and p.requires_grad for p in m.parameters())
    assert m.scale == 2.0 and "scale" not in m._parameters
    m.fc2 = nn.Linear(3, 2)                                   # replacing a child
    assert m.fc2.out_features == 2 and len(list(m.children())) == 3
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'extra'"):
        m.extra = ag.tensor([1.0])
    del m.act
    assert [n for n, _ in m.named_children()] == ["fc1", "fc2"]


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_calling_a_module_runs_forward_and_records_the_graph():
    m = TwoLayer()
    out = m(ag.tensor(np.ones((4, 2), dtype=np.float32), dtype=np.float32))
    assert out.shape == (4, 1) and out.grad_fn.name == "AddBackward0"
    out.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())      # PyTorch 2.x: set_to_none


def test_a_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required '
                                                  r'"forward" function'):
        nn.Module()(1)


def test_train_and_eval_set_every_submodule():
    m = TwoLayer()
    assert m.training and m.fc1.training
    assert m.eval() is m and not any(s.training for s in m.modules())
    m.train()
    assert all(s.training for s in m.modules())


def test_sequential_indexing_length_iteration_and_ordered_dict():
    layers = [nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    assert repr(model[1:]) == "Sequential(\n  (1): ReLU()\n  (2): Linear(in_features=2, " \
                              "out_features=1, bias=True)\n)"          # keys kept
    with pytest.raises(IndexError, match="index 3 is out of range"):
        model[3]
    named = nn.Sequential(OrderedDict([("hidden", nn.Linear(1, 2)), ("out", nn.Linear(2, 1))]))
    assert [n for n, _ in named.named_parameters()] == [
        "hidden.weight", "hidden.bias", "out.weight", "out.bias"]


def test_apply_visits_children_before_their_parent():
    seen = []
    model = nn.Sequential(nn.Sequential(nn.Linear(1, 1)), nn.ReLU())
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["ReLU", "Linear", "Sequential", "Sequential"]


def test_relu_inplace_rewrites_its_input_as_pytorch_does():
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    y = x * 1.0
    assert nn.ReLU(inplace=True)(y) is y and y.grad_fn.name == "ReluBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0])
    with pytest.raises(GradcliError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation."):
        F.relu(x, inplace=True)


def test_double_converts_parameters():
    model = nn.Sequential(nn.Linear(2, 2)).double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model(ag.tensor(np.ones((1, 2)))).dtype == np.float64


# ---- nn.Linear: PyTorch's initial distribution from gradcli's generator ---------------------

def test_linear_initial_values_are_uniform_within_pytorchs_bound():
    R.manual_seed(3)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.data, layer.bias.data
    assert w.shape == (300, 400) and b.shape == (300,) and w.dtype == np.float32
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    # U(-c, c): mean 0, variance c^2/3, each within 3 standard errors of 120 000 draws
    assert abs(w.mean()) < 3 * bound / math.sqrt(3 * w.size)
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.02)
    assert np.mean(w > 0) == pytest.approx(0.5, abs=0.01)


def test_the_same_seed_gives_the_same_model_and_data():
    def draw():
        R.manual_seed(42)
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        return [p.data.copy() for p in model.parameters()] + [R.randn(5, 3).data,
                                                               R.rand(2).data]
    first, second = draw(), draw()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    R.manual_seed(43)
    assert not np.array_equal(nn.Linear(3, 4).weight.data, first[0])


# ---- the generator --------------------------------------------------------------------------

def test_generator_functions_shapes_dtypes_and_ranges():
    g = R.manual_seed(7)
    assert repr(g).startswith("<torch._C.Generator object at 0x") and R.initial_seed() == 7
    u = R.rand(1000)
    assert u.dtype == np.float32 and u.shape == (1000,) and 0 <= u.data.min() < u.data.max() < 1
    assert R.rand((2, 3)).shape == R.rand([2, 3]).shape == R.rand(2, 3).shape == (2, 3)
    n = R.randn(2, 3, dtype=np.float64, requires_grad=True)
    assert n.dtype == np.float64 and n.requires_grad and n.is_leaf
    like = R.randn_like(n)
    assert like.shape == (2, 3) and like.dtype == np.float64 and not like.requires_grad
    assert R.rand_like(u).dtype == np.float32
    ints = R.randint(3, 7, (500,))
    assert ints.dtype == np.int64 and set(ints.data.tolist()) == {3, 4, 5, 6}
    assert R.randint(5, size=(4,)).data.max() < 5
    assert sorted(R.randperm(6).data.tolist()) == list(range(6))


def test_generator_errors_are_pytorchs():
    with pytest.raises(GradcliError, match=r"Trying to create tensor with negative dimension "
                                           r"-1: \[2, -1\]"):
        R.rand(2, -1)
    with pytest.raises(GradcliError, match="random_ expects 'from' to be less than 'to'"):
        R.randint(3, 3, (2,))


def test_normal_and_uniform_fill_in_place_without_recording():
    p = Parameter(np.zeros(2000, dtype=np.float32))
    version = p._version
    R.manual_seed(0)
    R.normal_(p, mean=1.0, std=2.0)
    assert p._version == version + 1 and p.is_leaf and p.dtype == np.float32
    assert p.data.mean() == pytest.approx(1.0, abs=0.15) and p.data.std() == pytest.approx(
        2.0, rel=0.05)
    R.uniform_(p, -3.0, -2.0)
    assert -3.0 <= p.data.min() and p.data.max() <= -2.0


# ---- loss modules are the functions -------------------------------------------------------------

@pytest.mark.parametrize("module, function, target", [
    (nn.MSELoss(reduction="sum"), lambda x, t: F.mse_loss(x, t, reduction="sum"), "float"),
    (nn.L1Loss(), F.l1_loss, "float"),
    (nn.BCEWithLogitsLoss(pos_weight=ag.tensor([2.0, 1.0, 0.5])),
     lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=ag.tensor(
         [2.0, 1.0, 0.5])), "prob"),
    (nn.BCELoss(weight=ag.tensor([1.0, 2.0, 3.0])),
     lambda x, t: F.binary_cross_entropy(F.sigmoid(x), t, weight=ag.tensor([1.0, 2.0, 3.0])),
     "prob"),
    (nn.CrossEntropyLoss(label_smoothing=0.1, ignore_index=2),
     lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1, ignore_index=2), "index"),
    (nn.NLLLoss(weight=ag.tensor([0.2, 0.3, 0.5])),
     lambda x, t: F.nll_loss(x, t, weight=ag.tensor([0.2, 0.3, 0.5])), "index"),
])
def test_loss_modules_compute_their_functions(module, function, target):
    rng = np.random.default_rng(5)
    x = ag.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    t = {"float": ag.tensor(rng.normal(size=(4, 3))), "prob": ag.tensor(rng.uniform(size=(4, 3))),
         "index": np.array([0, 2, 1, 1])}[target]
    if isinstance(module, nn.BCELoss):
        got = module(F.sigmoid(x), t)
    else:
        got = module(x, t)
    want = function(x, t)
    assert got.grad_fn.name == want.grad_fn.name
    np.testing.assert_array_equal(got.data, want.data)


def test_legacy_size_average_and_reduce_pick_the_reduction_with_a_warning():
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"


# ---- a tutorial's training loop --------------------------------------------------------------

def fit_line(make_optimizer, epochs=200):
    """y = 2x + 3 on 100 points with Linear(1, 16) - ReLU - Linear(16, 1), MSELoss."""
    R.manual_seed(0)
    x = R.rand(100, 1) * 4 - 2
    y = 2 * x + 3
    model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = make_optimizer(model.parameters())
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses


@pytest.mark.parametrize("make_optimizer", [lambda p: optim.SGD(p, lr=0.01),
                                            lambda p: optim.Adam(p, lr=0.01)],
                         ids=["SGD", "Adam"])
def test_training_fits_a_line(make_optimizer):
    model, losses = fit_line(make_optimizer)
    assert losses[-1] < losses[0] / 100
    assert all(np.isfinite(losses))
    pred = model(ag.tensor(np.array([[0.5]], dtype=np.float32), dtype=np.float32))
    assert pred.item() == pytest.approx(4.0, abs=0.25)
    again, losses_again = fit_line(make_optimizer)        # seeded: repeats exactly
    assert losses_again == losses
