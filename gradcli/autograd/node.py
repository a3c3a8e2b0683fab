"""Graph nodes: what a tensor's ``grad_fn`` is.

A :class:`Node` records one op application: the op (its VJPs and PyTorch name), the
edges to the nodes that produced its inputs, and the values its VJPs need (saved at
forward time, freed after a backward without ``retain_graph``).  A leaf that requires
grad is reached through an :class:`AccumulateGrad` node, as in PyTorch.
"""

from __future__ import annotations

import itertools
import weakref
from typing import NamedTuple

from ..errors import AutogradError

_sequence = itertools.count()

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph "
    "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
    "you need to backward through the graph a second time or if you need to access saved "
    "tensors after calling backward."
)


def describe(dtype, shape) -> str:
    """PyTorch-style '[DoubleTensor [2, 3]]' description used in error messages."""
    kind = {"float64": "DoubleTensor", "float32": "FloatTensor"}.get(str(dtype), f"{dtype} tensor")
    return f"[{kind} [{', '.join(str(s) for s in shape)}]]"


def _modified_error(dtype, shape, node_name, now: int, expected: int) -> AutogradError:
    which = f", which is output 0 of {node_name}," if node_name else ""
    return AutogradError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {describe(dtype, shape)}{which} is at version {now}; "
        f"expected version {expected} instead."
    )


class Meta(NamedTuple):
    """Stands in for an input whose value was not saved: VJPs may read its shape only."""

    shape: tuple
    dtype: object


class Node:
    """One recorded op application (a ``grad_fn``)."""

    __slots__ = ("op", "next_edges", "params", "shapes", "dtype", "seq", "released",
                 "_inputs", "_versions", "_out", "_out_version", "_out_tensor",
                 "retained", "__weakref__")

    def __init__(self, op, next_edges, params, shapes, dtype):
        self.op = op
        self.next_edges = next_edges      # one per op argument: Node, AccumulateGrad or None
        self.params = params
        self.shapes = shapes              # shape of each argument (() for numbers)
        self.dtype = dtype                # the output's dtype
        self.seq = next(_sequence)
        self.released = False
        self._inputs = None               # saved argument values (Tensor or number), or None
        self._versions = None
        self._out = None                  # saved output array
        self._out_version = 0
        self._out_tensor = None           # weakref to the output, to check its version
        self.retained = None              # weakref to the output tensor if retain_grad()

    # -- what PyTorch shows ---------------------------------------------------------
    @property
    def name(self) -> str:
        return self.op.grad_fn

    def __repr__(self) -> str:
        return f"<{self.name} object at 0x{id(self):x}>"      # as PyTorch prints it

    @property
    def next_functions(self) -> tuple:
        return tuple((e, 0) for e in self.next_edges)

    # -- saved values -----------------------------------------------------------------
    def save_output(self, out_tensor) -> None:
        self._out = out_tensor.data
        self._out_tensor = weakref.ref(out_tensor)
        self._out_version = out_tensor._version

    def unpack(self, as_tensors: bool):
        """The saved inputs (Meta for unsaved ones) and output, checked for freeing and
        in-place modification; arrays, or tensors when building a differentiable graph."""
        if self.released and self.op.saves:
            raise AutogradError(SECOND_BACKWARD)
        inputs = []
        saved = self._inputs
        for i, shape in enumerate(self.shapes):
            value = saved[i] if saved is not None else None
            if value is None:
                inputs.append(Meta(shape, self.dtype) if shape is not None else None)
                continue
            if hasattr(value, "_version"):
                expected = self._versions[i]
                if value._version != expected:
                    src = value.grad_fn.name if value.grad_fn is not None else None
                    raise _modified_error(value.data.dtype, value.shape, src,
                                          value._version, expected)
                value = value if as_tensors else value.data
            inputs.append(value)
        out = None
        if "o" in self.op.saves:
            tensor = self._out_tensor()
            if tensor is not None and tensor._version != self._out_version:
                raise _modified_error(self._out.dtype, self._out.shape, self.name,
                                      tensor._version, self._out_version)
            out = self._out
            if as_tensors:
                from .tensor import Tensor
                out = Tensor._make(out, self)
        return inputs, out

    def release(self) -> None:
        if self.op.saves:
            self._inputs = None
            self._out = None
            self.released = True


class AccumulateGrad:
    """The sink of a leaf that requires grad: backward adds into ``variable.grad``."""

    __slots__ = ("variable", "seq", "__weakref__")
    name = "AccumulateGrad"
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
