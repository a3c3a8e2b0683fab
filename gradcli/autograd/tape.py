"""An optional record of everything the engine computes, in order.

The evaluator records a program's run on a :class:`Tape` to list its graph (every
intermediate, with its value at the time it was made) and to let the symbolic check
replay the computation.  Recording costs one attribute test per op when no tape is on.
"""

from __future__ import annotations

import threading
from typing import Callable, Optional

_local = threading.local()


def current() -> Optional["Tape"]:
    return getattr(_local, "tape", None)


class Tape:
    """Events in order: ("op", result, op, args, params, in_backward) and
    ("inplace", tensor, before, result); the evaluator adds its own events."""

    def __init__(self, on_result: Optional[Callable] = None):
        self.events: list = []
        self.in_backward = False        # set while a backward pass builds a graph
        self.on_result = on_result      # called with each new tensor (e.g. retain_grad)

    def __enter__(self) -> "Tape":
        self._previous = current()
        _local.tape = self
        return self

    def __exit__(self, *exc) -> bool:
        _local.tape = self._previous
        return False

    def op(self, result, op, args, params) -> None:
        self.events.append(("op", result, op, args, params, self.in_backward))
        if self.on_result is not None:
            self.on_result(result)

    def inplace(self, tensor, before, result) -> None:
        self.events.append(("inplace", tensor, before, result))
