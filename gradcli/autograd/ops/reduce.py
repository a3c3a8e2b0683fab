"""Reductions: sum, mean, prod, max, min, norm, logsumexp, softmax, log_softmax
(mse_loss and the other losses are in :mod:`.losses`).

``dim`` arrives normalised (a tuple of non-negative axes, or an int for softmax).
max/min split the gradient evenly between tied elements; prod is exact when elements
are 0 (products of the other elements, never a division); norm'(0) = 0.
"""

from __future__ import annotations

import math

import numpy as np

from .core import reduce_objects, register, where_any


def kept_shape(shape, dim) -> tuple:
    return tuple(1 if i in dim else n for i, n in enumerate(shape))


def unreduce(F, g, shape, dim, keepdim):
    """Broadcast a reduced gradient back over the reduced axes."""
    if not keepdim:
        g = F.reshape(g, kept_shape(shape, dim))
    return F.expand(g, shape)


def _count(shape, dim) -> int:
    return math.prod(shape[d] for d in dim)


register(name="sum", grad_fn="SumBackward0", forward=lambda x: np.sum(x),
         vjps=(lambda F, g, x, out: F.expand(g, x.shape),),
         sympy=lambda sp, x: sp.Add(*np.asarray(x).reshape(-1)), derivative=("1",),
         syntax="sum(x)")
register(name="sum_dim", grad_fn="SumBackward1",
         forward=lambda x, dim, keepdim=False: np.sum(x, axis=dim, keepdims=keepdim),
         vjps=(lambda F, g, x, out, dim, keepdim=False: unreduce(F, g, x.shape, dim, keepdim),),
         sympy=lambda sp, x, dim, keepdim=False: reduce_objects(sp.Add, x, dim, keepdim),
         derivative=("1",), syntax="sum(x, dim, keepdim=False)")
register(name="mean", grad_fn="MeanBackward0", forward=lambda x: np.mean(x),
         vjps=(lambda F, g, x, out: F.expand(g / max(math.prod(x.shape), 1), x.shape),),
         sympy=lambda sp, x: sp.Add(*np.asarray(x).reshape(-1)) / np.size(x),
         derivative=("1/N",), syntax="mean(x)")
register(name="mean_dim", grad_fn="MeanBackward1",
         forward=lambda x, dim, keepdim=False: np.mean(x, axis=dim, keepdims=keepdim),
         vjps=(lambda F, g, x, out, dim, keepdim=False:
               unreduce(F, g / _count(x.shape, dim), x.shape, dim, keepdim),),
         sympy=lambda sp, x, dim, keepdim=False: reduce_objects(
             lambda *e: sp.Add(*e) / len(e), x, dim, keepdim),
         derivative=("1/N",), syntax="mean(x, dim, keepdim=False)")


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


register(name="prod_others", grad_fn="ProdBackward0", internal=True, forward=_prod_others,
         saves="a", vjps=(_prod_others_vjp,), syntax="prod_others(x)")
register(name="prod", grad_fn="ProdBackward0", forward=lambda x: np.prod(x), saves="a",
         vjps=(lambda F, g, x, out:
               F.reshape(g * F.prod_others(F.reshape(x, (-1,))), x.shape),),
         sympy=lambda sp, x: sp.Mul(*np.asarray(x).reshape(-1)),
         derivative=("product of the other elements",), syntax="prod(x)")


# ---- max / min: ties share the gradient evenly -----------------------------------------

def _evenly(F, g, x, out):
    xv, ov = F.value(x), F.value(out)
    mask = (xv == ov) | (np.isnan(xv) & np.isnan(ov))
    return F.where(mask, g / np.count_nonzero(mask), 0.0)


def _ties(x, out):
    return where_any(np.count_nonzero(x == out) > 1,
                     "a tie for the extreme element (PyTorch splits the gradient evenly)")


register(name="max", grad_fn="MaxBackward1", forward=lambda x: np.max(x), saves="ao",
         vjps=(_evenly,), sympy=lambda sp, x: sp.Max(*np.asarray(x).reshape(-1)),
         derivative=("1/k on the k maximal elements, 0 elsewhere",), syntax="max(x)",
         undefined=_ties)
register(name="min", grad_fn="MinBackward1", forward=lambda x: np.min(x), saves="ao",
         vjps=(_evenly,), sympy=lambda sp, x: sp.Min(*np.asarray(x).reshape(-1)),
         derivative=("1/k on the k minimal elements, 0 elsewhere",), syntax="min(x)",
         undefined=_ties)

register(name="norm", grad_fn="LinalgVectorNormBackward0",
         forward=lambda x: np.sqrt(np.sum(x * x)), saves="ao",
         vjps=(lambda F, g, x, out: x * F.where(F.value(out) == 0, 0.0, g / out),),
         sympy=lambda sp, x: sp.sqrt(sp.Add(*[e ** 2 for e in np.asarray(x).reshape(-1)])),
         derivative=("x/norm(x) (0 at x = 0)",), syntax="norm(x)")


# ---- logsumexp and softmax ----------------------------------------------------------

def _logsumexp(x, dim, keepdim=False):
    m = np.max(x, axis=dim, keepdims=True)
    m = np.where(np.isinf(m), 0.0, m)
    out = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return out if keepdim else np.squeeze(out, axis=dim)


def _logsumexp_vjp(F, g, x, out, dim, keepdim=False):
    if not keepdim:
        g = F.reshape(g, kept_shape(x.shape, dim))
        out = F.reshape(out, kept_shape(x.shape, dim))
    return g * F.exp(x - out)


register(name="logsumexp", grad_fn="LogsumexpBackward0", forward=_logsumexp, saves="ao",
         vjps=(_logsumexp_vjp,),
         sympy=lambda sp, x, dim, keepdim=False: reduce_objects(
             lambda *e: sp.log(sp.Add(*[sp.exp(t) for t in e])), x, dim, keepdim),
         derivative=("softmax(x, dim)",), syntax="logsumexp(x, dim, keepdim=False)")


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


register(name="softmax", grad_fn="SoftmaxBackward0", forward=_softmax, saves="o",
         vjps=(lambda F, g, x, out, dim:
               out * (g - F.sum_dim(g * out, _axes(out, dim), True)),),
         sympy=_softmax_sympy, derivative=("s*(g - sum(g*s)) for s = softmax(x)",),
         syntax="softmax(x, dim)")
register(name="log_softmax", grad_fn="LogSoftmaxBackward0", forward=_log_softmax, saves="o",
         vjps=(lambda F, g, x, out, dim:
               g - F.exp(out) * F.sum_dim(g, _axes(out, dim), True),),
         sympy=_log_softmax_sympy, derivative=("g - softmax(x)*sum(g)",),
         syntax="log_softmax(x, dim)")

