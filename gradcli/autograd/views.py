"""Views: tensors that share their base's storage and version counter (SPEC 3.8).

A view op (indexing, reshape of a viewable tensor, transpose, expand, ...) returns a
tensor whose array is a numpy view of its input's array.  When the values can carry
gradients it is a *differentiable view*: it keeps a :class:`ViewInfo` -- its base (the
tensor at the root of the chain of views, never itself a view), the chain of view ops
that leads from the base to it, and the version of the storage its ``grad_fn`` was made
for.  As in PyTorch:

- after any in-place change to the storage (through the base or another view) the
  view's ``grad_fn`` is rebuilt on next access, as an AsStridedBackward0 of the base;
- an in-place op on the view gives the base a :class:`CopySlices` node, which routes
  the base's gradient through the in-place op for the view's elements;
- a view made with grad mode off cannot be part of an in-place op with grad mode on.

The element map between a view and its base is computed only when needed, by running
the chain of view ops on an array of flat indices of the base.
"""

from __future__ import annotations

import re
import weakref

import numpy as np

from ..errors import AutogradError
from .grad_mode import is_grad_enabled
from .node import Node
from .ops import REGISTRY
from . import tape as _tape

DEFAULT, NO_GRAD_MODE, MULTI_OUTPUT = "default", "no_grad", "multi_output"

NO_GRAD_VIEW = (
    "A view was created in no_grad mode and {what} modified inplace with grad mode "
    "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You "
    "can clarify your code by moving both the view and the inplace either both inside the "
    "no_grad block (if you don't want the inplace to be tracked) or both outside (if you "
    "want the inplace to be tracked).")
MULTI_OUTPUT_VIEW = (
    "Output {output} of {name} is a view and {what} modified inplace. This view is the "
    "output of a function that returns multiple views. Such functions do not allow the "
    "output views to be modified inplace. You should replace the inplace operation by an "
    "out-of-place one.")


class ViewInfo:
    """How a differentiable view was taken from its base."""

    __slots__ = ("base", "chain", "creation", "version", "base_shape", "_index")

    def __init__(self, base, chain: tuple, creation: str, version: int):
        self.base = base              # root tensor (never a view)
        self.chain = chain            # ((op, params), ...) from the base to the view
        self.creation = creation      # DEFAULT, or NO_GRAD_MODE if made with grad off
        self.version = version        # storage version the view's grad_fn is for
        self.base_shape = base.data.shape
        self._index = None

    def index(self) -> np.ndarray:
        """For each element of the view, its flat position in the base."""
        if self._index is None:
            idx = np.arange(int(np.prod(self.base_shape)), dtype=np.int64)
            idx = idx.reshape(self.base_shape)
            for op, params in self.chain:
                idx = op.forward(idx, **params)
            self._index = np.asarray(idx)
        return self._index

    def has_duplicates(self) -> bool:
        idx = self.index()
        return idx.size > 1 and np.unique(idx).size != idx.size

    def __repr__(self) -> str:
        return "view(" + " -> ".join(op.name for op, _ in self.chain) + ")"


def make_view(result, source, op, params) -> None:
    """Make ``result`` (whose array views ``source``'s) a view of ``source``."""
    result._vc = source._counter()
    _tape.note_alias(source, result)
    if result.data.dtype.kind != "f":
        return                      # shares storage and version; nothing to differentiate
    creation = NO_GRAD_MODE if not is_grad_enabled() else \
        MULTI_OUTPUT if op.view == "parts" else DEFAULT
    parent = source._view
    if parent is None:
        info = ViewInfo(source, ((op, params),), creation, source._vc.value)
    else:
        if parent.creation != DEFAULT:
            creation = parent.creation
        info = ViewInfo(parent.base, parent.chain + ((op, params),), creation,
                        source._vc.value)
    result._view = info


def view_requires_grad(t) -> bool:
    """PyTorch's rule for a view: its own flag, its grad_fn, or its base's flag."""
    return t._requires_grad or t._grad_fn is not None or t._view.base.requires_grad


def refresh(t) -> None:
    """Rebuild a view's grad_fn if its storage changed since it was made (PyTorch does
    this on access: the view now reads the base's new history)."""
    info = t._view
    now = t._vc.value
    if info.version == now:
        return
    base = info.base
    if t._grad_fn is None and not base.requires_grad:
        return
    check_rebase(info, indirect=True)
    info.version = now
    node = Node(REGISTRY["as_strided"].analysed(), (edge_of(base),), {"view": info},
                (base.data.shape,), t.data.dtype)
    node._inputs = (None,)
    t._grad_fn = node
    t._requires_grad = True
    if t._retains_grad:
        node.retained = weakref.ref(t)


def check_rebase(info: ViewInfo, indirect: bool) -> None:
    """PyTorch's error for an in-place change to a view made with grad mode off, or to
    one of several views a function returned (split's parts, and views of them)."""
    what = "its base or another view of its base has been" if indirect else "is being"
    if info.creation == NO_GRAD_MODE:
        raise AutogradError(NO_GRAD_VIEW.format(what=what))
    if info.creation == MULTI_OUTPUT:          # named by the last view taken (PyTorch's)
        op, params = info.chain[-1]
        raise AutogradError(MULTI_OUTPUT_VIEW.format(
            output=params.get("part", 0), name=re.sub(r"Backward\d+$", "", op.grad_fn),
            what=what))


def edge_of(t):
    fn = t.grad_fn
    if fn is not None:
        return fn
    if t._requires_grad:
        return t._accumulate_node()
    return None


class CopySlices(Node):
    """The base's grad_fn after an in-place op on one of its views: the gradient of the
    base passes unchanged outside the view, and through the in-place op's node ``fn``
    for the view's elements; ``fn``'s other inputs get their gradients as usual."""

    __slots__ = ("fn", "view")

    def __init__(self, base, view: ViewInfo, fn: Node):
        super().__init__(REGISTRY["copy_slices"], (edge_of(base),) + fn.next_edges[1:],
                         {"view": view}, (base.data.shape,) + fn.shapes[1:],
                         base.data.dtype, None)
        self.fn = fn
        self.view = view

    @property
    def name(self) -> str:
        return "CopySlices"

    @property
    def qualified_name(self) -> str:
        return "torch::autograd::CopySlices"

    def release(self) -> None:
        self.fn.release()

    def vjps(self, g, F, wants) -> list:
        inner = list(wants)
        inner[0] = wants[0] and self.fn.next_edges[0] is not None
        if inner[0] and self.view.has_duplicates():
            # PyTorch copies the view's gradient back into an overlapping view
            from .inplace import INTERNAL_OVERLAP
            raise AutogradError(INTERNAL_OVERLAP)
        if F.tensor_mode:
            # PyTorch: result = copy of grad laid out like the base (CopyBackwards), the
            # view's part of it (AsStridedBackward0), cloned for fn (CloneBackward0), and
            # fn's gradient copied back into that part (CopySlices)
            result = F.copy(F.const(np.empty(self.shapes[0], dtype=self.dtype)), g)
            res = self.fn.vjps(F.clone(F.as_strided(result, view=self.view)), F, inner)
            if wants[0] and res[0] is not None:
                res[0] = F.copy_slices(result, res[0], view=self.view)
            return res
        idx = self.view.index()
        result = np.array(g, dtype=self.dtype, copy=True).reshape(self.shapes[0])
        flat = result.reshape(-1)
        res = self.fn.vjps(flat[idx], F, inner)
        if wants[0] and res[0] is not None:
            flat[idx] = res[0]
            res[0] = result
        return res


def rebase_history(t, node: Node) -> None:
    """After an in-place op recorded as ``node`` on ``t``: the new history."""
    info = t._view
    if info is None:
        if t._retains_grad and t._grad_fn is not None:
            t._grad_fn.retained = None
            node.retained = weakref.ref(t)
        t._grad_fn = node
        t._requires_grad = True
        return
    base = info.base
    copy_slices = CopySlices(base, info, node)
    if base._retains_grad and base._grad_fn is not None:
        base._grad_fn.retained = None
        copy_slices.retained = weakref.ref(base)
    base._grad_fn = copy_slices
    base._requires_grad = True
    refresh(t)
