"""Write tests/data/ops/linalg.json: PyTorch 2.13's values, gradients and grad_fn graphs
for the linear-algebra ops of SPEC 3.9, read by tests/test_ops_torch.py.

Run once with a Python that has PyTorch:

    /tmp/torchenv/bin/python tests/data/ops/generate_linalg.py

The cases are made as generate.py makes its own (same encoding, a seed per op, so
rerunning writes the same file); ``where`` "linalg" calls ``torch.linalg.NAME``.
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


def function(where: str, name: str):
    return getattr(torch.linalg if where == "linalg" else torch, name)


gen.function = function


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
# the derivative; logdet, whose where(sign == -1, NaN, logabsdet) holds a NaN constant
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
                          ("slogdet", "linalg"))),
    ("logdet", "torch", [[square(1)], [square(2)], [square(3)], [square(3, (2,))],
                         [square(2, (2, 2))]], {}, "skipped"),
    # logdet of a matrix with a negative determinant is NaN (its gradient too)
    ("logdet", "torch", [[fixed([[1.0, 2.0], [3.0, 4.0]])]], {}, "skipped"),
    # singular matrices: det 0 and its gradient 0, slogdet's -inf and inf/NaN gradient
    *((name, "torch", [[fixed([[1.0, 2.0], [2.0, 4.0]])], [fixed(np.zeros((2, 2)))],
                       [fixed([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])]], {},
       "skipped") for name in ("det", "slogdet")),
    ("solve", "linalg", [[square(2), (2,)], [square(3), (3, 2)], [square(3, (2,)), (2, 3)],
                         [square(2, (2,)), (2, 2, 1)], [square(2), (3, 2, 2)],
                         [square(2, (2,)), (2,)]], {}),
]


def main() -> None:
    cases = []
    for name, where, make, kwargs, *kink in CASES:
        gen.rng = np.random.default_rng(zlib.crc32(f"{name}/{kwargs}".encode()))
        for shapes in make:
            arrays = [shape() if callable(shape) else gen.draw((-2, 2), shape)
                      for shape in shapes]
            cases.append(gen.case(name, where, arrays, kwargs, kink=bool(kink)))
    (HERE / "linalg.json").write_text(json.dumps({"torch": torch.__version__, "cases": cases},
                                                 separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
