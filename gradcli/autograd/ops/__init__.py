"""The op table (see :mod:`.core`); importing this package registers every op."""

from . import elementwise, linalg, reduce, shape  # noqa: F401  (registration side effects)
from .core import REGISTRY, STRUCTURAL, Op

__all__ = ["REGISTRY", "STRUCTURAL", "Op"]
