"""torch.nn.functional on gradcli's engine: activations, ``linear`` and the losses.

Parameter names, defaults, checks and messages are PyTorch 2.13's, and so is the graph
each function records: ``linear`` is addmm, mm or a matmul as at::linear chooses;
``cross_entropy`` is log_softmax + nll_loss (with label smoothing, the sum PyTorch's C++
builds: MulBackward1, MaskedFillBackward0, ...); input and target of the regression
losses are broadcast with ExpandBackward0 nodes after PyTorch's UserWarning.  Errors
PyTorch raises as ValueError or IndexError carry ``python_type`` (see
:func:`~gradcli.autograd.ops.losses.python_error`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..errors import AutogradError, InputError, ShapeError
from . import functional as _F
from .function import apply
from .inplace import apply_inplace
from .ops import REGISTRY as OPS
from .nn_classification import cross_entropy, nll_loss  # noqa: F401  (re-exported)
from .nn_normalization import dropout, layer_norm, normalize  # noqa: F401  (re-exported)
from .nn_losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                        dtype_name, huber_loss, l1_loss, mse_loss, smooth_l1_loss)
from .tensor import Tensor

__all__ = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "softplus", "silu",
           "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "layer_norm",
           "normalize", "dropout", "one_hot"]


# ---- activations -----------------------------------------------------------------------

softplus = _F.NAMESPACE["softplus"]          # the table's (beta, threshold)

def relu(input, inplace: bool = False) -> Tensor:
    x = _F.as_tensor(input)
    if inplace:
        return apply_inplace(x, _F.relu)                     # torch.relu_: ReluBackward0
    return _F.relu(x)


def sigmoid(input) -> Tensor:
    return _F.sigmoid(_F.as_tensor(input))


def tanh(input) -> Tensor:
    return _F.tanh(_F.as_tensor(input))


def silu(input, inplace: bool = False) -> Tensor:
    x = _F.as_tensor(input)
    if inplace:
        return apply_inplace(x, _F.silu)
    return _F.silu(x)


def softmax_dim(name: str, ndim: int) -> int:
    """PyTorch's implicit dim for softmax(x) without dim, with its UserWarning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _no_dtype(dtype) -> None:
    if dtype is not None:
        raise InputError("softmax(..., dtype=...) is not supported; convert the input first")


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    x = _F.as_tensor(input)
    _no_dtype(dtype)
    return _F.softmax(x, softmax_dim("softmax", x.ndim) if dim is None else dim)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    x = _F.as_tensor(input)
    _no_dtype(dtype)
    return _F.log_softmax(x, softmax_dim("log_softmax", x.ndim) if dim is None else dim)


# ---- linear ------------------------------------------------------------------------------

C_TYPES = {"float32": "float", "float64": "double"}   # dtypes as PyTorch's mm names them


def _expand_error(target: tuple, shape: tuple, dtype) -> ShapeError:
    if len(shape) > len(target):
        kind = dtype_name(dtype)
        return ShapeError(f"expand(torch.{kind}Tensor{{{list(shape)}}}, size={list(target)}): "
                          f"the number of sizes provided ({len(target)}) must be greater or "
                          f"equal to the number of dimensions in the tensor ({len(shape)})")
    lead = len(target) - len(shape)
    for i, n in enumerate(shape):
        if n != 1 and n != target[lead + i]:
            return ShapeError(
                f"The expanded size of the tensor ({target[lead + i]}) must match the existing "
                f"size ({n}) at non-singleton dimension {lead + i}.  Target sizes: "
                f"{list(target)}.  Tensor sizes: {list(shape)}")
    return ShapeError(f"cannot expand {list(shape)} to {list(target)}")


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor) -> Tensor:
    """bias + mat1 @ mat2 (AddmmBackward0), with PyTorch's checks."""
    input, mat1, mat2 = (_F.as_tensor(a) for a in (input, mat1, mat2))
    if mat1.ndim != 2:
        raise ShapeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor")
    if mat2.ndim != 2:
        raise ShapeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    for name, a, b in (("mat1", mat1, mat2), ("self", input, mat2)):
        if a.dtype != b.dtype:
            raise InputError(f"{name} and mat2 must have the same dtype, but got "
                             f"{dtype_name(a.dtype)} and {dtype_name(b.dtype)}")
    if mat1.shape[1] != mat2.shape[0]:
        raise ShapeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                         f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    target = (mat1.shape[0], mat2.shape[1])
    try:
        if np.broadcast_shapes(input.shape, target) != target:
            raise ValueError
    except ValueError:
        raise _expand_error(target, input.shape, input.dtype) from None
    return apply(OPS["addmm"], input, mat1, mat2)


def _matmul_t(x: Tensor, wt: Tensor) -> Tensor:
    """at::matmul(x, w.t()): x of 3 or more dims is flattened to rows, multiplied, and
    the result is an _unsafe_view of the product (UnsafeViewBackward0)."""
    if wt.ndim == 2 and x.dtype != wt.dtype:
        raise InputError(f"expected m1 and m2 to have the same dtype, but got: "
                         f"{C_TYPES.get(str(x.dtype), x.dtype)} != "
                         f"{C_TYPES.get(str(wt.dtype), wt.dtype)}")
    if x.ndim <= 2:
        return _F.matmul(x, wt)
    out = _F.matmul(_F.reshape(x, (math.prod(x.shape[:-1]), x.shape[-1])), wt)
    return apply(OPS["nn_unsafe_view"], out, shape=x.shape[:-1] + out.shape[1:])


def _bias_fuses(bias: Tensor) -> bool:
    """at::linear's is_bias_likely_fusable: a bias that is 1-D once squeezed."""
    return bias.ndim == 1 or sum(1 for n in bias.shape if n != 1) == 1


def linear(input, weight, bias=None) -> Tensor:
    """y = x @ w.T + b, recorded as at::linear records it (AddmmBackward0 for 2-D x with
    a bias; ViewBackward0 over it for other x; MmBackward0 without a bias; ...)."""
    x = _F.as_tensor(input)
    w = _F.as_tensor(weight, like=x)
    b = None if bias is None else _F.as_tensor(bias, like=x)
    if x.ndim == 0 or w.ndim == 0:
        raise ShapeError(f"both arguments to linear need to be at least 1D, but they are "
                         f"{x.ndim}D and {w.ndim}D")
    wt = _F.t(w)
    if b is not None and x.ndim == 2:
        return addmm(b, x, wt)
    if b is not None and _bias_fuses(b):          # _flatten_nd_linear
        rows = _F.reshape(x, (math.prod(x.shape[:-1]), x.shape[-1]))
        out = addmm(b, rows, wt)
        return _F.reshape(out, x.shape[:-1] + (out.shape[1],))
    out = _matmul_t(x, wt)
    return out if b is None else _F.add(out, b)


# ---- encodings ---------------------------------------------------------------------------

def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """F.one_hot: int64 class indices as rows of zeros with a one at the index (a new
    last dimension of ``num_classes``, max + 1 by default); no gradient."""
    from .budget import new_tensor
    x = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if x.dtype != np.int64:
        raise AutogradError("one_hot is only applicable to index tensor of type LongTensor.")
    if x.size == 0 and num_classes == -1:
        raise AutogradError("Can not infer total number of classes from empty tensor.")
    if x.size and x.min() < 0:
        raise AutogradError("Class values must be non-negative.")
    classes = int(x.max()) + 1 if num_classes == -1 else int(num_classes)
    if x.size and x.max() >= classes:
        raise AutogradError("Class values must be smaller than num_classes.")
    new_tensor(x.shape + (classes,))
    return Tensor._make((x[..., None] == np.arange(classes)).astype(np.int64), None)
