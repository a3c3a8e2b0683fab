"""Ops that move elements around: views, indexing, stacking, broadcasting.

Their forwards work on object arrays as well, so the symbolic check reuses them
(``sympy=STRUCTURAL``).  Parameters arrive validated by ``functional``.
"""

from __future__ import annotations

import numpy as np

from .core import STRUCTURAL, register, sum_to


def _index(dim, ndim, key):
    return (slice(None),) * dim + (key,) + (slice(None),) * (ndim - dim - 1)


# ---- views --------------------------------------------------------------------------

register(name="reshape", grad_fn="ViewBackward0", forward=lambda x, shape: np.reshape(x, shape),
         vjps=(lambda F, g, x, out, shape: F.reshape(g, x.shape),),
         sympy=STRUCTURAL, derivative=("1 (elements moved)",),
         syntax="reshape(x, shape...), flatten(x)")
register(name="permute", grad_fn="PermuteBackward0",
         forward=lambda x, dims: np.transpose(x, dims),
         vjps=(lambda F, g, x, out, dims: F.permute(g, tuple(np.argsort(dims))),),
         sympy=STRUCTURAL, derivative=("1 (elements moved)",), syntax="x.T, permute(x, dims...)")
register(name="t", grad_fn="TBackward0", forward=lambda x: np.transpose(x),
         vjps=(lambda F, g, x, out: F.t(g),),
         sympy=STRUCTURAL, derivative=("1 (elements moved)",), syntax="t(x)")
register(name="unsqueeze", grad_fn="UnsqueezeBackward0",
         forward=lambda x, dim: np.expand_dims(x, dim),
         vjps=(lambda F, g, x, out, dim: F.squeeze(g, dim),),
         sympy=STRUCTURAL, derivative=("1",), syntax="unsqueeze(x, dim)")
register(name="squeeze", grad_fn="SqueezeBackward1",
         forward=lambda x, dim:
             np.squeeze(x, dim) if np.ndim(x) and np.shape(x)[dim] == 1 else x,
         vjps=(lambda F, g, x, out, dim: F.reshape(g, x.shape),),
         sympy=STRUCTURAL, derivative=("1",), syntax="squeeze(x, dim)")
register(name="squeeze_all", grad_fn="SqueezeBackward0", forward=lambda x: np.squeeze(x),
         vjps=(lambda F, g, x, out: F.reshape(g, x.shape),),
         sympy=STRUCTURAL, derivative=("1",), syntax="squeeze(x)")
register(name="alias", grad_fn="AliasBackward0", internal=True, forward=lambda x: x,
         vjps=(lambda F, g, x, out: g,), sympy=STRUCTURAL, syntax="x[:, :]")
register(name="squeeze_dims", grad_fn="SqueezeBackward4", internal=True,
         forward=lambda x, dims: np.squeeze(x, dims),
         vjps=(lambda F, g, x, out, dims: F.reshape(g, x.shape),),
         sympy=STRUCTURAL, syntax="squeeze(x, dims)")

# ---- indexing -----------------------------------------------------------------------

register(name="select", grad_fn="SelectBackward0",
         forward=lambda x, dim, index: x[_index(dim, np.ndim(x), index)],
         vjps=(lambda F, g, x, out, dim, index: F.select_backward(g, x.shape, dim, index),),
         sympy=STRUCTURAL, derivative=("1 at the selected element",), syntax="x[i]")
register(name="slice", grad_fn="SliceBackward0",
         forward=lambda x, dim, start, stop, step:
             x[_index(dim, np.ndim(x), slice(start, stop, step))],
         vjps=(lambda F, g, x, out, dim, start, stop, step:
               F.slice_backward(g, x.shape, dim, start, stop, step),),
         sympy=STRUCTURAL, derivative=("1 on the slice",), syntax="x[i:j:k]")


def _scatter(g, shape, dim, key):
    out = np.zeros(shape, dtype=g.dtype)
    out[_index(dim, len(shape), key)] = g
    return out


register(name="select_backward", grad_fn="SelectBackwardBackward0", internal=True,
         forward=lambda g, shape, dim, index: _scatter(g, shape, dim, index),
         vjps=(lambda F, gg, g, out, shape, dim, index: F.select(gg, dim, index),),
         syntax="select_backward(g, shape, dim, index)")
register(name="slice_backward", grad_fn="SliceBackwardBackward0", internal=True,
         forward=lambda g, shape, dim, start, stop, step:
             _scatter(g, shape, dim, slice(start, stop, step)),
         vjps=(lambda F, gg, g, out, shape, dim, start, stop, step:
               F.slice(gg, dim, start, stop, step),),
         syntax="slice_backward(g, shape, dim, start, stop, step)")

# ---- joining --------------------------------------------------------------------------


def _stack_vjp(F, g, xs, out, dim=0):
    return [F.select(g, dim, i) for i in range(len(xs))]


def _cat_vjp(F, g, xs, out, dim=0):
    grads, start = [], 0
    for x in xs:
        n = x.shape[dim]
        grads.append(F.slice(g, dim, start, start + n, 1))
        start += n
    return grads


register(name="stack", grad_fn="StackBackward0", variadic=True,
         forward=lambda xs, dim=0: np.stack(xs, axis=dim), vjps=(_stack_vjp,),
         sympy=STRUCTURAL, derivative=("1 for each element",), syntax="stack([a, b, ...], dim=0)")
register(name="cat", grad_fn="CatBackward0", variadic=True,
         forward=lambda xs, dim=0: np.concatenate(xs, axis=dim), vjps=(_cat_vjp,),
         sympy=STRUCTURAL, derivative=("1 for each element",), syntax="cat([a, b, ...], dim=0)")

# ---- broadcasting (used by VJPs) ------------------------------------------------------

register(name="expand", grad_fn="ExpandBackward0", internal=True,
         forward=lambda x, shape: np.broadcast_to(x, shape),
         vjps=(lambda F, g, x, out, shape: F.sum_to(g, x.shape),),
         sympy=STRUCTURAL, syntax="expand(x, shape)")
register(name="sum_to", grad_fn="SumToSizeBackward0", internal=True,
         forward=lambda x, shape: sum_to(x, shape),
         vjps=(lambda F, g, x, out, shape: F.expand(g, x.shape),),
         sympy=STRUCTURAL, syntax="sum_to(x, shape)")

register(name="trace", grad_fn="TraceBackward0", forward=lambda x: np.trace(x),
         vjps=(lambda F, g, x, out: F.where(np.eye(*x.shape, dtype=bool), g, 0.0),),
         sympy=STRUCTURAL, derivative=("1 on the diagonal",), syntax="trace(x)")
