"""A run keeps only what is asked for.

By default (``evaluate(..., keep="summary")``) a run lets go of every large
intermediate tensor: its graph row and its tape events keep a stand-in, a Tensor with
the same grad_fn and flags whose data is an :class:`ArraySummary` (shape, dtype, min,
max, mean and the elements PyTorch would print).  The tape makes it in place as soon as
the program no longer refers to the tensor (:class:`gradcli.autograd.tape.Tape`'s
``release``); :func:`summarise` makes the rest when the run ends.  What the views show is unchanged;
what is freed is every array the backward pass no longer holds.  Kept whole: the
bound variables, the output, the gradients, and the roots, upstreams and results of
backward()/grad() calls.  The check does not read the stand-ins: it runs the program
again, keeping everything (:func:`gradcli.check.replayed`).  ``keep="all"`` keeps
every value (``--explain`` computes with them; batch's compiled check reads them).
"""

from __future__ import annotations

from ..autograd.events import BackwardEvent, GradEvent, of_kind
from ..autograd.summary import ArraySummary, summarised
from ..autograd.tensor import Tensor

KEEP = ("summary", "all")


def summarise(result) -> int:
    """Replace every large tensor of ``result``'s graph and events that is not kept
    whole by a stand-in; the number replaced."""
    if not any(summarised(row.value) for row in result.graph):
        return 0
    kept = {id(t) for t in result.variables.values()}
    kept.add(id(result.output))
    for e in of_kind(result.events, BackwardEvent, GradEvent):
        kept.update(map(id, (e.root, e.gradient) if e.kind == "backward" else
                        (e.output, e.input, e.result, *_flat(e.grad_outputs))))
    stand_ins = _StandIns(kept)
    for row in result.graph:
        if summarised(row.value) and id(row.tensor) not in kept:
            row.value = stand_ins.summary(row.value)
        row.tensor = stand_ins.of(row.tensor)
        row.args = tuple(stand_ins.of(a) for a in row.args)
    result.row_of = {stand_ins.new_id(k): v for k, v in result.row_of.items()}
    result.events[:] = [stand_ins.event(e) for e in result.events]
    return len(stand_ins.made)


def _flat(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


class _StandIns:
    def __init__(self, kept: set):
        self.kept = kept
        self.made: dict = {}           # id(tensor) -> its stand-in
        self.summaries: dict = {}      # id(array) -> its ArraySummary

    def summary(self, array) -> ArraySummary:
        found = self.summaries.get(id(array))
        if found is None:
            found = self.summaries[id(array)] = ArraySummary.of(array)
        return found

    def of(self, value):
        """A stand-in for a large tensor not kept whole; lists and tuples of tensors
        (an op's arguments) item by item; anything else as it is."""
        if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
            return type(value)(self.of(v) for v in value)
        if not isinstance(value, Tensor) or id(value) in self.kept \
                or not summarised(value.data):
            return value
        found = self.made.get(id(value))
        if found is None:
            found = Tensor._make(self.summary(value.data), value.grad_fn)
            found._requires_grad = value.requires_grad
            found._retains_grad = value.retains_grad
            self.made[id(value)] = found
        return found

    def of_items(self, params: dict) -> dict:
        mapped = {k: self.of(v) for k, v in params.items()}
        return params if all(mapped[k] is v for k, v in params.items()) else mapped

    def new_id(self, key: int) -> int:
        found = self.made.get(key)
        return key if found is None else id(found)

    def event(self, e):
        """The event with its large tensors replaced (the same event if none is)."""
        fields = tuple(self.of(f) if not isinstance(f, dict) else self.of_items(f)
                       for f in e)
        if all(a is b for a, b in zip(fields, e)):
            return e
        return tuple.__new__(type(e), fields)
