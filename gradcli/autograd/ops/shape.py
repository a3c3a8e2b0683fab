"""Ops that move elements around: views, indexing, stacking, broadcasting, copies.

Views (``view=True``) return a numpy view of their input, so the result shares its
storage (SPEC 3.8); their forwards work on object arrays as well, so the symbolic
check reuses them (``sympy=STRUCTURAL``).  Parameters arrive validated by
``functional``/``shaping``.  Backward formulas are PyTorch's (derivatives.yaml):
``squeeze``'s gradient is ``unsqueeze``, a slice's is ``slice_backward``, ...
"""

from __future__ import annotations

import math

import numpy as np

from .core import STRUCTURAL, register


def _index(dim, ndim, key):
    """An index of ``key`` along ``dim``; the trailing Ellipsis keeps a 0-d result a
    view (``a[1, 2]`` would be a numpy scalar, ``a[1, 2, ...]`` is a 0-d view)."""
    return (slice(None),) * dim + (key, Ellipsis)


def element_strides(a: np.ndarray) -> tuple:
    return tuple(s // a.itemsize for s in a.strides) if a.itemsize else (0,) * a.ndim


def view_strides(shape, strides, new_shape):
    """PyTorch's computeStride: the strides that view ``shape``/``strides`` as
    ``new_shape``, or None when no strides can (a copy is needed)."""
    if not shape:
        return (1,) * len(new_shape)
    if math.prod(shape) == 0:
        return tuple(strides) if tuple(shape) == tuple(new_shape) else None
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base = strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[d]
        if d == 0 or (shape[d - 1] != 1 and strides[d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk_base = strides[d - 1]
                tensor_numel = view_numel = 1
    return tuple(new_strides) if view_d == -1 else None


def _view_as(x, shape):
    """``x`` reshaped, as a view wherever PyTorch's strides allow one (numpy copies in
    a few cases PyTorch views; object arrays of the symbolic check are left as numpy
    makes them)."""
    out = np.reshape(x, shape)
    if out.size == 0 or out.dtype == object or np.may_share_memory(out, x):
        return out
    strides = view_strides(np.shape(x), element_strides(x), shape)
    if strides is None:
        return out
    return np.lib.stride_tricks.as_strided(x, shape, tuple(s * x.itemsize for s in strides),
                                           writeable=x.flags.writeable)


def _writable(view: np.ndarray, source: np.ndarray) -> np.ndarray:
    """numpy hands out read-only diagonal and broadcast views; PyTorch's are writable
    (in-place ops on overlapping ones are refused before they write)."""
    if source.flags.writeable and not view.flags.writeable:
        view.flags.writeable = True
    return view


def _expand(x, shape):
    return _writable(np.broadcast_to(x, shape), np.asarray(x))


def _diagonal(x, offset=0, dim1=0, dim2=1):
    return _writable(np.diagonal(x, offset, dim1, dim2), np.asarray(x))


def _unsqueeze_to(F, g, shape, dims):
    """PyTorch's unsqueeze_to: put back the size-1 dims among ``dims`` that squeeze took."""
    for d in sorted(dims):
        if shape[d] == 1:
            g = F.unsqueeze(g, d)
    return g


def _view(name, grad_fn, forward, vjp, syntax, internal=False, derivative="1"):
    register(name=name, grad_fn=grad_fn, forward=forward, vjps=(vjp,), view=True,
             sympy=STRUCTURAL, derivative=(derivative,), syntax=syntax, internal=internal)


# ---- views --------------------------------------------------------------------------

_view("reshape", "ViewBackward0", _view_as,
      lambda F, g, x, out, shape: F.reshape(g, x.shape),
      "reshape(x, shape...), x.view(shape), flatten(x)", derivative="1 (elements moved)")
_view("reshape_alias", "ReshapeAliasBackward0", _view_as,
      lambda F, g, x, out, shape: F.reshape(g, x.shape),
      "reshape(x, shape) of a non-contiguous x that can be viewed", internal=True)
_view("permute", "PermuteBackward0", lambda x, dims: np.transpose(x, dims),
      lambda F, g, x, out, dims: F.permute(g, tuple(int(d) for d in np.argsort(dims))),
      "x.T, permute(x, dims...)", derivative="1 (elements moved)")
_view("t", "TBackward0", lambda x: np.transpose(x), lambda F, g, x, out: F.t(g),
      "t(x)", derivative="1 (elements moved)")
_view("transpose", "TransposeBackward0", lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
      lambda F, g, x, out, dim0, dim1: F.transpose(g, dim0, dim1),
      "transpose(x, dim0, dim1)", derivative="1 (elements moved)")
_view("unsqueeze", "UnsqueezeBackward0", lambda x, dim: np.expand_dims(x, dim),
      lambda F, g, x, out, dim: F.squeeze(g, dim), "unsqueeze(x, dim)")
_view("squeeze", "SqueezeBackward1",
      lambda x, dim: np.squeeze(x, dim) if np.ndim(x) and np.shape(x)[dim] == 1 else x[...],
      lambda F, g, x, out, dim: _unsqueeze_to(F, g, x.shape, (dim,)) if x.shape else g,
      "squeeze(x, dim)")
_view("squeeze_all", "SqueezeBackward0", lambda x: np.squeeze(x),
      lambda F, g, x, out: _unsqueeze_to(F, g, x.shape, range(len(x.shape))),
      "squeeze(x)")
_view("squeeze_dims", "SqueezeBackward4", lambda x, dims: np.squeeze(x, dims),
      lambda F, g, x, out, dims: _unsqueeze_to(F, g, x.shape, dims),
      "squeeze(x, dims)", internal=True)
_view("alias", "AliasBackward0", lambda x: x[...], lambda F, g, x, out: g, "x[:, :]",
      internal=True)
_view("expand", "ExpandBackward0", _expand,
      lambda F, g, x, out, shape: F.sum_to(g, x.shape), "expand(x, sizes...)",
      derivative="1, summed over the expanded dims")
_view("diagonal", "DiagonalBackward0", _diagonal,
      lambda F, g, x, out, offset=0, dim1=0, dim2=1:
          F.diagonal_backward(g, x.shape, offset, dim1, dim2),
      "diagonal(x, offset=0, dim1=0, dim2=1)", derivative="1 on the diagonal")
_view("select", "SelectBackward0",
      lambda x, dim, index: x[_index(dim, np.ndim(x), index)],
      lambda F, g, x, out, dim, index: F.select_backward(g, x.shape, dim, index),
      "x[i]", derivative="1 at the selected element")
_view("slice", "SliceBackward0",
      lambda x, dim, start, stop, step: x[_index(dim, np.ndim(x), slice(start, stop, step))],
      lambda F, g, x, out, dim, start, stop, step:
          F.slice_backward(g, x.shape, dim, start, stop, step),
      "x[i:j:k], narrow(x, dim, start, length)", derivative="1 on the slice")

# ---- copies -------------------------------------------------------------------------

register(name="unsafe_view", grad_fn="UnsafeViewBackward0", internal=True,
         forward=lambda x, shape: np.reshape(x, shape),
         vjps=(lambda F, g, x, out, shape: F.reshape(g, x.shape),), dtype_rule="keep",
         sympy=STRUCTURAL, syntax="reshape(x, shape) of a copy of x")
register(name="clone", grad_fn="CloneBackward0", keeps_layout=True, forward=lambda x: np.array(x, copy=True),
         vjps=(lambda F, g, x, out: g,), dtype_rule="keep", sympy=STRUCTURAL,
         derivative=("1",), syntax="x.clone()")
register(name="to_copy", grad_fn="ToCopyBackward0", keeps_layout=True,
         forward=lambda x, dtype: np.array(x, dtype=dtype, copy=True),
         vjps=(lambda F, g, x, out, dtype: F.to_copy(g, dtype=x.dtype),), dtype_rule="keep",
         sympy=STRUCTURAL, derivative=("1",), syntax="x.float(), x.double(), x.to(dtype)")


def _scatter(g, shape, dim, key):
    out = np.zeros(shape, dtype=g.dtype)
    out[_index(dim, len(shape), key)] = g
    return out


def _diagonal_scatter(g, shape, offset, dim1, dim2):
    out = np.zeros(shape, dtype=g.dtype)
    _diagonal(out, offset, dim1, dim2)[...] = g
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
register(name="diagonal_backward", grad_fn="DiagonalBackwardBackward0", internal=True,
         forward=_diagonal_scatter,
         vjps=(lambda F, gg, g, out, shape, offset, dim1, dim2:
               F.diagonal(gg, offset, dim1, dim2),),
         syntax="diagonal_backward(g, shape, offset, dim1, dim2)")

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

# ---- trace ------------------------------------------------------------------------------


def _trace_vjp(F, g, x, out):
    """PyTorch's trace_backward: index_fill the diagonal of zeros(n*m), viewed n x m."""
    n, m = x.shape
    index = np.arange(0, n * m, m + 1)[:min(n, m)]
    flat = F.index_fill(F.zeros((n * m,), dtype=x.dtype), g, index=index)
    return F.reshape(flat, x.shape)


def _index_fill(x, value, index):
    out = np.array(x, copy=True)
    out[index] = value
    return out


register(name="trace", grad_fn="TraceBackward0", forward=lambda x: np.trace(x),
         vjps=(_trace_vjp,), sympy=STRUCTURAL, derivative=("1 on the diagonal",),
         syntax="trace(x)")
register(name="index_fill", grad_fn="IndexFillBackward1", internal=True, forward=_index_fill,
         vjps=(lambda F, g, x, value, out, index: F.index_fill(g, 0.0, index=index),
               lambda F, g, x, value, out, index: F.sum(F.index_select(g, index=index))),
         syntax="index_fill(x, value, index)")
register(name="index_select", grad_fn="IndexSelectBackward0", internal=True,
         forward=lambda x, index: x[index],
         vjps=(lambda F, g, x, out, index: F.index_add(F.zeros(x.shape, dtype=g.dtype), g,
                                                         index=index),),
         syntax="index_select(x, index)")
register(name="index_add", grad_fn="IndexAddBackward0", internal=True,
         forward=lambda x, src, index: _index_add(x, src, index),
         vjps=(lambda F, g, x, src, out, index: g,
               lambda F, g, x, src, out, index: F.index_select(g, index=index)),
         syntax="index_add(x, src, index)")


def _index_add(x, src, index):
    out = np.array(x, copy=True)
    np.add.at(out, index, src)
    return out
