"""Activation functions (torch.nn.functional's), with PyTorch's kernels' formulas and
values at kinks (relu'(0) = 0).  The gradient of most is an op of its own, as in
PyTorch (``threshold_backward``, ``softplus_backward``: :mod:`.backward`), so that
derivatives of any order record PyTorch's nodes.
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from .core import exact, register, where_any
from .elementwise import MAX_MIN
from .float32 import silu_backward

ACT = "activations"


def _not_bool_relu(x):
    if x.dtype == bool:
        raise InputError("Boolean inputs not supported for relu")
    return x


def _softplus(x, beta, threshold):
    # PyTorch: x itself where x*beta > threshold, log1p(exp(x*beta))/beta below.
    bx = x * beta
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)


def _softplus_vjp(F, g, x, out, beta, threshold):
    return F.softplus_backward(g, x, beta, threshold)


def _softplus_sympy(sp, x, beta, threshold):
    beta, threshold = exact(sp, beta), exact(sp, threshold)
    return sp.Piecewise((x, x * beta > threshold), (sp.log(1 + sp.exp(beta * x)) / beta, True))


def _silu_vjp(F, g, x, out):
    """PyTorch's silu_backward kernel in a plain backward; under create_graph its
    infinitely_differentiable_silu_backward."""
    if not F.tensor_mode:
        return silu_backward(g, x)
    s = F.sigmoid(x)
    right = F.add_scalar(x * F.sub(1, s), 1)
    return g * s * right


register("sigmoid", "SigmoidBackward0", lambda x: 1 / (1 + np.exp(-x)),
         (lambda F, g, x, out: F.sigmoid_backward(g, out),), params="input", group=ACT,
         api="torch F method", elementwise=True, dtype_rule="float",
         sympy=lambda sp, x: 1 / (1 + sp.exp(-x)),
         derivative=("sigmoid(x)*(1 - sigmoid(x))",))
register("relu", "ReluBackward0", lambda x: np.maximum(_not_bool_relu(x), 0),
         (lambda F, g, x, out: F.threshold_backward(g, out, 0),), params="input", group=ACT,
         api="torch F method", elementwise=True, dtype_rule="promote",
         sympy=lambda sp, x: sp.Max(x, 0), numeric=MAX_MIN,
         derivative=("1 if x > 0 else 0",),
         undefined=lambda x, out: where_any(x == 0, "relu has a kink at 0 (PyTorch uses 0)"))
register("softplus", "SoftplusBackward0", _softplus, (_softplus_vjp,),
         params="input, beta: number = 1.0, threshold: number = 20.0", group=ACT, api="F",
         elementwise=True, dtype_rule="float", sympy=_softplus_sympy,
         derivative=("sigmoid(beta*x) if x*beta <= threshold else 1",),
         undefined=lambda x, out, beta, threshold: where_any(
             x * beta == threshold, "softplus jumps to slope 1 at its threshold"))
register("silu", "SiluBackward0", lambda x: x / (1 + np.exp(-x)), (_silu_vjp,),
         params="input", group=ACT, api="F", elementwise=True, dtype_rule="float",
         sympy=lambda sp, x: x / (1 + sp.exp(-x)),
         derivative=("sigmoid(x)*(1 + x*(1 - sigmoid(x)))",))
