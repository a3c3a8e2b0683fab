"""The vector norm along dims that ``normalize`` divides by (LinalgVectorNormBackward0),
and the composites ``normalize`` and ``dropout`` (functions in
:mod:`gradcli.autograd.nn_normalization`); layer_norm is in :mod:`.layer_norm`.

The norm's gradient is PyTorch's norm_backward, written with the table's ops so that it
differentiates again with PyTorch's nodes.
"""

from __future__ import annotations

import math

import numpy as np

from .core import exact, prose, reduce_objects, register, where_any
from .reduce import RED, unsqueeze_dims

LAYERS = "layers"


# ---- the vector norm along dims (keepdim), as normalize takes it -------------------------

def _vector_norm(x, ord, dim, keepdim=True):
    out = _vector_norm_kept(x, ord, dim)
    return out if keepdim else np.squeeze(out, axis=dim)


def _vector_norm_kept(x, ord, dim):
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


def _vector_norm_vjp(F, g, x, out, ord, dim, keepdim=True):
    """PyTorch's norm_backward, branch by branch (the reduced dims put back first)."""
    g, out = unsqueeze_dims(F, g, dim, keepdim), unsqueeze_dims(F, out, dim, keepdim)
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


def _vector_norm_sympy(sp, x, ord, dim, keepdim=True):
    def norm(*e):
        if ord == 2:
            return sp.sqrt(sp.Add(*[v ** 2 for v in e]))
        if math.isinf(ord):
            return (sp.Max if ord > 0 else sp.Min)(*[sp.Abs(v) for v in e])
        if ord == 0:
            return sp.Add(*[sp.Piecewise((0, sp.Eq(v, 0)), (1, True)) for v in e])
        return sp.Add(*[sp.Abs(v) ** exact(sp, ord) for v in e]) ** (1 / exact(sp, ord))
    return reduce_objects(norm, x, dim, keepdim=keepdim)


def _vector_norm_kinks(x, out, ord, dim, keepdim=True):
    """Where the norm has no derivative: a zero norm, a zero element (for p != 2), and
    ties for the largest (p = inf)."""
    if not keepdim:
        out = np.expand_dims(out, tuple(dim))
    if ord == 0:
        return None
    if math.isinf(ord):
        ties = np.sum(np.abs(x) == out, axis=dim, keepdims=True) > 1
        return where_any(ties | (out == 0), "the largest |element| is tied or 0: a kink")
    zero = (out == 0) if ord == 2 else (x == 0)
    return where_any(zero, "an element or the norm is 0: the norm has a kink there")


register("vector_norm", "LinalgVectorNormBackward0", _vector_norm, (_vector_norm_vjp,),
         internal=True, shown_as="norm", sympy=_vector_norm_sympy,
         undefined=_vector_norm_kinks, syntax="norm(x, p, dim, keepdim)",
         derivative=(prose("x |x|^(p-2) / norm^(p-1) (p = 1: sign(x))"),))

# ---- composites -----------------------------------------------------------------------

register("linalg_vector_norm", function="functional:vector_norm",
         params="x, ord: number = 2, dim: dims = None, keepdim: bool = False, "
                "dtype: any = None",
         group=RED, api="linalg", records=("LinalgVectorNormBackward0",),
         derivative=(prose("x |x|^(ord-2) / norm^(ord-1) (ord = 1: sign(x))"),))
register("linalg_norm", function="functional:linalg_norm",
         params="input, ord: any = None, dim: dims = None, keepdim: bool = False, "
                "dtype: any = None",
         group=RED, api="linalg", records=("LinalgVectorNormBackward0",),
         derivative=(prose("as vector_norm; 'fro' as the 2-norm of the elements"),))

register("normalize", function="nn_normalization:normalize",
         params="input, p: number = 2.0, dim: int = 1, eps: number = 1e-12, out: any = None",
         group=LAYERS, api="F",
         records=("DivBackward0", "ExpandBackward0", "ClampMinBackward0",
                  "LinalgVectorNormBackward0"),
         derivative=(prose("(g - x/|x| * sum(g x/|x|)) / |x| for p = 2"),))
register("one_hot", function="nn_functional:one_hot", params="tensor, num_classes: int = -1",
         group=LAYERS, api="F", records=(),
         derivative=(prose("none (integer indices in, integers out)"),))
register("dropout", function="nn_normalization:dropout",
         params="input, p: number = 0.5, training: bool = True, inplace: bool = False",
         group=LAYERS, api="F", records=("MulBackward0",),
         derivative=(prose("the mask used, scaled by 1/(1-p); 1 when not training"),))
