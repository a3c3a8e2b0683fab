"""The regression and binary losses of torch.nn.functional, and the argument handling
every loss shares (re-exported by :mod:`.nn_functional`).

Each checks its arguments in PyTorch's order with PyTorch's messages, then records what
PyTorch records: a single loss node (MseLossBackward0, NllLossBackward0, ...) or the
composite PyTorch's Python or C++ code builds (l1_loss: Sub, Abs, Mean; cross_entropy
with class probabilities: LogSoftmax, Mul, Sum, Neg, DivBackward1).  Class indices and
weights are constants: a gradcli Tensor (float or integer dtype), a numpy array or a
list.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import AutogradError, InputError, ShapeError
from . import functional as _F
from .function import apply
from .grad_mode import is_grad_enabled
from .ops import REGISTRY as OPS
from .ops.losses import REDUCTIONS, python_error
from .tensor import Tensor

SIZE_WARNING = ("Using a target size ({t}) that is different to the input size ({i}). This "
                "will likely lead to incorrect results due to broadcasting. Please ensure "
                "they have the same size.")
DTYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
               "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool"}


def torch_size(shape) -> str:
    return f"torch.Size({list(shape)})"


def dtype_name(dtype) -> str:
    return DTYPE_NAMES.get(str(dtype), str(dtype))


def warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


# ---- arguments -----------------------------------------------------------------------

def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """size_average / reduce, when given, decide the reduction (with PyTorch's warning)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else ("sum" if reduce else "none")
    warn(f"size_average and reduce args will be deprecated, please use "
         f"reduction='{reduction}' instead.")
    return reduction


def get_enum(reduction) -> str:
    """PyTorch's _Reduction.get_enum: the reduction checked (as its name here)."""
    if reduction == "elementwise_mean":
        warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
             "instead.")
        return "mean"
    if reduction not in REDUCTIONS:
        raise python_error(InputError, f"{reduction} is not a valid value for reduction",
                           "ValueError")
    return reduction


def float_target(target, x: Tensor) -> Tensor:
    """A regression target: tensors as given (integer ones as constants of x's dtype, as
    PyTorch's type promotion makes them), anything else a constant like x."""
    if isinstance(target, Tensor):
        if target.dtype.kind in "biu":
            return Tensor._make(target.data.astype(x.dtype), None)
        return target
    return _F.as_tensor(target, like=x)


def constant(value, x: Tensor, function: str, argument: str):
    """A weight PyTorch does not differentiate, as an array of x's dtype (None stays)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.requires_grad and is_grad_enabled():
            raise AutogradError(f"The function '{function}' is not differentiable with respect "
                                f"to argument '{argument}'. This input cannot have "
                                "requires_grad True.")
        value = value.data
    array = ragged_safe(value, f"{function}: {argument}")
    if array.dtype.kind not in "biuf":
        raise InputError(f"{function}: {argument} must be numbers that fit a float64 or int64")
    if x.dtype.kind in "biu" and array.dtype.kind == "f":
        info = np.iinfo(x.dtype) if x.dtype.kind != "b" else np.iinfo(np.uint8)
        if not np.all(np.isfinite(array) & (array >= info.min) & (array <= info.max)):
            raise InputError(f"{function}: {argument} has a value that "
                             f"{dtype_name(x.dtype)} cannot hold")
    return array.astype(x.dtype)


def ragged_safe(value, what: str) -> np.ndarray:
    """A (nested) list as an array; a ragged one is a clear error, not numpy's."""
    try:
        return np.asarray(value)
    except ValueError:
        raise InputError(f"{what}: the nested lists are ragged (every row needs the same "
                         "length)") from None


def class_indices(target) -> np.ndarray:
    """Class indices as int64; floats are accepted while they are whole numbers (gradcli's
    tensors may carry them as floats), anything else is PyTorch's dtype error."""
    arr = target.data if isinstance(target, Tensor) else ragged_safe(target, "target")
    whole = arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(np.isfinite(arr))
                                       and np.all(arr == np.round(arr)))
    if not whole:
        name = dtype_name(arr.dtype) if arr.dtype.kind in "fb" else str(arr.dtype)
        raise InputError(f"expected target dtype to be Long or Byte, but got {name}")
    return arr.astype(np.int64)


def broadcast_error(a: tuple, b: tuple) -> ShapeError:
    ndim = max(len(a), len(b))
    pa, pb = (1,) * (ndim - len(a)) + tuple(a), (1,) * (ndim - len(b)) + tuple(b)
    d = next(d for d in range(ndim - 1, -1, -1) if pa[d] != pb[d] and 1 not in (pa[d], pb[d]))
    return ShapeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b "
                      f"({pb[d]}) at non-singleton dimension {d}")


def broadcast_pair(a: Tensor, b: Tensor):
    """torch.broadcast_tensors: ExpandBackward0 on each tensor whose shape grows."""
    if a.shape == b.shape:
        return a, b
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise broadcast_error(a.shape, b.shape) from None
    return tuple(t if t.shape == shape else apply(OPS["expand"], t, shape=shape)
                 for t in (a, b))


def _pair(input, target):
    x = _F.as_tensor(input)
    y = float_target(target, x)
    if y.shape != x.shape:
        warnings.warn(SIZE_WARNING.format(t=torch_size(y.shape), i=torch_size(x.shape)),
                      UserWarning, stacklevel=3)
    return x, y


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """apply_loss_reduction of PyTorch's composite losses (MeanBackward0, SumBackward0)."""
    return _F.mean(loss) if reduction == "mean" else _F.sum(loss) if reduction == "sum" \
        else loss


def _weight_like_input(weight, x: Tensor) -> Tensor:
    w = _F.as_tensor(weight, like=x)
    if w.shape != x.shape:
        raise python_error(InputError, "Weights and input must have the same size.",
                           "ValueError")
    return w


def _weighted_sum(loss: Tensor, w: Tensor, reduction: str) -> Tensor:
    """mse_loss / l1_loss with a weight: the sum over the sum of the weights."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return _F.sum(loss)
    if reduction == "mean":
        return _F.sum(loss) / _F.sum(w)
    raise python_error(InputError, f"Invalid reduction mode: {reduction}. Expected one of "
                       "'none', 'mean', 'sum'.", "ValueError")


# ---- regression losses --------------------------------------------------------------

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean",
             weight=None) -> Tensor:
    x, y = _pair(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    xe, ye = broadcast_pair(x, y)
    if weight is not None:
        w = _weight_like_input(weight, x)
        return _weighted_sum(_F.pow(xe - ye, 2) * w, w, reduction)
    return apply(OPS["mse_loss"], xe, ye, reduction=get_enum(reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
            weight=None) -> Tensor:
    x, y = _pair(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    xe, ye = broadcast_pair(x, y)
    if weight is not None:
        w = _weight_like_input(weight, x)
        return _weighted_sum(_F.abs(xe - ye) * w, w, reduction)
    return _reduce(_F.abs(xe - ye), get_enum(reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0) -> Tensor:
    x, y = _pair(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    xe, ye = broadcast_pair(x, y)
    if beta == 0.0:
        return _reduce(_F.abs(xe - ye), get_enum(reduction))
    reduction = get_enum(reduction)
    if beta < 0:
        raise InputError("smooth_l1_loss does not support negative values for beta.")
    return apply(OPS["smooth_l1_loss"], xe, ye, reduction=reduction, beta=float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None) -> Tensor:
    x, y = _pair(input, target)
    xe, ye = broadcast_pair(x, y)
    if weight is not None:
        w = _weight_like_input(weight, x)
        loss = huber_loss(xe, ye, "none", delta) * w
        if reduction not in REDUCTIONS:
            raise python_error(InputError, f"Invalid reduction mode: {reduction}. Expected one "
                               "of 'none', 'mean', 'sum'.", "ValueError")
        return _reduce(loss, reduction)
    reduction = get_enum(reduction)
    if delta <= 0:
        raise InputError("huber_loss does not support non-positive values for delta.")
    return apply(OPS["huber_loss"], xe, ye, reduction=reduction, delta=float(delta))


# ---- binary cross-entropy -------------------------------------------------------------

def _reduction_of(size_average, reduce, reduction) -> str:
    return get_enum(legacy_reduction(size_average, reduce, reduction))


def _bce_weight(weight, x: Tensor, y: Tensor):
    """binary_cross_entropy's weight.expand(broadcast_shapes(target, weight))."""
    w = constant(weight, x, "binary_cross_entropy", "weight")
    if w is None:
        return None
    try:
        shape = np.broadcast_shapes(y.shape, w.shape)
    except ValueError:
        k = next(k for k in range(1, min(w.ndim, y.ndim) + 1)
                 if w.shape[-k] not in (1, y.shape[-k]) and y.shape[-k] != 1)
        raise ShapeError(f"Attempting to broadcast a dimension of length {w.shape[-k]} at -{k}! "
                         f"Mismatching argument at index 1 had {torch_size(w.shape)}; but "
                         f"expected shape should be broadcastable to {list(y.shape)}") from None
    return _fits_output(np.broadcast_to(w, shape), x)


def _fits_output(w: np.ndarray, x: Tensor) -> np.ndarray:
    shape = np.broadcast_shapes(w.shape, x.shape)
    if shape != x.shape:
        raise ShapeError(f"output with shape {list(x.shape)} doesn't match the broadcast shape "
                         f"{list(shape)}")
    return w


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean") -> Tensor:
    x = _F.as_tensor(input)
    reduction = _reduction_of(size_average, reduce, reduction)
    y = _F.as_tensor(target, like=x)
    if y.shape != x.shape:
        raise python_error(InputError, f"Using a target size ({torch_size(y.shape)}) that is "
                           f"different to the input size ({torch_size(x.shape)}) is deprecated."
                           " Please ensure they have the same size.", "ValueError")
    w = _bce_weight(weight, x, y)
    if y.dtype != x.dtype:
        raise InputError(f"Found dtype {dtype_name(y.dtype)} but expected "
                         f"{dtype_name(x.dtype)}")
    return apply(OPS["binary_cross_entropy"], x, y, weight=w, reduction=reduction)


def _logit_weight(value, x: Tensor, y: Tensor, argument: str):
    w = constant(value, x, "binary_cross_entropy_with_logits", argument)
    if w is None:
        return None
    try:
        np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        a, b = (w.shape, y.shape) if argument == "pos_weight" else (x.shape, w.shape)
        raise broadcast_error(a, b) from None
    return _fits_output(w, x)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean",
                                     pos_weight=None) -> Tensor:
    x = _F.as_tensor(input)
    reduction = _reduction_of(size_average, reduce, reduction)
    y = _F.as_tensor(target, like=x)
    if y.shape != x.shape:
        raise python_error(InputError, f"Target size ({torch_size(y.shape)}) must be the same "
                           f"as input size ({torch_size(x.shape)})", "ValueError")
    if y.dtype.kind in "biu":
        raise InputError(f"result type {dtype_name(x.dtype)} can't be cast to the desired "
                         f"output type {dtype_name(y.dtype)}")
    return apply(OPS["binary_cross_entropy_with_logits"], x, y,
                 weight=_logit_weight(weight, x, y, "weight"),
                 pos_weight=_logit_weight(pos_weight, x, y, "pos_weight"), reduction=reduction)

