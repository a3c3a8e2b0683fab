"""A memory budget for a run (``--max-memory``): before an op computes a large result,
or a backward step its input gradients, the process's resident memory plus what that
step will allocate must fit, else a clear ``limit`` error -- before allocating, not an
out-of-memory kill halfway.

Only steps of at least :data:`CHECKED_FROM` bytes look at the budget (one read of
``/proc/self/statm`` each), so small programs and training loops pay one attribute test
per op, like the tape.
"""

from __future__ import annotations

import math
import os
import threading
from typing import Optional

import numpy as np

from ..errors import LimitError

CHECKED_FROM = 1 << 20          # bytes: smaller steps are never checked
DEFAULT_FRACTION = 0.5          # of the machine's memory, when no --max-memory is given
_local = threading.local()


def current() -> Optional["MemoryBudget"]:
    return getattr(_local, "budget", None)


class MemoryBudget:
    """While entered, every op and backward step of this thread is held to ``limit``
    bytes of resident memory."""

    def __init__(self, limit: int):
        self.limit = int(limit)

    def __enter__(self) -> "MemoryBudget":
        self._previous = current()
        _local.budget = self
        return self

    def __exit__(self, *exc) -> bool:
        _local.budget = self._previous
        return False

    def need(self, nbytes: int, what: str) -> None:
        """Refuse a step that would allocate ``nbytes`` more than the budget allows."""
        if nbytes < CHECKED_FROM:
            return
        held = resident_bytes()
        if held + nbytes > self.limit:
            raise LimitError(f"{what} would allocate {size_text(nbytes)} with "
                             f"{size_text(held)} already in use; the memory limit is "
                             f"{size_text(self.limit)} (--max-memory)")


def new_tensor(shape, itemsize: int = 8) -> None:
    """Before a factory (ones, zeros, rand, full, ...) allocates a tensor of ``shape``."""
    budget = current()
    if budget is not None:
        budget.need(math.prod(shape) * itemsize, f"a tensor of shape {list(shape)}")


def result_elements(grows: Optional[str], shapes: list) -> Optional[int]:
    """How many elements an op's result will have, from its inputs' shapes and how it
    grows (``broadcast``, ``matmul``, ``join``; None: no larger than its largest input);
    None when the shapes do not fit (the op itself will say why)."""
    if not shapes:
        return None
    if grows == "matmul" and len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        batch = np.broadcast_shapes(a[:-2], b[:-2]) if len(a) > 2 or len(b) > 2 else ()
        return math.prod(batch) * (a[-2] if len(a) >= 2 else 1) * \
            (b[-1] if len(b) >= 2 else 1)
    if grows == "join":
        return sum(math.prod(s) for s in shapes)
    if grows == "broadcast":
        try:
            return math.prod(np.broadcast_shapes(*shapes))
        except ValueError:
            return None
    return max(math.prod(s) for s in shapes)


def before_op(budget: MemoryBudget, op, arrays, dtype) -> None:
    """Called by the engine before an op's forward while a budget is on."""
    shapes = [a.shape for a in arrays if isinstance(a, np.ndarray)]
    # (a growth given as a function reads the call's own arguments: not known here)
    grows = op.grows if isinstance(op.grows, str) else None
    try:
        n = result_elements(grows, shapes)
    except ValueError:
        return
    if n is not None:
        size = np.dtype(dtype).itemsize if dtype is not None else 8
        budget.need(n * size, f"{op.name} (a result of {n:,} elements)")


def before_backward_step(budget: MemoryBudget, node) -> None:
    """Called by the engine before a node's VJPs: they allocate about one gradient per
    input of the node."""
    shapes = getattr(node, "shapes", None) or ()
    n = sum(math.prod(s) for s in shapes if s is not None)
    budget.need(n * 8, f"the backward of {node.name}")


def resident_bytes() -> int:
    """This process's resident memory now (Linux's /proc), else its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if os.uname().sysname == "Darwin" else peak * 1024


def machine_bytes() -> Optional[int]:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def default_limit() -> Optional[int]:
    """Half the machine's memory (None where it cannot be known: no budget)."""
    total = machine_bytes()
    return None if total is None else int(total * DEFAULT_FRACTION)


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20,
          "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
          "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40}


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``1.5GiB``, ``1048576`` -> bytes (binary units); ValueError with
    what is wrong."""
    t = text.strip().lower().replace(" ", "")
    digits = len(t) - len(t.lstrip("0123456789."))
    number, unit = t[:digits], t[digits:]
    try:
        value = float(number) * _UNITS[unit]
    except (KeyError, ValueError):
        raise ValueError(f"{text!r} is not a size (examples: 500M, 2G, 1.5GiB)") from None
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"{text!r} is not a positive size")
    return int(value)


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
