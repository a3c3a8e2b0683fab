"""cholesky (torch.linalg.cholesky) and the triangular solves of its gradient, as
PyTorch's cholesky_backward computes it."""

from __future__ import annotations

import numpy as np

from .core import prose, register
from .lu import float_only_message, matmul_of, mT, raise_singular, column_major, square

LINALG = "linear algebra"


# ---- cholesky (and the triangular solves of its gradient) -------------------------------

def _solve_triangular(a, b, upper, left):
    """X with T X = B (X T = B if not ``left``), T the upper or lower triangle of A."""
    t = np.triu(a) if upper else np.tril(a)
    if left:
        return np.linalg.solve(t, b)
    return np.swapaxes(np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2)),
                       -1, -2)


def _solve_triangular_vjps(F, g, A, B, out, wants, upper, left):
    """PyTorch's linalg_solve_triangular_backward."""
    gb = F.solve_triangular(mT(F, A), g, not upper, left)
    ga = None
    if wants[0]:
        ga = -matmul_of(F, gb, mT(F, out)) if left else -matmul_of(F, mT(F, out), gb)
        ga = F.triu(ga) if upper else F.tril(ga)
    return ga, gb if wants[1] else None


register("solve_triangular", "LinalgSolveTriangularBackward0", _solve_triangular,
         (None, None), joint=_solve_triangular_vjps, internal=True,
         syntax="solve_triangular(A, B, upper, left)")


def _cholesky_message(where, k):
    return (f"linalg.cholesky: {where}The factorization could not be completed because the "
            f"input is not positive-definite (the leading minor of order {k} is not "
            "positive-definite).")


def _not_positive_definite(a):
    """Per matrix, the order of the first leading minor that is not positive-definite
    (0 if none), as potrf's info."""
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    info = np.zeros(flat.shape[0], dtype=np.int64)
    for i, m in enumerate(flat):
        for k in range(1, n + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                info[i] = k
                break
    return info.reshape(a.shape[:-2])


def _cholesky(a):
    square(a, "linalg.cholesky")
    try:
        return column_major(np.linalg.cholesky(a))
    except np.linalg.LinAlgError:
        raise_singular(_not_positive_definite(a), _cholesky_message)
        raise


def _cholesky_vjp(F, g, A, out):
    """PyTorch's cholesky_backward: Phi = tril(L^H gL) symmetrised as
    (Phi + tril(Phi, -1)^H) / 2, then L^{-H} Phi L^{-1} by two triangular solves."""
    phi = F.tril(matmul_of(F, mT(F, out), g), 0)
    sym = F.mul_scalar(phi + mT(F, F.tril(phi, -1)), 0.5)
    return F.solve_triangular(out, F.solve_triangular(mT(F, out), sym, True, True),
                              False, False)


def _cholesky_sympy(sp, a):
    """The Cholesky factor of the symmetric part of A (Cholesky-Banachiewicz): PyTorch's
    gradient is that of the symmetric part (the value reads the lower triangle)."""
    a = np.asarray(a, dtype=object)
    out = np.zeros(a.shape, dtype=object)
    n = a.shape[-1]
    for idx in np.ndindex(a.shape[:-2]):
        m, low = a[idx], out[idx]
        for i in range(n):
            for j in range(i + 1):
                s = (m[i, j] + m[j, i]) / 2 - sum(low[i, k] * low[j, k] for k in range(j))
                low[i, j] = sp.sqrt(s) if i == j else s / low[j, j]
    return out


register("cholesky", "LinalgCholeskyExBackward0", _cholesky, (_cholesky_vjp,),
         params="A", group=LINALG, api="linalg", sympy=_cholesky_sympy, keeps_layout=True,
         dtype_rule="float_only", float_only=float_only_message("linalg.cholesky"),
         undefined=lambda a, out: None if np.array_equal(a, np.swapaxes(a, -1, -2)) else
         "cholesky of a matrix that is not symmetric (PyTorch reads its lower triangle, "
         "its gradient assumes symmetry)",
         derivative=(prose("L^-T Phi(L^T g) L^-1, Phi: the lower triangle, its diagonal "
                           "halved, symmetrised"),))
