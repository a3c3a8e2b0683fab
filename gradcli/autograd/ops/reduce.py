"""Reductions: sum, mean, prod, max, min, norm, logsumexp, softmax, log_softmax
(mse_loss and the other losses are in :mod:`.losses`).

``dim`` arrives normalised (a tuple of non-negative axes, or an int for softmax).
Backward formulas are PyTorch's: max/min split the gradient evenly between tied
elements; prod's is grad * (result / input), and with a zero element the exact
products of the other elements; norm'(0) = 0.
"""

from __future__ import annotations

import math

import numpy as np

from .core import prose, reduce_objects, register, where_any
from .elementwise import MAX_MIN

RED = "reductions"


MEAN_INT = ("mean(): could not infer output dtype. Input dtype must be either a floating "
            "point or complex dtype. Got: {dtype}")
SOFTMAX_INT = "\"softmax_lastdim_kernel_impl\" not implemented for '{dtype}'"


def kept_shape(shape, dim) -> tuple:
    return tuple(1 if i in dim else n for i, n in enumerate(shape))


def unsqueeze_dims(F, g, dim, keepdim):
    """PyTorch's unsqueeze_multiple: put back the reduced dims (UnsqueezeBackward0s)."""
    if not keepdim:
        for d in sorted(dim):
            g = F.unsqueeze(g, d)
    return g


def unreduce(F, g, shape, dim, keepdim):
    """Broadcast a reduced gradient back over the reduced axes (sum_backward)."""
    return F.expand(unsqueeze_dims(F, g, dim, keepdim), shape)


def _count(shape, dim) -> int:
    return math.prod(shape[d] for d in dim)


REDUCE = "input, dim: dims = None, keepdim: bool = False"

register("sum", "SumBackward0", lambda x: np.sum(x),
         (lambda F, g, x, out: F.expand(g, x.shape),), params=REDUCE, group=RED,
         function="functional:sum", records=("SumBackward1",),
         sympy=lambda sp, x: sp.Add(*np.asarray(x).reshape(-1)), derivative=("1",),
         dtype_rule="keep")
register("sum_dim", "SumBackward1",
         lambda x, dim, keepdim=False: np.sum(x, axis=dim, keepdims=keepdim),
         (lambda F, g, x, out, dim, keepdim=False: unreduce(F, g, x.shape, dim, keepdim),),
         internal=True, shown_as="sum",
         sympy=lambda sp, x, dim, keepdim=False: reduce_objects(sp.Add, x, dim, keepdim),
         derivative=("1",), syntax="sum(x, dim, keepdim=False)", dtype_rule="keep")
register("mean", "MeanBackward0", lambda x: np.mean(x),
         (lambda F, g, x, out: F.div_scalar(F.expand(g, x.shape), math.prod(x.shape)),),
         params=REDUCE, group=RED, function="functional:mean", records=("MeanBackward1",),
         sympy=lambda sp, x: sp.Add(*np.asarray(x).reshape(-1)) / np.size(x),
         derivative=("1/N",), dtype_rule="float_only", float_only=MEAN_INT)
register("mean_dim", "MeanBackward1",
         lambda x, dim, keepdim=False: np.mean(x, axis=dim, keepdims=keepdim),
         (lambda F, g, x, out, dim, keepdim=False:
          F.div_scalar(unreduce(F, g, x.shape, dim, keepdim), _count(x.shape, dim)),),
         internal=True, shown_as="mean",
         sympy=lambda sp, x, dim, keepdim=False: reduce_objects(
             lambda *e: sp.Add(*e) / len(e), x, dim, keepdim),
         derivative=("1/N",), syntax="mean(x, dim, keepdim=False)", dtype_rule="float_only",
         float_only=MEAN_INT)


# ---- prod: exact with zeros ------------------------------------------------------------

def _prod_others(x):
    """out[i] = product of every element but x[i] (1-D), by prefix and suffix products."""
    n = x.shape[0]
    out = np.ones_like(x)
    if n > 1:
        out[1:] = np.cumprod(x[:-1])
        out[:-1] *= np.cumprod(x[::-1][:-1])[::-1]
    return out


def _prod_others_vjp(F, g, x, out):
    """d/dx[k] of sum_i g[i] * prod_{j != i} x[j] = sum_{i != k} g[i] prod_{j != i,k} x[j]."""
    n = x.shape[0]
    if n < 2:
        return F.zeros_like(g)
    parts = []
    for k in range(n):
        g_k = F.cat([g[:k], g[k + 1:]], dim=0)
        x_k = F.cat([x[:k], x[k + 1:]], dim=0)
        parts.append(F.dot(g_k, F.prod_others(x_k)))
    return F.stack(parts, dim=0)


register("prod_others", "ProdBackward0", _prod_others, (_prod_others_vjp,), internal=True,
         syntax="prod_others(x)")
def _prod_vjp(F, g, x, out):
    """PyTorch's prod_backward: grad * (result / input) without zeros; with a zero, the
    products of the other elements (exact)."""
    if not x.shape:
        return g
    if np.all(F.value(x) != 0):
        return g * (out / x)
    return F.reshape(g * F.prod_others(F.reshape(x, (-1,))), x.shape)


register("prod", "ProdBackward0", lambda x: np.prod(x), (_prod_vjp,), params="input",
         group=RED, function="functional:prod",
         sympy=lambda sp, x: sp.Mul(*np.asarray(x).reshape(-1)),
         derivative=(prose("the product of the other elements"),), dtype_rule="keep")


# ---- max / min: ties share the gradient evenly -----------------------------------------

def _evenly(F, g, x, out):
    """PyTorch's evenly_distribute_backward: zeros, with grad / count at the extremes."""
    xv, ov = F.value(x), F.value(out)
    mask = np.isnan(xv) if np.isnan(ov) else xv == ov
    count = F.const(np.asarray(np.count_nonzero(mask)))
    return F.written(F.masked_fill_tensor(F.zeros(xv.shape, dtype=xv.dtype), F.div(g, count),
                                          mask=mask))


def _ties(x, out):
    return where_any(np.count_nonzero(x == out) > 1,
                     "a tie for the extreme element (PyTorch splits the gradient evenly)")


register("max", "MaxBackward1", lambda x: np.max(x), (_evenly,),
         params="input, other: any = None, keepdim: bool = False, dim: any = None",
         group=RED, function="functional:max",
         records=("MaximumBackward0",),
         sympy=lambda sp, x: sp.Max(*np.asarray(x).reshape(-1)), numeric=MAX_MIN,
         derivative=(prose("1/k on the k maximal elements, 0 elsewhere"),),
         undefined=_ties, dtype_rule="keep", grows="broadcast")
register("min", "MinBackward1", lambda x: np.min(x), (_evenly,),
         params="input, other: any = None, keepdim: bool = False, dim: any = None",
         group=RED, function="functional:min",
         records=("MinimumBackward0",),
         sympy=lambda sp, x: sp.Min(*np.asarray(x).reshape(-1)), numeric=MAX_MIN,
         derivative=(prose("1/k on the k minimal elements, 0 elsewhere"),),
         undefined=_ties, dtype_rule="keep", grows="broadcast")

# ---- max / min along a dimension: the first extreme element of each slice takes it ------

def _pick(x, dim: int, largest: bool) -> np.ndarray:
    """Per slice along ``dim``, the index of its first extreme element (PyTorch's)."""
    return (np.argmax if largest else np.argmin)(x, axis=dim)


def _selected(x, dim, keepdim, largest):
    values = np.take_along_axis(x, np.expand_dims(_pick(x, dim, largest), dim), axis=dim)
    return values if keepdim else np.squeeze(values, axis=dim)


def _select_vjp(largest):
    def vjp(F, g, x, out, dim, keepdim=False):
        """value_selecting_reduction_backward: g at the chosen index, 0 elsewhere."""
        xv = F.value(x)
        mask = np.zeros(xv.shape, dtype=bool)
        np.put_along_axis(mask, np.expand_dims(_pick(xv, dim, largest), dim), True, axis=dim)
        return F.where(mask, F.expand(unsqueeze_dims(F, g, (dim,), keepdim), xv.shape), 0.0)
    return vjp


def _slice_ties(largest):
    def undefined(x, out, dim, keepdim=False):
        extreme = np.expand_dims(out, dim) if not keepdim else out
        return where_any(np.any(np.count_nonzero(x == extreme, axis=dim) > 1),
                         "a tie for the extreme element of a slice (PyTorch gives the "
                         "gradient to the first)")
    return undefined


for _name, _grad_fn, _largest, _sp in (("max_dim", "MaxBackward0", True, "Max"),
                                       ("min_dim", "MinBackward0", False, "Min")):
    register(_name, _grad_fn,
             (lambda big: lambda x, dim, keepdim=False: _selected(x, dim, keepdim, big))(
                 _largest),
             (_select_vjp(_largest),), internal=True, shown_as=_name[:3],
             params="input, dim: dim, keepdim: bool = False",
             sympy=(lambda name: lambda sp, x, dim, keepdim=False: reduce_objects(
                 getattr(sp, name), x, (dim,), keepdim))(_sp),
             numeric=MAX_MIN, undefined=_slice_ties(_largest), dtype_rule="keep",
             derivative=(prose("1 at the first extreme element of each slice, 0 "
                               "elsewhere"),), syntax=f"{_name[:3]}(x, dim, keepdim=False)")


register("norm", "LinalgVectorNormBackward0", lambda x: np.sqrt(np.sum(x * x)),
         (lambda F, g, x, out: g * F.masked_fill(x / out, mask=F.value(out) == 0, value=0),),
         params="input, p: any = 'fro', dim: dims = None, keepdim: bool = False, "
                "dtype: any = None", group=RED, function="functional:norm",
         sympy=lambda sp, x: sp.sqrt(sp.Add(*[e ** 2 for e in np.asarray(x).reshape(-1)])),
         derivative=("x/norm(x)",), dtype_rule="float_only",
         float_only="linalg.vector_norm: Expected a floating point or complex tensor as input. "
                    "Got {dtype}")


# ---- logsumexp and softmax ----------------------------------------------------------

def _logsumexp(x, dim, keepdim=False):
    m = np.max(x, axis=dim, keepdims=True)
    m = np.where(np.isinf(m), 0.0, m)
    out = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dim)


def _logsumexp_vjp(F, g, x, out, dim, keepdim=False):
    return unsqueeze_dims(F, g, dim, keepdim) * F.exp(x - unsqueeze_dims(F, out, dim, keepdim))


register("logsumexp", "LogsumexpBackward0", _logsumexp, (_logsumexp_vjp,),
         params="input, dim: dims, keepdim: bool = False", group=RED,
         function="functional:logsumexp",
         sympy=lambda sp, x, dim, keepdim=False: reduce_objects(
             lambda *e: sp.log(sp.Add(*[sp.exp(t) for t in e])), x, dim, keepdim),
         derivative=("softmax(x, dim)",), dtype_rule="float")


def _axes(x, dim) -> tuple:
    """softmax's ``dim`` as a tuple of axes: none for a 0-d tensor (PyTorch allows dim 0
    there; numpy's reductions refuse axis (0,) of a 0-d array)."""
    return (dim,) if np.ndim(x) else ()


def _softmax(x, dim):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


def _log_softmax(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def _softmax_sympy(sp, x, dim):
    e = np.frompyfunc(sp.exp, 1, 1)(x)
    return e / reduce_objects(sp.Add, e, _axes(e, dim), True)


def _log_softmax_sympy(sp, x, dim):
    e = np.frompyfunc(sp.exp, 1, 1)(x)
    return x - np.frompyfunc(sp.log, 1, 1)(reduce_objects(sp.Add, e, _axes(e, dim), True))


register("softmax", "SoftmaxBackward0", _softmax,
         (lambda F, g, x, out, dim: F.softmax_backward_data(g, out, _axes(out, dim)),),
         params="input, dim: dim", group="activations", api="torch F method",
         function="functional:softmax", sympy=_softmax_sympy,
         derivative=(prose("s*(g - sum(g*s)) for s = softmax(x)"),), dtype_rule="float_only",
         float_only=SOFTMAX_INT)
register("log_softmax", "LogSoftmaxBackward0", _log_softmax,
         (lambda F, g, x, out, dim: F.log_softmax_backward_data(g, out, _axes(out, dim)),),
         params="input, dim: dim", group="activations", api="torch F method",
         function="functional:log_softmax", sympy=_log_softmax_sympy,
         derivative=("g - softmax(x, dim)*sum(g)",), dtype_rule="float_only",
         float_only=SOFTMAX_INT)


# ---- all / any: bool results --------------------------------------------------------

register("all", "AllBackward0", lambda x: np.all(x), (None,), params="input", group=RED,
         function="comparisons:all_", dtype_rule="keep",
         derivative=(prose("none (a bool result)"),))
register("any", "AnyBackward0", lambda x: np.any(x), (None,), params="input", group=RED,
         function="comparisons:any_", dtype_rule="keep",
         derivative=(prose("none (a bool result)"),))
