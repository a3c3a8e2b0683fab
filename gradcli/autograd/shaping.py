"""Shape functions of the Python API: reshape, transpose, indexing, stack/cat, constants.

Each records what PyTorch records for the same call:

- ``reshape`` (and ``flatten``) of a contiguous tensor is a view (ViewBackward0); of a
  non-contiguous one that strides can still describe, a view too (ReshapeAliasBackward0);
  otherwise a copy (CloneBackward0, then UnsafeViewBackward0).  ``view`` is the view or
  PyTorch's error.  Whether strides can describe it is PyTorch's computeStride.
- Indexing records one SelectBackward0 per integer and one SliceBackward0 per slice; in a
  multi-index, a slice is skipped when its start is literally 0 (or omitted), its stop
  omitted or at least the dimension's size, and its step 1 -- so ``x[:, -3:]`` is a
  SliceBackward0 even where it covers the whole dimension.  A lone slice ``x[:]`` is
  always recorded.  Every result is a view of ``x`` (SPEC 3.8).
"""

from __future__ import annotations

import math
import numpy as np

from ..errors import InputError, ShapeError
from .dtypes import SCALAR_NAME, as_dtype, get_default_dtype
from .function import apply
from .ops import REGISTRY as OPS
from .ops.core import norm_dim
from .ops.shape import element_strides, view_strides
from .tape import note_undefined
from .tensor import Tensor, tensor

VIEW_INCOMPATIBLE = ("view size is not compatible with input tensor's size and stride (at "
                     "least one dimension spans across two contiguous subspaces). Use "
                     ".reshape(...) instead.")


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
        if (isinstance(v, Tensor) and v.data.dtype.kind not in "iu") or not f.is_integer():
            raise InputError(f"{what} must be integers, got {v!r}")
        out.append(int(f))
    return tuple(out)


# ---- reshape and view --------------------------------------------------------------------

def _infer_shape(shape: tuple, size: int) -> tuple:
    unknown = [i for i, s in enumerate(shape) if s == -1]
    known = math.prod(s for s in shape if s != -1)
    bad = any(s < -1 for s in shape) or len(unknown) > 1 or \
        (unknown and (known == 0 or size % known)) or (not unknown and known != size)
    if bad:
        raise ShapeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    if unknown:
        shape = tuple(size // known if s == -1 else s for s in shape)
    return shape


def reshape(input, *shape) -> Tensor:
    input = _as_tensor(input)
    shape = _infer_shape(_ints(shape), input.data.size)
    return _reshape(input, shape)


def _reshape(x: Tensor, shape: tuple) -> Tensor:
    if x.data.flags.c_contiguous:
        return apply(OPS["reshape"], x, shape=shape)
    if view_strides(x.shape, element_strides(x.data), shape) is not None:
        return apply(OPS["reshape_alias"], x, shape=shape)
    return apply(OPS["unsafe_view"], apply(OPS["clone"], x), shape=shape)


def view(input, *shape) -> Tensor:
    input = _as_tensor(input)
    shape = _infer_shape(_ints(shape), input.data.size)
    if not input.data.flags.c_contiguous and \
            view_strides(input.shape, element_strides(input.data), shape) is None:
        raise ShapeError(VIEW_INCOMPATIBLE)
    return apply(OPS["reshape"], input, shape=shape)


def flatten(input, start_dim=0, end_dim=-1) -> Tensor:
    """The dimensions start_dim..end_dim as one (a view where it can be); a 0-d tensor
    becomes 1-d, and with nothing to merge PyTorch returns the tensor itself."""
    x = _as_tensor(input)
    start, end = (norm_dim(d, x.ndim, name) for d, name in ((start_dim, "start_dim"),
                                                              (end_dim, "end_dim")))
    if x.ndim == 0:
        return _reshape(x, (1,))
    if start > end:
        raise ShapeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return x
    shape = x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:]
    return _reshape(x, shape)


# ---- dimensions ------------------------------------------------------------------------

def permute(input, *dims) -> Tensor:
    input = _as_tensor(input)
    dims = tuple(norm_dim(d, input.ndim) for d in _ints(dims, "dims"))
    if len(dims) != input.ndim:
        raise ShapeError(f"permute: the tensor has {input.ndim} dimensions but {len(dims)} "
                         "were given")
    if len(set(dims)) != len(dims):
        raise ShapeError(f"permute: repeated dim in {list(dims)}")
    return apply(OPS["permute"], input, dims=dims)


def t(input) -> Tensor:
    input = _as_tensor(input)
    if input.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return apply(OPS["t"], input)


def transpose(input, dim0, dim1) -> Tensor:
    input = _as_tensor(input)
    return apply(OPS["transpose"], input, dim0=norm_dim(dim0, input.ndim), dim1=norm_dim(dim1, input.ndim))


def transpose_all(x) -> Tensor:
    """``x.T``: reverse the dimensions (PermuteBackward0)."""
    x = _as_tensor(x)
    return apply(OPS["permute"], x, dims=tuple(range(x.ndim))[::-1])


def unsqueeze(input, dim) -> Tensor:
    input = _as_tensor(input)
    return apply(OPS["unsqueeze"], input, dim=norm_dim(dim, input.ndim + 1))


def squeeze(input, dim=None) -> Tensor:
    input = _as_tensor(input)
    if dim is None:
        return apply(OPS["squeeze_all"], input)
    return apply(OPS["squeeze"], input, dim=norm_dim(dim, input.ndim))


def expand(input, *shape) -> Tensor:
    input = _as_tensor(input)
    sizes = _ints(shape, "sizes")
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise ShapeError(f"expand(torch.DoubleTensor{{{list(input.shape)}}}, size={list(sizes)}): "
                         "the number of sizes provided "
                         f"({len(sizes)}) must be greater or equal to the number of dimensions "
                         f"in the tensor ({input.ndim})")
    out = []
    for i, size in enumerate(sizes):
        have = input.shape[i - lead] if i >= lead else None
        if size == -1 and have is not None:
            size = have
        elif have is not None and have != size and have != 1:
            raise ShapeError(
                f"The expanded size of the tensor ({size}) must match the existing size "
                f"({have}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(input.shape)}")
        out.append(size)
    return apply(OPS["expand"], input, shape=tuple(out))


def diagonal(input, offset=0, dim1=0, dim2=1) -> Tensor:
    input = _as_tensor(input)
    d1, d2 = norm_dim(dim1, input.ndim), norm_dim(dim2, input.ndim)
    if d1 == d2:
        raise ShapeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    if not -2**63 <= offset < 2**63:
        raise InputError("Overflow when unpacking long long", python_type="ValueError")
    # beyond the matrix every diagonal is empty: the bound keeps numpy's C long in range
    offset = max(-input.shape[d1], min(input.shape[d2], offset))
    return apply(OPS["diagonal"], input, offset=offset, dim1=d1, dim2=d2)


def narrow(input, dim, start, length) -> Tensor:
    input = _as_tensor(input)
    dim = norm_dim(dim, input.ndim)
    size = input.shape[dim]
    start, length = int(start), int(length)
    if not -size <= start <= size:
        raise ShapeError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    start %= size if size else 1
    if length < 0 or start + length > size:
        raise ShapeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return apply(OPS["slice"], input, dim=dim, start=start, stop=start + length, step=1)


# ---- indexing -----------------------------------------------------------------------

def _is_advanced(i) -> bool:
    """A list, array or tensor of indices or a mask (not a plain integer)."""
    if isinstance(i, Tensor):
        return i.ndim > 0 or i.data.dtype == np.bool_
    return isinstance(i, (list, tuple, np.ndarray))


def _advanced(x: Tensor, items: tuple) -> Tensor:
    """x[key] with index arrays or masks among the items (numpy's and PyTorch's rules
    agree): IndexBackward0, a copy."""
    return apply(OPS["index"], x, indices=_advanced_key(x, items))


def _advanced_key(x: Tensor, items: tuple) -> tuple:
    """The numpy key of x[items] with index arrays or masks, checked as PyTorch checks
    it (masks' shapes, bounds)."""
    key, dim = [], 0
    for item in items:
        if item is None or isinstance(item, slice):
            key.append(item)
            dim += item is not None
            continue
        if not _is_advanced(item):
            key.append(_int_index(item))
            dim += 1
            continue
        array = _index_array(item)
        if array.dtype == np.bool_:
            _check_mask(array, x.shape, dim)
            dim += max(array.ndim, 1)
        else:
            _check_bounds(array, x.shape, dim)
            dim += 1
        key.append(array)
    if dim > x.ndim:
        raise ShapeError(f"too many indices for tensor of dimension {x.ndim}",
                         python_type="IndexError")
    return tuple(key)


def is_advanced_key(key) -> bool:
    """Does ``x[key]`` pick by masks or index tensors (a copy, not a view)?"""
    return any(_is_advanced(i) for i in (key if isinstance(key, tuple) else (key,)))


def index_put(input, values, indices) -> Tensor:
    """``input`` with ``values`` written where ``indices`` (a key of masks, index tensors,
    integers and slices) picks, out of place: what ``x[indices] = values`` writes back
    (IndexPutBackward0).  A number becomes a value of x's dtype; a tensor must have x's
    dtype and broadcast to what is picked."""
    x = _as_tensor(input)
    items = _expand_ellipsis(indices if isinstance(indices, tuple) else (indices,), x.ndim)
    indices = _advanced_key(x, items)
    if isinstance(values, Tensor):
        if values.dtype != x.dtype:
            raise ShapeError(
                "Index put requires the source and destination dtypes match, got "
                f"{SCALAR_NAME[x.dtype]} for the destination and {SCALAR_NAME[values.dtype]} "
                "for the source.")
    else:
        values = tensor(values, dtype=x.dtype)
    picked = np.broadcast_to(np.int8(0), x.shape)[indices].shape   # (no copy of x)
    try:
        fits = np.broadcast_shapes(values.shape, picked) == picked
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot "
                         f"be broadcast to indexing result of shape {list(picked)}")
    if values.requires_grad and _writes_twice(x.shape, indices):
        note_undefined((values,), "an element written twice (x[idx] = v with a repeated "
                       "index): PyTorch's gradient counts every write, the last one stays")
    return apply(OPS["index_put"], x, values, indices=indices)


def _writes_twice(shape: tuple, indices: tuple) -> bool:
    """Does the key pick some element more than once (repeated integer indices)?  Only
    the index arrays can repeat one (masks, slices and integers pick each element once):
    their broadcast rows are compared, nothing of the size of x is made."""
    if not any(isinstance(i, np.ndarray) and i.dtype != np.bool_ for i in indices):
        return False
    arrays, dim = [], 0
    for item in indices:
        if item is None:
            continue
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            arrays.extend(np.nonzero(item))
            dim += item.ndim
        elif isinstance(item, np.ndarray):
            arrays.append(item % max(shape[dim], 1))          # -1 and n-1 are one element
            dim += 1
        else:
            dim += 1
    rows = np.stack([a.reshape(-1) for a in np.broadcast_arrays(*arrays)], axis=1)
    return len(np.unique(rows, axis=0)) < len(rows)


def _index_array(item) -> np.ndarray:
    data = item.data if isinstance(item, Tensor) else np.asarray(
        [i.item() if isinstance(i, Tensor) else i for i in item]
        if isinstance(item, (list, tuple)) else item)
    if data.dtype == np.bool_:
        return data
    if data.dtype.kind not in "iu" and data.size:
        raise InputError("tensors used as indices must be long, int, byte or bool tensors",
                         python_type="IndexError")
    return data.astype(np.int64)


def _check_mask(mask: np.ndarray, shape: tuple, dim: int) -> None:
    for k, n in enumerate(mask.shape):
        if dim + k >= len(shape):
            raise ShapeError(f"too many indices for tensor of dimension {len(shape)}",
                             python_type="IndexError")
        if shape[dim + k] != n:
            raise ShapeError(f"The shape of the mask {list(mask.shape)} at index {k} does "
                             f"not match the shape of the indexed tensor {list(shape)} at "
                             f"index {dim + k}", python_type="IndexError")


def _check_bounds(array: np.ndarray, shape: tuple, dim: int) -> None:
    if dim >= len(shape):
        raise ShapeError(f"too many indices for tensor of dimension {len(shape)}",
                         python_type="IndexError")
    size = shape[dim]
    bad = array[(array >= size) | (array < -size)]
    if bad.size:
        raise ShapeError(f"index {int(bad.reshape(-1)[0])} is out of bounds for dimension "
                         f"{dim} with size {size}", python_type="IndexError")


def _int_index(i) -> int:
    if isinstance(i, Tensor):
        i = i.item()
    if isinstance(i, (bool, np.bool_)) or float(i) != int(i):
        raise InputError(f"only integers and slices (`:`) are valid indices, got {i}")
    return int(i)


def select(input, dim: int, index: int, *, _shown_dim: int | None = None) -> Tensor:
    """``x`` at ``index`` along ``dim``; ``shown_dim`` is the dimension errors name (the
    one of the tensor the user indexed, when an earlier integer index removed dims)."""
    input = _as_tensor(input)
    dim = norm_dim(dim, input.ndim)
    size = input.shape[dim]
    if not -size <= index < size:
        where = dim if _shown_dim is None else _shown_dim
        raise ShapeError(f"index {index} is out of bounds for dimension {where} with size "
                         f"{size}", python_type="IndexError")
    return apply(OPS["select"], input, dim=dim, index=index % size)


def _slice(x, dim, key: slice, always: bool):
    start, stop, step = (None if v is None else _int_index(v)
                         for v in (key.start, key.stop, key.step))
    if step is not None and step <= 0:
        raise InputError("step must be greater than zero", python_type="ValueError")
    size = x.shape[dim]
    if not always and (start is None or start == 0) and (stop is None or stop >= size) \
            and step in (None, 1):
        return x                    # PyTorch skips it: start literally 0, stop past the end
    start, stop, step = slice(start, stop, step).indices(size)
    stop = max(stop, start)
    return apply(OPS["slice"], x, dim=dim, start=start, stop=stop, step=step)


def _expand_ellipsis(items: tuple, ndim: int) -> tuple:
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise InputError("an index can only have a single ellipsis ('...')")
    if not any(i is Ellipsis for i in items):      # (not `in`: tensors compare by ==)
        return items
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    at = next(k for k, i in enumerate(items) if i is Ellipsis)
    return items[:at] + (slice(None),) * max(ndim - used, 0) + items[at + 1:]


def index(x, key, keep_full: bool = False) -> Tensor:
    """``x[key]`` for integers, slices, ``...`` and ``None`` (a tuple indexes several
    dimensions).  ``keep_full``: as for ``x[key] = v``, where even a lone full slice is
    skipped and ``x`` itself may come back."""
    x = _as_tensor(x)
    multi = isinstance(key, tuple)
    items = _expand_ellipsis(key if multi else (key,), x.ndim)
    if any(_is_advanced(i) for i in items):
        if keep_full:
            raise InputError("assigning through a mask or a tensor of indices (x[mask] = v) "
                             "is not supported: write x = torch.where(mask, v, x)")
        return _advanced(x, items)
    if sum(1 for i in items if i is not None) > x.ndim:
        raise ShapeError(f"too many indices for tensor of dimension {x.ndim}")
    out, dim = x, 0
    for pos, item in enumerate(items):
        if isinstance(item, slice):
            out = _slice(out, dim, item, always=not (multi or keep_full))
            dim += 1
        elif item is None:
            out = apply(OPS["unsqueeze"], out, dim=dim)
            dim += 1
        elif item is Ellipsis:
            continue
        else:
            out = select(out, dim, _int_index(item), _shown_dim=pos)
    if out is x and not keep_full:
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


def _dtype(dtype):
    return get_default_dtype() if dtype is None else as_dtype(dtype)


def ones(*shape, dtype=None) -> Tensor:
    """A constant of ones (the default float dtype unless ``dtype`` is given)."""
    return Tensor._make(np.ones(_new_shape(shape), dtype=_dtype(dtype)), None)


def zeros(*shape, dtype=None) -> Tensor:
    return Tensor._make(np.zeros(_new_shape(shape), dtype=_dtype(dtype)), None)


def detach(x) -> Tensor:
    return _as_tensor(x).detach()
