"""The op table (see :mod:`.core`); importing this package registers every op."""

from . import elementwise, linalg, reduce, shape  # noqa: F401  (registration side effects)
from . import layers, losses  # noqa: F401  (nn's ops; after the ops their VJPs call)
from .core import REGISTRY, STRUCTURAL, Op

__all__ = ["REGISTRY", "STRUCTURAL", "Op"]
