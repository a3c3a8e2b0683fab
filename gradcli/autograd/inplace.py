"""In-place operations (``t += e``, ``x.mul_(2)``, ``v.zero_()``, ``x[0] = 1``).

The op runs out of place on the tensor's current value, its result is written into the
tensor's array (so every view and ``detach()`` alias sees it), and the shared version
counter goes up by one (SPEC 3.6, 3.8).  The recorded node then becomes the tensor's
history -- or, for a view, its base gets a CopySlices node (:func:`views.rebase_history`).
PyTorch's checks come first: a leaf that requires grad, or a view of one, cannot be
changed in place while grad mode is on; nor a view made under no_grad; nor a tensor
whose elements overlap (an expanded view), or one that partly overlaps an input.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

from ..errors import AutogradError, ShapeError
from . import dtypes as _dt
from . import tape as _tape
from .grad_mode import is_grad_enabled
from .tensor import Tensor
from .views import check_rebase, rebase_history

LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF = ("a view of a leaf Variable that requires grad is being used in an in-place "
                "operation.")
INTERNAL_OVERLAP = (
    "unsupported operation: more than one element of the written-to tensor refers to a "
    "single memory location. Please clone() the tensor before performing the operation.")
PARTIAL_OVERLAP = (
    "unsupported operation: some elements of the input tensor and the written-to tensor "
    "refer to a single memory location. Please clone() the tensor before performing the "
    "operation.")


class BorrowedWrite(Exception):
    """An in-place write reached an array borrowed read-only from the caller (see
    :func:`borrowing`): the caller starts over with copies.  Never shown to a user."""


_borrow = threading.local()


@contextmanager
def borrowing():
    """While active, a write into a read-only array raises :class:`BorrowedWrite`:
    ``evaluate`` runs on read-only views of the caller's arrays (no copy) and, in the
    rare program that writes into one, runs again on copies."""
    previous = getattr(_borrow, "active", False)
    _borrow.active = True
    try:
        yield
    finally:
        _borrow.active = previous


def _check_writable(t: Tensor) -> None:
    if not t.data.flags.writeable and getattr(_borrow, "active", False):
        raise BorrowedWrite()


def apply_inplace(t: Tensor, fn, *others, idempotent: bool = False) -> Tensor:
    """``fn(t, *others)`` written into ``t``; returns ``t``.  ``idempotent`` (fill_,
    zero_): writing one value twice is harmless, so overlapping elements are allowed."""
    if is_grad_enabled() and (t.requires_grad or any(
            isinstance(o, Tensor) and o.requires_grad for o in others)):
        check_inplace(t)
    check_overlap(t, others, internal=not idempotent)
    _check_writable(t)
    before = Tensor._make(t.data, t.grad_fn)
    before._requires_grad = t.requires_grad
    result = fn(before, *others)
    if result.shape != t.shape:
        raise ShapeError(f"output with shape {list(t.shape)} doesn't match the broadcast "
                         f"shape {list(result.shape)}")
    if not _dt.can_cast(result.data.dtype, t.data.dtype):
        raise AutogradError(f"result type {_dt.SCALAR_NAME[result.data.dtype]} can't be cast "
                            f"to the desired output type {_dt.SCALAR_NAME[t.data.dtype]}")
    node = result._grad_fn
    tape = _tape.current()
    if tape is not None or (node is not None and node._inputs is not None
                            and any(x is before for x in node._inputs)):
        before.data = t.data.copy()          # the old values outlive the write
    if tape is not None:
        tape.before_write(t)
    np.copyto(t.data, result.data, casting="unsafe")
    t._counter().value += 1
    if node is not None:
        if node._out_vc is not None:
            node.save_output(t)              # the op's output is t itself now
        rebase_history(t, node)
    if tape is not None:
        tape.inplace(t, before, result)
        if node is not None and t._view is not None:
            base = t._view.base
            state = Tensor._make(base.data.copy(), base._grad_fn)
            tape.copy_slices(base, t, state)
    return t


def overwrite(t: Tensor, values) -> Tensor:
    """Write ``values`` into ``t``'s storage with nothing recorded (an optimizer's step,
    nn.init, zeroing a grad): every alias sees them and the version goes up, as
    PyTorch's in-place ops under no_grad do."""
    _check_writable(t)
    tape = _tape.current()
    if tape is not None:
        tape.before_write(t)
    np.copyto(t.data, np.broadcast_to(np.asarray(values), t.shape), casting="unsafe")
    t._counter().value += 1
    return t


def check_inplace(t: Tensor) -> None:
    """PyTorch's check_inplace, for an in-place op that will be recorded."""
    info = t._view
    if info is not None:
        check_rebase(info, indirect=False)
        if t.requires_grad and info.base.grad_fn is None:
            raise AutogradError(VIEW_OF_LEAF)
    if t.requires_grad and t.grad_fn is None:
        raise AutogradError(LEAF_INPLACE)


def check_overlap(t: Tensor, others, internal: bool = True) -> None:
    """PyTorch's memory-overlap checks for a written tensor and its inputs."""
    a = t.data
    if internal and a.size > 1 and any(s == 0 and n > 1 for s, n in zip(a.strides, a.shape)):
        raise AutogradError(INTERNAL_OVERLAP)
    for other in others:
        if not isinstance(other, Tensor) or other is t:
            continue
        b = other.data
        if a.size == 0 or b.size == 0 or not np.may_share_memory(a, b):
            continue
        if _start(a) == _start(b) and a.strides == b.strides and a.nbytes == b.nbytes:
            continue                         # the same elements: allowed
        if _dense(a) and _dense(b):
            raise AutogradError(PARTIAL_OVERLAP)


def _start(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def _dense(a: np.ndarray) -> bool:
    """Non-overlapping and dense: the elements fill a block of memory exactly."""
    dims = sorted((abs(s), n) for s, n in zip(a.strides, a.shape) if n != 1)
    expected = a.itemsize
    for stride, n in dims:
        if stride != expected:
            return False
        expected *= n
    return True
