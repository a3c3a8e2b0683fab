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

from .core import STRUCTURAL, prose, register


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


def _show_select(labels, params) -> str:
    """``x[1]``, ``x[:, 2]``"""
    return f"{labels[0]}[{':, ' * params.get('dim', 0)}{params.get('index')}]"


def _show_slice(labels, params) -> str:
    """``x[1:]``, ``x[:, -3:]``, ``x[::2]``"""
    start, stop, step = (params.get(k) for k in ("start", "stop", "step"))
    key = f"{'' if start is None else start}:{'' if stop is None else stop}" + \
        ("" if step in (None, 1) else f":{step}")
    return f"{labels[0]}[{':, ' * params.get('dim', 0)}{key}]"


def _unsqueeze_to(F, g, shape, dims):
    """PyTorch's unsqueeze_to: put back the size-1 dims among ``dims`` that squeeze took."""
    for d in sorted(dims):
        if shape[d] == 1:
            g = F.unsqueeze(g, d)
    return g


MOVED = prose("1 (elements moved)")
SHAPE = "shape"


def _view(name, grad_fn, forward, vjp, params=None, derivative=MOVED, **fields):
    """A view op: public when it has ``params`` (its function is ``shaping``'s)."""
    if params is None:
        fields["internal"] = True
    else:
        fields.setdefault("function", f"shaping:{name}")
        fields.setdefault("group", SHAPE)
    register(name, grad_fn, forward, (vjp,), params=params, view=True, sympy=STRUCTURAL,
             derivative=(derivative,), **fields)


# ---- views --------------------------------------------------------------------------

_view("reshape", "ViewBackward0", _view_as,
      lambda F, g, x, out, shape: F.reshape(g, x.shape), params="input, *shape: ints",
      records=("ReshapeAliasBackward0", "CloneBackward0", "UnsafeViewBackward0"))
_view("reshape_alias", "ReshapeAliasBackward0", _view_as,
      lambda F, g, x, out, shape: F.reshape(g, x.shape), shown_as="reshape",
      syntax="reshape(x, shape) of a non-contiguous x that can be viewed")
_view("permute", "PermuteBackward0", lambda x, dims: np.transpose(x, dims),
      lambda F, g, x, out, dims: F.permute(g, tuple(int(d) for d in np.argsort(dims))),
      params="input, *dims: ints", syntax="permute(input, *dims), x.T")
_view("t", "TBackward0", lambda x: np.transpose(x), lambda F, g, x, out: F.t(g),
      params="input", display="{0}.T")
_view("transpose", "TransposeBackward0", lambda x, dim0, dim1: np.swapaxes(x, dim0, dim1),
      lambda F, g, x, out, dim0, dim1: F.transpose(g, dim0, dim1),
      params="input, dim0: dim, dim1: dim")
_view("unsqueeze", "UnsqueezeBackward0", lambda x, dim: np.expand_dims(x, dim),
      lambda F, g, x, out, dim: F.squeeze(g, dim), params="input, dim: int",
      derivative=prose("1"))
_view("squeeze", "SqueezeBackward1",
      lambda x, dim: np.squeeze(x, dim) if np.ndim(x) and np.shape(x)[dim] == 1 else x[...],
      lambda F, g, x, out, dim: _unsqueeze_to(F, g, x.shape, (dim,)) if x.shape else g,
      params="input, dim: dim = None", records=("SqueezeBackward0",), derivative=prose("1"))
_view("squeeze_all", "SqueezeBackward0", lambda x: np.squeeze(x),
      lambda F, g, x, out: _unsqueeze_to(F, g, x.shape, range(len(x.shape))),
      shown_as="squeeze", syntax="squeeze(x)")
_view("squeeze_dims", "SqueezeBackward4", lambda x, dims: np.squeeze(x, dims),
      lambda F, g, x, out, dims: _unsqueeze_to(F, g, x.shape, dims),
      shown_as="squeeze", syntax="squeeze(x, dims)")
_view("alias", "AliasBackward0", lambda x: x[...], lambda F, g, x, out: g, display="{0}",
      syntax="x[:, :]")
_view("expand", "ExpandBackward0", _expand,
      lambda F, g, x, out, shape: F.sum_to(g, x.shape), params="input, *shape: ints",
      api="method", derivative=prose("1, summed over the expanded dims"))
_view("diagonal", "DiagonalBackward0", _diagonal,
      lambda F, g, x, out, offset, dim1, dim2:
          F.diagonal_backward(g, x.shape, offset, dim1, dim2),
      params="input, offset: int = 0, dim1: dim = 0, dim2: dim = 1",
      derivative=prose("1 on the diagonal"))
_view("select", "SelectBackward0",
      lambda x, dim, index: x[_index(dim, np.ndim(x), index)],
      lambda F, g, x, out, dim, index: F.select_backward(g, x.shape, dim, index),
      params="input, dim: dim, index: int", syntax="select(input, dim, index), x[i]",
      display=_show_select,
      derivative=prose("1 at the selected element"))
_view("slice", "SliceBackward0",
      lambda x, dim, start, stop, step: x[_index(dim, np.ndim(x), slice(start, stop, step))],
      lambda F, g, x, out, dim, start, stop, step:
          F.slice_backward(g, x.shape, dim, start, stop, step),
      syntax="x[i:j:k], narrow(x, dim, start, length)", derivative=prose("1 on the slice"),
      display=_show_slice)

# ---- copies -------------------------------------------------------------------------

register("unsafe_view", "UnsafeViewBackward0", lambda x, shape: np.reshape(x, shape),
         (lambda F, g, x, out, shape: F.reshape(g, x.shape),), internal=True,
         shown_as="reshape", dtype_rule="keep", sympy=STRUCTURAL,
         syntax="reshape(x, shape) of a copy of x")
register("clone", "CloneBackward0", lambda x: np.array(x, copy=True),
         (lambda F, g, x, out: g,), params="input", group="copies and constants",
         function="copies:clone", keeps_layout=True, dtype_rule="keep", sympy=STRUCTURAL,
         derivative=("1",))
register("to_copy", "ToCopyBackward0", lambda x, dtype: np.array(x, dtype=dtype, copy=True),
         (lambda F, g, x, out, dtype: F.to_copy(g, dtype=x.dtype),), internal=True,
         shown_as="to", keeps_layout=True, dtype_rule="keep", sympy=STRUCTURAL,
         derivative=("1",), syntax="x.float(), x.double(), x.to(dtype)")
register("to", function="copies:to", params="input, *args: any", group="copies and constants",
         api="method", records=("ToCopyBackward0",), derivative=("1",))


def _scatter(g, shape, dim, key):
    out = np.zeros(shape, dtype=g.dtype)
    out[_index(dim, len(shape), key)] = g
    return out


def _diagonal_scatter(g, shape, offset, dim1, dim2):
    out = np.zeros(shape, dtype=g.dtype)
    _diagonal(out, offset, dim1, dim2)[...] = g
    return out


register("select_backward", "SelectBackwardBackward0",
         lambda g, shape, dim, index: _scatter(g, shape, dim, index),
         (lambda F, gg, g, out, shape, dim, index: F.select(gg, dim, index),), internal=True,
         syntax="select_backward(g, shape, dim, index)")
register("slice_backward", "SliceBackwardBackward0",
         lambda g, shape, dim, start, stop, step:
             _scatter(g, shape, dim, slice(start, stop, step)),
         (lambda F, gg, g, out, shape, dim, start, stop, step:
          F.slice(gg, dim, start, stop, step),), internal=True,
         syntax="slice_backward(g, shape, dim, start, stop, step)")
# ---- advanced indexing: x[mask], x[idx] (a copy, not a view) ------------------------------

def _index_put(g, shape, indices):
    """Zeros with g added at what ``indices`` picked (twice-picked elements sum)."""
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, indices, g)
    return out


register("index", "IndexBackward0", lambda x, indices: x[indices],
         (lambda F, g, x, out, indices: F.index_backward(g, x.shape, indices),),
         internal=True, shown_as="index", params="input, indices: any", sympy=STRUCTURAL,
         dtype_rule="keep", syntax="x[mask], x[idx], x[[0, 2]]",
         derivative=(prose("1 at each element the index picks (summed where it picks "
                           "one more than once)"),))
register("index_backward", "IndexPutBackward0", _index_put,
         (lambda F, gg, g, out, shape, indices: F.index(gg, indices),), internal=True,
         syntax="index_backward(g, shape, indices)")


def _index_put(x, values, indices):
    """``x`` with ``values`` (broadcast) written where ``indices`` pick: ``x[mask] = v``,
    ``x[idx] = v`` (of twice-picked elements the last write stays)."""
    out = x.copy()
    out[indices] = values
    return out


register("index_put", "IndexPutBackward0", _index_put,
         (lambda F, g, x, values, out, indices: F.index_put(g, 0, indices=indices),
          lambda F, g, x, values, out, indices: F.index(g, indices)),
         internal=True, params="input, values, indices: any", sympy=STRUCTURAL,
         dtype_rule="keep", broadcasts=True, syntax="x[mask] = v, x[idx] = v",
         derivative=(prose("1 where the index does not write, else 0"),
                     prose("1 at each element written (summed over the broadcast)")))
register("diagonal_backward", "DiagonalBackwardBackward0", _diagonal_scatter,
         (lambda F, gg, g, out, shape, offset, dim1, dim2: F.diagonal(gg, offset, dim1, dim2),),
         internal=True, syntax="diagonal_backward(g, shape, offset, dim1, dim2)")

# ---- joining --------------------------------------------------------------------------


def _stack_vjp(F, g, xs, out, dim):
    count = len(xs)
    return [F.select(g, dim, i) for i in range(count)]


def _cat_vjp(F, g, xs, out, dim):
    grads, start = [], 0
    for shape in F.shapes(xs):
        n = shape[dim]
        grads.append(F.slice(g, dim, start, start + n, 1))
        start += n
    return grads


register("stack", "StackBackward0", lambda xs, dim: np.stack(xs, axis=dim), (_stack_vjp,),
         params="tensors: tensors, dim: int = 0", group=SHAPE, function="shaping:stack",
         api="torch", variadic=True, sympy=STRUCTURAL,
         derivative=(prose("1 for each element"),), grows="join")
register("cat", "CatBackward0", lambda xs, dim: np.concatenate(xs, axis=dim), (_cat_vjp,),
         params="tensors: tensors, dim: int = 0", group=SHAPE, function="shaping:cat",
         api="torch", variadic=True, sympy=STRUCTURAL,
         derivative=(prose("1 for each element"),), grows="join")

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


register("trace", "TraceBackward0", lambda x: np.trace(x), (_trace_vjp,), params="input",
         group="linear algebra", function="functional:trace", sympy=STRUCTURAL,
         derivative=(prose("1 on the diagonal"),))
register("index_fill", "IndexFillBackward1", _index_fill,
         (lambda F, g, x, value, out, index: F.index_fill(g, 0.0, index=index),
          lambda F, g, x, value, out, index: F.sum(F.index_select(g, dim=0, index=index))),
         internal=True, syntax="index_fill(x, value, index)")

# ---- functions that record the views above ------------------------------------------------

register("view", function="shaping:view", params="input, *shape: ints", group=SHAPE,
         api="method", records=("ViewBackward0",), derivative=(MOVED,))
register("flatten", function="shaping:flatten",
         params="input, start_dim: int = 0, end_dim: int = -1", group=SHAPE,
         records=("ViewBackward0", "ReshapeAliasBackward0", "UnsafeViewBackward0"),
         derivative=(MOVED,))
register("narrow", function="shaping:narrow",
         params="input, dim: dim, start: int, length: int", group=SHAPE,
         records=("SliceBackward0",), derivative=(prose("1 on the slice"),))
