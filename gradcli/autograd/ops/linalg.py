"""Products of vectors and matrices: dot, mv, mm (``@`` dispatches between them in
:mod:`..functional`: ``matmul``)."""

from __future__ import annotations

import numpy as np

from .core import STRUCTURAL, register

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
         api="torch method",
         records=("DotBackward0", "MvBackward0", "MmBackward0", "SqueezeBackward4"),
         syntax="matmul(input, other), a @ b", derivative=("g @ B.T", "A.T @ g"), grows="matmul")
