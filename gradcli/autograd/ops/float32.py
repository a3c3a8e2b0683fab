"""float32 forwards that round as PyTorch's CPU kernels do, where numpy's differ.

numpy's float32 exp, sin, tanh, ... use their own SIMD approximations; PyTorch 2.13
computes them with MKL and Sleef.  Neither is correctly rounded everywhere, but both
are close to it, so these ops compute in float64 and round once -- which agrees with
PyTorch to the last bit far more often (``tests/test_float32_ulps.py`` measures each op
on 10 000 points against PyTorch-written results; README lists the figures).  Where
numpy's float32 agrees more (rsqrt, asinh, acos, atan, tan) the op keeps numpy's.
Composite kernels follow PyTorch's arithmetic: sigmoid is ``1 / (1 + exp(-x))`` in
float32, tanh's backward ``g * (1 - y * y)`` with a fused multiply-add.

The op table's entries name these as their ``forward_f32``.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32
ONE = F32(1.0)


def via64(fn):
    """``fn`` computed in float64 and rounded to float32 once."""
    def f32(*xs, **params):
        return fn(*(x.astype(np.float64) if isinstance(x, np.ndarray) else x for x in xs),
                  **params).astype(np.float32)
    f32.__name__ = f"{getattr(fn, '__name__', 'fn')}_via64"
    return f32


exp = via64(np.exp)


def sigmoid(x):
    return ONE / (ONE + exp(-x))


def silu(x):
    return x / (ONE + exp(-x))


def softplus(x, beta, threshold):
    bx = x * F32(beta)
    return np.where(bx > threshold, x,
                    via64(np.log1p)(exp(np.minimum(bx, F32(threshold)))) / F32(beta))


def softplus_backward(g, x, beta, threshold):
    z = exp(np.minimum(x * F32(beta), F32(threshold)))
    return np.where(x * F32(beta) > threshold, g, g * z / (z + ONE))


def silu_backward(g, x):
    """PyTorch's silu_backward kernel (a plain backward): dy * s * (1 + x * (1 - s)),
    the last factor a fused multiply-add for float32."""
    if x.dtype != np.float32:
        s = 1 / (1 + np.exp(-x))
        return g * s * (1 + x * (1 - s))
    s = sigmoid(x)
    fused = (1.0 + x.astype(np.float64) * (ONE - s).astype(np.float64)).astype(np.float32)
    return g * s * fused


def tanh_backward(g, y):
    y64 = y.astype(np.float64)
    return g * (1.0 - y64 * y64).astype(np.float32)        # 1 - y*y fused: one rounding
