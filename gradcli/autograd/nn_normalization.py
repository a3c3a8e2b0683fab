"""torch.nn.functional's layer_norm, normalize and dropout, with PyTorch's checks.

``normalize`` is PyTorch's composite ``input / input.norm(p, dim, keepdim=True)
.clamp_min(eps).expand_as(input)`` (DivBackward0, ExpandBackward0, ClampMinBackward0,
LinalgVectorNormBackward0).  ``dropout`` multiplies by a constant mask drawn from
gradcli's generator (MulBackward0; not PyTorch's stream), scaled by 1/(1-p); with
``training=False`` or ``p=0`` it returns the input itself and records nothing.  The
check verifies the gradient for the mask that was drawn (it is a constant of the graph).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, ShapeError
from . import functional as _F
from .dtypes import SCALAR_NAME
from .function import apply
from .ops import REGISTRY as OPS
from .ops.core import norm_dim
from .random import _rng
from .shaping import _ints
from .signatures import as_tensor, is_number
from .tensor import Tensor


def _same_shape(name: str, t, normalized_shape: tuple):
    if t is not None and tuple(t.shape) != normalized_shape:
        raise ShapeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                         f"{name} of shape {list(t.shape)} and normalized_shape = "
                         f"{list(normalized_shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05) -> Tensor:
    x = as_tensor(input)
    if not isinstance(normalized_shape, (list, tuple)):
        raise InputError("layer_norm(): argument 'normalized_shape' (position 2) must be "
                         f"tuple of ints, not {type(normalized_shape).__name__}",
                         python_type="TypeError")
    shape = _ints(tuple(normalized_shape), "normalized_shape")
    if not shape:
        raise ShapeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                         "containing at least one element, but got normalized_shape = []")
    weight = None if weight is None else as_tensor(weight, like=x)
    bias = None if bias is None else as_tensor(bias, like=x)
    _same_shape("weight", weight, shape)
    _same_shape("bias", bias, shape)
    if len(shape) > x.ndim or tuple(x.shape[x.ndim - len(shape):]) != shape:
        want = ", ".join(["*"] + [str(n) for n in shape])
        raise ShapeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                         f"[{want}], but got input of size{list(x.shape)}")
    if x.data.dtype.kind != "f":
        raise InputError(f'"LayerNormKernelImpl" not implemented for '
                         f"'{SCALAR_NAME[x.data.dtype]}'")
    if any(t is not None and t.data.dtype != x.data.dtype for t in (weight, bias)):
        raise InputError("mixed dtype (CPU): all inputs must share same datatype.")
    return apply(OPS["layer_norm"], x, weight, bias, normalized_shape=shape,
                 eps=_number("layer_norm", "eps", eps))


def _number(func: str, name: str, v) -> float:
    if isinstance(v, Tensor) and v.data.size == 1:
        v = v.item()
    if isinstance(v, bool) or not is_number(v):
        raise InputError(f"{func}(): argument '{name}' must be float, not {type(v).__name__}",
                         python_type="TypeError")
    return float(v)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None) -> Tensor:
    x = as_tensor(input)
    if out is not None:
        raise InputError("normalize(): out= is not supported")
    p, eps = _number("normalize", "p", p), _number("normalize", "eps", eps)
    if x.data.dtype.kind != "f":
        raise InputError("linalg.vector_norm: Expected a floating point or complex tensor as "
                         f"input. Got {SCALAR_NAME[x.data.dtype]}")
    d = norm_dim(dim, x.ndim)
    dims = (d,) if x.ndim else ()
    norm = apply(OPS["vector_norm"], x, ord=p, dim=dims)
    denominator = _F.expand(_F.clamp_min(norm, eps), *x.shape)
    return _F.div(x, denominator)


def dropout(input, p=0.5, training=True, inplace=False) -> Tensor:
    x = as_tensor(input)
    p = _number("dropout", "p", p)
    if not 0.0 <= p <= 1.0:
        raise InputError(f"dropout probability has to be between 0 and 1, but got {p}",
                         python_type="ValueError")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        noise = np.zeros(x.shape, dtype=x.data.dtype)
    else:
        keep = _rng(None).random(x.shape) >= p
        noise = keep.astype(x.data.dtype) / x.data.dtype.type(1 - p)
    mask = Tensor._make(np.asarray(noise), None)
    return x.mul_(mask) if inplace else _F.mul(x, mask)
