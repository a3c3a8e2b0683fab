"""LAPACK's LU as PyTorch uses it (getrf's factorisation, getrs's solves), and what the
linear-algebra entries share: the layout LAPACK leaves results in, PyTorch's argument
checks and messages, and ``@``/transposes in backward formulas.

PyTorch's results at the edges come from LAPACK: a singular matrix's determinant is the
product of an exact zero pivot (0), inverse and solve name the first zero pivot in
their error, the gradient of det at a singular matrix is a solve with the zero pivots
replaced by eps, slogdet's a plain solve (inf/NaN).  So the factorisation here is
getrf's (partial pivoting on the first largest |pivot|, multipliers scaled by the
reciprocal; loops over columns only) and the solves are getrs's triangular sweeps.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InputError, ShapeError

# ---- LU (getrf) and its solves (getrs) ----------------------------------------------------

def lu_factor(a):
    """(LU, pivots, info) of a batch of square matrices; info: the first zero pivot
    (1-based) per matrix, 0 if none."""
    a = np.asarray(a)
    shape, n = a.shape, a.shape[-1]
    lu = np.array(a).reshape((math.prod(shape[:-2]), n, n))      # (no -1: n may be 0)
    rows = np.arange(lu.shape[0])
    piv = np.zeros((lu.shape[0], n), dtype=np.int64)
    info = np.zeros(lu.shape[0], dtype=np.int64)
    for k in range(n):
        p = k + np.argmax(np.abs(lu[:, k:, k]), axis=1)
        piv[:, k] = p
        top = lu[rows, k].copy()
        lu[rows, k] = lu[rows, p]
        lu[rows, p] = top
        pivot = lu[:, k, k]
        zero = pivot == 0
        info = np.where(zero & (info == 0), k + 1, info)
        lu[:, k + 1:, k] *= (1 / np.where(zero, 1, pivot))[:, None]
        lu[:, k + 1:, k + 1:] -= lu[:, k + 1:, k, None] * lu[:, None, k, k + 1:]
    return lu.reshape(shape), piv.reshape(shape[:-1]), info.reshape(shape[:-2])


def _swap_rows(b, piv, order):
    rows = np.arange(b.shape[0])
    for k in order:
        p = piv[:, k]
        top = b[rows, k].copy()
        b[rows, k] = b[rows, p]
        b[rows, p] = top


def lu_solve(lu, piv, b, adjoint=False):
    """X with A X = B (A^T X = B if ``adjoint``) from A's LU: getrs's sweeps, dividing
    as the BLAS kernels do (by multiplying with the pivot's reciprocal, zeros not
    skipped), so that a zero pivot gives PyTorch's infinities and NaNs."""
    n = lu.shape[-1]
    batch = np.broadcast_shapes(lu.shape[:-2], b.shape[:-2])
    count = math.prod(batch)
    lu = np.broadcast_to(lu, batch + (n, n)).reshape((count, n, n))
    piv = np.broadcast_to(piv, batch + (n,)).reshape((count, n))
    x = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=np.result_type(lu, b))
    x = x.reshape((count,) + b.shape[-2:])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inverse = 1 / np.diagonal(lu, 0, -2, -1)[..., None]
        if adjoint:
            for i in range(n):                     # U^T
                x[:, i] = (x[:, i] - np.einsum("bk,bkj->bj", lu[:, :i, i], x[:, :i])) \
                    * inverse[:, i]
            for i in range(n - 1, -1, -1):         # L^T (unit diagonal)
                x[:, i] -= np.einsum("bk,bkj->bj", lu[:, i + 1:, i], x[:, i + 1:])
            _swap_rows(x, piv, range(n - 1, -1, -1))
        else:
            _swap_rows(x, piv, range(n))
            for k in range(n):                     # L (unit diagonal)
                x[:, k + 1:] -= lu[:, k + 1:, k, None] * x[:, k, None]
            for k in range(n - 1, -1, -1):         # U
                x[:, k] *= inverse[:, k]
                x[:, :k] -= lu[:, :k, k, None] * x[:, k, None]
    return x.reshape(batch + b.shape[-2:])


def column_major(x):
    """``x`` laid out matrix by matrix column by column, as LAPACK leaves PyTorch's
    inverse, solve and cholesky results (so a later reshape copies, as PyTorch's does)."""
    if x.ndim < 2:
        return x
    return np.swapaxes(np.ascontiguousarray(np.swapaxes(x, -1, -2)), -1, -2)


def row_major(a) -> bool:
    return a.ndim >= 2 and a.flags.c_contiguous


def det_factor(a):
    """det's factorisation: of A^T where A is row-major (PyTorch's shortcut)."""
    return lu_factor(np.swapaxes(a, -1, -2) if row_major(a) else a)


def permutation_sign(piv):
    n = piv.shape[-1]
    return np.where(np.sum(piv != np.arange(n), axis=-1) % 2, -1.0, 1.0)


# ---- argument checks, with PyTorch's messages ------------------------------------------

def square(a, name: str) -> None:
    if a.ndim < 2:
        raise ShapeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{name}: A must be batches of square matrices, but they are "
                         f"{a.shape[-2]} by {a.shape[-1]} matrices")


def raise_singular(info, message) -> None:
    """PyTorch's error for the first matrix of a batch with a zero pivot."""
    bad = np.flatnonzero(np.asarray(info).reshape(-1))
    if bad.size:
        first = bad[0]
        where = f"(Batch element {first}): " if np.ndim(info) else ""
        raise InputError(message(where, int(np.asarray(info).reshape(-1)[first])))


def float_only_message(name: str) -> str:
    return f"{name}: Expected a floating point or complex tensor as input. Got {{dtype}}"


def matmul_of(F, a, b):
    """``a @ b`` of the backward formulas: recorded as PyTorch's matmul records it."""
    if not F.tensor_mode:
        return np.matmul(a, b)
    from ..functional import matmul
    return matmul(a, b)


def mT(F, x):
    return F.transpose(x, -2, -1)
