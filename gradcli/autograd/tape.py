"""An optional record of everything the engine computes, in order.

The evaluator records a program's run on a :class:`Tape` to list its graph (every
intermediate, with its value at the time it was made) and to let the symbolic check
replay the computation.  Recording costs one attribute test per op when no tape is on.

Tensors can share storage (views, ``detach()``, ``.data``), and in-place ops write into
it, so a tensor recorded earlier may hold other values by the end of a run.  While a
tape records, the engine tells it about every alias made, and before an in-place write
the tape keeps a copy of each alias of the written storage that it has not copied yet
(a "snapshot" event): that copy is the alias's value when it was made.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable, Optional

from .events import CopySlicesEvent, InplaceEvent, OpEvent, SnapshotEvent, UndefinedEvent
from .summary import ArraySummary, summarised

_local = threading.local()
_new = tuple.__new__
# reference counts are exact only with the GIL (a free-threaded build defers some)
_COUNTS_EXACT = getattr(sys, "_is_gil_enabled", lambda: True)()


def current() -> Optional["Tape"]:
    return getattr(_local, "tape", None)


class Tape:
    """Events in order (the types of :mod:`.events`):

    - OpEvent(result, op, args, params, in_backward): an op-table op ran;
    - InplaceEvent(tensor, before, result): ``tensor`` was overwritten in place with the
      values of ``result`` (the op's out-of-place result); ``before`` is a copy of
      ``tensor`` as it was, with its grad_fn then;
    - SnapshotEvent(tensor, state): ``tensor`` shares storage with a tensor about to be
      written; ``state`` is a copy of it as it was (its value when made, its grad_fn);
    - CopySlicesEvent(base, view, state): an in-place op on ``view`` changed its base
      ``base``, whose grad_fn is now CopySlices; ``state`` is a copy of ``base`` after it;

    and the evaluator's own events.

    With ``release`` (a run that keeps summaries, :mod:`gradcli.lang.keep`), a large op
    result that nothing but the tape refers to any more is turned into its stand-in
    during the run: its array becomes an :class:`~.summary.ArraySummary` and is freed
    at once, where the tape would otherwise hold every intermediate to the end.  Only
    the tape can still reach such a tensor, so nothing the program computes sees it.
    The tape counts the references its own events hold (the op's result, its places in
    later ops' argument tuples, made fresh here) and compares them with the tensor's
    reference count; references it does not count (other events, a node's saved
    tensors, the program's names) only ever keep a tensor whole."""

    EVENT_BYTES = 256           # what an event's own objects cost, counted with its arrays

    def __init__(self, on_result: Optional[Callable] = None, limit: Optional[int] = None,
                 release: bool = False, watch: Optional[Callable] = None):
        self.events: list = []
        self.in_backward = False        # set while a backward pass builds a graph
        self.on_result = on_result      # called with each new tensor (e.g. retain_grad)
        # called with each event the tape records, as it records it: an op's arrays are
        # whole then, whatever the run lets go of later
        self.watch = watch
        self._aliases: dict = {}        # storage -> tensors on it not snapshotted yet
        self._snapshotted: set = set()  # ids of tensors whose made-value is recorded
        # limit: bytes of arrays (and EVENT_BYTES an event) the tape may hold; past it
        # the tape lets go of everything and records nothing more (``stopped``)
        self.limit = limit
        self.held = 0
        self.stopped = False
        self._watched: Optional[list] = [] if release and _COUNTS_EXACT else None
        self._refs: dict = {}           # id(watched tensor) -> references events hold
        self.released = 0               # tensors turned into stand-ins during the run

    def __enter__(self) -> "Tape":
        self._previous = current()
        _local.tape = self
        return self

    def __exit__(self, *exc) -> bool:
        _local.tape = self._previous
        return False

    def op(self, result, op, args, params) -> None:
        if self.stopped:
            return
        if self._watched is not None:
            args = self._count(result, args)
        # tuple.__new__ straight: the hot path, a fifth of OpEvent(...)'s cost
        self.events.append(_new(OpEvent, ("op", result, op, args, params, self.in_backward)))
        if self.watch is not None:
            self.watch(self.events[-1])
        if self.on_result is not None:
            self.on_result(result)
        if self.limit is not None:
            self._hold(result.data.nbytes)

    def _count(self, result, args: tuple) -> tuple:
        """Count the references the new event will hold to watched tensors; release
        those only the tape refers to; watch ``result`` if it is large.  Returns the
        arguments as a tuple no one else holds (so every reference counted is the
        tape's own)."""
        refs = self._refs
        if refs:
            args = tuple([*args])
            for a in args:
                if id(a) in refs:
                    refs[id(a)] += 1
            self._release_unreachable()
        if summarised(result.data):
            self._watched.append(result)
            refs[id(result)] = 1
        return args

    def _release_unreachable(self) -> None:
        still = []
        for t in self._watched:
            # the references: the events', this list's, ``t`` here and getrefcount's own
            if sys.getrefcount(t) - 3 == self._refs[id(t)]:
                t.data = ArraySummary.of(t.data)
                del self._refs[id(t)]
                self.released += 1
            else:
                still.append(t)
        self._watched = still

    def inplace(self, tensor, before, result) -> None:
        if not self.stopped:
            self._record(InplaceEvent(tensor, before, result))
            if self.limit is not None:
                self._hold(before.data.nbytes)

    def copy_slices(self, base, view, state) -> None:
        if not self.stopped:
            self._record(CopySlicesEvent(base, view, state))
            if self.limit is not None:
                self._hold(state.data.nbytes)

    def undefined(self, tensors, reason: str) -> None:
        if not self.stopped:
            self._record(UndefinedEvent(tuple(tensors), reason))

    def _record(self, event) -> None:
        self.events.append(event)
        if self.watch is not None:
            self.watch(event)

    def _hold(self, nbytes: int) -> None:
        self.held += nbytes + self.EVENT_BYTES
        if self.held > self.limit:
            self.stop()

    def stop(self) -> None:
        """Let go of every event and record nothing more (past ``limit``)."""
        self.stopped = True
        self.events.clear()
        if self._watched is not None:
            self._watched, self._refs = [], {}
        self._aliases.clear()
        self._snapshotted.clear()
        self.held = 0

    # -- aliases --------------------------------------------------------------------
    def alias(self, source, alias) -> None:
        if self.stopped:
            return
        group = self._aliases.setdefault(source.storage_key, [])
        if not group:
            group.append(source)
        group.append(alias)

    def before_write(self, target) -> None:
        """Snapshot every alias of ``target``'s storage (but ``target`` itself, whose
        ``before`` the in-place event carries) not snapshotted yet."""
        group = self._aliases.pop(target.storage_key, None)
        if not group or self.stopped:
            return
        from .tensor import Tensor
        for t in group:
            if t is target or id(t) in self._snapshotted:
                continue
            self._snapshotted.add(id(t))
            state = Tensor._make(t.data.copy(), t._grad_fn)
            state._requires_grad = t._requires_grad
            self._record(SnapshotEvent(t, state))
            if self.limit is not None:
                self._hold(state.data.nbytes)
                if self.stopped:
                    return


def note_undefined(tensors, reason: str) -> None:
    """Tell the recording tape (if any) that the gradient reaching ``tensors`` here is
    not the derivative of the values computed (see UndefinedEvent)."""
    tape = getattr(_local, "tape", None)
    if tape is not None:
        tape.undefined(tensors, reason)


def note_alias(source, alias) -> None:
    """Tell the recording tape (if any) that ``alias`` shares ``source``'s storage."""
    tape = getattr(_local, "tape", None)
    if tape is not None:
        tape.alias(source, alias)
