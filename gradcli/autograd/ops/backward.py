"""Ops that backward formulas record under create_graph, named as PyTorch names them.

PyTorch writes some derivatives as ops of their own -- ``tanh_backward(grad, result)``
is TanhBackwardBackward0 in a double-backward graph, relu's is ``threshold_backward``
(ThresholdBackwardBackward0) -- and multiplies by plain numbers with the Scalar
overloads (``result * log(2)`` is MulBackward1, ``result + 1`` AddBackward1).  Each is an
op-table entry with VJPs of its own (derivatives.yaml's), so derivatives of any order
record PyTorch's nodes.  All are internal: programs reach them only through backward.
"""

from __future__ import annotations

import numpy as np

from . import float32 as f32
from .core import register


def _op(name, grad_fn, forward, vjps, broadcasts=False, keeps_layout=True, forward_f32=None):
    return register(name, grad_fn, forward, vjps, internal=True, broadcasts=broadcasts,
                    syntax=f"{name}(...)", keeps_layout=keeps_layout, forward_f32=forward_f32)


# ---- a tensor and a plain number (PyTorch's Scalar overloads) ---------------------------

_op("mul_scalar", "MulBackward1", lambda x, c: np.multiply(x, c),
    (lambda F, g, x, out, c: F.mul_scalar(g, c),))
_op("div_scalar", "DivBackward1", lambda x, c: np.true_divide(x, c),
    (lambda F, g, x, out, c: F.div_scalar(g, c),))
_op("add_scalar", "AddBackward1", lambda x, c: np.add(x, c), (lambda F, g, x, out, c: g,))
_op("sub_scalar", "SubBackward1", lambda x, c: np.subtract(x, c), (lambda F, g, x, out, c: g,))

# (masked_fill and masked_fill_tensor, which formulas record too, are in .masking)
_op("sgn", "SgnBackward0", np.sign, (lambda F, g, x, out: F.zeros_like(g),))

# ---- elementwise backward formulas as ops -------------------------------------------------

_op("tanh_backward", "TanhBackwardBackward0", lambda g, y: g * (1 - y * y),
    (lambda F, gg, g, y, out: F.tanh_backward(gg, y),
     lambda F, gg, g, y, out: gg * (F.mul_scalar(y, -2) * g)),
    broadcasts=True, forward_f32=f32.tanh_backward)
_op("sigmoid_backward", "SigmoidBackwardBackward0", lambda g, y: g * (1 - y) * y,
    (lambda F, gg, g, y, out: F.sigmoid_backward(gg, y),
     lambda F, gg, g, y, out: _sigmoid_output_vjp(F, gg, g, y)),
    broadcasts=True)
def _sigmoid_output_vjp(F, gg, g, y):
    """grad * grad_output * (-2 * output + 1); C++ evaluates the right factor first."""
    right = F.add_scalar(F.mul_scalar(y, -2), 1)
    return gg * g * right


_op("threshold_backward", "ThresholdBackwardBackward0",
    lambda g, x, threshold: np.where(x <= threshold, np.zeros((), dtype=g.dtype), g),
    (lambda F, gg, g, x, out, threshold: F.threshold_backward(gg, x, threshold),
     lambda F, gg, g, x, out, threshold: F.zeros_like(gg)), broadcasts=True)


def _softplus_backward(g, x, beta, threshold):
    z = np.exp(np.minimum(x * beta, threshold))
    return np.where(x * beta > threshold, g, g * z / (z + 1))


def _softplus_double_backward(F, gg, x, beta, threshold):
    """PyTorch's softplus_double_backward(grad, input, beta, threshold)."""
    s = F.sigmoid(F.mul_scalar(x, beta))
    mask = F.const((F.value(x) * beta < threshold).astype(F.value(s).dtype))
    return F.mul_scalar(F.sigmoid_backward(gg, s) * mask, beta)


_op("softplus_backward", "SoftplusBackwardBackward0", _softplus_backward,
    (lambda F, gg, g, x, out, beta, threshold: F.softplus_backward(gg, x, beta, threshold),
     lambda F, gg, g, x, out, beta, threshold:
         _softplus_double_backward(F, gg * g, x, beta, threshold)),
    broadcasts=True, forward_f32=f32.softplus_backward)

# ---- reductions ---------------------------------------------------------------------------


def _numel(a, b) -> int:
    return max(int(np.prod(np.broadcast_shapes(a.shape, b.shape))), 1)


def _softmax_backward_data(g, y, dim):
    return y * (g - np.sum(g * y, axis=dim, keepdims=True))


def _log_softmax_backward_data(g, y, dim):
    return g - np.exp(y) * np.sum(g, axis=dim, keepdims=True)


def _softmax_double_backward(F, gg, g, dim, y):
    """grad_output * grad - (output * grad_output).sum(dim, true) * grad
    - grad_output * (output * grad).sum(dim, true), right operands first."""
    c = g * F.sum_dim(y * gg, dim, True)
    b = F.sum_dim(y * g, dim, True) * gg
    return g * gg - b - c


def _log_softmax_output_vjp(F, gg, g, y, dim):
    """-grad_output.sum(dim, true) * output.exp() * grad"""
    e = F.exp(y)
    return -F.sum_dim(g, dim, True) * e * gg


_op("softmax_backward_data", "SoftmaxBackwardDataBackward0", _softmax_backward_data,
    (lambda F, gg, g, y, out, dim: F.softmax_backward_data(gg, y, dim),
     lambda F, gg, g, y, out, dim: _softmax_double_backward(F, gg, g, dim, y)), keeps_layout=False)
_op("log_softmax_backward_data", "LogSoftmaxBackwardDataBackward0",
    _log_softmax_backward_data,
    (lambda F, gg, g, y, out, dim: gg - F.sum_dim(gg * F.exp(y), dim, True),
     lambda F, gg, g, y, out, dim: _log_softmax_output_vjp(F, gg, g, y, dim)), keeps_layout=False)
