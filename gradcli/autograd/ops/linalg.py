"""Products of vectors and matrices: dot, mv, mm (``@`` dispatches between them)."""

from __future__ import annotations

import numpy as np

from .core import STRUCTURAL, register

register(name="dot", grad_fn="DotBackward0", forward=np.dot, saves="ab", needs=("b", "a"),
         vjps=(lambda F, g, a, b, out: g * b, lambda F, g, a, b, out: g * a),
         sympy=STRUCTURAL, derivative=("b", "a"), syntax="a @ b (1-D @ 1-D), dot(a, b)")
register(name="mv", grad_fn="MvBackward0", forward=np.dot, saves="ab", needs=("b", "a"),
         vjps=(lambda F, g, m, v, out: F.reshape(g, (-1, 1)) * v,
               lambda F, g, m, v, out: F.mv(F.t(m), g)),
         sympy=STRUCTURAL, derivative=("outer(g, v)", "M.T @ g"), syntax="M @ v (2-D @ 1-D)")
def _column_major(x) -> bool:
    """Whether a matrix input was laid out column by column (a transpose, say): PyTorch's
    mm backward then computes the transposed product (and records its TBackward0s)."""
    strides = getattr(x, "strides", None)
    if isinstance(x, np.ndarray):
        strides = tuple(s // x.itemsize for s in x.strides)
    elif hasattr(x, "data") and isinstance(getattr(x, "data"), np.ndarray):
        strides = tuple(s // x.data.itemsize for s in x.data.strides)
    return strides is not None and strides[0] == 1 and strides[1] == x.shape[0]


def _mm_mat1_vjp(F, g, a, b, out):
    if _column_major(a):
        return F.t(F.mm(b, F.t(g)))
    return F.mm(g, F.t(b))


def _mm_mat2_vjp(F, g, a, b, out):
    if _column_major(b):
        return F.t(F.mm(F.t(g), a))
    return F.mm(F.t(a), g)


register(name="mm", grad_fn="MmBackward0", forward=np.dot, saves="ab", needs=("b", "a"),
         geometry=True, vjps=(_mm_mat1_vjp, _mm_mat2_vjp), vjp_order=(1, 0),
         sympy=STRUCTURAL, derivative=("g @ B.T", "A.T @ g"),
         syntax="A @ B (2-D @ 2-D; 1-D @ 2-D adds Unsqueeze/SqueezeBackward4)")
