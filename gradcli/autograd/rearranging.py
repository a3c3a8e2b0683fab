"""The Python API of :mod:`.ops.rearrange`: flip, roll, repeat, tile, gather,
index_select, movedim, split and chunk, with PyTorch's argument checks and messages.

``movedim`` is a permute (PermuteBackward0; of a 0-d tensor an alias), ``tile`` a
repeat (RepeatBackward0), ``chunk`` a split (SplitBackward0); ``split`` with a list of
sizes records SplitWithSizesBackward0.  ``split`` and ``chunk`` return a tuple of views.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError, ShapeError
from .function import apply
from .ops import REGISTRY as OPS
from .ops.core import norm_dim
from .shaping import _as_tensor, _ints
from .signatures import dims_of, index_array, is_number
from .tensor import Tensor




def _int_list(value, what: str) -> tuple:
    """An int or a sequence of ints (roll's shifts and dims, movedim's dims)."""
    return _ints(tuple(value) if isinstance(value, (list, tuple)) else (value,), what)


# ---- flip and roll ------------------------------------------------------------------

def flip(input, *dims) -> Tensor:
    x = _as_tensor(input)
    dims = dims_of(x, _ints(dims, "dims"))          # (a 0-d tensor: none)
    return apply(OPS["flip"], x, dims=dims)


def roll(input, shifts, dims=None) -> Tensor:
    x = _as_tensor(input)
    shifts = _int_list(shifts, "shifts")
    dims = () if dims is None else _int_list(dims, "dims")
    if not shifts:
        raise ShapeError("`shifts` required")
    if len(shifts) != len(dims) and not (len(shifts) == 1 and not dims):
        raise ShapeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                         f"dims:{len(dims)}")
    dims = tuple(norm_dim(d, x.ndim) for d in dims)
    if x.ndim == 0:
        dims = ()
    return apply(OPS["roll"], x, shifts=shifts[:1] if not dims else shifts, dims=dims)


# ---- repeat and tile ----------------------------------------------------------------

def repeat(input, *repeats) -> Tensor:
    x = _as_tensor(input)
    if not repeats:
        raise InputError('repeat() missing 1 required positional arguments: "repeats"',
                         python_type="TypeError")
    repeats = _ints(repeats, "repeats")
    if any(abs(r) >= 2 ** 63 for r in repeats):
        raise InputError("repeat(): argument 'repeats' failed to unpack: Overflow when "
                         "unpacking long long", python_type="TypeError")
    if len(repeats) < x.ndim:
        raise ShapeError("Number of dimensions of repeat dims can not be smaller than "
                         "number of dimensions of tensor")
    shape = (1,) * (len(repeats) - x.ndim) + tuple(x.shape)
    sizes = [n * r for n, r in zip(shape, repeats)]
    if any(s < 0 for s in sizes):
        bad = next(s for s in sizes if s < 0)
        raise ShapeError(f"Trying to create tensor with negative dimension {bad}: {sizes}")
    if any(s >= 2 ** 62 for s in sizes):            # numpy's limit (PyTorch's is 2**63)
        raise ShapeError(f"repeat: the result's shape {sizes} has a dimension too large")
    # an empty dim repeated a negative number of times is empty, as in PyTorch
    repeats = tuple(0 if r < 0 and n == 0 else r for n, r in zip(shape, repeats))
    return apply(OPS["repeat"], x, repeats=repeats)


def tile(input, *dims) -> Tensor:
    x = _as_tensor(input)
    dims = _ints(dims, "dims")
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


# ---- gather and index_select ----------------------------------------------------------

def _index(index, who: str):
    """Indices as int64: whole floats pass (a program's numbers are floats), other
    tensors are PyTorch's dtype error."""
    data = index.data if isinstance(index, Tensor) else None
    if data is not None and data.dtype.kind not in "iu" and not (
            data.dtype.kind == "f" and np.all(data == np.round(data))):
        raise InputError(f"{who}: Expected dtype int32/int64 for index"
                         if who == "gather()" else
                         f"{who}: Expected dtype int32 or int64 for index")
    return index_array(index, f"{who}: index")


def gather(input, dim, index) -> Tensor:
    x = _as_tensor(input)
    d = norm_dim(dim, x.ndim)
    index = _index(index, "gather()")
    if max(index.ndim, 1) != max(x.ndim, 1):
        raise ShapeError("Index tensor must have the same number of dimensions as input "
                         "tensor")
    shape, ishape = tuple(x.shape) or (1,), index.shape or (1,)
    wider = [k for k, (i, n) in enumerate(zip(ishape, shape)) if k != d and i > n]
    if wider:
        raise ShapeError(f"Size does not match at dimension {wider[0]} expected index "
                         f"{list(index.shape)} to be no larger than self {list(x.shape)} "
                         f"apart from dimension {d}")
    _in_bounds(index, shape[d], d, "index {} is out of bounds for dimension {} with size {}")
    return apply(OPS["gather"], x, dim=d, index=index)


def _in_bounds(index, size: int, dim: int, message: str) -> None:
    bad = index[(index < 0) | (index >= size)]
    if bad.size:
        raise ShapeError(message.format(int(bad.reshape(-1)[0]), dim, size))


def index_select(input, dim, index) -> Tensor:
    x = _as_tensor(input)
    d = norm_dim(dim, x.ndim)
    index = _index(index, "index_select()")
    if index.ndim > 1:
        raise ShapeError("index_select(): Index is supposed to be a vector",
                         python_type="IndexError")
    if x.ndim == 0 and index.size != 1:
        raise ShapeError(f"index_select(): Index to scalar can have only 1 value, got "
                         f"{index.size} value(s)")
    bad = index[(index < 0) | (index >= (x.shape[d] if x.ndim else 1))]
    if bad.size:
        raise ShapeError(f"INDICES element is out of DATA bounds, id={int(bad[0])} "
                         f"axis_dim={x.shape[d] if x.ndim else 1}")
    return apply(OPS["index_select"], x, dim=d, index=index)


# ---- movedim ----------------------------------------------------------------------------

def movedim(input, source, destination) -> Tensor:
    x = _as_tensor(input)
    src, dst = _int_list(source, "source"), _int_list(destination, "destination")
    if len(src) != len(dst):
        raise ShapeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                         f"dims) should contain the same number of dims as destination "
                         f"({list(dst)} dims)")
    src = tuple(norm_dim(d, x.ndim) for d in src)
    dst = tuple(norm_dim(d, x.ndim) for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ShapeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    if x.ndim == 0:
        return apply(OPS["alias"], x)
    order = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(k for k in range(x.ndim) if k not in src)
    order = tuple(k if k is not None else next(rest) for k in order)
    return apply(OPS["permute"], x, dims=order)


# ---- split and chunk ----------------------------------------------------------------------

def _parts(x: Tensor, op: str, dim: int, sizes: tuple) -> tuple:
    return tuple(apply(OPS[op], x, dim=dim, sizes=sizes, part=k) for k in range(len(sizes)))


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None) -> tuple:
    """torch.split(tensor, split_size_or_sections, dim=0); ``split_size`` is the name
    Tensor.split gives the size."""
    if split_size_or_sections is None:
        if split_size is None:
            raise InputError("split() missing 1 required positional argument: "
                             "'split_size_or_sections'", python_type="TypeError")
        split_size_or_sections = split_size
    x = _as_tensor(tensor)
    if x.ndim == 0:
        raise ShapeError("split expects at least a 1-dimensional tensor")
    d = norm_dim(dim, x.ndim)
    size = x.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = _ints(tuple(split_size_or_sections), "split_sizes")
        if any(s < 0 for s in sizes):
            raise ShapeError("split_with_sizes expects split_sizes have only non-negative "
                             f"entries, but got split_sizes={list(sizes)}")
        if sum(sizes) != size:
            raise ShapeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                             f"(input tensor's size at dimension {d}), but got "
                             f"split_sizes={list(sizes)}")
        return _parts(x, "split_with_sizes_part", d, sizes)
    if isinstance(split_size_or_sections, Tensor) or not is_number(split_size_or_sections) \
            or isinstance(split_size_or_sections, bool) \
            or not float(split_size_or_sections).is_integer():
        raise InputError("split(): argument 'split_size' must be int, not "
                         f"{type(split_size_or_sections).__name__}", python_type="TypeError")
    return _parts(x, "split_part", d, _split_sizes(size, int(split_size_or_sections)))


def _split_sizes(size: int, split_size: int) -> tuple:
    if split_size < 0:
        raise ShapeError(f"split expects split_size be non-negative, but got "
                         f"split_size={split_size}")
    if split_size == 0 and size:
        raise ShapeError(f"split_size can only be 0 if dimension size is 0, but got "
                         f"dimension size of {size}")
    count = max(math.ceil(size / split_size), 1) if split_size else 1
    return tuple(min(split_size, size - k * split_size) for k in range(count))


def unbind(input, dim=0) -> tuple:
    """torch.unbind(input, dim=0): the slices along ``dim``, views (UnbindBackward0);
    what iterating over a tensor gives (``a, b = x``, ``for row in x``)."""
    x = _as_tensor(input)
    if x.ndim == 0:
        raise ShapeError("Dimension specified as 0 but tensor has no dimensions",
                         python_type="IndexError")
    d = norm_dim(dim, x.ndim)
    count = x.shape[d]
    return tuple(apply(OPS["unbind_part"], x, dim=d, count=count, part=k)
                 for k in range(count))


def chunk(input, chunks, dim=0) -> tuple:
    x = _as_tensor(input)
    if x.ndim == 0:
        raise ShapeError("chunk expects at least a 1-dimensional tensor")
    chunks, = _ints((chunks,), "chunks")
    if chunks <= 0:
        raise ShapeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = norm_dim(dim, x.ndim)
    size = x.shape[d]
    return _parts(x, "split_part", d, _split_sizes(size, math.ceil(size / chunks)))
