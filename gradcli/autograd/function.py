"""Applying an op to tensors, and the two namespaces VJPs are written against.

:func:`apply` runs an op's forward on the input arrays and, when grad mode is on and an
input requires grad, records a :class:`~gradcli.autograd.node.Node` for the result.
``ARRAY_OPS`` and ``TENSOR_OPS`` expose every registered op under its name: the first
runs the numpy forward (the fast path of a plain backward), the second records nodes
(backward with ``create_graph``), so one VJP definition serves both.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .grad_mode import is_grad_enabled
from .node import Node
from .ops.core import REGISTRY, as_array
from .tape import _local as _tape_state
from .tensor import Tensor


def edge_of(value):
    """The node a gradient for ``value`` flows into (None for constants and numbers)."""
    if type(value) is not Tensor and not isinstance(value, Tensor):
        return None
    if value.grad_fn is not None:
        return value.grad_fn
    if value.requires_grad:
        return value._accumulate_node()
    return None


def broadcast_shape(op_name: str, shapes) -> tuple:
    """numpy's broadcast shape, or PyTorch's error naming the mismatching dimension."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        a, b = shapes[0], shapes[1]
        ndim = max(len(a), len(b))
        pa, pb = (1,) * (ndim - len(a)) + tuple(a), (1,) * (ndim - len(b)) + tuple(b)
        for d in range(ndim - 1, -1, -1):
            if pa[d] != pb[d] and 1 not in (pa[d], pb[d]):
                raise ShapeError(
                    f"{op_name}: the size of tensor a ({pa[d]}) must match the size of tensor "
                    f"b ({pb[d]}) at non-singleton dimension {d} (shapes {list(a)} and "
                    f"{list(b)})") from None
        raise ShapeError(f"{op_name}: shapes {shapes} cannot be broadcast together") from None


def apply(op, *args, **params) -> Tensor:
    """Run ``op`` on tensors (and plain numbers where the op takes them)."""
    flat = args[0] if op.variadic else args
    arrays = []
    track = False
    for a in flat:
        if isinstance(a, Tensor):
            arrays.append(a.data)
            track = track or a.requires_grad
        else:
            arrays.append(a)
    if op.broadcasts:
        shapes = [x.shape for x in arrays if isinstance(x, np.ndarray)]
        if len(shapes) > 1 and shapes[0] != shapes[1]:
            broadcast_shape(op.name, shapes)
    out = as_array(op.forward(arrays, **params) if op.variadic else op.forward(*arrays, **params))
    if not (track and is_grad_enabled()):
        result = Tensor._make(out, None)
    else:
        node = Node(op, tuple(edge_of(a) for a in flat), params,
                    tuple(x.shape if isinstance(x, np.ndarray) else None for x in arrays),
                    out.dtype)
        result = Tensor._make(out, node)
        node.save(tuple(flat), result, op.saves)
    tape = getattr(_tape_state, "tape", None)
    if tape is not None:
        tape.op(result, op, tuple(flat), params)
    return result


class _Ops:
    """Every registered op by name; ``tensor_mode`` decides arrays vs recorded tensors."""

    def __init__(self, tensor_mode: bool):
        self.tensor_mode = tensor_mode

    def __getattr__(self, name: str):
        op = REGISTRY.get(name)
        if op is None:
            raise AttributeError(name)
        if self.tensor_mode:
            def fn(*args, **params):
                return apply(op, *args, **params)
        else:
            fn = op.forward
        setattr(self, name, fn)   # cache: later lookups skip __getattr__
        return fn

    # values that are constants of the backward computation (masks, counts, zeros)
    def value(self, x):
        """The plain array behind ``x`` (for masks and tests that are not differentiated)."""
        return x.data if isinstance(x, Tensor) else x

    def const(self, array):
        return Tensor._make(as_array(array), None) if self.tensor_mode else array

    def zeros(self, shape, dtype=np.float64):
        return self.const(np.zeros(shape, dtype=dtype))

    def zeros_like(self, x):
        return self.const(np.zeros(np.shape(self.value(x)), dtype=self.value(x).dtype))

    def lift(self, x):
        """Make a VJP result a value of this mode (arrays, or tensors under create_graph)."""
        if self.tensor_mode:
            return x if isinstance(x, Tensor) else Tensor._make(as_array(x), None)
        return x.data if isinstance(x, Tensor) else x


ARRAY_OPS = _Ops(tensor_mode=False)
TENSOR_OPS = _Ops(tensor_mode=True)
