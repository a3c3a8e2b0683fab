"""Products of tensors: cross (torch.cross and torch.linalg.cross), and the composites
kron and tensordot, which record what PyTorch's implementations call (views, mul, mm).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...errors import InputError, ShapeError
from .core import REGISTRY, STRUCTURAL, norm_dim, prose, register, shape_of

LINALG = "linear algebra"


def _ns():
    from ..functional import NAMESPACE
    return NAMESPACE


def _pair(a, b):
    from ..signatures import as_tensor
    from ..tensor import Tensor
    a = as_tensor(a, like=b if isinstance(b, Tensor) else None)
    return a, as_tensor(b, like=a)


# ---- cross -------------------------------------------------------------------------------

def _cross(a, b, dim):
    return np.cross(a, b, axisa=dim, axisb=dim, axisc=dim)


register("linalg_cross_node", "LinalgCrossBackward0", _cross,
         (lambda F, g, a, b, out, dim: F.linalg_cross_node(b, g, dim),
          lambda F, g, a, b, out, dim: F.linalg_cross_node(g, a, dim)),
         internal=True, broadcasts=True, sympy=STRUCTURAL, vjp_order=(1, 0),
         syntax="cross(input, other, dim)", shown_as="cross",
         derivative=(prose("cross(other, g)"), prose("cross(g, input)")))


def _apply_cross(input, other, dim, shown):
    """linalg.cross's checks, then the node (inputs broadcast against each other)."""
    from ..function import apply
    from .linalg import _broadcast
    if input.ndim == 0:
        raise ShapeError(f"Dimension specified as {dim} but tensor has no dimensions",
                         python_type="IndexError")
    if input.ndim != other.ndim:
        raise ShapeError("linalg.cross: inputs must have the same number of dimensions.")
    axis = norm_dim(dim, input.ndim)
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise ShapeError(f"linalg.cross: inputs dimension {shown} must have length 3. Got "
                         f"{input.shape[axis]} and {other.shape[axis]}")
    _broadcast(input.shape, other.shape)
    return apply(REGISTRY["linalg_cross_node"], input, other, dim=axis)


def linalg_cross(input, other, dim=-1):
    """torch.linalg.cross: along ``dim`` (the last by default)."""
    input, other = _pair(input, other)
    return _apply_cross(input, other, dim, dim)


CROSS_DIM_WARNING = (
    "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass "
    "the dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will "
    "change to agree with that of linalg.cross in a future release. (Triggered internally "
    "at /__w/pytorch/pytorch/aten/src/ATen/native/Cross.cpp:63.)")


def cross(input, other, dim=None):
    """torch.cross: along ``dim``; without one, the first dim of size 3 (with PyTorch's
    deprecation warning)."""
    input, other = _pair(input, other)
    if dim is None:
        warnings.warn(CROSS_DIM_WARNING, UserWarning, stacklevel=2)
        sizes = [i for i, n in enumerate(input.shape) if n == 3]
        if not sizes:
            raise ShapeError("no dimension of size 3 in input")
        dim = sizes[0]
    return _apply_cross(input, other, dim, dim)


CROSS = (prose("cross(other, g)"), prose("cross(g, input)"))
register("cross", function=cross, params="input, other, dim: int? = None", group=LINALG,
         records=("LinalgCrossBackward0",), derivative=CROSS)
register("linalg_cross", function=linalg_cross, params="input, other, dim: int = -1",
         group=LINALG, api="linalg", records=("LinalgCrossBackward0",), derivative=CROSS)


# ---- kron --------------------------------------------------------------------------------

def _unsafe_view(x, shape):
    from ..function import apply
    return apply(REGISTRY["unsafe_view"], x, shape=tuple(shape))


def kron(input, other):
    """PyTorch's KronImpl: each input viewed with a 1 beside each dim, multiplied
    (broadcast), the product viewed back (UnsafeViewBackward0, MulBackward0)."""
    input, other = _pair(input, other)
    n = max(input.ndim, other.ndim)
    a = (1,) * (n - input.ndim) + input.shape
    b = (1,) * (n - other.ndim) + other.shape
    a_view = [s for d in a for s in (d, 1)]
    b_view = [s for d in b for s in (1, d)]
    product = _ns()["mul"](_unsafe_view(input, a_view), _unsafe_view(other, b_view))
    return _unsafe_view(product, [x * y for x, y in zip(a, b)])


register("kron", function=kron, params="input, other", group=LINALG,
         records=("UnsafeViewBackward0", "MulBackward0"),
         grows=lambda input, other: math.prod(shape_of(input)) * math.prod(shape_of(other)),
         derivative=(prose("g's blocks weighted by other, summed"),
                     prose("g's blocks weighted by input, summed")))


# ---- tensordot ---------------------------------------------------------------------------

def _dim_lists(a, b, dims):
    """(dims of a, dims of b) as torch.tensordot reads ``dims``: a count of trailing dims
    of a and leading dims of b, or two lists."""
    from ..signatures import is_number
    from ..tensor import Tensor
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if is_number(dims) and not isinstance(dims, bool):
        if not float(dims).is_integer():
            raise InputError(f"tensordot expects dims to be an int or a pair of lists, got "
                             f"{dims!r}", python_type="TypeError")
        count = int(dims)
        if count < 0:
            raise InputError(f"tensordot expects dims >= 0, but got dims={count}")
        if count > min(a.ndim, b.ndim):
            raise InputError(f"tensordot expects dims < ndim_a or ndim_b, but got "
                             f"dims={count}")
        return list(range(-count, 0)), list(range(count))
    if not isinstance(dims, (list, tuple)) or len(dims) != 2:
        raise InputError(f"tensordot expects dims to be an int or a pair of lists, got "
                         f"{dims!r}", python_type="TypeError")
    dims_a, dims_b = ([d] if is_number(d) else list(d) for d in dims)
    return dims_a, dims_b


def tensordot(a, b, dims=2):
    """PyTorch's tensordot: contracted dims of size 1 summed first, both inputs permuted
    (contracted dims last in a, first in b), reshaped to matrices, mm (dot where the
    result has one element), reshaped."""
    a, b = _pair(a, b)
    dims_a, dims_b = _dim_lists(a, b, dims)
    if len(dims_a) != len(dims_b):
        raise ShapeError("both dimension lists should have same length")
    if a.data.dtype != b.data.dtype:
        raise InputError("both inputs should have same dtype")
    given = list(zip(dims_a, dims_b))
    dims_a = [norm_dim(d, a.ndim) for d in dims_a]
    dims_b = [norm_dim(d, b.ndim) for d in dims_b]
    for dims in (dims_a, dims_b):
        if len(set(dims)) != len(dims):
            raise ShapeError(f"dim {dims[0]} appears multiple times in the list of dims")
    F = _ns()
    t1, t2, contracted = a, b, 1
    for d1, d2, (shown1, shown2) in zip(dims_a, dims_b, given):
        s1, s2 = a.shape[d1], b.shape[d2]
        if s2 == 1:
            t1 = F["sum"](t1, d1, True)
        elif s1 == 1:
            t2 = F["sum"](t2, d2, True)
        elif s1 != s2:
            raise ShapeError(f"contracted dimensions need to match, but first has size {s1} "
                             f"in dim {shown1} and second has size {s2} in dim {shown2}")
        else:
            contracted *= s1
    keep_a = [i for i in range(a.ndim) if i not in dims_a]
    keep_b = [i for i in range(b.ndim) if i not in dims_b]
    sizes = [t1.shape[i] for i in keep_a] + [t2.shape[i] for i in keep_b]
    size1 = math.prod(t1.shape[i] for i in keep_a)
    size2 = math.prod(t2.shape[i] for i in keep_b)
    p1, p2 = F["permute"](t1, keep_a + dims_a), F["permute"](t2, dims_b + keep_b)
    if size1 == 1 and size2 == 1:                 # one element: a dot product
        product = F["dot"](F["reshape"](p1, contracted), F["reshape"](p2, contracted))
    else:
        product = F["mm"](F["reshape"](p1, size1, contracted),
                          F["reshape"](p2, contracted, size2))
    return F["reshape"](product, sizes)


def _tensordot_elements(a, b, dims=2) -> int:
    """The elements of tensordot's result (0 where the arguments are wrong: it says
    why)."""
    sa, sb = shape_of(a), shape_of(b)
    try:
        from types import SimpleNamespace
        dims_a, dims_b = _dim_lists(SimpleNamespace(ndim=len(sa)), SimpleNamespace(
            ndim=len(sb)), dims)
        dims_a = {norm_dim(d, len(sa)) for d in dims_a}
        dims_b = {norm_dim(d, len(sb)) for d in dims_b}
    except (InputError, ShapeError, TypeError, ValueError):
        return 0
    return math.prod(n for i, n in enumerate(sa) if i not in dims_a) * \
        math.prod(n for i, n in enumerate(sb) if i not in dims_b)


register("tensordot", function=tensordot, params="a, b, dims: any = 2", group=LINALG,
         api="torch", records=("ViewBackward0", "MmBackward0", "DotBackward0", "PermuteBackward0",
                               "UnsafeViewBackward0", "CloneBackward0", "SumBackward1"),
         derivative=(prose("g contracted with b"), prose("g contracted with a")),
         grows=_tensordot_elements)
