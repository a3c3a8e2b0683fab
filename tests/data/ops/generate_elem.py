"""Write tests/data/ops/elem.json: PyTorch 2.13's values, gradients and grad_fn graphs for
SPEC 3.9's cumulative and statistical reductions, rounding and remainders, special
functions and masked_fill, read by tests/test_ops_torch.py like ops.json.

Run once with a Python that has PyTorch:

    /tmp/torchenv/bin/python tests/data/ops/generate_elem.py

The cases are made by generate.py's ``case`` (each op reseeded with the CRC of its name,
so rerunning writes the same file).  ``kink`` marks an argument exactly at a kink or a
tie (the check reports it as skipped).
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate as gen  # noqa: E402


def fixed(values):
    return lambda: np.asarray(values, dtype=np.float64)


def bools(values):
    return lambda: np.asarray(values, dtype=bool)


def divisors(shape):
    """Away from 0, of either sign."""
    return lambda: gen.rng.uniform(0.5, 2, shape) * gen.rng.choice([-1.0, 1.0], shape)


def unary(shapes=((), (3,), (2, 3), (2, 2, 3)), kwargs=None, kinks=()):
    """Each shape with kwargs (default {}); each kink point (kwargs, values)."""
    return [([s], dict(kwargs or {}), False) for s in shapes] + \
        [([fixed(v)], k, True) for k, v in kinks]


def dividing(scalar: float, kinks=()):
    """Tensor by tensor (broadcasting both ways) and tensor by number."""
    return [([(3,), divisors((3,))], {}, False), ([(2, 3), divisors((3,))], {}, False),
            ([(3,), divisors((2, 1))], {}, False), ([(), divisors(())], {}, False),
            ([(2, 2, 3)], {"other": scalar}, False), ([(3,)], {"other": -scalar}, False),
            *(([fixed(a), fixed(b)], {}, True) for a, b in kinks),
            ([fixed([3.0, 0.7])], {"other": 1.5}, True)]


# name -> [(argument shapes or makers, kwargs, kink)]; shapes are drawn from DOMAIN
DOMAIN = {"lgamma": (0.2, 5), "digamma": (0.2, 5), "erfinv": (-0.95, 0.95), "sinc": (-3, 3),
          "fmod": (-4, 4), "remainder": (-4, 4), "floor": (-3, 3), "ceil": (-3, 3),
          "round": (-3, 3), "trunc": (-3, 3), "frac": (-3, 3)}
CASES = {
    "floor": unary(kinks=[({}, [2.0, 0.5])]),
    "ceil": unary(shapes=((3,), (2, 3)), kinks=[({}, [-1.0, 0.5])]),
    "trunc": unary(shapes=((3,), (2, 3)), kinks=[({}, [-2.0])]),
    "round": unary(kinks=[({}, [2.5, 0.2]), ({"decimals": 1}, [0.25])]) +
    unary(shapes=((3,), (2, 3)), kwargs={"decimals": 1}) +
    unary(shapes=((3,),), kwargs={"decimals": -1}) + unary(shapes=((3,),),
                                                           kwargs={"decimals": 0}),
    "frac": unary(kinks=[({}, [1.0, -0.5])]),
    # (2-D: near the poles and at sinc's 0, finite differences of the second order
    # do not hold -- PyTorch's sinc'' at 0 is NaN; test_ops_elem checks those)
    "erfinv": unary() + [([fixed([[0.999, -0.9999, 0.0]])], {}, False)],
    "lgamma": unary() + [([fixed([-0.5, -2.3, -3.7, 12.5])], {}, False),
                         ([fixed([1.0, 2.0, 1e-3])], {}, False)],
    "digamma": unary() + [([fixed([-0.5, -2.3, -3.7, 12.5])], {}, False),
                          ([fixed([1.4616321449683622, 10.0, 30.0])], {}, False)],
    "sinc": unary() + [([fixed([[0.0, 1.0, -2.0, 0.5]])], {}, False),
                       ([fixed(0.0)], {}, False)],
    "masked_fill": [([(3,), bools([True, False, True])], {"value": 0.5}, False),
                    ([(2, 3), bools([False, True, True])], {"value": -2.0}, False),
                    ([(2, 3), bools([[True], [False]])], {"value": 7}, False),
                    ([(3,), bools([[True, False, False], [False, True, False]])],
                     {"value": 1.5}, False),
                    ([(), bools(True)], {"value": 3.0}, False),
                    ([(2, 3), bools([True, False, True]), ()], {}, False),
                    ([(2, 2, 3), bools([[False, True, True], [True, False, True]]), ()], {},
                     False)],
    "fmod": dividing(1.5, kinks=[([3.0, 0.5], [-1.5, 2.0])]),
    "remainder": dividing(1.5, kinks=[([-3.0, 0.5], [1.5, 2.0])]),
    "cumsum": [([(3,)], {"dim": 0}, False), ([(2, 3)], {"dim": 1}, False),
               ([(2, 3)], {"dim": -2}, False), ([()], {"dim": 0}, False),
               ([(2, 2, 3)], {"dim": 1}, False)],
    "cumprod": [([(3,)], {"dim": 0}, False), ([(2, 3)], {"dim": 1}, False),
                ([(2, 2, 3)], {"dim": 0}, False), ([()], {"dim": -1}, False),
                # zeros (exact products; 2-D: near 0, its /x formula is PyTorch's too,
                # and its second derivative cancels badly: test_ops_elem checks them)
                ([fixed([[2.0, 0.0, 3.0, -1.5]])], {"dim": 1}, False),
                ([fixed([[0.0, 1.5, 0.0, 2.0]])], {"dim": -1}, False),
                ([fixed([[1.5, 0.0, 2.0], [0.5, -1.0, 3.0]])], {"dim": 1}, False)],
    "logcumsumexp": [([(3,)], {"dim": 0}, False), ([(2, 3)], {"dim": 1}, False),
                     ([(2, 2, 3)], {"dim": -1}, False), ([()], {"dim": 0}, False)],
    "var": [([(3,)], {}, False), ([(2, 3)], {"dim": 1}, False),
            ([(2, 3)], {"dim": 0, "unbiased": False}, False),
            ([(2, 2, 3)], {"dim": [0, 2], "keepdim": True}, False),
            ([(2, 3)], {"correction": 0}, False), ([(4,)], {"dim": 0, "correction": 2}, False),
            ([(2, 3)], {"dim": -1, "correction": 0.5}, False)],
    "std": [([(3,)], {}, False), ([(2, 3)], {"dim": 1}, False),
            ([(2, 3)], {"dim": 0, "unbiased": False, "keepdim": True}, False),
            ([(2, 2, 3)], {"dim": [1, 2]}, False), ([(4,)], {"correction": 0}, False)],
    "amax": [([(3,)], {}, False), ([(2, 3)], {"dim": 1}, False),
             ([(2, 2, 3)], {"dim": [0, 2], "keepdim": True}, False),
             ([(2, 3)], {"dim": -2}, False), ([()], {}, False),
             ([fixed([[1.0, 2.0, 2.0], [0.5, 0.5, -1.0]])], {"dim": 1}, True),
             ([fixed([3.0, 1.0, 3.0])], {}, True)],
    "amin": [([(3,)], {}, False), ([(2, 3)], {"dim": 0}, False),
             ([(2, 2, 3)], {"dim": -1, "keepdim": True}, False),
             ([fixed([[1.0, 1.0, 2.0], [0.5, -1.0, -1.0]])], {"dim": 1}, True)],
    "argmax": [([(3,)], {}, False), ([(2, 3)], {"dim": 1}, False),
               ([(2, 3)], {"dim": 0, "keepdim": True}, False), ([(2, 3)], {"keepdim": True},
                                                                False)],
    "argmin": [([(3,)], {}, False), ([(2, 2, 3)], {"dim": -1}, False),
               ([fixed([1.0, -2.0, -2.0])], {}, False)],
}


# double backward: the grad_fn tree of each input's gradient made with create_graph
# (the upstream a leaf too), for (name, arrays, kwargs)
DOUBLE = [
    ("cumsum", [fixed([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])], {"dim": 1}),
    ("cumprod", [fixed([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])], {"dim": 1}),
    ("logcumsumexp", [fixed([0.5, -1.0, 2.0])], {"dim": 0}),
    ("var", [fixed([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])], {}),
    ("var", [fixed([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])], {"dim": 1}),
    ("std", [fixed([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])], {"dim": 0, "keepdim": True}),
    ("std", [fixed([1.0, 2.0, 0.5])], {"correction": 0}),
    ("amax", [fixed([[1.0, 2.0, 2.0], [3.0, -1.0, 2.0]])], {"dim": 1}),
    ("amin", [fixed([[1.0, 2.0, 2.0], [3.0, -1.0, 2.0]])], {}),
    ("erfinv", [fixed([0.3, -0.8])], {}),
    ("lgamma", [fixed([0.3, -2.5, 4.0])], {}),
    ("digamma", [fixed([0.3, -2.5, 4.0])], {}),
    ("sinc", [fixed([0.0, 0.3, -1.5])], {}),
    ("masked_fill", [fixed([[1.0, 2.0, 3.0]]), bools([True, False, True])], {"value": 0.5}),
    ("masked_fill", [fixed([[1.0, 2.0, 3.0]]), bools([True, False, True]), fixed(2.5)], {}),
    ("floor", [fixed([1.5, -2.5])], {}),
    ("round", [fixed([1.37, -2.5])], {"decimals": 1}),
    ("frac", [fixed([1.5, -2.25])], {}),
    ("fmod", [fixed([[2.5, -3.7, 4.0]]), fixed([[1.5], [-2.0]])], {}),
    ("remainder", [fixed([2.5, -3.7, 4.0]), fixed([1.5, -2.0, 0.75])], {}),
    ("remainder", [fixed([2.5, -3.7, 4.0])], {"other": -1.5}),
]


def double(name, arrays, kwargs) -> dict:
    xs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = getattr(torch, name)(*xs, **kwargs)
    upstream = torch.tensor(gen.rng.uniform(-1, 1, tuple(out.shape)), requires_grad=True)
    grads = torch.autograd.grad(out, [x for x in xs if x.requires_grad], upstream,
                                create_graph=True)
    return {"fn": name, "args": [gen.enc(a) for a in arrays], "kwargs": kwargs,
            "upstream": gen.enc(upstream.detach().numpy()),
            "grads": [gen.enc(g.detach().numpy()) for g in grads],
            "graphs": [gen.graph(g.grad_fn) for g in grads]}


# float32 values, bit for bit: (name, shape, kwargs) over long slices (PyTorch's CPU
# kernels accumulate float32 in double)
FLOAT32 = [("cumsum", (2, 300), {"dim": 1}), ("cumprod", (200,), {"dim": 0}),
           ("logcumsumexp", (300,), {"dim": 0}), ("var", (2, 300), {"dim": 1}),
           ("std", (300,), {}), ("var", (20, 15), {"correction": 0})]


def float32_case(name, shape, kwargs) -> dict:
    low, high = (0.9, 1.1) if name == "cumprod" else (-1.0, 3.0)
    a = gen.rng.uniform(low, high, shape).astype(np.float32)
    out = getattr(torch, name)(torch.tensor(a), **kwargs)
    return {"fn": name, "args": [gen.enc(a)], "kwargs": kwargs,
            "value": gen.enc(out.numpy())}


def main() -> None:
    cases = []
    for name, variants in CASES.items():
        gen.rng = np.random.default_rng(zlib.crc32(name.encode()))
        domain = DOMAIN.get(name, (-2, 2))
        for shapes, kwargs, kink in variants:
            arrays = [s() if callable(s) else gen.draw(domain, s) for s in shapes]
            cases.append(gen.case(name, "torch", arrays, kwargs, kink=kink))
    gen.rng = np.random.default_rng(zlib.crc32(b"double"))
    doubles = [double(name, [a() for a in arrays], kwargs) for name, arrays, kwargs in DOUBLE]
    gen.rng = np.random.default_rng(zlib.crc32(b"float32"))
    singles = [float32_case(*spec) for spec in FLOAT32]
    (HERE / "elem.json").write_text(json.dumps({"torch": torch.__version__, "cases": cases,
                                                "double": doubles, "float32": singles},
                                               separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
