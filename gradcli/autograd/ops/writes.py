"""Ops that in-place updates record, and the nodes of writes through views.

``zero_``, ``fill_`` and ``copy_`` run out of place here; :mod:`..inplace` writes the
result into the tensor.  ``as_strided`` is the grad_fn a view gets after its storage was
changed (AsStridedBackward0: the gradient of the view lands on the base's elements it
covers), and ``copy_slices`` is what CopySlices records under create_graph.  A ``view``
parameter is a :class:`~gradcli.autograd.views.ViewInfo`: its ``index()`` maps each
element of the view to its flat position in the base.
"""

from __future__ import annotations

import numpy as np

from .core import prose, register

# In-place methods (x.zero_(), x.fill_(v), x.copy_(src)) are the Tensor's own
# (operators.py); these are the nodes they record.
register("zero", "ZeroBackward0", lambda x: np.zeros_like(x),
         (lambda F, g, x, out: F.zeros_like(g),), internal=True, keeps_layout=True,
         dtype_rule="keep", derivative=("0",), syntax="x.zero_()")
register("fill", "FillBackward2", lambda x, value: np.full_like(x, value),
         (lambda F, g, x, out, value: F.zeros_like(g),), internal=True, keeps_layout=True,
         dtype_rule="keep", derivative=("0",), syntax="x.fill_(NUMBER)")
register("fill_tensor", "FillBackward3", lambda x, value: np.full_like(x, value),
         (lambda F, g, x, value, out: F.zeros_like(g), lambda F, g, x, value, out: F.sum(g)),
         internal=True, keeps_layout=True, dtype_rule="keep",
         derivative=("0", prose("1 for each element")), syntax="x.fill_(t) (t 0-d)")
register("copy", "CopyBackwards",
         lambda x, src: np.array(np.broadcast_to(src, np.shape(x)), dtype=x.dtype),
         (lambda F, g, x, src, out: F.zeros_like(g), lambda F, g, x, src, out: g),
         internal=True, keeps_layout=True, broadcasts=True, dtype_rule="keep",
         derivative=("0", "1"), syntax="x.copy_(src), x[i] = src")


def _gather(x, view):
    return np.ascontiguousarray(x).reshape(-1)[view.index()]


def _scatter_add(g, view):
    """zeros shaped like the base, with ``g`` added at the view's positions (repeated
    positions, as in an expanded view, add up)."""
    out = np.zeros(view.base_shape, dtype=g.dtype)
    flat = out.reshape(-1)
    if view.has_duplicates():
        np.add.at(flat, view.index(), g)
    else:
        flat[view.index()] = g
    return out


def _copy_slices(g, src, view):
    out = np.array(g, order="C", copy=True)
    out.reshape(-1)[view.index()] = src
    return out


register("as_strided", "AsStridedBackward0", _gather,
         (lambda F, g, x, out, view: F.as_strided_scatter(g, view=view),), internal=True,
         dtype_rule="keep", syntax="a view read back from its base after a write")
register("as_strided_scatter", "AsStridedBackward0", _scatter_add,
         (lambda F, gg, g, out, view: F.as_strided(gg, view=view),), internal=True,
         dtype_rule="keep", syntax="as_strided_backward(g, view)")
register("copy_slices", "CopySlices", _copy_slices,
         (lambda F, gg, g, src, out, view:
          F.copy_slices(gg, F.zeros(src.shape, dtype=gg.dtype), view=view),
          lambda F, gg, g, src, out, view: F.as_strided(gg, view=view)),
         internal=True, dtype_rule="keep", syntax="CopySlices under create_graph")
