"""The grids of the float32 measurement: 10 000 float32 points per elementwise op, in
the op's domain (unary ops: evenly spaced; binary ops: a 100 x 100 product grid)."""

from __future__ import annotations

import numpy as np

N = 10_000
DOMAINS = {
    "exp": (-20, 20), "exp2": (-20, 20), "expm1": (-5, 5), "log": (1e-3, 100),
    "log2": (1e-3, 100), "log10": (1e-3, 100), "log1p": (-0.99, 10), "sqrt": (0, 100),
    "rsqrt": (1e-3, 100), "reciprocal": (0.01, 10), "sin": (-10, 10), "cos": (-10, 10),
    "tan": (-1.5, 1.5), "asin": (-0.999, 0.999), "acos": (-0.999, 0.999), "atan": (-10, 10),
    "sinh": (-5, 5), "cosh": (-5, 5), "tanh": (-5, 5), "asinh": (-10, 10), "abs": (-5, 5),
    "sign": (-5, 5), "erf": (-3, 3), "sigmoid": (-10, 10), "relu": (-5, 5),
    "softplus": (-10, 25), "silu": (-10, 10), "square": (-10, 10), "neg": (-5, 5),
    "clamp": (-2, 2), "pow_2.5": (0.01, 10), "pow_3": (-5, 5), "pow_base": (-10, 10),
    "mul_number": (-10, 10), "add_number": (-10, 10), "div_number": (-10, 10),
    "rsub": (-10, 10), "rdiv": (0.01, 10),
}
UNARY = list(DOMAINS)
BINARY_DOMAINS = {
    "add": ((-10, 10), (-10, 10)), "sub": ((-10, 10), (-10, 10)),
    "mul": ((-10, 10), (-10, 10)), "div": ((-10, 10), (0.1, 10)),
    "pow": ((0.1, 5), (-3, 3)), "maximum": ((-2, 2), (-2, 2)),
    "minimum": ((-2, 2), (-2, 2)), "atan2": ((-5, 5), (-5, 5)), "hypot": ((-5, 5), (-5, 5)),
}
BINARY = list(BINARY_DOMAINS)


def grid(name: str):
    """The op's points: one float32 array (unary) or a pair (binary)."""
    if name in DOMAINS:
        lo, hi = DOMAINS[name]
        return np.linspace(lo, hi, N).astype(np.float32)
    (alo, ahi), (blo, bhi) = BINARY_DOMAINS[name]
    a = np.linspace(alo, ahi, 100).astype(np.float32)
    b = np.linspace(blo, bhi, 100).astype(np.float32)
    aa, bb = np.meshgrid(a, b, indexing="ij")
    return aa.reshape(-1), bb.reshape(-1)
