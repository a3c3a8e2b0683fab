"""The op table (see :mod:`.core`); importing this package registers every op."""

# (imported for their registrations; nn's ops after the ops their VJPs call)
from . import backward, elementwise, linalg, reduce, shape, writes  # noqa: F401
from . import layers, losses  # noqa: F401
from .core import REGISTRY, STRUCTURAL, Op

float32.install(REGISTRY)

__all__ = ["REGISTRY", "STRUCTURAL", "Op"]
