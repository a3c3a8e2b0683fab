"""torch.nn.functional's kl_div and cosine_similarity, as PyTorch composes them.

``kl_div`` is ATen's ``xlogy(target, target) - target * input`` (with ``log_target``:
``exp(target) * (target - input)``), reduced; 'batchmean' is the sum divided by the
batch size, and 'mean' warns as PyTorch does.  ``cosine_similarity`` is ATen's
``(x1 / ||x1||) * (x2 / ||x2||)`` summed over ``dim``, each norm cloned and clamped to
``eps`` in place with grad mode off, so the clamp is not differentiated (PyTorch's
gradient there is not the derivative of the clamped formula: the check skips it).
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from . import functional as _F
from .function import apply
from .grad_mode import no_grad
from .inplace import overwrite
from .nn_losses import float_target, get_enum, legacy_reduction, warn
from .ops import REGISTRY as OPS
from .ops.core import norm_dim
from .signatures import as_tensor
from .tensor import Tensor

MEAN_WARNING = ("reduction: 'mean' divides the total loss by both the batch size and the "
                "support size.'batchmean' divides only by the batch size, and aligns with the "
                "KL div math definition.'mean' will be changed to behave the same as "
                "'batchmean' in the next major release.")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",
           log_target=False) -> Tensor:
    x = as_tensor(input)
    y = float_target(target, x)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warn(MEAN_WARNING)
    batchmean = reduction == "batchmean"
    reduction = "sum" if batchmean else get_enum(reduction)
    _broadcast_shape(x.shape, y.shape)
    if log_target:
        loss = _F.mul(_F.exp(y), _F.sub(y, x))
    else:
        loss = _F.sub(_F.xlogy(y, y), _F.mul(y, x))
    if reduction != "none":
        loss = _F.sum(loss) if reduction == "sum" else _F.mean(loss)
    return _F.div(loss, x.shape[0]) if batchmean and x.ndim else loss


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    """The shapes broadcast, or PyTorch's error naming the first dim that differs."""
    try:
        return np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        n = max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        d = next(d for d in range(n - 1, -1, -1) if pa[d] != pb[d] and 1 not in (pa[d], pb[d]))
        raise ShapeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b "
                         f"({pb[d]}) at non-singleton dimension {d}") from None


def cosine_similarity(x1, x2, dim=1, eps=1e-08) -> Tensor:
    a = as_tensor(x1, like=x2 if isinstance(x2, Tensor) else None)
    b = as_tensor(x2, like=a)
    if a.shape != b.shape:
        shape = _broadcast_shape(a.shape, b.shape)
        a, b = _F.expand(a, *shape), _F.expand(b, *shape)
    d = norm_dim(dim, a.ndim)
    dims = (d,) if a.ndim else ()
    a_unit, b_unit = _F.div(a, _norm(a, dims, eps)), _F.div(b, _norm(b, dims, eps))
    return apply(OPS["sum_dim"], _F.mul(a_unit, b_unit), dim=dims, keepdim=False)


def _norm(x: Tensor, dims: tuple, eps: float) -> Tensor:
    norm = _F.clone(apply(OPS["vector_norm"], x, ord=2.0, dim=dims))
    with no_grad():
        overwrite(norm, np.maximum(norm.data, eps))
    return norm
