"""Graph nodes: what a tensor's ``grad_fn`` is.

A :class:`Node` records one op application: the op (its VJPs and PyTorch name), the
edges to the nodes that produced its inputs, and the values its VJPs need (saved at
forward time, freed after a backward without ``retain_graph``).  A leaf that requires
grad is reached through an :class:`AccumulateGrad` node, as in PyTorch.  An in-place
op on a view gives the view's base a :class:`~gradcli.autograd.views.CopySlices` node.
"""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

import numpy as np

from ..errors import AutogradError
from .dtypes import TENSOR_TYPE

_sequence = itertools.count()

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph "
    "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
    "you need to backward through the graph a second time or if you need to access saved "
    "tensors after calling backward."
)
_BACKWARD_SUFFIX = re.compile(r"Backward(\d*)$")


def describe(dtype, shape) -> str:
    """PyTorch's '[torch.DoubleTensor [2, 3]]' description used in error messages."""
    kind = TENSOR_TYPE.get(np.dtype(dtype), f"{dtype} tensor")
    return f"[{kind} [{', '.join(str(s) for s in shape)}]]"


def modified_error(dtype, shape, node, now: int, expected: int) -> AutogradError:
    """PyTorch's error for a saved value changed by an in-place op; ``node`` is the
    grad_fn it names (the saved tensor's, as it is now), without its Backward suffix."""
    which = ""
    if node is not None:
        name = _BACKWARD_SUFFIX.sub(lambda m: "" if m.group(1) == "0" else m.group(1),
                                    node.qualified_name)           # PowBackward2 -> Pow2
        which = f", which is output 0 of {name},"
    return AutogradError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {describe(dtype, shape)}{which} is at version {now}; "
        f"expected version {expected} instead. Hint: enable anomaly detection to find the "
        "operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")


class Meta(NamedTuple):
    """Stands in for an input whose value was not saved: VJPs may read its shape (and,
    for ops that record it, its element strides) only."""

    shape: tuple
    dtype: object
    strides: tuple = None


# names whose PyTorch name() carries a namespace
_QUALIFIED = {"CopySlices": "torch::autograd::CopySlices",
              "CopyBackwards": "torch::autograd::CopyBackwards"}


class Node:
    """One recorded op application (a ``grad_fn``)."""

    __slots__ = ("op", "next_edges", "params", "shapes", "dtypes", "dtype", "seq",
                 "released", "_inputs", "_versions", "_out", "_out_vc", "_out_version",
                 "retained", "strides", "hooks", "__weakref__")

    def __init__(self, op, next_edges, params, shapes, dtype, dtypes=None):
        self.op = op
        self.next_edges = next_edges      # one per op argument: Node, AccumulateGrad or None
        self.params = params
        self.shapes = shapes              # shape of each argument (None for numbers)
        self.dtypes = dtypes              # dtype of each argument, when some differ
        self.dtype = dtype                # the output's dtype
        self.seq = next(_sequence)
        self.released = False
        self._inputs = None               # saved argument values (Tensor or number), or None
        self._versions = None
        self._out = None                  # saved output array
        self._out_vc = None               # ... its version counter, and version when saved
        self._out_version = 0
        self.retained = None              # weakref to the output tensor if retain_grad()
        self.strides = None               # inputs' element strides, for ops that ask
        self.hooks = None                 # register_hook()s of the output tensor

    # -- what PyTorch shows ---------------------------------------------------------
    @property
    def name(self) -> str:
        return self.op.grad_fn

    @property
    def qualified_name(self) -> str:
        """What PyTorch's ``grad_fn.name()`` returns."""
        name = self.name
        return _QUALIFIED.get(name, name)

    def __repr__(self) -> str:
        return f"<{self.name} object at 0x{id(self):x}>"      # as PyTorch prints it

    @property
    def next_functions(self) -> tuple:
        """PyTorch's view of the edges: a number PyTorch takes as a Scalar argument (the
        exponent of ``x ** 2``) is no edge there."""
        skip = self.op.scalar_args
        return tuple((e, 0) for i, e in enumerate(self.next_edges) if i not in skip)

    # -- saved values -----------------------------------------------------------------
    def save_output(self, out_tensor) -> None:
        self._out = out_tensor.data
        self._out_vc = out_tensor._counter()
        self._out_version = self._out_vc.value

    def unpack(self, as_tensors: bool):
        """The saved inputs (Meta for unsaved ones) and output, checked for freeing and
        in-place modification; arrays, or tensors when building a differentiable graph."""
        op = self.op
        if self.released and op.saves:
            raise AutogradError(SECOND_BACKWARD)
        saved, shapes = self._inputs, self.shapes
        inputs = [None] * len(shapes)
        # checked in PyTorch's order (its saved inputs, sorted by name), so the first
        # modified one is the one PyTorch's error names
        for i in op.vjp_order or range(len(shapes)):
            value = saved[i] if saved is not None else None
            if value is None:
                if shapes[i] is not None:
                    strides = self.strides[i] if self.strides is not None else None
                    inputs[i] = Meta(shapes[i], self.dtype, strides)
                continue
            expected = self._versions[i] if self._versions is not None else None
            if expected is not None:            # a saved tensor
                vc = value._vc
                now = 0 if vc is None else vc.value
                if now != expected:
                    raise modified_error(value.data.dtype, value.shape, value.grad_fn,
                                         now, expected)
                if not as_tensors:
                    value = value.data
            inputs[i] = value
        out = None
        out_vc = self._out_vc
        if out_vc is not None:
            if out_vc.value != self._out_version:
                raise modified_error(self._out.dtype, self._out.shape, self,
                                     out_vc.value, self._out_version)
            out = self._out
            if as_tensors:
                from .tensor import Tensor
                out = Tensor._make(out, self, out_vc)
        return inputs, out

    def release(self) -> None:
        if self.op.saves:
            self._inputs = None
            self._out = None
            self.released = True

    # -- backward ---------------------------------------------------------------------
    def apply_vjps(self, g, F, needed=None) -> list:
        """The gradient for each input edge (None where not wanted); ``needed``: the
        nodes that lead to a wanted input (None: every edge is wanted)."""
        if needed is None:
            wants = [e is not None for e in self.next_edges]
        else:
            wants = [e is not None and e in needed for e in self.next_edges]
        return self.vjps(g, F, wants)

    def vjps(self, g, F, wants) -> list:
        op = self.op
        tensor_mode = F.tensor_mode
        inputs, out = self.unpack(tensor_mode)
        params = self.params
        if op.variadic:
            grads = list(op.vjps[0](F, g, inputs, out, **params))
        elif op.joint is not None:
            grads = list(op.joint(F, g, *inputs, out, wants, **params))
        else:
            grads = [None] * len(wants)
            vjps = op.vjps
            for i in op.vjp_order or range(len(wants)):
                if wants[i]:
                    grads[i] = vjps[i](F, g, *inputs, out, **params)
        broadcasts, dtypes = op.broadcasts, self.dtypes
        if not (tensor_mode or broadcasts or dtypes is not None):
            return grads                    # the common case: nothing to adjust
        shapes = self.shapes
        for i, gi in enumerate(grads):
            if gi is None:
                continue
            if tensor_mode:
                gi = F.lift(gi)
            if broadcasts and getattr(gi, "shape", ()) != shapes[i]:
                gi = F.sum_to(gi, shapes[i])
            if dtypes is not None:          # inputs of other dtypes: cast their grads
                want = dtypes[i]
                have = getattr(gi, "dtype", want)
                if have is not want and have != want:
                    gi = F.to_copy(gi, dtype=want)
            grads[i] = gi
        return grads


class AccumulateGrad:
    """The sink of a leaf that requires grad: backward adds into ``variable.grad``."""

    __slots__ = ("variable", "seq", "__weakref__")
    name = "AccumulateGrad"
    qualified_name = "torch::autograd::AccumulateGrad"
    next_edges = ()
    retained = None

    def __init__(self, variable):
        self.variable = variable
        self.seq = float("inf")   # like PyTorch: run as soon as it is ready

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at 0x{id(self):x}>"
