"""What a run records, in order: the tape's events, as named types.

The engine's tape (:mod:`.tape`) records ops, in-place updates and snapshots; the
language's runs add the autograd calls a program makes (backward, grad, zero_grad,
detach, requires_grad_, reads of ``.grad``).  Everything that looks back over a run
(result building, graph views, the check's replay, the numeric fallback, --explain)
reads these, by field name, through :func:`of_kind`.

Each event is a named tuple whose first field, ``kind``, says which it is; the
constructor fills it in (``BackwardEvent(root, gradient, create_graph, implicit)``,
positional fields only).
"""

from __future__ import annotations

from collections import namedtuple


def _event_type(name: str, kind: str, fields: str, doc: str) -> type:
    base = namedtuple(f"_{name}", "kind " + fields)

    size = len(base._fields) - 1

    def __new__(cls, *args):
        if len(args) != size:
            raise TypeError(f"{name} takes {size} fields ({fields}), got {len(args)}")
        return tuple.__new__(cls, (kind, *args))

    return type(name, (base,), {"__slots__": (), "__new__": __new__, "KIND": kind,
                                "__doc__": doc, "__module__": __name__})


OpEvent = _event_type(
    "OpEvent", "op", "result op args params in_backward",
    "An op ran: ``result = op(*args, **params)``; ``in_backward`` when a backward pass "
    "recorded it (create_graph).")
InplaceEvent = _event_type(
    "InplaceEvent", "inplace", "tensor before result",
    "``tensor`` was updated in place: ``before`` holds its old value (a tensor standing "
    "for it), ``result`` the value it took.")
CopySlicesEvent = _event_type(
    "CopySlicesEvent", "copy_slices", "base view state",
    "A view was written through: ``base`` changed with it (``state``: the base's "
    "version and value before).")
SnapshotEvent = _event_type(
    "SnapshotEvent", "snapshot", "tensor state",
    "``tensor``'s value at a moment, kept because it is about to change through a view "
    "or an alias.")
RequiresGradEvent = _event_type(
    "RequiresGradEvent", "requires_grad_", "tensor requires_grad",
    "``requires_grad_(tensor)`` or ``tensor.requires_grad = ...``.")
ReadGradEvent = _event_type(
    "ReadGradEvent", "read_grad", "tensor grad snapshot",
    "``tensor.grad`` was read: ``grad`` the tensor it was, ``snapshot`` its value then.")
BackwardEvent = _event_type(
    "BackwardEvent", "backward", "root gradient create_graph implicit",
    "``root.backward(gradient)``; ``implicit`` for the backward gradcli runs from a "
    "program's output.")
GradEvent = _event_type(
    "GradEvent", "grad", "output input grad_outputs create_graph result",
    "``grad(output, input, grad_outputs)`` returned ``result``.")
DetachEvent = _event_type(
    "DetachEvent", "detach", "tensor result",
    "``result = detach(tensor)``.")
ZeroGradEvent = _event_type(
    "ZeroGradEvent", "zero_grad", "tensor",
    "``zero_grad(tensor)`` or ``tensor.grad.zero_()``.")


def of_kind(events, *kinds: type):
    """The events of the given types, in order (all of them without types)."""
    wanted = {k.KIND for k in kinds}
    return (e for e in events or () if not wanted or e.kind in wanted)


def has(events, kind: type) -> bool:
    """Whether any event is of this type."""
    return any(e.kind == kind.KIND for e in events or ())


def forward_ops(events):
    """The OpEvents of the program itself (not those a create_graph backward recorded)."""
    return (e for e in events or () if e.kind == "op" and not e.in_backward)


def subject(e):
    """The tensor an event is about: its first field (an op's result, the tensor updated,
    the root of a backward, the output of a grad() call, ...)."""
    return e[1]
