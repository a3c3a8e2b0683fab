"""Write tests/data/ops/ops.json: PyTorch 2.13's values, gradients and grad_fn graphs for
the ops of SPEC 3.9 (and softplus's beta/threshold), read by tests/test_ops_torch.py.

Run once with a Python that has PyTorch:

    /tmp/torchenv/bin/python tests/data/ops/generate.py

Each case: the function (as ``torch.nn.functional.NAME`` or ``torch.NAME``), its tensor
arguments (float64, drawn from a fixed seed inside the op's domain; scalars, vectors,
matrices, broadcasting pairs and batched inputs), its other arguments, the value, the
gradient of each tensor argument for a random upstream, and the grad_fn tree.  ``kink``
marks a case with an argument exactly at a kink (the check reports it as skipped).  The
tests never import torch; rerunning this writes the same file.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF

HERE = Path(__file__).resolve().parent
rng = np.random.default_rng(0)        # reseeded per op: adding an op changes no other case

SHAPES = [(), (3,), (2, 3), (2, 2, 3)]
BINARY_SHAPES = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1, 3), (2, 3))]

# name -> (where torch has it, domain of each tensor argument, other arguments)
UNARY = {
    "softplus": ("F", (-3, 3), [{}, {"beta": 2.0, "threshold": 1.5}, {"beta": 0.5}]),
    "gelu": ("F", (-3, 3), [{}, {"approximate": "tanh"}]),
    "leaky_relu": ("F", (-2, 2), [{}, {"negative_slope": 0.2}]),
    "elu": ("F", (-2, 2), [{}, {"alpha": 0.5}]),
    "selu": ("F", (-2, 2), [{}]),
    "celu": ("F", (-2, 2), [{}, {"alpha": 2.0}]),
    "hardtanh": ("F", (-2, 2), [{}, {"min_val": -0.5, "max_val": 1.5}]),
    "relu6": ("F", (-2, 8), [{}]),
    "logsigmoid": ("F", (-4, 4), [{}]),
    "mish": ("F", (-3, 3), [{}]),
    "hardsigmoid": ("F", (-4, 4), [{}]),
    "hardswish": ("F", (-4, 4), [{}]),
    "softsign": ("F", (-3, 3), [{}]),
    "tanhshrink": ("F", (-2, 2), [{}]),
    "softmin": ("F", (-2, 2), [{"dim": 0}, {"dim": -1}]),
    "atanh": ("torch", (-0.9, 0.9), [{}]),
    "acosh": ("torch", (1.1, 3), [{}]),
    "erfc": ("torch", (-2, 2), [{}]),
    "logit": ("torch", (0.05, 0.95), [{}, {"eps": 0.1}]),
    "clamp_min": ("torch", (-1, 1), [{"min": 0.1}]),
    "clamp_max": ("torch", (-1, 1), [{"max": 0.1}]),
}
BINARY = {
    "xlogy": ("torch", ((-2, 2), (0.1, 3)), [{}]),
    "logaddexp": ("torch", ((-3, 3), (-3, 3)), [{}]),
    "logaddexp2": ("torch", ((-3, 3), (-3, 3)), [{}]),
}


def enc(a) -> dict:
    a = np.asarray(a)
    return {"data": a.reshape(-1).tolist(), "shape": list(a.shape), "dtype": str(a.dtype)}


def graph(fn):
    """[name, [child, ...]] with None for an edge to no node (as tests/data/nn)."""
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


def function(where: str, name: str):
    return getattr(TF if where == "F" else torch, name)


def case(name, where, arrays, kwargs, kink=False) -> dict:
    """Float arrays are leaves that require grad; bool and integer ones are constants."""
    xs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = function(where, name)(*xs, **kwargs)
    upstream = rng.uniform(-1, 1, tuple(out.shape))
    leaves = [x for x in xs if x.requires_grad]
    # an integer result (argmax) has no gradient: every grad None
    grads = torch.autograd.grad(out, leaves, torch.tensor(upstream), allow_unused=True) \
        if out.requires_grad else [None] * len(leaves)
    shapes = "/".join("x".join(map(str, a.shape)) or "0d" for a in arrays)
    extra = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return {"id": f"{name}/{shapes}" + (f"/{extra}" if extra else "") + ("/kink" if kink
                                                                          else ""),
            "fn": name, "args": [enc(a) for a in arrays], "kwargs": kwargs,
            "value": enc(out.detach().numpy()), "upstream": enc(upstream),
            "grads": [None if g is None else enc(g.numpy()) for g in grads],
            "graph": graph(out.grad_fn), "kink": kink}


def draw(domain, shape):
    lo, hi = domain
    return rng.uniform(lo, hi, shape)


def main() -> None:
    global rng
    cases = []
    for name, (where, domain, variants) in UNARY.items():
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        for kwargs in variants:
            for shape in SHAPES:
                cases.append(case(name, where, [draw(domain, shape)], kwargs))
        kinks = KINKS.get(name)
        if kinks is not None:
            for kwargs, point in kinks:
                cases.append(case(name, where, [np.array(point)], kwargs, kink=True))
    for name, (where, domains, variants) in BINARY.items():
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        for kwargs in variants:
            for shapes in BINARY_SHAPES:
                arrays = [draw(d, s) for d, s in zip(domains, shapes)]
                cases.append(case(name, where, arrays, kwargs))
    for name, where, make, kwargs in OTHERS:
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        for shapes in make:
            arrays = [shape() if callable(shape) else draw((-2, 2), shape) for shape in shapes]
            cases.append(case(name, where, arrays, kwargs))
    (HERE / "ops.json").write_text(json.dumps({"torch": torch.__version__, "cases": cases},
                                              separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases")


# arguments exactly at a kink: (kwargs, point)
KINKS = {
    "softplus": [({"beta": 2.0, "threshold": 1.5}, [0.75, -1.0])],
    "leaky_relu": [({}, [0.0, 1.0])],
    "elu": [({"alpha": 0.5}, [0.0, -1.0])],
    "selu": [({}, [0.0])],
    "hardtanh": [({}, [-1.0, 0.5]), ({}, [1.0])],
    "relu6": [({}, [6.0, 2.0]), ({}, [0.0])],
    "hardsigmoid": [({}, [-3.0, 1.0]), ({}, [3.0])],
    "hardswish": [({}, [-3.0]), ({}, [3.0, 0.0])],
    "logit": [({"eps": 0.1}, [0.1, 0.5])],
    "clamp_min": [({"min": 0.1}, [0.1, -0.5])],
    "clamp_max": [({"max": 0.1}, [0.1, 0.5])],
}

def classes(values):
    return lambda: np.asarray(values, dtype=np.int64)


def probabilities(shape):
    def make():
        e = np.exp(rng.normal(size=shape))
        return e / e.sum(axis=-1, keepdims=True)
    return make


def mask(shape):
    return lambda: rng.uniform(-1, 1, shape) > 0


# ops whose arguments are not all floats: (name, where, [argument shapes or makers], kwargs)
OTHERS = [
    ("where", "torch", [[mask(()), (), ()], [mask((3,)), (3,), (3,)],
                        [mask((2, 3)), (2, 3), (3,)], [mask((3,)), (2, 3), (2, 1)]], {}),
    *(("l1_loss", "F", [[(), ()], [(3,), (3,)], [(2, 3), (2, 3)], [(2, 2, 3), (2, 2, 3)]],
       {"reduction": r}) for r in ("mean", "sum", "none")),
    *(("cross_entropy", "F", [[(2, 3), classes([2, 0])], [(3,), classes(1)],
                              [(4, 3), classes([0, 1, 2, 1])]], kw)
      for kw in ({}, {"reduction": "sum"}, {"label_smoothing": 0.1})),
    ("cross_entropy", "F", [[(2, 3), probabilities((2, 3))]], {}),
    ("linear", "F", [[(2, 3), (4, 3), (4,)], [(3,), (4, 3), (4,)], [(2, 2, 3), (4, 3), (4,)],
                     [(2, 3), (4, 3)], [(3,), (4, 3)]], {}),
]

if __name__ == "__main__":
    main()
