"""Normalising layers: layer_norm (NativeLayerNormBackward0), the vector norm along dims
that ``normalize`` divides by (LinalgVectorNormBackward0), and the composites
``normalize`` and ``dropout`` (functions in :mod:`gradcli.autograd.nn_normalization`).

Gradients are PyTorch's formulas (layer_norm_backward, norm_backward), written with the
table's ops so that they differentiate again; PyTorch records layer_norm's second
derivative as one node (NativeLayerNormBackwardBackward0), gradcli as the ops of its
formula.
"""

from __future__ import annotations

import math

import numpy as np

from .core import exact, prose, reduce_objects, register, where_any

LAYERS = "layers"


# ---- layer_norm ---------------------------------------------------------------------

def _row_dims(x, normalized_shape) -> tuple:
    ndim = len(x.shape)
    return tuple(range(ndim - len(normalized_shape), ndim))


def _layer_norm(x, weight, bias, normalized_shape, eps):
    dims = _row_dims(x, normalized_shape)
    mean = np.mean(x, axis=dims, keepdims=True)
    centred = x - mean
    rstd = 1 / np.sqrt(np.mean(centred * centred, axis=dims, keepdims=True) + eps)
    out = centred * rstd
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


def _normalized(F, x, dims, eps):
    """(x - mean) * rstd and rstd, over the last dims."""
    centred = x - F.mean_dim(x, dims, True)
    rstd = F.rsqrt(F.mean_dim(centred * centred, dims, True) + eps)
    return centred * rstd, rstd


def _layer_norm_input_vjp(F, g, x, weight, bias, out, normalized_shape, eps):
    dims = _row_dims(x, normalized_shape)
    xhat, rstd = _normalized(F, x, dims, eps)
    gx = g if weight is None else g * weight
    return rstd * (gx - F.mean_dim(gx, dims, True) - xhat * F.mean_dim(gx * xhat, dims, True))


def _layer_norm_weight_vjp(F, g, x, weight, bias, out, normalized_shape, eps):
    xhat = _normalized(F, x, _row_dims(x, normalized_shape), eps)[0]
    return F.sum_to(g * xhat, weight.shape)


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
    centred = x - np.mean(x, axis=dims, keepdims=True)
    variance = np.mean(centred * centred, axis=dims, keepdims=True)
    return where_any(variance + eps <= 0, "a row's variance + eps is not positive: "
                                          "layer_norm divides by sqrt(0)")


register("layer_norm", "NativeLayerNormBackward0", _layer_norm,
         (_layer_norm_input_vjp, _layer_norm_weight_vjp,
          lambda F, g, x, weight, bias, out, normalized_shape, eps: F.sum_to(g, bias.shape)),
         params="input, normalized_shape: ints, weight: tensor? = None, "
                "bias: tensor? = None, eps: number = 1e-05",
         group=LAYERS, api="F", function="nn_normalization:layer_norm",
         sympy=_layer_norm_sympy, keeps_layout=False,
         undefined=lambda x, weight, bias, out, normalized_shape, eps:
             _flat_rows(x, out, normalized_shape, eps),
         derivative=(prose("rstd * (g*w - mean(g*w) - xhat * mean(g*w*xhat)) over each row"),
                     prose("g * xhat, summed over the batch"),
                     prose("g, summed over the batch")))


# ---- the vector norm along dims (keepdim), as normalize takes it -------------------------

def _vector_norm(x, ord, dim):
    a = np.abs(x)
    if ord == math.inf:
        return np.max(a, axis=dim, keepdims=True)
    if ord == -math.inf:
        return np.min(a, axis=dim, keepdims=True)
    if ord == 0:
        return np.sum(a != 0, axis=dim, keepdims=True).astype(a.dtype)
    if ord == 2:
        return np.sqrt(np.sum(a * a, axis=dim, keepdims=True))
    return np.sum(a ** ord, axis=dim, keepdims=True) ** (1 / ord)


def _vector_norm_vjp(F, g, x, out, ord, dim):
    """PyTorch's norm_backward, branch by branch."""
    at_zero = F.value(out) == 0
    if ord == 0:
        return F.zeros_like(x)
    if ord == 1:
        return F.sgn(x) * g
    if ord == 2:
        with np.errstate(divide="ignore", invalid="ignore"):     # 0/0, then masked
            return g * F.masked_fill(x / out, mask=at_zero, value=0)
    if math.isinf(ord):
        picked = F.const((np.abs(F.value(x)) == F.value(out)).astype(F.value(x).dtype))
        return F.sgn(x) * (g / F.sum_dim(picked, dim, True) * picked)
    if ord < 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = F.sgn(x) * F.masked_fill(F.pow(F.abs(x), ord - 1),
                                              mask=F.value(x) == 0, value=0)
        return scaled * g * F.pow(out, 1 - ord)
    scaled = F.sgn(x) * F.pow(F.abs(x), ord - 1) if ord < 2 else \
        x * F.pow(F.abs(x), ord - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return scaled * F.masked_fill(g / F.pow(out, ord - 1), mask=at_zero, value=0)


def _vector_norm_sympy(sp, x, ord, dim):
    def norm(*e):
        if ord == 2:
            return sp.sqrt(sp.Add(*[v ** 2 for v in e]))
        if math.isinf(ord):
            return (sp.Max if ord > 0 else sp.Min)(*[sp.Abs(v) for v in e])
        if ord == 0:
            return sp.Add(*[sp.Piecewise((0, sp.Eq(v, 0)), (1, True)) for v in e])
        return sp.Add(*[sp.Abs(v) ** exact(sp, ord) for v in e]) ** (1 / exact(sp, ord))
    return reduce_objects(norm, x, dim, keepdim=True)


def _vector_norm_kinks(x, out, ord, dim):
    """Where the norm has no derivative: a zero norm, a zero element (for p != 2), and
    ties for the largest (p = inf)."""
    if ord == 0:
        return None
    if math.isinf(ord):
        ties = np.sum(np.abs(x) == out, axis=dim, keepdims=True) > 1
        return where_any(ties | (out == 0), "the largest |element| is tied or 0: a kink")
    zero = (out == 0) if ord == 2 else (x == 0)
    return where_any(zero, "an element or the norm is 0: the norm has a kink there")


register("vector_norm", "LinalgVectorNormBackward0", _vector_norm, (_vector_norm_vjp,),
         internal=True, shown_as="norm", sympy=_vector_norm_sympy,
         undefined=_vector_norm_kinks, syntax="norm(x, p, dim, keepdim=True)",
         derivative=(prose("x |x|^(p-2) / norm^(p-1) (p = 1: sign(x))"),))

# ---- composites -----------------------------------------------------------------------

register("normalize", function="nn_normalization:normalize",
         params="input, p: number = 2.0, dim: int = 1, eps: number = 1e-12, out: any = None",
         group=LAYERS, api="F",
         records=("DivBackward0", "ExpandBackward0", "ClampMinBackward0",
                  "LinalgVectorNormBackward0"),
         derivative=(prose("(g - x/|x| * sum(g x/|x|)) / |x| for p = 2"),))
register("dropout", function="nn_normalization:dropout",
         params="input, p: number = 0.5, training: bool = True, inplace: bool = False",
         group=LAYERS, api="F", records=("MulBackward0",),
         derivative=(prose("the mask used, scaled by 1/(1-p); 1 when not training"),))
