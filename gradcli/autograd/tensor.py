"""The Tensor: a numpy array with PyTorch's autograd attributes.

``data`` is a float64 (or float32) ndarray; ``grad_fn`` is the node that made it (None
for a leaf); ``requires_grad``; ``grad`` (a Tensor, or None).  Arrays are treated as
immutable values: in-place operations rebind ``data`` to a new array and bump the
version counter, which is how saved values detect modification (SPEC 3.6).
"""

from __future__ import annotations

import weakref

import numpy as np

from ..errors import AutogradError, InputError
from . import tape as _tape
from .grad_mode import is_grad_enabled
from .node import AccumulateGrad

FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

LEAF_FLAG = "you can only change requires_grad flags of leaf variables."
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


def _as_float_array(data, dtype=None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None:
        dtype = data.dtype if isinstance(data, np.ndarray) and data.dtype in FLOAT_DTYPES \
            else np.float64
    try:
        arr = np.array(data, dtype=dtype)
    except (ValueError, TypeError) as exc:
        raise InputError(f"cannot make a tensor from {type(data).__name__}: {exc}") from None
    return arr


class Tensor:
    """An n-dimensional array that records the operations applied to it."""

    __slots__ = ("data", "grad", "grad_fn", "requires_grad", "_version", "_retains_grad",
                 "_accumulator", "__weakref__")
    __array_ufunc__ = None          # numpy defers to our operators: ndarray * Tensor works

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _as_float_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self.requires_grad = False
        self._version = 0
        self._retains_grad = False
        self._accumulator = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn) -> "Tensor":
        """Internal constructor: no copy; requires_grad follows grad_fn."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t.requires_grad = grad_fn is not None
        t._version = 0
        t._retains_grad = False
        t._accumulator = None
        return t

    # -- attributes -------------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

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

    def item(self) -> float:
        if self.data.size != 1:
            raise AutogradError(f"a Tensor with {self.data.size} elements cannot be converted "
                                "to Scalar")
        return float(self.data.reshape(()))

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
        return bool(self.item())

    def __float__(self) -> float:
        return self.item()

    def __repr__(self) -> str:
        """As torch.Tensor.__repr__ prints it (precision 4, PyTorch's layout)."""
        from .grad_mode import get_default_dtype
        from .tensor_str import tensor_repr
        return tensor_repr(self.data, requires_grad=self.requires_grad,
                           grad_fn=None if self.grad_fn is None else self.grad_fn.name,
                           default_dtype=get_default_dtype().name)

    # -- autograd ---------------------------------------------------------------------
    def _accumulate_node(self) -> AccumulateGrad:
        node = self._accumulator() if self._accumulator is not None else None
        if node is None:
            node = AccumulateGrad(self)
            self._accumulator = weakref.ref(node)
        return node

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self.grad_fn is not None:
            message = LEAF_FLAG
            if not requires_grad:
                message += (" If you want to use a computed variable in a subgraph that "
                            "doesn't require differentiation use var_no_grad = var.detach().")
            raise AutogradError(message)
        if requires_grad and self.data.dtype not in FLOAT_DTYPES:
            raise AutogradError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        if not self.requires_grad:
            raise AutogradError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return                     # a leaf keeps its grad anyway
        self._retains_grad = True
        self.grad_fn.retained = weakref.ref(self)

    def detach(self) -> "Tensor":
        return Tensor._make(self.data, None)

    def backward(self, gradient=None, retain_graph=None, create_graph=False) -> None:
        from .engine import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def zero_grad(self) -> None:
        """Set ``.grad`` to zeros (like ``x.grad.zero_()``, also when grad is None)."""
        zeros = np.zeros_like(self.data)
        if self.grad is None or self.grad.grad_fn is not None:
            self.grad = Tensor._make(zeros, None)
        else:
            self.grad.data = zeros
            self.grad._version += 1

    # -- in-place updates (SPEC 3.6) --------------------------------------------------
    def _inplace(self, fn, other) -> "Tensor":
        if self.grad_fn is None and self.requires_grad and is_grad_enabled():
            raise AutogradError(LEAF_INPLACE)
        before = Tensor._make(self.data, self.grad_fn)
        before.requires_grad = self.requires_grad
        result = fn(before, other)
        if result.shape != self.shape:
            raise _shape_error(result.shape, self.shape)
        self.data = result.data.astype(self.data.dtype, copy=False)
        self._version += 1
        tape = _tape.current()
        if tape is not None:
            tape.inplace(self, before, result)
        if result.grad_fn is not None:
            if self._retains_grad:
                self.grad_fn.retained = None
                result.grad_fn.retained = weakref.ref(self)
            self.grad_fn = result.grad_fn
            self.requires_grad = True
        return self

    def add_(self, other):
        return self._inplace(_F.add, other)

    def sub_(self, other):
        return self._inplace(_F.sub, other)

    def mul_(self, other):
        return self._inplace(_F.mul, other)

    def div_(self, other):
        return self._inplace(_F.div, other)

    def zero_(self):
        return self._inplace(lambda t, _: _F.mul(t, 0.0), None)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # -- operators --------------------------------------------------------------------
    def __add__(self, other):
        return _F.add(self, other)

    def __radd__(self, other):
        return _F.add(other, self)

    def __sub__(self, other):
        return _F.sub(self, other)

    def __rsub__(self, other):
        return _F.sub(other, self)

    def __mul__(self, other):
        return _F.mul(self, other)

    def __rmul__(self, other):
        return _F.mul(other, self)

    def __truediv__(self, other):
        return _F.div(self, other)

    def __rtruediv__(self, other):
        return _F.div(other, self)

    def __pow__(self, other):
        return _F.pow(self, other)

    def __rpow__(self, other):
        return _F.pow(other, self)

    def __matmul__(self, other):
        return _F.matmul(self, other)

    def __rmatmul__(self, other):
        return _F.matmul(other, self)

    def __neg__(self):
        return _F.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _F.abs(self)

    def __getitem__(self, index):
        return _F.index(self, index)

    @property
    def T(self):
        return _F.permute(self, tuple(range(self.ndim))[::-1])

    __hash__ = object.__hash__


def _shape_error(got, want):
    from ..errors import ShapeError
    return ShapeError(f"output with shape {list(want)} doesn't match the broadcast shape "
                      f"{list(got)}")


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (float64 unless a float dtype is given)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


from . import functional as _F  # noqa: E402  (functional needs Tensor defined first)
