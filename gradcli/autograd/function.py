"""Applying an op to tensors, and the two namespaces VJPs are written against.

:func:`apply` computes the result dtype (PyTorch's promotion, :mod:`.dtypes`), runs the
op's forward on the input arrays and, when grad mode is on and an input requires grad,
records a :class:`~gradcli.autograd.node.Node` for a floating result.  A view op's
result shares its input's storage (:mod:`.views`); any other op's result never does.
``ARRAY_OPS`` and ``TENSOR_OPS`` expose every registered op under its name: the first
runs the numpy forward (the fast path of a plain backward), the second records nodes
(backward with ``create_graph``), so one VJP definition serves both.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from ..errors import InputError, ShapeError
from . import dtypes as _dt
from .budget import _local as _budget_local
from .budget import before_op
from .grad_mode import is_grad_enabled
from .node import Node
from .ops.core import REGISTRY, as_array, sum_to
from .ops.shape import element_strides
from .tape import _local as _tape_state
from .tensor import Tensor
from .views import make_view


def edge_of(value):
    """The node a gradient for ``value`` flows into (None for constants and numbers)."""
    if not isinstance(value, Tensor):
        return None
    fn = value.grad_fn
    if fn is not None:
        return fn
    if value._requires_grad:        # its own flag: a view made under no_grad has none
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
                torch_words = (f"the size of tensor a ({pa[d]}) must match the size of "
                               f"tensor b ({pb[d]}) at non-singleton dimension {d}")
                error = ShapeError(f"{op_name}: {torch_words} (shapes {list(a)} and "
                                   f"{list(b)})")
                error.python_message = torch_words[0].upper() + torch_words[1:]
                raise error from None
        raise ShapeError(f"{op_name}: shapes {shapes} cannot be broadcast together") from None


def apply(op, *args, **params) -> Tensor:
    """Run ``op`` on tensors (and plain numbers where the op takes them)."""
    flat = args[0] if op.variadic else args
    arrays = []
    track = False
    dtype = None
    uniform = wrapped = True
    for a in flat:
        if type(a) is Tensor or isinstance(a, Tensor):
            data = a.data
            arrays.append(data)
            if dtype is None:
                dtype = data.dtype
            elif data.dtype is not dtype and data.dtype != dtype:
                uniform = False
            if not a._wrapped:
                wrapped = False
            if not track and (a._requires_grad or (a._view is not None and a.requires_grad)):
                track = True
        else:
            arrays.append(a)
    if uniform and op.same_float and dtype is not None and dtype.kind == "f":
        out_dtype = dtype               # the common case: Python numbers are weak
    else:
        out_dtype = _promote(op, flat, arrays)
    budget = getattr(_budget_local, "budget", None)
    if budget is not None:
        before_op(budget, op, arrays, out_dtype or dtype)
    forward = op.forward
    if op.forward_f32 is not None and out_dtype is _F32:
        forward = op.forward_f32
    try:
        out = forward(arrays, **params) if op.variadic else forward(*arrays, **params)
    except ValueError as exc:       # numpy's broadcasting error: say it as PyTorch does
        if op.broadcasts:
            broadcast_shape(op.name, [np.shape(x) for x in arrays if np.ndim(x)])
        raise ShapeError(f"{op.name}: {exc}") from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if out_dtype is not None and out.dtype is not out_dtype and out.dtype != out_dtype:
        out = out.astype(out_dtype)
    elif out.base is not None and not op.view and _aliases(out, arrays):
        out = out.copy()
    if not op.keeps_layout and not out.flags.c_contiguous:
        out = np.ascontiguousarray(out)
    if track and out.dtype.kind == "f" and is_grad_enabled():
        node = _record(op, flat, params, out, uniform and out.dtype is dtype)
        result = Tensor._make(out, node)
        if op.save_out:
            node.save_output(result)
    else:
        result = Tensor._make(out, None)
    if op.view:
        make_view(result, flat[0], op, params)
    elif wrapped and dtype is not None:
        result._wrapped = True
    tape = getattr(_tape_state, "tape", None)
    if tape is not None:
        tape.op(result, op, tuple(flat), params)
    return result


_F32 = _dt.float32


def _aliases(out: np.ndarray, arrays) -> bool:
    return any(isinstance(a, np.ndarray) and np.may_share_memory(out, a) for a in arrays)


def _promote(op, flat, arrays):
    """The result dtype of ``op`` on these arguments (None: as the forward makes it);
    casts ``arrays`` in place to the dtype the op computes in."""
    rule = op.dtype_rule
    if rule == "keep":
        return None
    parts, nums = [], []
    for a in flat:
        if isinstance(a, Tensor):
            parts.append((a.data.dtype, 2 if a._wrapped else (1 if a.data.ndim == 0 else 0)))
        elif isinstance(a, (numbers.Number, np.bool_)) and not isinstance(a, complex):
            nums.append(a)
    if not parts:
        return None
    common = _dt.result_type(parts, nums)
    if common.kind != "f":
        if rule == "float":
            common = _dt.get_default_dtype()
        elif rule == "float_only":
            raise InputError(op.float_only.format(dtype=_dt.SCALAR_NAME[common]))
    for i, a in enumerate(flat):
        if isinstance(a, Tensor) and a.data.dtype != common:
            arrays[i] = a.data.astype(common)
    return _dt.bool_ if rule == "compare" else common


def _record(op, flat, params, out, same_dtypes: bool) -> Node:
    """The node for one op application: edges, input shapes and the saved inputs
    (``same_dtypes``: every input has the output's dtype)."""
    if op.saves is None:
        op.analysed()
    edges, shapes, keep = [], [], []
    versions = [] if op.saves else None
    save_all, mask = op.save_all, op.save_mask
    needs = op.needs
    if needs:                       # only what the VJPs that will run read
        mask = None
        for i, a in enumerate(flat):
            if isinstance(a, Tensor) and a.requires_grad:
                n = needs[i]
                mask = n if mask is None else tuple(m or k for m, k in zip(mask, n))
        mask = mask or ()
    count = len(mask)
    for i, a in enumerate(flat):
        if type(a) is Tensor or isinstance(a, Tensor):
            fn = a._grad_fn if a._view is None else a.grad_fn
            if fn is None and a._requires_grad:
                fn = a._accumulate_node()
            edges.append(fn)
            shapes.append(a.data.shape)
            saved = save_all or (i < count and mask[i])
            keep.append(a if saved else None)
            if versions is not None:
                versions.append((0 if a._vc is None else a._vc.value) if saved else None)
        else:
            edges.append(None)
            shapes.append(None)
            keep.append(a)          # numbers and constant masks are always kept
            if versions is not None:
                versions.append(None)
    dtypes = None
    if not same_dtypes:
        dtypes = tuple(a.data.dtype if isinstance(a, Tensor) else None for a in flat)
    node = Node(op, tuple(edges), params, tuple(shapes), out.dtype, dtypes)
    node._inputs = tuple(keep)
    node._versions = versions
    if op.geometry:
        node.strides = tuple(element_strides(a.data) if isinstance(a, Tensor) else None
                             for a in flat)
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


def _by_dtype(op):
    """An op's numpy forward, its float32 one for float32 arrays (the first argument
    that is an array decides)."""
    forward, forward_f32, f32 = op.forward, op.forward_f32, _dt.float32

    def fn(*args, **params):
        for a in args:
            if type(a) is np.ndarray:
                return (forward_f32 if a.dtype is f32 else forward)(*args, **params)
        return forward(*args, **params)
    return fn


def _with_defaults(op, fn):
    """``fn`` with the entry's defaults filled in for parameters a VJP leaves out
    (``F.softplus(x)``): a default is written in the table only."""
    if not op.params or isinstance(op.forward, np.ufunc):
        return fn
    try:
        takes = inspect.signature(op.forward).parameters
    except (TypeError, ValueError):
        return fn
    # parameters the forward takes without a default of its own
    optional = [(k, p) for k, p in enumerate(op.params)
                if not p.is_tensor and not p.required and not p.varargs and
                p.name in takes and takes[p.name].default is inspect.Parameter.empty]
    if not optional:
        return fn

    def filled(*args, **params):
        for k, p in optional:
            if k >= len(args) and p.name not in params:
                params[p.name] = p.default
        return fn(*args, **params)
    return filled


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
        elif op.forward_f32 is not None:
            fn = _by_dtype(op)
        else:
            fn = op.forward
        fn = _with_defaults(op, fn)
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

    def where(self, cond, a, b):
        """``a`` where ``cond`` (a constant mask), else ``b`` (WhereBackward0)."""
        cond = self.value(cond)
        if not self.tensor_mode:
            return np.where(cond, a, b)
        return apply(REGISTRY["where"], a, b, condition=cond)

    def layout(self, x) -> tuple:
        """(shape, element strides) of an input, saved or not (a VJP that reads only
        this does not make the node save the input; see ops/reads.py)."""
        if isinstance(x, Tensor):
            x = x.data
        if isinstance(x, np.ndarray):
            return x.shape, element_strides(x)
        return x.shape, getattr(x, "strides", None)

    def shapes(self, xs) -> list:
        """The shapes of a list of inputs (saved or not)."""
        return [x.shape for x in xs]

    def sum_to(self, x, shape):
        """Sum a gradient that was broadcast from ``shape`` back to ``shape``; under
        create_graph as PyTorch's sum_to records it (SumBackward1, then a view)."""
        shape = tuple(shape)
        if not self.tensor_mode:
            return sum_to(x, shape)
        if x.shape == shape:
            return x
        if not shape:
            return self.sum(x)
        lead = x.ndim - len(shape)
        dims = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
        if dims:
            x = self.sum_dim(x, dims, True)
        return self.reshape(x, shape) if lead > 0 else x

    def reshape(self, x, shape):
        """``x.reshape(shape)``: under create_graph as PyTorch records it for ``x``'s
        layout (ViewBackward0, ReshapeAliasBackward0 or a copy)."""
        if not self.tensor_mode:
            return np.reshape(x, shape)
        from .shaping import reshape
        return reshape(x, shape)

    def written(self, t):
        """Mark ``t`` as changed in place (PyTorch's formula ends with an in-place op,
        such as ``masked_fill_``, which bumps the result's version)."""
        if self.tensor_mode:
            t._counter().value += 1
        return t

    def lift(self, x):
        """Make a VJP result a value of this mode (arrays, or tensors under create_graph)."""
        if self.tensor_mode:
            return x if isinstance(x, Tensor) else Tensor._make(as_array(x), None)
        return x.data if isinstance(x, Tensor) else x


ARRAY_OPS = _Ops(tensor_mode=False)
TENSOR_OPS = _Ops(tensor_mode=True)
