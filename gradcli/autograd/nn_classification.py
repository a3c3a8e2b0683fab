"""nll_loss and cross_entropy as PyTorch's LossNLL.cpp composes them.

``nll_loss`` records NllLossBackward0 for 1-D and 2-D input and NllLoss2DBackward0
otherwise (3-D and 5-D input are viewed as 4-D first, ViewBackward0).  ``cross_entropy``
is log_softmax + nll_loss for class indices; with label_smoothing it adds PyTorch's
smoothing term (Neg, Sum, MaskedFill, Mul/DivBackward1); for class probabilities
(target shaped like the input) it is -(log_softmax(x) * target).sum() / batch.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError, ShapeError
from . import functional as _F
from .function import apply
from .nn_losses import (class_indices, constant, dtype_name, get_enum, legacy_reduction,
                        ragged_safe)
from .ops import REGISTRY as OPS
from .ops.losses import python_error
from .tensor import Tensor


def _value_error(message: str):
    return python_error(InputError, message, "ValueError")


def _class_weight(weight, x: Tensor, classes: int, nd: bool):
    w = constant(weight, x, "nll_loss_forward" if not nd else "nll_loss2d_forward", "weight")
    if w is not None and (w.ndim != 1 or w.size != classes):
        if nd:
            raise ShapeError("weight tensor should be defined either for all or no classes")
        raise ShapeError(f"weight tensor should be defined either for all {classes} classes or "
                         f"no classes but got weight tensor of shape: {list(w.shape)}")
    return w


def _nll(x: Tensor, t: np.ndarray, weight, reduction: str, ignore_index: int) -> Tensor:
    """at::nll_loss (1-D or 2-D input)."""
    if t.ndim > 1:
        raise ShapeError("0D or 1D target tensor expected, multi-target not supported")
    if x.ndim == 1 and t.ndim == 1:
        if t.size != 1:
            raise _value_error(f"For 1D input, 1D target must have size 1, but got target "
                               f"size: {t.size}")
        t = t.reshape(())
    if x.ndim == 2 and x.shape[0] != t.shape[0]:
        raise ShapeError(f"size mismatch (got input: {list(x.shape)}, target: "
                         f"{list(t.shape)})")
    w = _class_weight(weight, x, x.shape[-1], nd=False)
    return apply(OPS["nll_loss"], x, target=t, weight=w, reduction=reduction,
                 ignore_index=ignore_index)


def _nll2d(x: Tensor, t: np.ndarray, weight, reduction: str, ignore_index: int) -> Tensor:
    """at::nll_loss2d (4-D input, 3-D target)."""
    if t.ndim != 3:
        raise ShapeError(f"only batches of spatial targets supported (3D tensors) but got "
                         f"targets of dimension: {t.ndim}")
    if x.shape[0] != t.shape[0] or x.shape[2:] != t.shape[1:]:
        raise ShapeError(f"size mismatch (got input: {list(x.shape)} , target: "
                         f"{list(t.shape)}")
    w = _class_weight(weight, x, x.shape[1], nd=True)
    return apply(OPS["nll_loss2d"], x, target=t, weight=w, reduction=reduction,
                 ignore_index=ignore_index)


def nll_loss_nd(x: Tensor, t: np.ndarray, weight, reduction: str, ignore_index) -> Tensor:
    """at::nll_loss_nd: dispatch on the input's rank."""
    ignore_index = int(ignore_index)
    if x.ndim < 1:
        raise _value_error(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim != 1 and x.shape[0] != (t.shape[0] if t.ndim else 0):
        raise _value_error(f"Expected input batch_size ({x.shape[0]}) to match target "
                           f"batch_size ({t.shape[0] if t.ndim else 0}).")
    if x.ndim != 1 and t.ndim == 0:     # an empty batch passes the check above
        raise InputError("Dimension specified as 0 but tensor has no dimensions",
                         python_type="IndexError")
    if x.ndim <= 2:
        return _nll(x, t, weight, reduction, ignore_index)
    if x.ndim == 4:
        return _nll2d(x, t, weight, reduction, ignore_index)
    n, c = x.shape[:2]
    out_size = (n,) + x.shape[2:]
    if t.shape[1:] != x.shape[2:]:
        raise ShapeError(f"Expected target size {list(out_size)}, got {list(t.shape)}")
    empty = x.data.size == 0
    x4 = _F.reshape(x, (n, c, 0, 0) if empty else (n, c, 1, -1))
    t3 = t.reshape((n, 0, 0) if t.size == 0 else (n, 1, -1))
    out = _nll2d(x4, t3, weight, reduction, ignore_index)
    return _F.reshape(out, out_size) if reduction == "none" else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean") -> Tensor:
    x = _F.as_tensor(input)
    reduction = get_enum(legacy_reduction(size_average, reduce, reduction))
    return nll_loss_nd(x, class_indices(target), weight, reduction, ignore_index)


# ---- cross_entropy -------------------------------------------------------------------

def _weight_view(weight: np.ndarray, ndim: int) -> Tensor:
    """The class weights shaped [1, C, 1, ...] to broadcast along the class dim."""
    shape = (1, weight.size) + (1,) * (ndim - 2) if ndim > 1 else weight.shape
    return Tensor._make(weight.reshape(shape), None)


def _check_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:
        raise InputError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                         f"{label_smoothing}")


def _prob_target(x: Tensor, target: Tensor, weight, reduction: str, smoothing: float):
    """cross_entropy_loss_prob_target."""
    class_dim = 0 if x.ndim == 1 else 1
    classes = x.shape[class_dim]
    w = constant(weight, x, "cross_entropy", "weight") if not isinstance(weight, Tensor) \
        else weight
    if w is not None and (w.ndim != 1 or math.prod(w.shape) != classes):
        raise ShapeError(f"cross_entropy: weight tensor should be defined either for all "
                         f"{classes} classes or no classes but got weight tensor of shape: "
                         f"{list(w.shape)}")
    logp = _F.log_softmax(x, class_dim)
    if smoothing > 0.0:
        _check_smoothing(smoothing)
        target = apply(OPS["nn_add_scalar"], apply(OPS["nn_mul_scalar"], target,
                                                other=1 - smoothing), other=smoothing / classes)
    terms = logp * target
    if w is not None:
        view = (1, classes) + (1,) * (x.ndim - 2) if x.ndim > 1 else (classes,)
        terms = terms * (_F.reshape(w, view) if isinstance(w, Tensor)
                         else _weight_view(w, x.ndim))
    if reduction == "none":
        return _F.neg(_F.sum(terms, class_dim))
    total = _F.neg(_F.sum(terms))
    if reduction == "sum":
        return total
    if x.data.size == 0:
        return total * float("nan")
    return apply(OPS["nn_div_scalar"], total, other=x.data.size // classes)


def _label_smoothing(x: Tensor, t: np.ndarray, weight, reduction: str, ignore_index,
                     smoothing: float) -> Tensor:
    """cross_entropy_loss_label_smoothing: (1 - s) * nll + s/C * (smoothing term)."""
    class_dim = 0 if x.ndim == 1 else 1
    logp = _F.log_softmax(x, class_dim)
    nll = nll_loss_nd(logp, t, weight, reduction, ignore_index)
    classes = logp.shape[class_dim]
    w = constant(weight, x, "nll_loss_forward", "weight")
    terms = logp if w is None else logp * _weight_view(w, x.ndim)
    ignored = t == int(ignore_index)
    smooth = apply(OPS["nn_masked_fill"], _F.neg(_F.sum(terms, class_dim)), mask=ignored,
                   value=0.0)
    if reduction == "mean":
        kept = t[~ignored]
        denom = np.sum(w[kept]) if w is not None else np.asarray(kept.size, x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            ret = _F.sum(smooth) / Tensor._make(np.asarray(denom, dtype=x.dtype), None)
    else:
        ret = _F.sum(smooth) if reduction == "sum" else smooth
    return _F.add(apply(OPS["nn_mul_scalar"], nll, other=1 - smoothing),
                  apply(OPS["nn_mul_scalar"], ret, other=smoothing / classes))


def _as_prob_target(target, x: Tensor):
    """The target if it is class probabilities (shaped like the input), else None."""
    if isinstance(target, Tensor):
        if target.shape != x.shape:
            return None
        if target.dtype.kind not in "f":
            raise InputError(f"Expected floating point type for target with class "
                             f"probabilities, got {dtype_name(target.dtype)}")
        return target
    arr = ragged_safe(target, "target")
    if arr.shape != x.shape:
        return None
    if arr.dtype.kind != "f":
        raise InputError(f"Expected floating point type for target with class "
                         f"probabilities, got {dtype_name(arr.dtype)}")
    return Tensor._make(arr.astype(x.dtype), None)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0) -> Tensor:
    x = _F.as_tensor(input)
    reduction = get_enum(legacy_reduction(size_average, reduce, reduction))
    if x.ndim == 0:
        raise python_error(ShapeError, "Dimension specified as 1 but tensor has no "
                           "dimensions", "IndexError")
    probs = _as_prob_target(target, x)
    if probs is not None:
        if ignore_index >= 0:
            raise InputError("ignore_index is not supported for floating point target")
        return _prob_target(x, probs, weight, reduction, float(label_smoothing))
    t = class_indices(target)
    if label_smoothing > 0.0:
        _check_smoothing(label_smoothing)
        return _label_smoothing(x, t, weight, reduction, ignore_index, float(label_smoothing))
    logp = _F.log_softmax(x, 0 if x.ndim == 1 else 1)
    return nll_loss_nd(logp, t, weight, reduction, ignore_index)
