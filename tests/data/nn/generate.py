"""Write the PyTorch reference data of tests/test_losses.py, test_nn.py and test_optim.py.

Run once with a Python that has PyTorch (2.13):

    /tmp/torchenv/bin/python tests/data/nn/generate.py

It writes losses.json (values, gradients, graphs and errors of the loss functions and of
linear), optim.json (SGD and Adam trajectories on two small models with explicit initial
weights) and printing.json (what PyTorch prints for modules and optimizers).  The tests
read these files and never import torch.  Inputs are drawn from a fixed numpy seed, so
rerunning the script rewrites the same files.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(20240613)


# ---- encoding ----------------------------------------------------------------------------

def enc(a) -> dict:
    a = np.asarray(a)
    return {"data": a.reshape(-1).tolist(), "shape": list(a.shape), "dtype": str(a.dtype)}


def graph(fn):
    """The grad_fn tree: [name, [child, ...]] with None for edges to no node (iterative)."""
    if fn is None:
        return None
    root = [fn.name().replace("torch::autograd::", ""), []]
    stack = [(fn, root)]
    while stack:
        node, out = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                out[1].append(None)
                continue
            child = [nxt.name().replace("torch::autograd::", ""), []]
            out[1].append(child)
            stack.append((nxt, child))
    return root


# ---- arguments: what the case stores and how torch gets it --------------------------------

def T(shape, dtype="float64", requires_grad=True, low=-2.0, high=2.0):
    return {"kind": "tensor", "value": rng.uniform(low, high, shape).astype(dtype),
            "requires_grad": requires_grad}


def P(shape, dtype="float64", requires_grad=False, axis=-1):
    """Class probabilities along ``axis`` (a softmax of random logits)."""
    e = np.exp(rng.normal(size=shape))
    return {"kind": "tensor", "value": (e / e.sum(axis=axis, keepdims=True)).astype(dtype),
            "requires_grad": requires_grad}


def I(values):
    return {"kind": "indices", "value": np.asarray(values, dtype=np.int64)}


def C(shape, dtype="float64", low=0.1, high=2.0):
    """A constant tensor (weights)."""
    return {"kind": "tensor", "value": rng.uniform(low, high, shape).astype(dtype),
            "requires_grad": False}


def to_torch(spec):
    if isinstance(spec, dict) and spec.get("kind") == "tensor":
        return torch.tensor(spec["value"], requires_grad=spec["requires_grad"])
    if isinstance(spec, dict) and spec.get("kind") == "indices":
        return torch.tensor(spec["value"])
    return spec


def store(spec):
    if isinstance(spec, dict) and "kind" in spec:
        out = {"kind": spec["kind"], **enc(spec["value"])}
        if spec["kind"] == "tensor":
            out["requires_grad"] = spec["requires_grad"]
        return out
    return spec


# ---- cases -----------------------------------------------------------------------------

CASES: list = []


def case(name: str, fn: str, args: list, kwargs: dict | None = None) -> None:
    kwargs = kwargs or {}
    targs = [to_torch(a) for a in args]
    tkwargs = {k: to_torch(v) for k, v in kwargs.items()}
    entry = {"id": name, "fn": fn, "args": [store(a) for a in args],
             "kwargs": {k: store(v) for k, v in kwargs.items()}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = getattr(F, fn)(*targs, **tkwargs)
        except Exception as exc:                      # noqa: BLE001 - recorded as data
            entry["error"] = {"type": type(exc).__name__, "message": str(exc).split("\n")[0]}
            CASES.append(entry)
            return
    entry["warnings"] = [str(w.message) for w in caught]
    entry["value"] = enc(out.detach().numpy())
    entry["graph"] = graph(out.grad_fn)
    inputs = [t for t in targs if isinstance(t, torch.Tensor) and t.requires_grad]
    if inputs:
        upstream = rng.uniform(-1, 1, out.shape).astype(out.detach().numpy().dtype)
        entry["upstream"] = enc(upstream)
        try:
            grads = torch.autograd.grad(out, inputs, torch.tensor(upstream), allow_unused=True)
        except RuntimeError as exc:       # PyTorch's own backward can fail (nll 1d/target(1))
            entry["backward_error"] = str(exc).split("\n")[0]
        else:
            entry["grads"] = [None if g is None else enc(g.numpy()) for g in grads]
    CASES.append(entry)


def regression_cases() -> None:
    for red in ("mean", "sum", "none"):
        for shape in ((4, 3), (5,), ()):
            case(f"mse/{red}/{shape}", "mse_loss", [T(shape), T(shape, requires_grad=False)],
                 {"reduction": red})
            case(f"l1/{red}/{shape}", "l1_loss", [T(shape), T(shape, requires_grad=False)],
                 {"reduction": red})
        case(f"mse/{red}/both", "mse_loss", [T((3, 2)), T((3, 2))], {"reduction": red})
        case(f"mse/{red}/broadcast", "mse_loss", [T((4, 1)), T((3,), requires_grad=False)],
             {"reduction": red})
        case(f"mse/{red}/broadcast-both", "mse_loss", [T((4, 1)), T((3,))], {"reduction": red})
        case(f"mse/{red}/weight", "mse_loss", [T((4, 3)), T((4, 3), requires_grad=False)],
             {"reduction": red, "weight": C((4, 3))})
        case(f"l1/{red}/weight", "l1_loss", [T((4, 3)), T((4, 3))],
             {"reduction": red, "weight": C((4, 3))})
        case(f"l1/{red}/broadcast", "l1_loss", [T((2, 3)), T((3,), requires_grad=False)],
             {"reduction": red})
        for beta in (1.0, 0.5, 0.0):
            case(f"smooth_l1/{red}/beta={beta}", "smooth_l1_loss", [T((4, 3)), T((4, 3))],
                 {"reduction": red, "beta": beta})
        for delta in (1.0, 0.3):
            case(f"huber/{red}/delta={delta}", "huber_loss", [T((4, 3)), T((4, 3))],
                 {"reduction": red, "delta": delta})
        case(f"huber/{red}/weight", "huber_loss", [T((4, 3)), T((4, 3), requires_grad=False)],
             {"reduction": red, "weight": C((4, 3))})
    case("mse/float32", "mse_loss", [T((8, 1), "float32"), T((8, 1), "float32", False)])
    case("mse/float32/sum", "mse_loss", [T((8, 1), "float32"), T((8, 1), "float32", False)],
         {"reduction": "sum"})
    case("smooth_l1/broadcast", "smooth_l1_loss", [T((4, 1)), T((3,), requires_grad=False)])
    case("huber/broadcast", "huber_loss", [T((4, 1)), T((3,), requires_grad=False)])
    case("mse/error/shapes", "mse_loss", [T((4, 3)), T((4,), requires_grad=False)])
    case("mse/error/reduction", "mse_loss", [T((4,)), T((4,))], {"reduction": "avg"})
    case("mse/error/weight", "mse_loss", [T((3,)), T((3,))], {"weight": C((2,))})
    case("smooth_l1/error/beta", "smooth_l1_loss", [T((3,)), T((3,))], {"beta": -1.0})
    case("huber/error/delta", "huber_loss", [T((3,)), T((3,))], {"delta": 0.0})


def binary_cases() -> None:
    def prob(shape, grad=True, dtype="float64"):
        return T(shape, dtype, grad, 0.05, 0.95)
    for red in ("mean", "sum", "none"):
        case(f"bce/{red}", "binary_cross_entropy", [prob((4, 3)), prob((4, 3), False)],
             {"reduction": red})
        case(f"bce/{red}/target-grad", "binary_cross_entropy", [prob((4, 3)), prob((4, 3))],
             {"reduction": red})
        case(f"bce/{red}/weight", "binary_cross_entropy", [prob((4, 3)), prob((4, 3), False)],
             {"reduction": red, "weight": C((3,))})
        case(f"bce_logits/{red}", "binary_cross_entropy_with_logits",
             [T((4, 3), low=-4, high=4), prob((4, 3), False)], {"reduction": red})
        case(f"bce_logits/{red}/target-grad", "binary_cross_entropy_with_logits",
             [T((4, 3), low=-4, high=4), prob((4, 3))], {"reduction": red})
        case(f"bce_logits/{red}/weights", "binary_cross_entropy_with_logits",
             [T((4, 3), low=-4, high=4), prob((4, 3))],
             {"reduction": red, "weight": C((4, 1)), "pos_weight": C((3,))})
    case("bce/0d", "binary_cross_entropy", [prob(()), prob((), False)])
    case("bce/float32", "binary_cross_entropy", [prob((6,), dtype="float32"),
                                                 prob((6,), False, "float32")])
    case("bce/clamped", "binary_cross_entropy",
         [{"kind": "tensor", "value": np.array([0.0, 1.0, 0.5]), "requires_grad": False},
          {"kind": "tensor", "value": np.array([1.0, 0.0, 0.5]), "requires_grad": False}])
    case("bce_logits/large", "binary_cross_entropy_with_logits",
         [{"kind": "tensor", "value": np.array([-120.0, -30.0, 0.0, 30.0, 120.0]),
           "requires_grad": True}, prob((5,), False)])
    case("bce/error/size", "binary_cross_entropy", [prob((4, 1)), prob((4,), False)])
    case("bce/error/range", "binary_cross_entropy",
         [{"kind": "tensor", "value": np.array([1.5]), "requires_grad": False}, prob((1,))])
    case("bce/error/target-range", "binary_cross_entropy",
         [prob((1,)), {"kind": "tensor", "value": np.array([2.0]), "requires_grad": False}])
    case("bce/error/weight", "binary_cross_entropy", [prob((3,)), prob((3,), False)],
         {"weight": C((2,))})
    case("bce_logits/error/size", "binary_cross_entropy_with_logits",
         [T((4, 1)), prob((4,), False)])
    case("bce_logits/error/pos_weight", "binary_cross_entropy_with_logits",
         [T((4, 3)), prob((4, 3), False)], {"pos_weight": C((2,))})


def classification_cases() -> None:
    for red in ("mean", "sum", "none"):
        for ls in (0.0, 0.2):
            base = f"ce/{red}/ls={ls}"
            case(f"{base}/2d", "cross_entropy", [T((5, 4)), I([0, 3, 1, 3, 2])],
                 {"reduction": red, "label_smoothing": ls})
            case(f"{base}/2d/weight", "cross_entropy", [T((5, 4)), I([0, 3, 1, 3, 2])],
                 {"reduction": red, "label_smoothing": ls, "weight": C((4,))})
            case(f"{base}/2d/ignore", "cross_entropy", [T((5, 4)), I([0, -100, 1, 3, -100])],
                 {"reduction": red, "label_smoothing": ls})
            case(f"{base}/2d/ignore=1/weight", "cross_entropy",
                 [T((5, 4)), I([0, 1, 1, 3, 2])],
                 {"reduction": red, "label_smoothing": ls, "ignore_index": 1,
                  "weight": C((4,))})
            case(f"{base}/1d", "cross_entropy", [T((4,)), I(2)],
                 {"reduction": red, "label_smoothing": ls})
            case(f"{base}/3d", "cross_entropy", [T((2, 3, 4)), I([[0, 1, 2, 2], [1, 1, 0, 2]])],
                 {"reduction": red, "label_smoothing": ls})
            case(f"{base}/4d", "cross_entropy",
                 [T((2, 3, 2, 2)), I(rng.integers(0, 3, (2, 2, 2)))],
                 {"reduction": red, "label_smoothing": ls})
            case(f"{base}/probs", "cross_entropy", [T((5, 4)), P((5, 4))],
                 {"reduction": red, "label_smoothing": ls})
            case(f"{base}/probs/weight", "cross_entropy", [T((5, 4)), P((5, 4))],
                 {"reduction": red, "label_smoothing": ls, "weight": C((4,))})
            case(f"{base}/probs/target-grad", "cross_entropy",
                 [T((5, 4)), P((5, 4), requires_grad=True)],
                 {"reduction": red, "label_smoothing": ls})
            case(f"{base}/probs/3d", "cross_entropy", [T((2, 3, 4)), P((2, 3, 4), axis=1)],
                 {"reduction": red, "label_smoothing": ls})
            case(f"{base}/probs/1d", "cross_entropy", [T((4,)), P((4,))],
                 {"reduction": red, "label_smoothing": ls})
        nll = f"nll/{red}"
        case(f"{nll}/2d", "nll_loss", [T((5, 4)), I([0, 3, 1, 3, 2])], {"reduction": red})
        case(f"{nll}/2d/weight/ignore", "nll_loss", [T((5, 4)), I([0, 3, 1, 3, 2])],
             {"reduction": red, "weight": C((4,)), "ignore_index": 3})
        case(f"{nll}/1d", "nll_loss", [T((4,)), I(1)], {"reduction": red})
        case(f"{nll}/1d/target(1)", "nll_loss", [T((4,)), I([1])], {"reduction": red})
        case(f"{nll}/3d/weight", "nll_loss", [T((2, 3, 4)), I([[0, 1, 2, 2], [1, 1, 0, 2]])],
             {"reduction": red, "weight": C((3,))})
        case(f"{nll}/4d", "nll_loss", [T((2, 3, 2, 2)), I(rng.integers(0, 3, (2, 2, 2)))],
             {"reduction": red})
        case(f"{nll}/5d", "nll_loss", [T((2, 3, 2, 1, 2)), I(rng.integers(0, 3, (2, 2, 1, 2)))],
             {"reduction": red})
        case(f"{nll}/all-ignored", "nll_loss", [T((2, 3)), I([1, 1])],
             {"reduction": red, "ignore_index": 1})
    case("ce/float32", "cross_entropy", [T((6, 3), "float32"), I([0, 1, 2, 2, 1, 0])])
    case("ce/float32/ls", "cross_entropy", [T((6, 3), "float32"), I([0, 1, 2, 2, 1, 0])],
         {"label_smoothing": 0.1})
    case("ce/negative-ls", "cross_entropy", [T((3, 2)), I([0, 1, 1])], {"label_smoothing": -0.1})
    for name, args, kwargs in [
            ("batch", [T((4, 3)), I([0, 1, 2])], {}),
            ("out-of-bounds", [T((4, 3)), I([0, 1, 2, 3])], {}),
            ("negative-target", [T((4, 3)), I([0, 1, 2, -1])], {}),
            ("long-probs", [T((4, 3)), I(np.zeros((4, 3)))], {}),
            ("label_smoothing", [T((4, 3)), I([0, 1, 2, 1])], {"label_smoothing": 1.5}),
            ("weight", [T((4, 3)), I([0, 1, 2, 1])], {"weight": C((2,))}),
            ("2d-target", [T((4, 3)), I([[0, 1]])], {}),
            ("multi-target", [T((4, 3)), I(np.zeros((4, 1)))], {}),
            ("reduction", [T((4, 3)), I([0, 1, 2, 1])], {"reduction": "avg"}),
            ("probs-ignore", [T((2, 3)), P((2, 3))], {"ignore_index": 1}),
            ("probs-weight", [T((2, 3)), P((2, 3))], {"weight": C((2,))}),
            ("1d-target-size", [T((3,)), I([2, 1])], {}),
            ("0d-target", [T((4, 3)), I(1)], {})]:
        case(f"ce/error/{name}", "cross_entropy", args, kwargs)
    case("nll/error/0d", "nll_loss", [T(()), I(0)])
    case("nll/error/3d-target", "nll_loss", [T((2, 3, 4)), I(np.zeros((2, 5)))])
    case("nll/error/4d-target", "nll_loss", [T((2, 3, 4, 5)), I(np.zeros((2, 4, 6)))])
    case("nll/error/4d-target-dims", "nll_loss", [T((2, 3, 4, 5)), I(np.zeros((2, 4)))])
    case("nll/error/weight-2d", "nll_loss", [T((4, 3)), I([0, 1, 2, 1])], {"weight": C((1, 3))})


def linear_cases() -> None:
    def W(shape):
        return T(shape)
    for xshape in ((3,), (4, 3), (2, 4, 3), (2, 2, 4, 3), (0, 3)):
        case(f"linear/{xshape}/bias", "linear", [T(xshape), W((2, 3)), T((2,))])
        case(f"linear/{xshape}/no-bias", "linear", [T(xshape), W((2, 3))])
        case(f"linear/{xshape}/x-const", "linear",
             [T(xshape, requires_grad=False), W((2, 3)), T((2,))])
    case("linear/float32", "linear", [T((5, 1), "float32"), W((3, 1)) | {
        "value": rng.uniform(-1, 1, (3, 1)).astype("float32")}, T((3,), "float32")])
    case("linear/1d-weight", "linear", [T((4, 3)), W((3,))])
    case("linear/1d-weight/1d-x", "linear", [T((3,)), W((3,))])
    case("linear/1d-weight/3d-x", "linear", [T((2, 4, 3)), W((3,))])
    case("linear/1d-weight/1d-x/0d-bias", "linear", [T((3,)), W((3,)), T(())])
    case("linear/3d/2d-bias", "linear", [T((5, 4, 3)), W((2, 3)), T((4, 2))])
    case("linear/1d/0d-bias", "linear", [T((3,)), W((2, 3)), T(())])
    case("linear/2d/0d-bias", "linear", [T((4, 3)), W((2, 3)), T(())])
    case("linear/1d/(1,2)-bias", "linear", [T((3,)), W((2, 3)), T((1, 2))])
    case("linear/4d/2d-bias", "linear", [T((2, 2, 4, 3)), W((2, 3)), T((4, 2))])
    for name, args in [("mismatch", [T((4, 3)), W((2, 5))]),
                       ("1d-mismatch", [T((3,)), W((2, 5))]),
                       ("3d-mismatch", [T((2, 4, 3)), W((2, 5))]),
                       ("bias-mismatch", [T((4, 3)), W((2, 3)), T((3,))]),
                       ("3d-bias-mismatch", [T((5, 4, 3)), W((2, 3)), T((3,))]),
                       ("0d", [T(()), W((2, 3))]),
                       ("1d-weight-bias", [T((4, 3)), W((3,)), T(())]),
                       ("3d-weight", [T((4, 3)), W((2, 2, 3))]),
                       ("3d-bias", [T((3,)), W((2, 3)), T((1, 1, 2))]),
                       ("dtype-addmm", [T((4, 3)), T((2, 3), "float32"), T((2,), "float32")]),
                       ("dtype-bias", [T((4, 3), "float32"), T((2, 3), "float32"), T((2,))]),
                       ("dtype-mm", [T((4, 3)), T((2, 3), "float32")]),
                       ("dtype-1d", [T((3,)), T((2, 3), "float32"), T((2,), "float32")]),
                       ("dtype-3d", [T((2, 4, 3)), T((2, 3), "float32")])]:
        case(f"linear/error/{name}", "linear", args)


def activation_cases() -> None:
    for fn in ("relu", "sigmoid", "tanh", "silu", "softplus"):
        case(f"{fn}", fn, [T((3, 4))])
    for dim in (0, 1, -1):
        case(f"softmax/dim={dim}", "softmax", [T((3, 4))], {"dim": dim})
        case(f"log_softmax/dim={dim}", "log_softmax", [T((3, 4))], {"dim": dim})
    for shape in ((4,), (3, 4), (2, 3, 4)):
        case(f"softmax/implicit/{shape}", "softmax", [T(shape)])


# ---- optimizer trajectories -------------------------------------------------------------

MODELS = {
    # the tutorials' regression net; 16-element weights run PyTorch's vectorized kernels
    "mlp-1-16-1": {"sizes": [1, 16, 1], "act": "relu", "batch": 32},
    # parameters under 16 elements take the kernels' scalar path
    "mlp-3-5-2": {"sizes": [3, 5, 2], "act": "tanh", "batch": 8},
}
OPTIMIZERS = [
    ("sgd", "SGD", {"lr": 0.05}),
    ("sgd-momentum", "SGD", {"lr": 0.05, "momentum": 0.9}),
    ("sgd-dampening", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("sgd-weight_decay", "SGD", {"lr": 0.05, "weight_decay": 0.01}),
    ("sgd-nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                             "weight_decay": 0.01}),
    ("sgd-maximize", "SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}),
    ("adam", "Adam", {"lr": 0.01}),
    ("adam-weight_decay", "Adam", {"lr": 0.01, "weight_decay": 0.01}),
    ("adam-amsgrad", "Adam", {"lr": 0.02, "betas": (0.8, 0.99), "amsgrad": True}),
    ("adamw", "Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
]
STEPS = 20


def initial_weights(sizes) -> list:
    """Explicit, deterministic weights (no random generator): sin/cos patterns."""
    params = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        i = np.arange(n_out * n_in, dtype=np.float64).reshape(n_out, n_in)
        params.append((0.9 * np.sin(1.7 * i + k + 1) / math.sqrt(n_in)).astype(np.float32))
        params.append((0.3 * np.cos(2.3 * np.arange(n_out) + k)).astype(np.float32))
    return params


def model_data(spec):
    n_in, n_out, batch = spec["sizes"][0], spec["sizes"][-1], spec["batch"]
    x = np.linspace(-1, 1, batch * n_in, dtype=np.float32).reshape(batch, n_in)
    x = x[np.argsort(np.sin(np.arange(batch) * 3.1))] if n_in > 1 else x
    w = np.linspace(0.5, 2.0, n_in * n_out, dtype=np.float32).reshape(n_in, n_out)
    y = (np.tanh(x @ w) * 2 + 3).astype(np.float32) if n_in > 1 else (2 * x + 3)
    return x.astype(np.float32), y.astype(np.float32)


def build(spec, weights):
    sizes = spec["sizes"]
    act = {"relu": nn.ReLU, "tanh": nn.Tanh}[spec["act"]]
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), act(), nn.Linear(sizes[1], sizes[2]))
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    return model


def trajectories() -> list:
    out = []
    for model_name, spec in MODELS.items():
        weights = initial_weights(spec["sizes"])
        x, y = model_data(spec)
        for opt_name, cls, kwargs in OPTIMIZERS:
            model = build(spec, weights)
            opt = getattr(optim, cls)(model.parameters(), **kwargs)
            loss_fn = nn.MSELoss()
            steps = []
            for _ in range(STEPS):
                opt.zero_grad()
                loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
                loss.backward()
                grads = [enc(p.grad.numpy()) for p in model.parameters()]
                opt.step()
                steps.append({"loss": loss.item(), "grads": grads,
                              "params": [enc(p.detach().numpy()) for p in model.parameters()]})
            out.append({"id": f"{model_name}/{opt_name}", "model": model_name,
                        "spec": spec, "optimizer": cls,
                        "kwargs": {k: list(v) if isinstance(v, tuple) else v
                                   for k, v in kwargs.items()},
                        "initial": [enc(w) for w in weights], "x": enc(x), "y": enc(y),
                        "steps": steps})
    return out


# ---- printing -----------------------------------------------------------------------------

def printing() -> dict:
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    nested = nn.Sequential(nn.Sequential(nn.Linear(1, 2), nn.Tanh()), nn.Sigmoid(),
                           nn.Linear(2, 3, bias=False), nn.Softmax(dim=1))
    return {
        "mlp": repr(mlp),
        "nested": repr(nested),
        "empty": repr(nn.Sequential()),
        "modules": [repr(m) for m in (nn.ReLU(), nn.ReLU(inplace=True), nn.Softmax(),
                                      nn.Softmax(dim=0), nn.MSELoss(), nn.L1Loss(),
                                      nn.CrossEntropyLoss(label_smoothing=0.1), nn.BCELoss(),
                                      nn.BCEWithLogitsLoss(), nn.NLLLoss())],
        "sgd": repr(optim.SGD(mlp.parameters(), lr=0.01)),
        "sgd-momentum": repr(optim.SGD(mlp.parameters(), lr=0.1, momentum=0.9,
                                       weight_decay=1e-4)),
        "adam": repr(optim.Adam(mlp.parameters())),
        "named_parameters": [n for n, _ in nested.named_parameters()],
        "parameter_prefix": repr(nn.Parameter(torch.tensor([1.0, 2.0]))).split("\n")[0],
        "optimizer_errors": optimizer_errors(mlp),
    }


def optimizer_errors(model) -> dict:
    out = {}
    for name, make in [
            ("sgd-lr", lambda: optim.SGD(model.parameters(), lr=-0.1)),
            ("sgd-momentum", lambda: optim.SGD(model.parameters(), lr=0.1, momentum=-1)),
            ("sgd-weight_decay", lambda: optim.SGD(model.parameters(), weight_decay=-1)),
            ("sgd-nesterov", lambda: optim.SGD(model.parameters(), lr=0.1, nesterov=True)),
            ("adam-lr", lambda: optim.Adam(model.parameters(), lr=-1.0)),
            ("adam-eps", lambda: optim.Adam(model.parameters(), eps=-1.0)),
            ("adam-beta0", lambda: optim.Adam(model.parameters(), betas=(1.0, 0.999))),
            ("adam-beta1", lambda: optim.Adam(model.parameters(), betas=(0.9, -0.1))),
            ("adam-int-beta", lambda: optim.Adam(model.parameters(), betas=(0, 0.9))),
            ("adam-weight_decay", lambda: optim.Adam(model.parameters(), weight_decay=-1)),
            ("empty", lambda: optim.SGD([], lr=0.1)),
            ("non-leaf", lambda: optim.SGD([torch.ones(2, requires_grad=True) * 2], lr=0.1))]:
        try:
            make()
        except Exception as exc:                        # noqa: BLE001 - recorded as data
            out[name] = {"type": type(exc).__name__, "message": str(exc)}
    return out


def main() -> None:
    torch.set_default_dtype(torch.float32)
    regression_cases()
    binary_cases()
    classification_cases()
    linear_cases()
    activation_cases()
    meta = {"torch": torch.__version__, "numpy": np.__version__}
    (HERE / "losses.json").write_text(json.dumps({"meta": meta, "cases": CASES}) + "\n")
    (HERE / "optim.json").write_text(json.dumps({"meta": meta, "runs": trajectories()}) + "\n")
    (HERE / "printing.json").write_text(json.dumps({"meta": meta, **printing()}, indent=1)
                                        + "\n")
    print(f"{len(CASES)} function cases, {len(MODELS) * len(OPTIMIZERS)} trajectories")


if __name__ == "__main__":
    main()
