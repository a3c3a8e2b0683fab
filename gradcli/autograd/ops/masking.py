"""masked_fill(input, mask, value): ``value`` where ``mask`` holds, else ``input``.

A number value records MaskedFillBackward0, a 0-d tensor value MaskedFillBackward1
(PyTorch picks the overload by the value's type, whether or not it requires grad).
The result has the shape ``input`` and ``mask`` broadcast to, and ``input``'s dtype
(the value is cast to it).  The gradient is ``g.masked_fill(mask, 0)`` for the input
and ``g.masked_select(mask).sum()`` for a tensor value (masked_select and the
masked_scatter of its gradient are internal entries here).  Backward formulas
record these entries too (max's ties, norm at 0, maximum's).
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from .core import REGISTRY, exact, prose, register


def _fill(x, mask, value):
    return np.where(mask, np.asarray(value).astype(x.dtype), x)


def _object(x):
    return np.asarray(x, dtype=object)


def masked_fill(input, mask, value):
    """masked_fill(input, mask, value) with PyTorch's checks and messages."""
    from ..function import apply, broadcast_shape
    from ..signatures import as_tensor, is_number, plain
    from ..tensor import Tensor
    x = as_tensor(input)
    mask = _bool_mask(mask)
    broadcast_shape("masked_fill", [x.shape, mask.shape])
    if isinstance(value, Tensor):
        if value.ndim:
            raise InputError("masked_fill_ only supports a 0-dimensional value tensor, but "
                             f"got tensor with {value.ndim} dimension(s).")
        _castable(x, value.data)
        return apply(REGISTRY["masked_fill_tensor"], x, value, mask=mask)
    if not is_number(value):
        raise InputError("masked_fill() received an invalid combination of arguments - got "
                         f"(Tensor, {type(value).__name__}): value must be a number or a "
                         "0-dimensional tensor", python_type="TypeError")
    value = plain(value)
    _castable(x, value)
    return apply(REGISTRY["masked_fill"], x, mask=mask, value=value)


def _bool_mask(mask) -> np.ndarray:
    from ..tensor import Tensor
    try:
        arr = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    except ValueError:
        raise InputError("masked_fill(): the mask's nested lists are ragged") from None
    if arr.dtype != bool:
        name = {"float32": "float", "float64": "double", "int64": "long int"}.get(
            arr.dtype.name, arr.dtype.name)
        raise InputError(f"masked_fill_ only supports boolean masks, but got mask with "
                         f"dtype {name}")
    return arr


def _castable(x, value) -> None:
    """An integer input takes only finite values within int64 (PyTorch's check)."""
    if x.data.dtype.kind in "iu":
        v = float(np.asarray(value, dtype=np.float64))
        if not np.isfinite(v) or abs(v) >= 2.0 ** 63:
            raise InputError("value cannot be converted to type int64_t without overflow")


register("masked_fill", "MaskedFillBackward0", _fill,
         (lambda F, g, x, out, mask, value: F.masked_fill(g, mask=mask, value=0),),
         params="input, mask: mask, value: scalar", group="elementwise",
         function=masked_fill, records=("MaskedFillBackward1",), dtype_rule="keep",
         broadcasts=True,
         sympy=lambda sp, x, mask, value: np.where(mask, exact(sp, value), _object(x)),
         derivative=(prose("1 where the mask is False, else 0"),), keeps_layout=True)
register("masked_fill_tensor", "MaskedFillBackward1",
         lambda x, value, mask: _fill(x, mask, value),
         (lambda F, g, x, value, out, mask: F.masked_fill(g, mask=mask, value=0),
          lambda F, g, x, value, out, mask: F.sum(F.masked_select(g, mask=mask))),
         internal=True, shown_as="masked_fill", broadcasts=True, dtype_rule="keep",
         sympy=lambda sp, x, value, mask: np.where(mask, _object(value), _object(x)),
         derivative=(prose("1 where the mask is False, else 0"),
                     prose("the number of True elements of the mask")),
         syntax="masked_fill(x, mask, value_tensor)", keeps_layout=True)


# ---- masked_select / masked_scatter: what the value's gradient records ---------------------

def _select(x, mask):
    shape = np.broadcast_shapes(np.shape(x), np.shape(mask))
    return np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]


def _scatter(x, source, mask):
    """x with the mask's True positions (in order) taken from the first elements of
    source."""
    shape = np.broadcast_shapes(np.shape(x), np.shape(mask))
    out = np.array(np.broadcast_to(x, shape), copy=True)
    where = np.broadcast_to(mask, shape)
    out[where] = np.reshape(source, -1)[:np.count_nonzero(where)]
    return out


def _select_vjp(F, g, x, out, mask):
    """masked_select_backward: zeros of the broadcast shape, masked_scatter'ed with g."""
    shape = np.broadcast_shapes(F.value(x).shape, np.shape(mask))
    return F.masked_scatter(F.zeros(shape, dtype=F.value(g).dtype), g, mask=mask)


register("masked_select", "MaskedSelectBackward0", _select, (_select_vjp,),
         internal=True, broadcasts=True, dtype_rule="keep",
         sympy=lambda sp, x, mask: _select(_object(x), mask),
         derivative=(prose("1 at the selected elements"),), syntax="masked_select(x, mask)")
register("masked_scatter", "MaskedScatterBackward0", _scatter,
         (lambda F, g, x, source, out, mask: F.masked_fill(g, mask=mask, value=0),
          lambda F, g, x, source, out, mask: F.masked_select(g, mask=mask)),
         internal=True, broadcasts=True, dtype_rule="keep",
         sympy=lambda sp, x, source, mask: _scatter(_object(x), _object(source), mask),
         derivative=(prose("1 where the mask is False"),
                     prose("1 at the positions it fills")),
         syntax="masked_scatter(x, mask, source)")
