"""The Tensor: a numpy array with PyTorch's autograd attributes and storage semantics.

``data`` is the ndarray (float32, float64, int64 or bool; see :mod:`.dtypes`).  As in
PyTorch, tensors can share storage: a view (``x[0]``, ``x.T``, ``reshape`` of a
contiguous tensor, ...) holds a numpy view of its base's array, and ``detach()``
returns a tensor on the same array.  In-place operations write into the array, so
every alias sees the change, and bump the version counter that the aliases share
(``detach()`` and views share it; PyTorch's ``.data`` -- :attr:`Tensor.torch_data` --
does not), which is how saved values detect modification (SPEC 3.6, 3.8).

A differentiable view remembers its base and how it was taken (:mod:`.views`); after
an in-place change anywhere in its storage its ``grad_fn`` is rebuilt on next access
(AsStridedBackward0), and an in-place op on the view itself gives the base a
CopySlices node (:mod:`.inplace`).
"""

from __future__ import annotations

import weakref

import numpy as np

from ..errors import AutogradError, InputError
from . import dtypes as _dt
from .node import AccumulateGrad
from .operators import Operators

LEAF_FLAG = "you can only change requires_grad flags of leaf variables."
DETACH_HINT = (" If you want to use a computed variable in a subgraph that doesn't require "
               "differentiation use var_no_grad = var.detach().")
NOT_FLOATING = "only Tensors of floating point dtype can require gradients"
DETACH_VIEW = (
    "Can't detach views in-place. Use detach() instead. If you are using "
    "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
    "True, gradients are views of DDP buckets, and hence detach_() cannot be called on "
    "these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
    "function in torch/optim/optimizer.py as the solution.")


class RemovableHandle:
    """What register_hook returns: ``remove()`` takes the hook away (PyTorch's
    torch.utils.hooks.RemovableHandle)."""

    __slots__ = ("_hooks", "_entry")

    def __init__(self, hooks: list, entry: list):
        self._hooks, self._entry = hooks, entry

    def remove(self) -> None:
        self._hooks[:] = [e for e in self._hooks if e is not self._entry]

    def __repr__(self) -> str:
        return f"<torch.utils.hooks.RemovableHandle object at 0x{id(self):x}>"


class VersionCounter:
    """The version counter a tensor shares with its views and ``detach()`` aliases;
    ``storage`` identifies the array they all live on (also shared by ``.data``)."""

    __slots__ = ("value", "storage")

    def __init__(self, storage=None):
        self.value = 0
        self.storage = self if storage is None else storage


def as_array(data, dtype=None) -> np.ndarray:
    """A fresh array of a supported dtype from numbers, nested lists or arrays, typed
    as ``torch.tensor`` types them: Python floats get the default float dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
    try:
        if isinstance(data, (np.ndarray, np.generic)):
            arr = np.array(data, dtype=dtype if dtype is not None else _supported(data.dtype))
        else:
            arr = np.array(data)
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"expected numbers, got {type(data).__name__}")
            target = dtype if dtype is not None else (
                _dt.get_default_dtype() if arr.dtype.kind == "f" else _supported(arr.dtype))
            if arr.dtype != target:
                arr = np.array(data, dtype=target)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(f"cannot make a tensor from {type(data).__name__}: {exc}") from None
    return arr


def _supported(dtype: np.dtype) -> np.dtype:
    if dtype.kind == "b":
        return _dt.bool_
    if dtype.kind in "iu":
        return _dt.int64
    if dtype.kind == "f":
        return dtype if dtype in _dt.FLOATS else _dt.float32
    raise TypeError(f"arrays of {dtype} are not supported")


class Tensor(Operators):
    """An n-dimensional array that records the operations applied to it (its operators
    and in-place methods: :mod:`.operators`)."""

    __slots__ = ("data", "_grad", "_grad_fn", "_requires_grad", "_vc", "_view",
                 "_retains_grad", "_accumulator", "_wrapped", "_hooks", "__weakref__")
    __array_ufunc__ = None          # numpy defers to our operators: ndarray * Tensor works

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = as_array(data, dtype)
        self._grad = None
        self._grad_fn = None
        self._requires_grad = False
        self._vc = None                 # made on first need (see _counter)
        self._view = None
        self._retains_grad = False
        self._accumulator = None
        self._wrapped = False
        self._hooks = None              # a leaf's register_hook()s (a non-leaf's: its node's)
        if requires_grad:
            if self.data.dtype.kind != "f":
                raise AutogradError("Only Tensors of floating point and complex dtype can "
                                    "require gradients")
            self._requires_grad = True

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn, vc: VersionCounter | None = None) -> "Tensor":
        """Internal constructor: no copy; requires_grad follows grad_fn; ``vc`` shares a
        version counter (and storage) with another tensor."""
        t = object.__new__(cls)
        t.data = data
        t._grad = None
        t._grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._vc = vc
        t._view = None
        t._retains_grad = False
        t._accumulator = None
        t._wrapped = False
        t._hooks = None
        return t

    # -- autograd attributes ----------------------------------------------------------
    @property
    def grad_fn(self):
        if self._view is not None:
            _views.refresh(self)
        return self._grad_fn

    @property
    def requires_grad(self) -> bool:
        if self._view is not None:
            return _views.view_requires_grad(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            raise AutogradError(LEAF_FLAG + ("" if value else DETACH_HINT))
        if value and self.data.dtype.kind != "f":
            raise AutogradError("only Tensors of floating point and complex dtype can "
                                "require gradients")
        self._requires_grad = bool(value)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise InputError("assigned grad expected to be a Tensor or None but got grad "
                                 f"of type {type(value).__name__}")
            if value.shape != self.shape:
                raise AutogradError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a "
                    f"tensor of size '{list(self.shape)}'. Please ensure that the gradient "
                    "and the tensor are the same size")
            if value.data.dtype != self.data.dtype:
                raise AutogradError(
                    f"attempting to assign a gradient with dtype "
                    f"'{_C_NAME[value.data.dtype]}' to a tensor with grad_dtype "
                    f"'{_dt.SCALAR_NAME[self.data.dtype]}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype). You can set the "
                    "tensor's grad_dtype attribute with a specific dtype, or None to allow "
                    "any dtype. Set grad_dtype with caution. Diverging the dtypes of a "
                    "tensor and its gradient may break downstream systems that assume they "
                    "match.")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def _counter(self) -> VersionCounter:
        """The version counter, made on first need: most tensors are never written in
        place nor aliased, and their version stays 0 without one."""
        vc = self._vc
        if vc is None:
            vc = self._vc = VersionCounter()
        return vc

    @property
    def _version(self) -> int:
        vc = self._vc
        return 0 if vc is None else vc.value

    @property
    def storage_key(self):
        """Identifies the memory this tensor's values live in: equal for a tensor and its
        views, ``detach()`` and ``.data`` aliases (writes through one change the others)."""
        return self._counter().storage

    @property
    def _base(self):
        """The tensor this one is a view of (None when it is not a differentiable view)."""
        return None if self._view is None else self._view.base

    # -- array attributes -------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def size(self, dim=None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self.data.flags.c_contiguous)

    def stride(self, dim=None):
        strides = tuple(s // self.data.itemsize for s in self.data.strides)
        return strides if dim is None else strides[dim]

    def item(self):
        """The single element as a Python float, int or bool (by dtype)."""
        if self.data.size != 1:
            raise AutogradError(f"a Tensor with {self.data.size} elements cannot be "
                                "converted to Scalar")
        return self.data.reshape(()).item()

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise AutogradError("Can't call numpy() on Tensor that requires grad. "
                                "Use tensor.detach().numpy() instead.")
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            what = "more than one value" if self.data.size else "no values"
            raise AutogradError(f"Boolean value of Tensor with {what} is ambiguous")
        return bool(self.data.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            "an index")
        return int(self.item())

    def __repr__(self) -> str:
        """As torch.Tensor.__repr__ prints it (precision 4, PyTorch's layout)."""
        from .tensor_str import tensor_repr
        return tensor_repr(self.data, requires_grad=self.requires_grad,
                           grad_fn=None if self.grad_fn is None else self.grad_fn.name,
                           default_dtype=_dt.get_default_dtype().name)

    # -- autograd ---------------------------------------------------------------------
    def _accumulate_node(self) -> AccumulateGrad:
        node = self._accumulator() if self._accumulator is not None else None
        if node is None:
            node = AccumulateGrad(self)
            self._accumulator = weakref.ref(node)
        return node

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Turn tracking on (or off) for a leaf; on a non-leaf, True changes nothing
        (it requires grad already) and False is PyTorch's error (SPEC 3.1)."""
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise AutogradError(LEAF_FLAG + DETACH_HINT)
        if requires_grad and self.data.dtype.kind != "f":
            raise AutogradError(NOT_FLOATING)
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        if not self.requires_grad:
            raise AutogradError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return                     # a leaf keeps its grad anyway
        self._retains_grad = True
        self._grad_fn.retained = weakref.ref(self)

    def register_hook(self, hook) -> "RemovableHandle":
        """``hook(grad)`` runs when backward computes this tensor's gradient, before it
        is accumulated (a leaf) or passed on (a non-leaf); a tensor it returns replaces
        the gradient.  The handle's ``remove()`` takes the hook away."""
        if not self.requires_grad:
            raise AutogradError("cannot register a hook on a tensor that doesn't require "
                                "gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._grad_fn.hooks is None:
                self._grad_fn.hooks = []
            hooks = self._grad_fn.hooks
        entry = [hook]                  # (its identity is the handle's to remove)
        hooks.append(entry)
        return RemovableHandle(hooks, entry)

    def detach(self) -> "Tensor":
        """A new leaf on the same storage and version counter, without history."""
        out = Tensor._make(self.data, None, self._counter())
        _tape.note_alias(self, out)
        return out

    def detach_(self) -> "Tensor":
        if self._view is not None:
            raise AutogradError(DETACH_VIEW)
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def torch_data(self) -> "Tensor":
        """PyTorch's ``Tensor.data``: the same storage, no history, and a version counter
        of its own (so changes through it go unnoticed by autograd, as in PyTorch)."""
        out = Tensor._make(self.data, None, VersionCounter(self._counter().storage))
        _tape.note_alias(self, out)
        return out

    @torch_data.setter
    def torch_data(self, new: "Tensor") -> None:
        """``x.data = y``: x now shares y's storage (any shape and dtype), keeping its
        own history and version counter."""
        if not isinstance(new, Tensor):
            raise InputError(f"data must be a Tensor, got {type(new).__name__}")
        if self.requires_grad and new.data.dtype.kind != "f":
            raise AutogradError("data set to a tensor that requires gradients must be "
                                "floating point or complex dtype")
        self.data = new.data

    def backward(self, gradient=None, retain_graph=None, create_graph=False) -> None:
        from .engine import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Set ``.grad`` to zeros (like ``x.grad.zero_()``, also when grad is None)."""
        if self._grad is None or self._grad.grad_fn is not None:
            self._grad = Tensor._make(np.zeros_like(self.data), None)
        else:
            self._grad.zero_()



_C_NAME = {_dt.float32: "float", _dt.float64: "double", _dt.int64: "long int",
           _dt.bool_: "bool"}


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new leaf tensor holding a copy of ``data``, typed as ``torch.tensor`` types it
    (Python floats: the default float dtype; ints: int64; bools: bool)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def wrapped_number(value) -> Tensor:
    """A 0-d tensor for a Python number that keeps its weak typing (PyTorch's wrapped
    number): ``x * exp(0.5)`` stays float32 for a float32 ``x``."""
    t = Tensor._make(np.asarray(value, dtype=_dt.number_dtype(value)
                                if not isinstance(value, float) else np.float64), None)
    t._wrapped = True
    return t


from . import functional as _F  # noqa: E402  (functional needs Tensor defined first)
from . import inplace as _inplace  # noqa: E402
from . import operators as _operators  # noqa: E402
from . import tape as _tape  # noqa: E402
from . import views as _views  # noqa: E402

_operators.connect(_F, _inplace)
