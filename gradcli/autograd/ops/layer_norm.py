"""layer_norm (NativeLayerNormBackward0) and its gradient as an op of its own,
``layer_norm_backward`` (NativeLayerNormBackwardBackward0), as PyTorch records them.

Over each row (the last ``len(normalized_shape)`` dims, N elements), with c = x - mean,
s = 1/sqrt(mean(c*c) + eps) and xhat = c*s, the forward is xhat * w + b, and the
gradient for an upstream g (gw = g*w) is

    dx = A gw,   A = s (I - 11'/N - xhat xhat'/N)   (symmetric),
    dw = g*xhat summed over the rows,   db = g summed over the rows.

``layer_norm_backward`` computes one of them (``output`` 0, 1, 2); its VJPs are the
second derivatives, written with the table's ops, so third derivatives follow.  Its
inputs are PyTorch's (grad_out, input, mean, rstd, weight, bias): mean and rstd are
None here (PyTorch's are constants too), so the edges match PyTorch's.  PyTorch makes
dx, dw and db with one node; gradcli with one node each.
"""

from __future__ import annotations

import math

import numpy as np

from .core import exact, prose, register, sum_to, where_any

LAYERS = "layers"


def _row_dims(x, normalized_shape) -> tuple:
    ndim = len(x.shape)
    return tuple(range(ndim - len(normalized_shape), ndim))


def _centred(x, dims, eps):
    """(c, s): x minus its row mean, and 1/sqrt of the row variance + eps (numpy)."""
    c = x - np.mean(x, axis=dims, keepdims=True)
    return c, 1 / np.sqrt(np.mean(c * c, axis=dims, keepdims=True) + eps)


def _layer_norm(x, weight, bias, normalized_shape, eps):
    c, s = _centred(x, _row_dims(x, normalized_shape), eps)
    out = c * s
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def _backward(g, x, mean, rstd, weight, bias, normalized_shape, eps, output):
    dims = _row_dims(x, normalized_shape)
    c, s = _centred(x, dims, eps)
    xhat = c * s
    if output == 1:
        return sum_to(g * xhat, weight.shape)
    if output == 2:
        return sum_to(g, bias.shape)
    gw = g if weight is None else g * weight
    return s * (gw - np.mean(gw, axis=dims, keepdims=True)
                - xhat * np.mean(gw * xhat, axis=dims, keepdims=True))


def _first(output: int):
    def vjp(F, g, x, weight, bias, out, normalized_shape, eps):
        return F.layer_norm_backward(g, x, None, None, weight, bias,
                                     normalized_shape=normalized_shape, eps=eps,
                                     output=output)
    return vjp


# ---- second derivatives: the VJPs of layer_norm_backward (v: its output's cotangent) ----

def _stats(F, x, normalized_shape, eps):
    """(dims, N, c, s) with c and s recorded from x (they differentiate again)."""
    dims = _row_dims(x, normalized_shape)
    c = x - F.mean_dim(x, dims, True)
    return dims, math.prod(normalized_shape), c, F.rsqrt(F.mean_dim(c * c, dims, True) + eps)


def _apply_a(F, v, c, s, dims):
    """A v (A is symmetric)."""
    xhat = c * s
    return s * (v - F.mean_dim(v, dims, True) - xhat * F.mean_dim(v * xhat, dims, True))


def _grad_out_vjp(F, v, g, x, mean, rstd, weight, bias, out, normalized_shape, eps,
                  output):
    if output == 2:
        return F.expand(v, x.shape)
    dims, n, c, s = _stats(F, x, normalized_shape, eps)
    if output == 1:
        return v * (c * s)
    av = _apply_a(F, v, c, s, dims)
    return av if weight is None else av * weight


def _input_vjp(F, v, g, x, mean, rstd, weight, bias, out, normalized_shape, eps, output):
    if output == 2:
        return None                       # db does not depend on x
    dims, n, c, s = _stats(F, x, normalized_shape, eps)
    if output == 1:                       # f = sum(s * (q . c)), q = v*g
        q = v * g
        r = s * q - s * s * s * c * F.sum_dim(q * c, dims, True) / n
    else:                                 # f = s (v . a) - s^3 (v . c)(gw . c)/N
        gw = g if weight is None else g * weight
        a = gw - F.mean_dim(gw, dims, True)
        vc, gc = F.sum_dim(v * c, dims, True), F.sum_dim(gw * c, dims, True)
        va = F.sum_dim(v * a, dims, True)
        s3 = s * s * s
        r = (s3 * c / n) * (3 * s * s * vc * gc / n - va) - (s3 / n) * (gc * v + vc * gw)
    return r - F.mean_dim(r, dims, True)          # through c = x - mean(x)


def _weight_vjp(F, v, g, x, mean, rstd, weight, bias, out, normalized_shape, eps, output):
    if output != 0:
        return None                       # dw and db do not depend on w
    dims, n, c, s = _stats(F, x, normalized_shape, eps)
    return F.sum_to(g * _apply_a(F, v, c, s, dims), weight.shape)


def _no_gradient(F, v, g, x, mean, rstd, weight, bias, out, normalized_shape, eps, output):
    return None                           # nothing depends on the bias


def _layer_norm_sympy(sp, x, weight, bias, normalized_shape, eps):
    x = np.asarray(x, dtype=object)
    n = math.prod(normalized_shape)
    rows = x.reshape(-1, n).copy()
    for r, row in enumerate(rows):
        mean = sp.Add(*row) / n
        scale = 1 / sp.sqrt(sp.Add(*[(e - mean) ** 2 for e in row]) / n + exact(sp, eps))
        rows[r] = [(e - mean) * scale for e in row]
    out = rows.reshape(x.shape)
    if weight is not None:
        out = out * np.asarray(weight, dtype=object)
    return out if bias is None else out + np.asarray(bias, dtype=object)


def _flat_rows(x, out, normalized_shape, eps):
    """Where a row's variance + eps is not positive (eps <= 0): 1/sqrt of it is not real."""
    dims = _row_dims(x, normalized_shape)
    c = x - np.mean(x, axis=dims, keepdims=True)
    return where_any(np.mean(c * c, axis=dims, keepdims=True) + eps <= 0,
                     "a row's variance + eps is not positive: layer_norm divides by sqrt(0)")


register("layer_norm", "NativeLayerNormBackward0", _layer_norm,
         (_first(0), _first(1), _first(2)),
         params="input, normalized_shape: ints, weight: tensor? = None, "
                "bias: tensor? = None, eps: number = 1e-05",
         group=LAYERS, api="F", function="nn_normalization:layer_norm",
         sympy=_layer_norm_sympy, keeps_layout=False,
         undefined=lambda x, weight, bias, out, normalized_shape, eps:
             _flat_rows(x, out, normalized_shape, eps),
         derivative=(prose("rstd * (g*w - mean(g*w) - xhat * mean(g*w*xhat)) over each row"),
                     prose("g * xhat, summed over the batch"),
                     prose("g, summed over the batch")))
register("layer_norm_backward", "NativeLayerNormBackwardBackward0", _backward,
         (_grad_out_vjp, _input_vjp, None, None, _weight_vjp, _no_gradient), internal=True,
         dtype_rule="keep", keeps_layout=False,
         syntax="layer_norm_backward(g, x, mean, rstd, weight, bias)")
