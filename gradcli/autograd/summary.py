"""What a run keeps of a large array it does not keep whole.

A run's graph lists every tensor it made.  Past ``SUMMARY_OVER`` elements a graph row
holds an :class:`ArraySummary` instead of the array: the shape and dtype, min, max and
mean (SPEC 4.2's JSON summary), and the elements PyTorch's printing shows of an array
that size (the first and last ``EDGE_ITEMS`` along every dimension), from which
:mod:`.tensor_str` prints it exactly as it would print the whole array.
"""

from __future__ import annotations

import numpy as np

SUMMARY_OVER = 1000     # PyTorch's print threshold, and SPEC 4.2's summary size
EDGE_ITEMS = 3          # PyTorch's edgeitems


class ArraySummary:
    """A large array's shape, dtype, min, max, mean and printed edges; using it as an
    array is an error, never a silent wrong value."""

    __slots__ = ("shape", "dtype", "min", "max", "mean", "edges")

    def __init__(self, shape, dtype, low, high, mean, edges):
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)
        self.min, self.max, self.mean, self.edges = low, high, mean, edges

    @classmethod
    def of(cls, array: np.ndarray) -> "ArraySummary":
        with np.errstate(all="ignore"):
            stats = (array.min(), array.max(), array.mean(dtype=np.float64))
        return cls(array.shape, array.dtype, stats[0].item(), stats[1].item(),
                   float(stats[2]), edges(array).copy())

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __array__(self, *args, **kwargs):
        raise TypeError("only a summary of this array was kept (shape, min, max, mean); "
                        "evaluate(..., keep='all') keeps every value")

    def __repr__(self) -> str:
        return (f"ArraySummary(shape={self.shape}, dtype={self.dtype}, min={self.min}, "
                f"max={self.max}, mean={self.mean})")


def edges(array: np.ndarray) -> np.ndarray:
    """The elements PyTorch prints of ``array`` when it summarises it: along every
    dimension longer than 2 * EDGE_ITEMS, the first and last EDGE_ITEMS."""
    if array.ndim == 0:
        return array
    index = [np.r_[0:EDGE_ITEMS, n - EDGE_ITEMS:n] if n > 2 * EDGE_ITEMS else np.arange(n)
             for n in array.shape]
    return array[np.ix_(*index)]


def summarised(array) -> bool:
    """Whether a graph row would hold a summary of ``array``."""
    return isinstance(array, np.ndarray) and array.size > SUMMARY_OVER
