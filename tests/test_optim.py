"""SGD and Adam against trajectories PyTorch 2.13 recorded (tests/data/nn/optim.json).

Two small models with explicit initial weights train for 20 steps under each optimizer
setting; PyTorch recorded the gradients it computed and the parameters after each step.

* Replay: fed PyTorch's own gradients, gradcli's SGD reproduces every parameter to the
  last bit (its kernels: fused multiply-adds with the hyperparameters rounded to
  float32 first).  Adam differs by an ulp here and there because PyTorch's float32
  sqrt (MKL's vsSqrt) is faithfully but not correctly rounded: about 1 result in 6 is
  one ulp off numpy's correctly rounded sqrt.  Tolerance: 8 units of float32 roundoff
  (2**-24) of the tensor's largest element, normwise, i.e. 4 ulps; measured at most 3.8
  over 20 steps.
* End to end: gradcli's own forward and backward (numpy's BLAS and summation order, not
  MKL's) give gradients within a few float32 roundings; over 20 steps of training the
  parameters stay within 64 units of float32 roundoff of PyTorch's, normwise (measured
  at most ~36, on the gradient-ascent run, whose parameters grow).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import gradcli.autograd as ag
from gradcli.autograd import nn, optim
from gradcli.autograd.nn import Parameter
from gradcli.errors import GradcliError

DATA = json.loads((Path(__file__).parent / "data" / "nn" / "optim.json").read_text())
RUNS = DATA["runs"]
PRINTING = json.loads((Path(__file__).parent / "data" / "nn" / "printing.json").read_text())
EPS32 = 2.0 ** -24           # half an ulp of 1.0 in float32: unit roundoff


def array(spec) -> np.ndarray:
    return np.asarray(spec["data"], dtype=spec["dtype"]).reshape(spec["shape"])


def make_optimizer(run, params):
    kwargs = dict(run["kwargs"])
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    return getattr(optim, run["optimizer"])(params, **kwargs)


def normwise(got, want) -> float:
    """max |got - want| in units of float32 roundoff of want's largest element."""
    return float(np.max(np.abs(got - want)) / (EPS32 * max(np.max(np.abs(want)), 1e-30)))


@pytest.mark.parametrize("run", RUNS, ids=[r["id"] for r in RUNS])
def test_replaying_pytorchs_gradients_reproduces_its_parameters(run):
    params = [Parameter(array(w).copy()) for w in run["initial"]]
    opt = make_optimizer(run, params)
    for k, step in enumerate(run["steps"]):
        for p, g in zip(params, step["grads"]):
            p.grad = ag.tensor(array(g), dtype=np.float32)
        opt.step()
        for i, (p, want) in enumerate(zip(params, step["params"])):
            assert p.dtype == np.float32
            if run["optimizer"] == "SGD":
                np.testing.assert_array_equal(p.data, array(want),
                                              err_msg=f"step {k}, parameter {i}")
            else:
                assert normwise(p.data, array(want)) <= 8, f"step {k}, parameter {i}"


def build(run):
    sizes, act = run["spec"]["sizes"], {"relu": nn.ReLU, "tanh": nn.Tanh}[run["spec"]["act"]]
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), act(), nn.Linear(sizes[1], sizes[2]))
    for p, w in zip(model.parameters(), run["initial"]):
        p.data = array(w).copy()
    return model


@pytest.mark.parametrize("run", RUNS, ids=[r["id"] for r in RUNS])
def test_training_end_to_end_follows_pytorchs_trajectory(run):
    model = build(run)
    opt = make_optimizer(run, model.parameters())
    loss_fn = nn.MSELoss()
    x, y = ag.tensor(array(run["x"])), ag.tensor(array(run["y"]))
    for k, step in enumerate(run["steps"]):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        assert loss.item() == pytest.approx(step["loss"], rel=64 * EPS32)
        opt.step()
        for i, (p, want) in enumerate(zip(model.parameters(), step["params"])):
            assert normwise(p.data, array(want)) <= 64, f"step {k}, parameter {i}"


def test_sgd_steps_are_the_textbook_update_in_float64():
    """No float32 rounding to hide behind: momentum, dampening, weight decay, Nesterov."""
    p = Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    value, buf = np.array([1.0, -2.0]), None
    for g in (np.array([0.5, 0.25]), np.array([-1.0, 2.0]), np.array([0.0, 1.0])):
        p.grad = ag.tensor(g)
        opt.step()
        d = g + 0.01 * value
        buf = d.copy() if buf is None else 0.9 * buf + d
        value = value - 0.1 * (d + 0.9 * buf)
        np.testing.assert_allclose(p.data, value, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].data, buf, rtol=1e-15)


def test_adam_steps_are_the_textbook_update_in_float64():
    p = Parameter(np.array([0.5, -1.5]))
    opt = optim.Adam([p], lr=0.01, betas=(0.8, 0.9), eps=1e-6)
    value, m, v = np.array([0.5, -1.5]), 0.0, 0.0
    for t, g in enumerate((np.array([1.0, -0.5]), np.array([0.25, 2.0])), start=1):
        p.grad = ag.tensor(g)
        opt.step()
        m, v = 0.8 * m + 0.2 * g, 0.9 * v + 0.1 * g * g
        value = value - 0.01 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.9 ** t)) + 1e-6)
        np.testing.assert_allclose(p.data, value, rtol=1e-14)
    assert opt.state[p]["step"].item() == 2.0


def test_zero_grad_sets_none_by_default_or_zeros_in_place():
    p = Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    grad = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is grad and np.array_equal(p.grad.data, np.zeros(3))
    opt.zero_grad()
    assert p.grad is None
    opt.step()                                     # no gradient: nothing moves
    np.testing.assert_array_equal(p.data, np.ones(3))


def test_param_groups_carry_their_own_hyperparameters_and_can_be_changed():
    a, b = Parameter(np.array([1.0])), Parameter(np.array([1.0]))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    for p in (a, b):
        p.grad = ag.tensor([1.0])
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5])
    opt.param_groups[0]["lr"] = 0.2                  # a learning-rate schedule does this
    opt.step()
    assert a.item() == pytest.approx(0.7)


def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss():
    p = Parameter(np.array([3.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    with ag.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and p.item() == pytest.approx(1.5)


def test_updates_are_in_place_and_not_recorded():
    p = Parameter(np.array([1.0, 2.0]))
    version = p._version
    p.grad = ag.tensor([1.0, 1.0])
    optim.Adam([p]).step()
    assert p.is_leaf and p.grad_fn is None and p.requires_grad and p._version > version


@pytest.mark.parametrize("name", sorted(PRINTING["optimizer_errors"]))
def test_bad_hyperparameters_are_pytorchs_errors(name):
    want = PRINTING["optimizer_errors"][name]
    model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    makers = {
        "sgd-lr": lambda: optim.SGD(model.parameters(), lr=-0.1),
        "sgd-momentum": lambda: optim.SGD(model.parameters(), lr=0.1, momentum=-1),
        "sgd-weight_decay": lambda: optim.SGD(model.parameters(), weight_decay=-1),
        "sgd-nesterov": lambda: optim.SGD(model.parameters(), lr=0.1, nesterov=True),
        "adam-lr": lambda: optim.Adam(model.parameters(), lr=-1.0),
        "adam-eps": lambda: optim.Adam(model.parameters(), eps=-1.0),
        "adam-beta0": lambda: optim.Adam(model.parameters(), betas=(1.0, 0.999)),
        "adam-beta1": lambda: optim.Adam(model.parameters(), betas=(0.9, -0.1)),
        "adam-int-beta": lambda: optim.Adam(model.parameters(), betas=(0, 0.9)),
        "adam-weight_decay": lambda: optim.Adam(model.parameters(), weight_decay=-1),
        "empty": lambda: optim.SGD([], lr=0.1),
        "non-leaf": lambda: optim.SGD([ag.tensor([1.0, 1.0], requires_grad=True) * 2],
                                      lr=0.1)}
    with pytest.raises(GradcliError) as info:
        makers[name]()
    assert info.value.message == want["message"]
    assert getattr(info.value, "python_type", "RuntimeError") == want["type"]


def test_a_parameter_in_two_groups_is_refused():
    p = Parameter(np.ones(2))
    with pytest.raises(GradcliError, match="some parameters appear in more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optim.SGD([p, p], lr=0.1)
    assert "duplicate parameters" in str(caught[0].message)


@pytest.mark.parametrize("name", ["sgd", "sgd-momentum", "adam"])
def test_optimizers_print_as_pytorch(name):
    torch_model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = {"sgd": lambda p: optim.SGD(p, lr=0.01),
           "sgd-momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-4),
           "adam": lambda p: optim.Adam(p)}[name](torch_model.parameters())
    assert repr(opt) == PRINTING[name]
