"""Write tests/data/ops/linalg.json: PyTorch 2.13's values, gradients and grad_fn graphs
for the linear-algebra ops of SPEC 3.9, read by tests/test_ops_torch.py.

Run once with a Python that has PyTorch:

    /tmp/torchenv/bin/python tests/data/ops/generate_linalg.py

Also: the grad_fn graphs of first derivatives taken with create_graph
(``double_backward``), PyTorch's messages for calls it refuses (``errors``), and what
linalg_script.py prints (linalg_script.out).  The cases are made as generate.py makes
its own (same encoding, a seed per op, so rerunning writes the same file), with
generate_shape.py's ``call`` and ``parts`` where needed; ``where`` "linalg" calls
``torch.linalg.NAME``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate as gen  # noqa: E402


def function(where: str, name: str):
    """torch.NAME, or torch.linalg.NAME; gradcli's name of torch.linalg.X is linalg_X
    where torch.X differs from it (cross's default dim, slogdet's named tuple)."""
    if where == "linalg":
        return getattr(torch.linalg, name.removeprefix("linalg_"))
    return getattr(torch, name)


def case(name, where, arrays, kwargs, kink=False, before=()) -> dict:
    """A case as generate.py writes it, in generate_shape.py's format where it needs
    more: ``call`` (einsum's equation before the operands) and ``parts`` (slogdet's
    tuple: value, upstream and graph per part, grads of all parts together)."""
    xs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = function(where, name)(*before, *xs, **kwargs)
    parts = isinstance(out, tuple)
    outs = list(out) if parts else [out]
    upstreams = [gen.rng.uniform(-1, 1, tuple(o.shape)) for o in outs]
    leaves = [x for x in xs if x.requires_grad]
    grads = torch.autograd.grad(outs, leaves, [torch.tensor(u) for u in upstreams],
                                allow_unused=True)
    shapes = "/".join("x".join(map(str, a.shape)) or "0d" for a in arrays)
    extra = ",".join([json.dumps(b) for b in before] +
                     [f"{k}={v}" for k, v in kwargs.items()])
    values = [gen.enc(o.detach().numpy()) for o in outs]
    graphs = [gen.graph(o.grad_fn) for o in outs]
    return {"id": f"{name}/{shapes}" + (f"/{extra}" if extra else "") +
            ("/kink" if kink else ""),
            "fn": name, "args": [gen.enc(a) for a in arrays], "kwargs": kwargs,
            **({"call": list(before) + [{"arg": i} for i in range(len(arrays))]}
               if before else {}),
            **({"parts": True} if parts else {}),
            "value": values if parts else values[0],
            "upstream": [gen.enc(u) for u in upstreams] if parts else gen.enc(upstreams[0]),
            "grads": [None if g is None else gen.enc(g.numpy()) for g in grads],
            "graph": graphs if parts else graphs[0], "kink": kink}


def square(n, batch=()):
    """A well-conditioned matrix (or batch of them): random plus n on the diagonal."""
    return lambda: gen.rng.uniform(-1, 1, batch + (n, n)) + n * np.eye(n) * \
        np.where(gen.rng.uniform(size=batch + (1, 1)) > 0.5, 1, -1)


def spd(n, batch=()):
    def make():
        a = gen.rng.uniform(-1, 1, batch + (n, n))
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return make


def fixed(values):
    return lambda: np.asarray(values, dtype=np.float64)


# (name, where, [argument shapes or makers, ...], kwargs[, "skipped"]): "skipped" marks
# cases the check skips (``kink``): a singular matrix, where PyTorch's gradient is not
# the derivative; logdet where a sign is -1 (where(sign == -1, NaN, logabsdet) gives NaN)
CASES = [
    ("outer", "torch", [[(3,), (4,)], [(1,), (2,)]], {}),
    ("bmm", "torch", [[(2, 3, 4), (2, 4, 5)], [(1, 2, 2), (1, 2, 3)]], {}),
    ("matmul", "torch", [[(2, 3, 4), (2, 4, 5)], [(2, 3, 4), (4, 5)], [(5, 3), (2, 3, 4)],
                         [(2, 3, 4), (4,)], [(3,), (2, 3, 4)], [(2, 2, 3, 4), (2, 4, 5)],
                         [(1, 3, 4), (2, 4, 5)], [(2, 1, 3, 4), (3, 4, 2)],
                         [(2, 3, 4), (1, 4, 2)]], {}),
    ("diag", "torch", [[(3,)], [(3, 3)], [(3, 4)], [(4, 3)], [(1,)]], {}),
    ("diag", "torch", [[(3,)], [(3, 4)]], {"diagonal": 1}),
    ("diag", "torch", [[(2,)], [(4, 3)]], {"diagonal": -2}),
    *((name, "torch", [[(3, 3)], [(2, 3, 4)], [(4, 2)]], kw)
      for name in ("triu", "tril") for kw in ({}, {"diagonal": 1}, {"diagonal": -1})),
    *((name, where, [[square(1)], [square(2)], [square(3)], [square(3, (2,))],
                     [square(2, (2, 2))]], {})
      for name, where in (("det", "torch"), ("det", "linalg"), ("inverse", "torch"),
                          ("inv", "linalg"), ("slogdet", "torch"),
                          ("linalg_slogdet", "linalg"))),
    ("logdet", "torch", [[spd(1)], [spd(2)], [spd(3)], [spd(3, (2,))],
                         [spd(2, (2, 2))]], {}),
    ("logdet", "torch", [[fixed([[[2.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                                 [[1.0, 2.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]])]],
     {}, "skipped"),                                    # a sign of -1: NaN there
    # logdet of a matrix with a negative determinant is NaN (its gradient too)
    ("logdet", "torch", [[fixed([[1.0, 2.0], [3.0, 4.0]])]], {}, "skipped"),
    # singular matrices: det 0 and its gradient 0, slogdet's -inf and inf/NaN gradient
    *((name, "torch", [[fixed([[1.0, 2.0], [2.0, 4.0]])], [fixed(np.zeros((2, 2)))],
                       [fixed([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])]], {},
       "skipped") for name in ("det", "slogdet")),
    ("solve", "linalg", [[square(2), (2,)], [square(3), (3, 2)], [square(3, (2,)), (2, 3)],
                         [square(2, (2,)), (2, 2, 1)], [square(2), (3, 2, 2)],
                         [square(2, (2,)), (2,)]], {}),
    ("solve", "linalg", [[square(3), (2, 3)], [square(2, (2,)), (2, 1, 2)],
                         [square(1), (2, 1)]], {"left": False}),
    ("cholesky", "linalg", [[spd(1)], [spd(2)], [spd(3)], [spd(3, (2,))]], {}),
    ("linalg_cross", "linalg", [[(3,), (3,)], [(2, 3), (2, 3)], [(2, 3), (1, 3)],
                                [(4, 2, 3), (4, 1, 3)], [(3, 3), (3, 3)]], {}),
    ("linalg_cross", "linalg", [[(3, 2), (3, 2)], [(2, 3, 2), (2, 3, 1)]], {"dim": -2}),
    ("cross", "torch", [[(3, 2), (3, 2)]], {"dim": 0}),
    ("cross", "torch", [[(2, 3), (2, 3)]], {"dim": 1}),
    ("kron", "torch", [[(2,), (3,)], [(2, 2), (2, 3)], [(2, 3), (3,)], [(3,), (2, 2)],
                       [(2, 1, 2), (2, 2)], [(), (2,)]], {}),
    ("tensordot", "torch", [[(2, 3, 4), (3, 4, 2)], [(3, 4), (3, 4)]], {}),
    ("tensordot", "torch", [[(2, 3), (3, 4)], [(2, 3, 4), (4, 2)]], {"dims": 1}),
    ("tensordot", "torch", [[(3,), (2,)], [(2, 3), (4,)]], {"dims": 0}),
    ("tensordot", "torch", [[(2, 3, 4), (4, 3, 2)], [(2, 3, 1), (4, 3, 2)]],
     {"dims": [[1, 2], [1, 0]]}),
    ("tensordot", "torch", [[(3, 4), (2, 3)], [(1, 3), (3, 1)]], {"dims": [[0], [1]]}),
]


# first derivatives taken with create_graph: the grad_fn graphs PyTorch records for them
DOUBLE = [
    ("outer", "torch", [(3,), (4,)]), ("bmm", "torch", [(2, 3, 4), (2, 4, 5)]),
    ("matmul", "torch", [(2, 3, 4), (4, 5)]), ("diag", "torch", [(3,)]),
    ("diag", "torch", [(3, 3)]), ("triu", "torch", [(3, 3)]), ("tril", "torch", [(3, 3)]),
    ("det", "torch", [square(3)]), ("det", "torch", [square(2, (2,))]),
    ("inverse", "torch", [square(3)]), ("inverse", "torch", [square(2, (2,))]),
    ("solve", "linalg", [square(3), (3,)]), ("solve", "linalg", [square(3), (3, 2)]),
    ("solve", "linalg", [square(3), (2, 3)], {"left": False}),
    ("logdet", "torch", [square(3)]), ("cholesky", "linalg", [spd(3)]),
    ("linalg_cross", "linalg", [(3,), (3,)]), ("kron", "torch", [(2, 2), (2,)]),
    ("tensordot", "torch", [(2, 3, 4), (3, 4, 2)]),
]
DOUBLE_EINSUM = [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
                 ("bi,bi->b", [(2, 3), (2, 3)])]


def double_backward(name, where, shapes, kwargs=None, before=()) -> dict:
    arrays = [shape() if callable(shape) else gen.draw((-2, 2), shape) for shape in shapes]
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    kwargs = kwargs or {}
    out = function(where, name)(*before, *xs, **kwargs)
    upstream = gen.rng.uniform(-1, 1, tuple(out.shape))
    grads = torch.autograd.grad(out, xs, torch.tensor(upstream), create_graph=True)
    return {"fn": name, "before": list(before), "args": [gen.enc(a) for a in arrays],
            "kwargs": kwargs, "upstream": gen.enc(upstream),
            "graphs": [gen.graph(g.grad_fn) for g in grads]}


# calls PyTorch refuses: (name, where, arguments, kwargs) -> its exception and message
ERRORS = [
    ("outer", "torch", [np.ones((2, 2)), np.ones(3)], {}),
    ("outer", "torch", [np.ones(2), np.ones((3, 1))], {}),
    ("bmm", "torch", [np.ones((2, 3)), np.ones((2, 3))], {}),
    ("bmm", "torch", [np.ones((2, 3, 4)), np.ones((2, 3, 4))], {}),
    ("bmm", "torch", [np.ones((2, 3, 4)), np.ones((3, 4, 4))], {}),
    ("bmm", "torch", [np.ones((2, 3, 4)), np.ones((2, 4))], {}),
    ("matmul", "torch", [np.ones((2, 3, 4)), np.ones((3, 4, 5))], {}),
    ("matmul", "torch", [np.ones((2, 3, 4)), np.ones((2, 3, 5))], {}),
    ("diag", "torch", [np.ones((2, 2, 2))], {}), ("diag", "torch", [np.array(1.0)], {}),
    ("triu", "torch", [np.ones(3)], {}), ("tril", "torch", [np.array(2.0)], {}),
    ("det", "torch", [np.ones((2, 3))], {}), ("det", "torch", [np.ones(3)], {}),
    ("det", "torch", [np.array([[1, 2], [3, 4]])], {}),
    ("inverse", "torch", [np.zeros((2, 2))], {}),
    ("inverse", "torch", [np.array([[1.0, 2.0], [2.0, 4.0]])], {}),
    ("inverse", "torch", [np.array([[0.0, 0.0], [1.0, 1.0]])], {}),
    ("inv", "linalg", [np.stack([np.eye(2), np.zeros((2, 2))])], {}),
    ("inverse", "torch", [np.ones((2, 3))], {}),
    ("solve", "linalg", [np.zeros((2, 2)), np.ones(2)], {}),
    ("solve", "linalg", [np.stack([np.eye(2), np.zeros((2, 2))]), np.ones((2, 2))], {}),
    ("solve", "linalg", [np.eye(2), np.ones(3)], {}),
    ("solve", "linalg", [np.ones((2, 3)), np.ones(2)], {}),
    ("solve", "linalg", [np.eye(3), np.ones(3)], {"left": False}),
    ("solve", "linalg", [np.eye(1), np.ones(1)], {"left": False}),
    ("slogdet", "torch", [np.ones(3)], {}), ("logdet", "torch", [np.ones((2, 3))], {}),
    ("cholesky", "linalg", [-np.eye(2)], {}),
    ("cholesky", "linalg", [np.stack([np.eye(2), -np.eye(2)])], {}),
    ("cholesky", "linalg", [np.ones((2, 3))], {}),
    ("linalg_cross", "linalg", [np.ones((2, 2)), np.ones((2, 2))], {}),
    ("linalg_cross", "linalg", [np.ones(3), np.ones((4, 3))], {}),
    ("linalg_cross", "linalg", [np.ones((4, 3)), np.ones((2, 3))], {}),
    ("cross", "torch", [np.ones((2, 2)), np.ones((2, 2))], {}),
    ("cross", "torch", [np.ones((3, 2)), np.ones((3, 2))], {"dim": 1}),
    ("tensordot", "torch", [np.ones((3, 4)), np.ones((4, 3))], {}),
    ("tensordot", "torch", [np.ones((3, 4)), np.ones((4, 3))], {"dims": -1}),
    ("tensordot", "torch", [np.ones((3, 4)), np.ones((4, 3))], {"dims": 3}),
    ("tensordot", "torch", [np.ones((3, 4)), np.ones((4, 3))], {"dims": [[0, 1], [1]]}),
    ("einsum", "torch", ["ij,jk->ik", np.ones((2, 3)), np.ones((2, 3))], {}),
    ("einsum", "torch", ["ij,jk", np.ones((2, 3))], {}),
    ("einsum", "torch", ["ij->k", np.ones((2, 3))], {}),
    ("einsum", "torch", ["ijk->", np.ones((2, 3))], {}),
    ("einsum", "torch", ["ii", np.ones((2, 3))], {}),
    ("einsum", "torch", ["i1", np.ones(2)], {}),
]


def error(name, where, arrays, kwargs) -> dict:
    """(A string argument stays a string: einsum's equation.)"""
    try:
        function(where, name)(*[a if isinstance(a, str) else torch.tensor(a)
                                for a in arrays], **kwargs)
    except RuntimeError as e:
        message = str(e)
    else:
        raise AssertionError(f"{name} accepted {arrays}")
    return {"fn": name, "args": [a if isinstance(a, str) else gen.enc(a) for a in arrays],
            "kwargs": kwargs, "message": message}


# einsum: (equation, operand shapes)
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i->", [(3,), (3,)]), ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]), ("ij->ji", [(2, 3)]), ("ij", [(2, 3)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,j->ij", [(2,), (3,)]), ("...ij,...jk", [(2, 2, 3), (3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]), ("iij->j", [(2, 2, 3)]),
    ("ij->", [(2, 3)]), ("ij,kj->ik", [(2, 3), (4, 3)]), ("i,i", [(3,), (3,)]),
    ("ab,b->a", [(2, 3), (3,)]), ("ij,j->", [(2, 3), (3,)]), ("bi,bi->b", [(2, 3), (1, 3)]),
    ("i->", [(3,)]), ("i,i,i->i", [(3,), (3,), (3,)]),
]


def main() -> None:
    cases = []
    gen.rng = np.random.default_rng(zlib.crc32(b"einsum"))
    for equation, shapes in EINSUM:
        arrays = [gen.draw((-2, 2), shape) for shape in shapes]
        cases.append(case("einsum", "torch", arrays, {}, before=(equation,)))
    for name, where, make, kwargs, *kink in CASES:
        gen.rng = np.random.default_rng(zlib.crc32(f"{name}/{kwargs}".encode()))
        for shapes in make:
            arrays = [shape() if callable(shape) else gen.draw((-2, 2), shape)
                      for shape in shapes]
            cases.append(case(name, where, arrays, kwargs, kink=bool(kink)))
    gen.rng = np.random.default_rng(zlib.crc32(b"double backward"))
    double = [double_backward(*spec) for spec in DOUBLE] + [
        double_backward("einsum", "torch", shapes, before=(equation,))
        for equation, shapes in DOUBLE_EINSUM]
    errors = [error(*spec) for spec in ERRORS]
    (HERE / "linalg.json").write_text(json.dumps(
        {"torch": torch.__version__, "cases": cases, "double_backward": double,
         "errors": errors}, separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases")
    script = HERE / "linalg_script.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True).stdout
    (HERE / "linalg_script.out").write_text(out)


if __name__ == "__main__":
    main()
