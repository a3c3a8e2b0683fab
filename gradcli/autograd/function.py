"""Applying an op to tensors, and the two namespaces VJPs are written against.

:func:`apply` runs an op's forward on the input arrays and, when grad mode is on and an
input requires grad, records a :class:`~gradcli.autograd.node.Node` for the result.
``ARRAY_OPS`` and ``TENSOR_OPS`` expose every registered op under its name: the first
runs the numpy forward (the fast path of a plain backward), the second records nodes
(backward with ``create_graph``), so one VJP definition serves both.
"""

from __future__ import annotations

import inspect

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
            if a.requires_grad:
                track = True
        else:
            arrays.append(a)
    try:
        out = op.forward(arrays, **params) if op.variadic else op.forward(*arrays, **params)
    except ValueError as exc:       # numpy's broadcasting error: say it as PyTorch does
        if op.broadcasts:
            broadcast_shape(op.name, [np.shape(x) for x in arrays if np.ndim(x)])
        raise ShapeError(f"{op.name}: {exc}") from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if track and is_grad_enabled():
        node = _record(op, flat, params, out)
        result = Tensor._make(out, node)
        if op.save_out:
            node.save_output(result)
    else:
        result = Tensor._make(out, None)
    tape = getattr(_tape_state, "tape", None)
    if tape is not None:
        tape.op(result, op, tuple(flat), params)
    return result


def _record(op, flat, params, out) -> Node:
    """The node for one op application: edges, input shapes and the saved inputs."""
    edges, shapes, keep = [], [], []
    versions = [] if op.saves else None
    save_all, mask = op.save_all, op.save_mask
    if op.needs is not None:        # only what the VJPs that will run read
        mask = None
        for i, a in enumerate(flat):
            if isinstance(a, Tensor) and a.requires_grad:
                n = op.needs[i]
                mask = n if mask is None else tuple(m or k for m, k in zip(mask, n))
    for i, a in enumerate(flat):
        if isinstance(a, Tensor):
            fn = a.grad_fn
            if fn is None and a.requires_grad:
                fn = a._accumulate_node()
            edges.append(fn)
            shapes.append(a.data.shape)
            saved = save_all or (i < 8 and mask[i])
            keep.append(a if saved else None)
            if versions is not None:
                versions.append(a._version if saved else None)
        else:
            edges.append(None)
            shapes.append(None)
            keep.append(a)          # numbers and constant masks are always kept
            if versions is not None:
                versions.append(None)
    node = Node(op, tuple(edges), params, tuple(shapes), out.dtype)
    node._inputs = tuple(keep)
    node._versions = versions
    return node


def _param_names(op, arity: int) -> tuple:
    """The names of the forward's parameters after its ``arity`` inputs."""
    if isinstance(op.forward, np.ufunc):
        return ()
    try:
        names = tuple(inspect.signature(op.forward).parameters)
    except (TypeError, ValueError):       # numpy ufuncs: inputs only
        return ()
    return names[arity:]


class _Ops:
    """Every registered op by name; ``tensor_mode`` decides arrays vs recorded tensors."""

    def __init__(self, tensor_mode: bool):
        self.tensor_mode = tensor_mode

    def __getattr__(self, name: str):
        op = REGISTRY.get(name)
        if op is None:
            raise AttributeError(name)
        if self.tensor_mode:
            # VJPs call ops as their forwards take them, parameters often positional
            # (F.unsqueeze(g, 1), F.sum_to(g, shape)); a node must record those as
            # parameters, not as extra inputs, or its own VJP gets them misplaced.
            arity = 1 if op.variadic else len(op.vjps)
            names = _param_names(op, arity)

            def fn(*args, **params):
                if len(args) > arity:
                    params.update(zip(names, args[arity:]))
                    args = args[:arity]
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
