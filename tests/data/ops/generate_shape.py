"""Write tests/data/ops/shape.json: PyTorch 2.13's values, gradients and grad_fn graphs for
SPEC 3.9's shape ops (flip, roll, repeat, tile, gather, index_select, movedim, split,
chunk) and normalising layers (layer_norm, normalize, dropout when it is not random),
read by tests/test_ops_torch.py.  Run once with a Python that has PyTorch:

    /tmp/torchenv/bin/python tests/data/ops/generate_shape.py

Cases are as generate.py writes them, with two additions the generic ones do not need:
``call`` gives the positional arguments in order (``{"arg": i}`` for the i-th array,
else a literal: ``x.repeat(2, 1)``, ``gather(x, 1, index)``; a keyword argument may
be ``{"arg": i}`` too), and ``parts`` marks a
tuple result (split, chunk): ``value``, ``upstream`` and ``graph`` are then lists, one
per part, and ``grads`` are those of all parts together.
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import HERE, enc, graph  # noqa: E402

rng = np.random.default_rng(0)


def call(where, name, xs, order, kwargs):
    args = [xs[a["arg"]] if isinstance(a, dict) else a for a in order]
    kwargs = {k: xs[v["arg"]] if isinstance(v, dict) else v for k, v in kwargs.items()}
    if where == "method":
        return getattr(args[0], name)(*args[1:], **kwargs)
    return getattr(TF if where == "F" else torch, name)(*args, **kwargs)


def case(name, where, arrays, order, kwargs, kink=False) -> dict:
    """Float arrays are leaves that require grad; integer ones (indices) are constants."""
    xs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = call(where, name, xs, order, kwargs)
    parts = isinstance(out, tuple)
    outs = list(out) if parts else [out]
    upstreams = [rng.uniform(-1, 1, tuple(o.shape)) for o in outs]
    leaves = [x for x in xs if x.requires_grad]
    grads = torch.autograd.grad(outs, leaves, [torch.tensor(u) for u in upstreams],
                                allow_unused=True)
    shapes = "/".join("x".join(map(str, a.shape)) or "0d" for a in arrays)
    literal = [a for a in order if not isinstance(a, dict)]
    extra = ",".join([json.dumps(a) for a in literal] +
                     [f"{k}={json.dumps(v)}" for k, v in kwargs.items()])
    values = [enc(o.detach().numpy()) for o in outs]
    graphs = [graph(o.grad_fn) for o in outs]
    return {"id": f"{name}/{where}/{shapes}" + (f"/{extra}" if extra else "") +
            ("/kink" if kink else ""),
            "fn": name, "args": [enc(a) for a in arrays], "kwargs": kwargs,
            "call": order, "parts": parts,
            "value": values if parts else values[0],
            "upstream": [enc(u) for u in upstreams] if parts else enc(upstreams[0]),
            "grads": [None if g is None else enc(g.numpy()) for g in grads],
            "graph": graphs if parts else graphs[0], "kink": kink}


def idx(values):
    return lambda: np.asarray(values, dtype=np.int64)


def fixed(values):
    return lambda: np.asarray(values, dtype=np.float64)


def positive(shape):
    return lambda: rng.uniform(0.1, 2, shape)


X, I, W, B = {"arg": 0}, {"arg": 1}, {"arg": 1}, {"arg": 2}

# (name, where, [argument shapes or makers], positional call, kwargs)
CASES = {
    "flip": [
        ("method", [(3,)], [X, 0], {}),
        ("torch", [(2, 3)], [X], {"dims": [0, 1]}),
        ("method", [(2, 2, 3)], [X, -1, 0], {}),
        ("torch", [(2, 3)], [X, []], {}),
        ("torch", [()], [X, [0]], {}),
    ],
    "roll": [
        ("method", [(5,)], [X, 2], {}),
        ("method", [(2, 3)], [X, 1], {}),
        ("torch", [(2, 3)], [X, 2, 1], {}),
        ("torch", [(2, 2, 3)], [X], {"shifts": [1, -1], "dims": [0, 2]}),
        ("torch", [()], [X, 1], {}),
    ],
    "repeat": [
        ("method", [(3,)], [X, 2], {}),
        ("method", [(2, 3)], [X, 2, 1], {}),
        ("method", [(3,)], [X, 2, 2], {}),
        ("method", [(2, 3)], [X, [1, 2, 1]], {}),
        ("method", [()], [X, 3], {}),
        ("method", [(2, 3)], [X, 1, 1], {}),
        ("method", [(2,)], [X, 0, 2], {}),
    ],
    "tile": [
        ("torch", [(3,)], [X, [2]], {}),
        ("torch", [(2, 3)], [X, [2]], {}),
        ("method", [(2, 3)], [X, 2, 1, 2], {}),
        ("torch", [(2, 3)], [X], {"dims": [2, 1]}),
    ],
    "gather": [
        ("torch", [(2, 3), idx([[0, 0], [2, 1]])], [X, 1, I], {}),
        ("torch", [(3, 2), idx([[2, 0]])], [X, 0, I], {}),
        ("method", [(4,), idx([3, 3, 0, 1, 3])], [X, 0, I], {}),
        ("torch", [(2, 2, 3), idx([[[1, 0, 1]], [[0, 0, 0]]])], [X, -2, I], {}),
        ("torch", [(2, 3), idx([[1, 0, 2]])], [X], {"dim": 1, "index": {"arg": 1}}),
    ],
    "index_select": [
        ("torch", [(3, 2), idx([1, 1, 0])], [X, 0, I], {}),
        ("method", [(2, 3), idx([2])], [X, 1, I], {}),
        ("torch", [(4,), idx([3, 0, 3])], [X, 0, I], {}),
        ("torch", [(2, 2, 3), idx([0, 2])], [X, -1, I], {}),
        ("torch", [(), idx([0])], [X, 0, I], {}),
    ],
    "movedim": [
        ("torch", [(2, 3, 4)], [X, 0, 2], {}),
        ("method", [(2, 3, 4)], [X, [0, 1], [2, 0]], {}),
        ("torch", [(2, 3)], [X], {"source": -1, "destination": 0}),
        ("torch", [(3,)], [X, 0, 0], {}),
    ],
    "split": [
        ("torch", [(5,)], [X, 2], {}),
        ("method", [(4, 3)], [X, 2, 1], {}),
        ("torch", [(4,)], [X, [1, 3]], {}),
        ("torch", [(2, 5)], [X, [2, 0, 3]], {"dim": -1}),
        ("method", [(3,)], [X, 5], {}),
    ],
    "chunk": [
        ("torch", [(5,)], [X, 2], {}),
        ("method", [(2, 6)], [X, 3, 1], {}),
        ("torch", [(4,)], [X, 3], {}),
        ("method", [(2, 2, 3)], [X], {"chunks": 2, "dim": -1}),
    ],
    "layer_norm": [
        ("F", [(2, 3)], [X, [3]], {}),
        ("F", [(2, 3), (3,), (3,)], [X, [3], W, B], {}),
        ("F", [(2, 2, 3), (2, 3)], [X, [2, 3], W], {}),
        ("F", [(4,)], [X, [4]], {"eps": 0.1}),
        ("F", [(3, 2), (2,)], [X, [2]], {"bias": {"arg": 1}}),
        ("F", [(2, 1)], [X, [1]], {}),
    ],
    "normalize": [
        ("F", [(2, 3)], [X], {}),
        ("F", [(2, 3)], [X], {"dim": 0}),
        ("F", [(2, 3)], [X], {"p": 1.0}),
        ("F", [(3, 2)], [X], {"p": 3.0, "dim": -1}),
        ("F", [(3,)], [X], {"dim": 0}),
        ("F", [(2, 2, 3)], [X, 2.0, -1], {}),
        ("F", [(2, 3)], [X], {"p": 0.5, "eps": 0.5}),
        ("F", [fixed([[0.0, 0.0], [1.0, 2.0]])], [X], {}, True),
        ("F", [fixed([[0.5, 0.0, 2.0]])], [X], {"p": 1.0}, True),
    ],
    "kl_div": [
        ("F", [(2, 3), positive((2, 3))], [X, {"arg": 1}], {}),
        ("F", [(2, 3), positive((3,))], [X, {"arg": 1}], {"reduction": "batchmean"}),
        ("F", [(3,), (3,)], [X, {"arg": 1}], {"reduction": "sum", "log_target": True}),
        ("F", [(2, 2, 3), positive((2, 2, 3))], [X, {"arg": 1}], {"reduction": "none"}),
        ("F", [(2, 3), (2, 3)], [X, {"arg": 1}], {"reduction": "batchmean",
                                                  "log_target": True}),
        ("F", [(), positive(())], [X, {"arg": 1}], {"reduction": "batchmean"}),
        ("F", [(4,), positive((4,))], [X, {"arg": 1}], {"reduction": "sum"}),
    ],
    "cosine_similarity": [
        ("F", [(2, 3), (2, 3)], [X, {"arg": 1}], {}),
        ("torch", [(2, 3), (3,)], [X, {"arg": 1}], {}),
        ("F", [(3,), (3,)], [X, {"arg": 1}], {"dim": 0}),
        ("torch", [(2, 2, 3), (2, 1, 3)], [X, {"arg": 1}], {"dim": -1, "eps": 1e-6}),
        ("F", [(3, 2), (3, 2)], [X, {"arg": 1}, 0], {}),
    ],
    "dropout": [
        ("F", [(2, 3)], [X], {"training": False}),
        ("F", [(3,)], [X, 0.0], {}),
    ],
}


def main() -> None:
    global rng
    cases = []
    for name, variants in CASES.items():
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        for where, shapes, order, kwargs, *kink in variants:
            arrays = [s() if callable(s) else rng.uniform(-2, 2, s) for s in shapes]
            cases.append(case(name, where, arrays, order, kwargs, *kink))
    (HERE / "shape.json").write_text(json.dumps({"torch": torch.__version__, "cases": cases},
                                                separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
