"""The op table (see :mod:`.core`); importing this package registers every op."""

# (imported for their registrations)
from . import backward, elementwise, linalg, reduce, shape, writes  # noqa: F401
from . import float32
from .core import REGISTRY, STRUCTURAL, Op

float32.install(REGISTRY)

__all__ = ["REGISTRY", "STRUCTURAL", "Op"]
