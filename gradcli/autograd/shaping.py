"""Shape functions of the Python API: reshape, transpose, indexing, stack/cat, constants.

Indexing records what PyTorch records: one SelectBackward0 per integer and one
SliceBackward0 per slice, skipping full slices inside a multi-index (``x[:, 0]`` is a
single SelectBackward0), with PyTorch's errors for bad indices.
"""

from __future__ import annotations

import math
import numpy as np

from ..errors import InputError, ShapeError
from .function import apply
from .ops import REGISTRY as OPS
from .ops.core import norm_dim
from .tensor import Tensor, tensor


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _ints(values, what: str = "shape") -> tuple:
    """reshape(x, 2, 3) and reshape(x, [2, 3]) alike; integral numbers only."""
    if len(values) == 1 and isinstance(values[0], (list, tuple)):
        values = tuple(values[0])
    out = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        if isinstance(v, Tensor) or not f.is_integer():
            raise InputError(f"{what} must be integers, got {v!r}")
        out.append(int(f))
    return tuple(out)


def reshape(x, *shape) -> Tensor:
    x = _as_tensor(x)
    shape = _ints(shape)
    size = x.data.size
    unknown = [i for i, s in enumerate(shape) if s == -1]
    known = math.prod(s for s in shape if s != -1)
    bad = any(s < -1 for s in shape) or len(unknown) > 1 or \
        (unknown and (known == 0 or size % known)) or (not unknown and known != size)
    if bad:
        raise ShapeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    return apply(OPS["reshape"], x, shape=shape)


def flatten(x) -> Tensor:
    x = _as_tensor(x)
    if x.ndim == 1:
        return x                    # PyTorch returns the tensor itself
    return apply(OPS["reshape"], x, shape=(x.data.size,))


def permute(x, *dims) -> Tensor:
    x = _as_tensor(x)
    dims = tuple(norm_dim(d, x.ndim) for d in _ints(dims, "dims"))
    if len(dims) != x.ndim:
        raise ShapeError(f"permute: the tensor has {x.ndim} dimensions but {len(dims)} "
                         "were given")
    if len(set(dims)) != len(dims):
        raise ShapeError(f"permute: repeated dim in {list(dims)}")
    return apply(OPS["permute"], x, dims=dims)


def t(x) -> Tensor:
    x = _as_tensor(x)
    if x.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return apply(OPS["t"], x)


def transpose_all(x) -> Tensor:
    """``x.T``: reverse the dimensions (PermuteBackward0)."""
    x = _as_tensor(x)
    return apply(OPS["permute"], x, dims=tuple(range(x.ndim))[::-1])


def unsqueeze(x, dim) -> Tensor:
    x = _as_tensor(x)
    return apply(OPS["unsqueeze"], x, dim=norm_dim(dim, x.ndim + 1))


def squeeze(x, dim=None) -> Tensor:
    x = _as_tensor(x)
    if dim is None:
        return apply(OPS["squeeze_all"], x)
    return apply(OPS["squeeze"], x, dim=norm_dim(dim, x.ndim))


# ---- indexing -----------------------------------------------------------------------

def _int_index(i) -> int:
    if isinstance(i, Tensor):
        i = i.item()
    if isinstance(i, (bool, np.bool_)) or float(i) != int(i):
        raise InputError(f"only integers and slices (`:`) are valid indices, got {i}")
    return int(i)


def select(x, dim: int, index: int, *, shown_dim: int | None = None) -> Tensor:
    """``x`` at ``index`` along ``dim``; ``shown_dim`` is the dimension errors name (the
    one of the tensor the user indexed, when an earlier integer index removed dims)."""
    x = _as_tensor(x)
    dim = norm_dim(dim, x.ndim)
    size = x.shape[dim]
    if not -size <= index < size:
        where = dim if shown_dim is None else shown_dim
        raise ShapeError(f"index {index} is out of bounds for dimension {where} with size {size}")
    return apply(OPS["select"], x, dim=dim, index=index % size)


def _slice(x, dim, key: slice, always: bool):
    start, stop, step = (None if v is None else _int_index(v)
                         for v in (key.start, key.stop, key.step))
    if step is not None and step <= 0:
        raise InputError("step must be greater than zero")
    start, stop, step = slice(start, stop, step).indices(x.shape[dim])
    if not always and start == 0 and stop == x.shape[dim] and step == 1:
        return x
    return apply(OPS["slice"], x, dim=dim, start=start, stop=stop, step=step)


def index(x, key) -> Tensor:
    """``x[key]`` for integers and slices (a tuple indexes several dimensions)."""
    x = _as_tensor(x)
    items = key if isinstance(key, tuple) else (key,)
    if len(items) > x.ndim:
        raise ShapeError(f"too many indices for tensor of dimension {x.ndim}")
    out, dim = x, 0
    for pos, item in enumerate(items):
        if isinstance(item, slice):
            out = _slice(out, dim, item, always=not isinstance(key, tuple))
            dim += 1
        elif item is Ellipsis or item is None:
            raise InputError("indexing with ... or None is not supported")
        else:
            out = select(out, dim, _int_index(item), shown_dim=pos)
    if out is x and isinstance(key, tuple) and x.requires_grad:
        out = apply(OPS["alias"], x)
    return out


# ---- joining ------------------------------------------------------------------------

def _tensors(name: str, seq) -> list:
    if isinstance(seq, Tensor) or not isinstance(seq, (list, tuple)):
        raise InputError(f"{name}() expects a list of tensors, e.g. {name}([a, b])")
    if not seq:
        raise InputError(f"{name}() expects a non-empty list of tensors")
    like = next((s for s in seq if isinstance(s, Tensor)), None)
    dtype = like.data.dtype if like is not None else None
    return [s if isinstance(s, Tensor) else tensor(s, dtype=dtype) for s in seq]


def stack(tensors, dim=0) -> Tensor:
    tensors = _tensors("stack", tensors)
    first = tensors[0].shape
    for i, t_ in enumerate(tensors):
        if t_.shape != first:
            raise ShapeError(f"stack expects each tensor to be equal size, but got "
                             f"{list(first)} at entry 0 and {list(t_.shape)} at entry {i}")
    return apply(OPS["stack"], tensors, dim=norm_dim(dim, len(first) + 1))


def cat(tensors, dim=0) -> Tensor:
    tensors = _tensors("cat", tensors)
    first = tensors[0]
    for i, t_ in enumerate(tensors):
        if t_.ndim == 0:
            raise ShapeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        if t_.ndim != first.ndim:
            raise ShapeError(f"Tensors must have same number of dimensions: got {first.ndim} "
                             f"and {t_.ndim}")
    d = norm_dim(dim, first.ndim)
    for i, t_ in enumerate(tensors):
        for k in range(first.ndim):
            if k != d and t_.shape[k] != first.shape[k]:
                raise ShapeError(f"Sizes of tensors must match except in dimension {d}. "
                                 f"Expected size {first.shape[k]} but got size {t_.shape[k]} "
                                 f"for tensor number {i} in the list.")
    return apply(OPS["cat"], tensors, dim=d)


# ---- constants ------------------------------------------------------------------------

def ones_like(x) -> Tensor:
    x = _as_tensor(x)
    return Tensor._make(np.ones_like(x.data), None)


def zeros_like(x) -> Tensor:
    x = _as_tensor(x)
    return Tensor._make(np.zeros_like(x.data), None)


def _new_shape(shape) -> tuple:
    shape = _ints(shape)
    if any(n < 0 for n in shape):
        raise ShapeError(f"Trying to create tensor with negative dimension "
                         f"{min(shape)}: {list(shape)}")
    return shape


def ones(*shape, dtype=None) -> Tensor:
    return tensor(np.ones(_new_shape(shape)), dtype=dtype)


def zeros(*shape, dtype=None) -> Tensor:
    return tensor(np.zeros(_new_shape(shape)), dtype=dtype)


def detach(x) -> Tensor:
    return _as_tensor(x).detach()
