"""torch's dtype objects (``torch.float32``, ``torch.long``, ...) over numpy's dtypes."""

from __future__ import annotations

import numpy as np


class DType:
    """A torch dtype: prints as ``torch.float32``; ``numpy`` is the engine's dtype."""

    __slots__ = ("name", "numpy")
    python_name = "dtype"

    def __init__(self, name: str, numpy_dtype):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    @property
    def dtype(self) -> np.dtype:
        """What numpy reads: np.dtype(torch.float32) is float32, so the engine takes a
        torch dtype wherever it takes a numpy one (x.to(torch.float32))."""
        return self.numpy

    @property
    def is_floating_point(self) -> bool:
        return self.numpy.kind == "f"

    @property
    def is_signed(self) -> bool:
        return self.numpy.kind in "fi"

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize


DTYPES = {name: DType(name, dt) for name, dt in (
    ("float32", np.float32), ("float64", np.float64), ("float16", np.float16),
    ("int64", np.int64), ("int32", np.int32), ("int16", np.int16), ("int8", np.int8),
    ("uint8", np.uint8), ("bool", np.bool_))}
ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
           "int": "int32", "short": "int16"}
_BY_NUMPY = {d.numpy: d for d in DTYPES.values()}


def dtype_named(name: str) -> DType:
    return DTYPES[ALIASES.get(name, name)]


def dtype_of(tensor) -> DType:
    return _BY_NUMPY[np.dtype(tensor.dtype)]


def to_numpy_dtype(dtype):
    """A dtype argument (a DType, or None) as the engine takes it."""
    if dtype is None:
        return None
    if isinstance(dtype, DType):
        return dtype.numpy
    from .pyops import ScriptError
    raise ScriptError("TypeError", f"dtype must be a torch.dtype (e.g. torch.float64), "
                      f"not {type(dtype).__name__}")
