"""Cumulative reductions along a dimension: cumsum, cumprod, logcumsumexp.

Backward formulas are PyTorch's (FunctionsManual.cpp): cumsum's is the reversed
cumulative sum of the gradient (flip, cumsum, flip); cumprod's is
``reversed_cumsum(out * g) / x`` without zeros and, with a zero, the exact sums of
products of the other elements; logcumsumexp's splits the gradient by sign and works in
log space.  ``dim`` arrives normalised (a non-negative int; 0 for a 0-d tensor).
"""

from __future__ import annotations

import numpy as np

from .core import prose, register

RED = "reductions"
LOGCUMSUMEXP_INT = "\"logcumsumexp_out_cpu\" not implemented for '{dtype}'"


def _along(fn, x, dim):
    """``fn(x, axis=dim)``, and ``x`` itself for a 0-d tensor (nothing to accumulate).
    float32 accumulates in float64, rounded once per element (PyTorch's CPU kernels
    accumulate in double)."""
    if np.ndim(x) == 0:
        return np.array(x, copy=True)
    if x.dtype == np.float32:
        return fn(x.astype(np.float64), axis=dim).astype(np.float32)
    return fn(x, axis=dim)


def _trivial(x, dim) -> bool:
    """PyTorch returns the gradient unchanged when there is nothing to accumulate."""
    shape = np.shape(x)
    return not shape or np.size(x) <= 1 or shape[dim] == 1


def reversed_cumsum(F, w, dim: int):
    """w.flip(dim).cumsum(dim).flip(dim): the sums from each position to the end."""
    return F.flip(F.cumsum(F.flip(w, dims=(dim,)), dim=dim), dims=(dim,))


def cumulate(fn, x, dim: int):
    """Object arrays (SymPy): out[..., j, ...] = fn(x[..., :j+1, ...]) along ``dim``."""
    x = np.asarray(x, dtype=object)
    if x.ndim == 0:
        return np.asarray(fn(x.item()), dtype=object)
    moved = np.moveaxis(x, dim, -1)
    out = np.empty(moved.shape, dtype=object)
    for idx in np.ndindex(moved.shape[:-1]):
        row = list(moved[idx])
        for j in range(len(row)):
            out[idx + (j,)] = fn(*row[:j + 1])
    return np.moveaxis(out, -1, dim)


# ---- cumsum ----------------------------------------------------------------------------

register("cumsum", "CumsumBackward0", lambda x, dim: _along(np.cumsum, x, dim),
         (lambda F, g, x, out, dim: g if _trivial(F.value(g), dim)
          else reversed_cumsum(F, g, dim),),
         params="input, dim: dim", group=RED,
         sympy=lambda sp, x, dim: cumulate(lambda *e: sp.Add(*e), x, dim),
         derivative=(prose("1 for every later position along dim (a reversed cumsum of "
                           "g)"),), dtype_rule="keep", keeps_layout=False)


# ---- cumprod ---------------------------------------------------------------------------

def _cumprod_vjp(F, g, x, out, dim):
    """PyTorch's cumprod_backward: reversed_cumsum(out * g) / x when no element is 0;
    else, exactly, grad[k] = sum over j >= k of g[j] * prod(x[i] for i <= j, i != k):
    in O(n) on arrays (PyTorch's first-order path), and as n cumprods under create_graph
    (its differentiable path, O(n**2) as PyTorch's)."""
    xv = F.value(x)
    if _trivial(xv, dim):
        return g
    if not np.any(xv == 0):
        return F.div(reversed_cumsum(F, out * g, dim), x)
    if not F.tensor_mode:
        return _cumprod_zeros(g, xv, out, dim)
    n = xv.shape[dim]
    position = np.arange(n).reshape([n if i == dim else 1 for i in range(xv.ndim)])
    parts = []
    for k in range(n):
        without_k = F.cumprod(F.masked_fill(x, mask=position == k, value=1), dim=dim)
        later = F.where(position >= k, g * without_k, 0.0)
        parts.append(F.sum_dim(later, dim=(dim,), keepdim=True))
    return F.cat(parts, dim=dim)


def _cumprod_zeros(g, x, out, dim):
    """The exact gradient with zeros, per slice: before the first zero z,
    reversed_cumsum(out * g) / x over [0, z); at z, the sum over j in [z, next zero) of
    g[j] * prod(x[i], i < j, i != z); after z, 0 (PyTorch's masks, in numpy)."""
    xm, gm, om = (np.moveaxis(a, dim, -1) for a in (x, g, out))
    zeros = np.cumsum(xm == 0, axis=-1)
    before = zeros == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(before, om * gm, 0)
        tail = np.flip(np.cumsum(np.flip(w, -1), axis=-1), -1)
        grad = np.where(before, tail / np.where(before, xm, 1), 0).astype(gm.dtype)
    first = (zeros == 1) & (xm == 0)
    between = (zeros == 1) & ~first
    at = np.argmax(first, axis=-1)[..., None]
    prefix = np.where(at == 0, 1, np.take_along_axis(om, np.maximum(at - 1, 0), axis=-1))
    total = np.sum(np.cumprod(np.where(between, xm, 1), axis=-1) *
                   np.where(zeros == 1, gm, 0), axis=-1, keepdims=True)
    grad = np.where(first, total * prefix, grad)
    return np.moveaxis(grad, -1, dim)


register("cumprod", "CumprodBackward0", lambda x, dim: _along(np.cumprod, x, dim),
         (_cumprod_vjp,), params="input, dim: dim", group=RED,
         sympy=lambda sp, x, dim: cumulate(lambda *e: sp.Mul(*e), x, dim),
         derivative=(prose("the product of the other elements up to each later position "
                           "along dim"),), dtype_rule="keep", keeps_layout=False)


# ---- logcumsumexp -----------------------------------------------------------------------

def _logcumsumexp(x, dim):
    with np.errstate(invalid="ignore"):
        return _along(np.logaddexp.accumulate, x, dim)


def _reverse_logcumsumexp(F, x, dim):
    return F.flip(F.logcumsumexp(F.flip(x, dims=(dim,)), dim=dim), dims=(dim,))


def _logcumsumexp_vjp(F, g, x, out, dim):
    """PyTorch's logcumsumexp_backward: the positive and the negative parts of the
    gradient, each summed in log space (exp(x[k] - out[j]) never overflows)."""
    gv = F.value(g)
    if gv.ndim == 0 or gv.size == 0:
        return g
    lowest = float(np.finfo(gv.dtype).min)
    with np.errstate(divide="ignore", over="ignore"):   # log(0); lowest - out is -inf
        log_abs = F.log(F.abs(g))
        positive = F.where(gv > 0, log_abs, lowest)
        negative = F.where(gv < 0, log_abs, lowest)
        out_pos = F.exp(_reverse_logcumsumexp(F, positive - out, dim) + x)
        out_neg = F.exp(_reverse_logcumsumexp(F, negative - out, dim) + x)
    return out_pos - out_neg


def _logcumsumexp_sympy(sp, x, dim):
    return cumulate(lambda *e: sp.log(sp.Add(*[sp.exp(t) for t in e])), x, dim)


register("logcumsumexp", "LogcumsumexpBackward0", _logcumsumexp, (_logcumsumexp_vjp,),
         params="input, dim: dim", group=RED, sympy=_logcumsumexp_sympy,
         numeric={"log": np.log, "exp": np.exp},
         derivative=(prose("exp(x[k] - out[j]) summed over the later positions j"),),
         dtype_rule="float_only", float_only=LOGCUMSUMEXP_INT, keeps_layout=False)
