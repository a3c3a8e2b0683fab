"""Products of vectors and matrices: dot, mv, mm (``@`` dispatches between them in
:mod:`..functional`: ``matmul``; with more than 2 dims, :func:`matmul_nd` as PyTorch's
_matmul_impl), bmm and outer; and the matrix-shaped ops diag, triu, tril."""

from __future__ import annotations

import math

import numpy as np

from ...errors import InputError, ShapeError
from .core import REGISTRY, STRUCTURAL, prose, register, shape_of

LINALG = "linear algebra"

register("dot", "DotBackward0", np.dot,
         (lambda F, g, a, b, out: g * b, lambda F, g, a, b, out: g * a),
         params="input, tensor", group=LINALG, function="functional:dot",
         display="{0} @ {1}", sympy=STRUCTURAL, derivative=("b", "a"), grows="matmul")
register("mv", "MvBackward0", np.dot,
         (lambda F, g, m, v, out: F.reshape(g, (-1, 1)) * v,
          lambda F, g, m, v, out: F.mv(F.t(m), g)),
         params="input, vec", group=LINALG, function="functional:mv", display="{0} @ {1}",
         sympy=STRUCTURAL, derivative=("outer(g, v)", "M.T @ g"), grows="matmul")


def _column_major(layout) -> bool:
    """Whether a matrix input was laid out column by column (a transpose, say): PyTorch's
    mm backward then computes the transposed product (and records its TBackward0s)."""
    shape, strides = layout
    return strides is not None and strides[0] == 1 and strides[1] == shape[0]


def _mm_mat1_vjp(F, g, a, b, out):
    if _column_major(F.layout(a)):
        return F.t(F.mm(b, F.t(g)))
    return F.mm(g, F.t(b))


def _mm_mat2_vjp(F, g, a, b, out):
    if _column_major(F.layout(b)):
        return F.t(F.mm(F.t(g), a))
    return F.mm(F.t(a), g)


register("mm", "MmBackward0", np.dot, (_mm_mat1_vjp, _mm_mat2_vjp),
         params="input, mat2", group=LINALG, function="functional:mm", display="{0} @ {1}",
         geometry=True, vjp_order=(1, 0), sympy=STRUCTURAL, derivative=("g @ B.T", "A.T @ g"), grows="matmul")
register("matmul", function="functional:matmul", params="input, other", group=LINALG,
         api="torch method linalg",
         records=("DotBackward0", "MvBackward0", "MmBackward0", "SqueezeBackward4",
                  "BmmBackward0", "UnsafeViewBackward0", "ViewBackward0", "ExpandBackward0",
                  "TransposeBackward0", "CloneBackward0", "TBackward0"),
         syntax="matmul(input, other), a @ b", derivative=("g @ B.T", "A.T @ g"), grows="matmul")


# ---- outer, bmm, batched matmul ----------------------------------------------------------

def _ns():
    from ..functional import NAMESPACE
    return NAMESPACE


def _tensor_args(a, b):
    from ..signatures import as_tensor
    a = as_tensor(a, like=b if _is_tensor(b) else None)
    return a, as_tensor(b, like=a)


def _is_tensor(x) -> bool:
    from ..tensor import Tensor
    return isinstance(x, Tensor)


def outer(input, vec2):
    """PyTorch's outer: ``input.reshape(n, 1) * vec2`` (ViewBackward0, MulBackward0)."""
    input, vec2 = _tensor_args(input, vec2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t.ndim != 1:
            raise ShapeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    F = _ns()
    return F["mul"](F["reshape"](input, input.shape[0], 1), vec2)


register("outer", function=outer, params="input, vec2", group=LINALG,
         records=("MulBackward0", "ViewBackward0"), derivative=("g @ vec2", "input @ g"),
         grows=lambda input, vec2: math.prod(shape_of(input)) * math.prod(shape_of(vec2)))


def bmm(input, mat2):
    from ..function import apply
    input, mat2 = _tensor_args(input, mat2)
    if input.ndim != 3:
        raise ShapeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise ShapeError("batch2 must be a 3D tensor")
    want = [input.shape[0], input.shape[2]]
    if list(mat2.shape[:2]) != want:
        raise ShapeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                         f"{want} but got: {list(mat2.shape[:2])}.")
    _same_dtype(input, mat2)
    return apply(REGISTRY["bmm"], input, mat2)


def _same_dtype(a, b) -> None:
    from ..dtypes import SCALAR_NAME
    da, db = a.data.dtype, b.data.dtype
    if da != db:
        raise InputError(f"expected scalar type {SCALAR_NAME[da]} but found {SCALAR_NAME[db]}")


register(
    "bmm", "BmmBackward0", np.matmul,
    (lambda F, g, a, b, out: F.bmm(g, F.transpose(b, 1, 2)),
     lambda F, g, a, b, out: F.bmm(F.transpose(a, 1, 2), g)),
    params="input, mat2", group=LINALG, function=bmm, display="{0} @ {1}",
    vjp_order=(1, 0), sympy=STRUCTURAL, derivative=("g @ B.T", "A.T @ g"), grows="matmul")


def _should_fold(a, b) -> bool:
    """PyTorch's should_fold (no ``out=``): the larger operand has 3 or more dims, the
    other at most 2, and the other requires grad or the larger folds without a copy."""
    larger = a if a.ndim >= b.ndim else b
    smaller = b if a.ndim >= b.ndim else a
    if not (larger.ndim >= 3 and smaller.ndim <= 2):
        return False
    if smaller.requires_grad:
        return True
    if a.ndim == 2:
        return False
    t1 = a.data if a.ndim >= b.ndim else np.swapaxes(b.data, -1, -2)
    if t1.size == 0:
        return True
    strides = [s // t1.itemsize for s in t1.strides]
    return all(strides[i] == strides[i + 1] * t1.shape[i + 1] for i in range(t1.ndim - 2))


def matmul_nd(t1, t2):
    """``t1 @ t2`` where an operand has more than 2 dims, as PyTorch's _matmul_impl
    computes it: the larger operand folded into a matrix (mm/mv), or both expanded to
    the broadcast batch shape and multiplied by bmm."""
    F = _ns()
    if _should_fold(t1, t2):
        return _folded(F, t1, t2)
    d1, d2 = t1.ndim, t2.ndim
    n, m1 = (t1.shape[-2] if d1 > 1 else 1), t1.shape[-1]
    m2, p = (t2.shape[-2] if d2 > 1 else t2.shape[0]), (t2.shape[-1] if d2 > 1 else 1)
    batch1, batch2 = t1.shape[:max(d1 - 2, 0)], t2.shape[:max(d2 - 2, 0)]
    if d1 == 3 and d2 == 3 and batch1[0] != batch2[0]:
        if batch1[0] == 1 and t1.requires_grad:
            return F["matmul"](F["squeeze"](t1, 0), t2)
        if batch2[0] == 1 and t2.requires_grad:
            return F["matmul"](t1, F["squeeze"](t2, 0))
    batch = _broadcast(batch1, batch2)
    count = math.prod(batch)
    a = F["reshape"](F["expand"](t1, *batch, n, m1), count, n, m1)
    if d2 == 1:
        b = F["unsqueeze"](F["reshape"](F["expand"](t2, *batch, m2), count, m2), 2)
    else:
        b = F["reshape"](F["expand"](t2, *batch, m2, p), count, m2, p)
    out = F["bmm"](a, b)
    if d2 == 1:
        out = F["squeeze"](out, -1)
    shape = batch + ((n,) if d1 > 1 else ()) + ((p,) if d2 > 1 else ())
    return _unsafe_view(out, shape)


def _folded(F, t1, t2):
    transpose = t2.ndim > t1.ndim
    a = F["transpose"](t2, -2, -1) if transpose else t1
    b = (F["t"](t1) if t1.ndim == 2 else t1) if transpose else t2
    shape = a.shape[:-1]
    folded = F["reshape"](a, math.prod(shape), a.shape[-1])
    if b.ndim == 1:
        return _unsafe_view(F["mv"](folded, b), shape)
    out = _unsafe_view(F["mm"](folded, b), shape + (b.shape[1],))
    if not transpose:
        return out
    out = F["transpose"](out, -2, -1)
    return out if out.data.flags.c_contiguous else F["clone"](out)


def _unsafe_view(x, shape):
    from ..function import apply
    return apply(REGISTRY["unsafe_view"], x, shape=tuple(shape))


def _broadcast(s1: tuple, s2: tuple) -> tuple:
    """PyTorch's infer_size, with its message."""
    n = max(len(s1), len(s2))
    a, b = (1,) * (n - len(s1)) + tuple(s1), (1,) * (n - len(s2)) + tuple(s2)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise ShapeError(f"The size of tensor a ({x}) must match the size of tensor b "
                             f"({y}) at non-singleton dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)


# ---- diag, triu, tril ----------------------------------------------------------------------

def _diag_embed(x, offset):
    """Vectors (the last dim) laid on diagonal ``offset`` of square matrices of zeros
    (object arrays too: the symbolic check)."""
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
    rows = np.arange(x.shape[-1]) + max(-offset, 0)
    out[..., rows, rows + offset] = x
    return out


register("diag_embed", "DiagEmbedBackward0", _diag_embed,
         (lambda F, g, x, out, offset: F.diagonal(g, offset, -2, -1),),
         internal=True, sympy=STRUCTURAL, syntax="diag_embed(x, offset)", shown_as="diag",
         derivative=(prose("1 on the diagonal"),))
register("diagonal_copy", "DiagonalBackward0_copy",
         lambda x, offset: np.diagonal(x, offset).copy(),
         (lambda F, g, x, out, offset: F.diagonal_backward(g, F.layout(x)[0], offset, 0, 1),),
         internal=True, sympy=STRUCTURAL, syntax="diagonal_copy(x, offset)", shown_as="diag",
         derivative=(prose("1 on the diagonal"),))


def diag(input, diagonal=0):
    """A vector's diagonal matrix (diag_embed), or a matrix's diagonal as a new tensor
    (diagonal_copy), as PyTorch's diag records them."""
    from ..function import apply
    from ..signatures import as_tensor
    input = as_tensor(input)
    offset = _offset(diagonal)
    if input.ndim == 1:
        return apply(REGISTRY["diag_embed"], input, offset=offset)
    if input.ndim != 2:
        raise ShapeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    offset = max(-input.shape[0], min(input.shape[1], offset))
    return apply(REGISTRY["diagonal_copy"], input, offset=offset)


def _offset(diagonal, name="diag") -> int:
    from ..signatures import ArgumentError, is_number
    if isinstance(diagonal, bool) or not is_number(diagonal) or \
            not float(diagonal).is_integer():
        raise ArgumentError(f"{name}(): argument 'diagonal' must be int, not "
                            f"{type(diagonal).__name__}")
    diagonal = int(diagonal)
    if not -2 ** 63 <= diagonal < 2 ** 63:
        raise InputError("Overflow when unpacking long long", python_type="ValueError")
    return diagonal


def _diag_elements(input, diagonal=0) -> int:
    """How many elements diag makes: a vector's square matrix (0: it checks the rest)."""
    shape = shape_of(input)
    if len(shape) != 1 or isinstance(diagonal, bool) or not isinstance(diagonal, (int, float)):
        return 0
    return (shape[0] + abs(int(diagonal))) ** 2 if abs(diagonal) < 2 ** 63 else 0


register("diag", function=diag, params="input, diagonal: int = 0", group=LINALG,
         records=("DiagEmbedBackward0", "DiagonalBackward0_copy"), grows=_diag_elements,
         derivative=(prose("1 on the diagonal"),))


def _triangle(name, grad_fn, forward):
    def check(x, diagonal):
        if np.ndim(x) < 2:
            raise ShapeError(f"{name}: input tensor must have at least 2 dimensions")
        rows, cols = np.shape(x)[-2:]
        # beyond the matrix every triangle is the same: numpy takes a C long only
        return forward(x, max(-rows, min(cols, _offset(diagonal, name))))
    register(name, grad_fn, check,
             ((lambda F, g, x, out, diagonal: getattr(F, name)(g, diagonal)),),
             params="input, diagonal: int = 0", group=LINALG, sympy=STRUCTURAL,
             dtype_rule="keep", derivative=(prose(f"1 on the kept triangle ({name})"),))


_triangle("triu", "TriuBackward0", np.triu)
_triangle("tril", "TrilBackward0", np.tril)
