"""The op table (see :mod:`.core`); importing this package registers every op."""

# (imported for their registrations; nn's ops after the ops their VJPs call)
from . import arithmetic, backward, elementwise, activations, linalg, reduce, shape  # noqa
from . import special, writes, layers, losses, bitwise, rearrange  # noqa: F401
from . import normalization, layer_norm, similarity  # noqa: F401
from . import cumulative, statistics, rounding, specials, masking  # noqa: F401
from . import decomp, cholesky, products, einsum  # noqa: F401
from .checks import check_table
from .core import NUMERIC, REGISTRY, STRUCTURAL, Op

check_table(REGISTRY)

__all__ = ["REGISTRY", "STRUCTURAL", "Op", "NUMERIC"]
