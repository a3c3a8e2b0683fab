"""Write PyTorch 2.13's float32 results of every elementwise op on a grid of 10 000 points
(``float32_torch.npz``; run once, with PyTorch):

    /tmp/torchenv/bin/python tests/data/engine/make_float32.py

For each op: its value and the gradient of ``sum(op(x))`` (for binary ops, of both
inputs), as float32 bit patterns.  ``tests/test_float32_ulps.py`` measures how many
units in the last place gradcli's float32 results are from these.
"""

from __future__ import annotations

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from float32_grid import BINARY, UNARY, grid  # noqa: E402


def torch_ops(torch):
    nnf = torch.nn.functional
    unary = {
        "exp": torch.exp, "exp2": torch.exp2, "expm1": torch.expm1, "log": torch.log,
        "log2": torch.log2, "log10": torch.log10, "log1p": torch.log1p, "sqrt": torch.sqrt,
        "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal, "sin": torch.sin,
        "cos": torch.cos, "tan": torch.tan, "asin": torch.asin, "acos": torch.acos,
        "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh, "tanh": torch.tanh,
        "asinh": torch.asinh, "abs": torch.abs, "sign": torch.sign, "erf": torch.erf,
        "sigmoid": torch.sigmoid, "relu": torch.relu, "softplus": nnf.softplus,
        "silu": nnf.silu, "square": torch.square, "neg": torch.neg,
        "clamp": lambda x: torch.clamp(x, -0.5, 0.75), "pow_2.5": lambda x: x ** 2.5,
        "pow_3": lambda x: x ** 3, "pow_base": lambda x: 1.7 ** x,
        "mul_number": lambda x: x * 0.1, "add_number": lambda x: x + 0.3,
        "div_number": lambda x: x / 3.0, "rsub": lambda x: 0.7 - x,
        "rdiv": lambda x: 2.0 / x,
    }
    binary = {
        "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
        "pow": torch.pow, "maximum": torch.maximum, "minimum": torch.minimum,
        "atan2": torch.atan2, "hypot": torch.hypot,
    }
    return unary, binary


def main() -> None:
    import torch
    torch.set_num_threads(1)
    unary, binary = torch_ops(torch)
    out = {}
    for name in UNARY:
        x = torch.tensor(grid(name), dtype=torch.float32, requires_grad=True)
        y = unary[name](x)
        y.sum().backward()
        out[name] = y.detach().numpy().view(np.uint32)
        out[name + ".grad"] = x.grad.numpy().view(np.uint32)
    for name in BINARY:
        a0, b0 = grid(name)
        a = torch.tensor(a0, dtype=torch.float32, requires_grad=True)
        b = torch.tensor(b0, dtype=torch.float32, requires_grad=True)
        y = binary[name](a, b)
        y.sum().backward()
        out[name] = y.detach().numpy().view(np.uint32)
        out[name + ".grad0"] = a.grad.numpy().view(np.uint32)
        out[name + ".grad1"] = b.grad.numpy().view(np.uint32)
    path = os.path.join(HERE, "float32_torch.npz")
    np.savez_compressed(path, **out)
    print(f"{path}: {len(UNARY)} unary and {len(BINARY)} binary ops")


if __name__ == "__main__":
    main()
