"""Determinants, inverses and solves (det, slogdet, logdet, inverse, solve) on an LU
factorisation written after LAPACK's getrf/getrs, as PyTorch computes them.

PyTorch factors with LAPACK and its results at the edges come from that: a singular
matrix's determinant is the product of an exact zero pivot (0), inverse and solve name
the first zero pivot in their error, the gradient of det at a singular matrix is a
solve with the zero pivots replaced by eps (0 where det is 0), slogdet's is a plain
solve (inf/NaN).  So the factorisation here is getrf's (partial pivoting on the first
largest |pivot|, multipliers scaled by the reciprocal; loops over columns only) and the
solves are getrs's triangular sweeps.  det and slogdet factor A^T where A is laid out
row by row (PyTorch's det(A^T) = det(A) shortcut), inverse and solve factor A.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InputError, ShapeError
from .core import REGISTRY, prose, register

LINALG = "linear algebra"


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


def _row_major(a) -> bool:
    return a.ndim >= 2 and a.flags.c_contiguous


def _det_factor(a):
    """det's factorisation: of A^T where A is row-major (PyTorch's shortcut)."""
    return lu_factor(np.swapaxes(a, -1, -2) if _row_major(a) else a)


def _permutation_sign(piv):
    n = piv.shape[-1]
    return np.where(np.sum(piv != np.arange(n), axis=-1) % 2, -1.0, 1.0)


# ---- argument checks, with PyTorch's messages ------------------------------------------

def square(a, name: str) -> None:
    if a.ndim < 2:
        raise ShapeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{name}: A must be batches of square matrices, but they are "
                         f"{a.shape[-2]} by {a.shape[-1]} matrices")


def _singular(info, message) -> None:
    """PyTorch's error for the first matrix of a batch with a zero pivot."""
    bad = np.flatnonzero(np.asarray(info).reshape(-1))
    if bad.size:
        first = bad[0]
        where = f"(Batch element {first}): " if np.ndim(info) else ""
        raise InputError(message(where, int(np.asarray(info).reshape(-1)[first])))


def _float_only(name: str) -> str:
    return f"{name}: Expected a floating point or complex tensor as input. Got {{dtype}}"


def _matmul(F, a, b):
    """``a @ b`` of the backward formulas: recorded as PyTorch's matmul records it."""
    if not F.tensor_mode:
        return np.matmul(a, b)
    from ..functional import matmul
    return matmul(a, b)


def _mT(F, x):
    return F.transpose(x, -2, -1)


# ---- det ----------------------------------------------------------------------------------

def _det(a):
    square(a, "linalg.det")
    lu, piv, _ = _det_factor(a)
    return np.prod(np.diagonal(lu, 0, -2, -1), axis=-1) * _permutation_sign(piv)


def _det_vjp(F, g, A, out):
    """PyTorch's linalg_det_backward: A^{-T} * grad * det by a solve; under create_graph
    with A^T recomputed by linalg_solve (recorded), else from the LU with each zero pivot
    made eps (so 0 where det is 0)."""
    if F.tensor_mode:
        if np.any(np.abs(F.value(out)) < 100 * np.finfo(F.value(out).dtype).eps):
            raise InputError("gradcli cannot differentiate det twice at a (nearly) "
                             "singular matrix (PyTorch uses an SVD there)")
        d = g * out
        shape = F.layout(A)[0]
        eye = F.diag_embed(F.expand(F.unsqueeze(d, -1), shape[:-1]), 0)
        return F.solve(_mT(F, A), _mT(F, eye))
    a = np.asarray(A)
    lu, piv, _ = _det_factor(a)
    diagonal = np.diagonal(lu, 0, -2, -1)
    eps = np.finfo(lu.dtype).eps
    lu = lu + _diag_matrix(np.where(diagonal == 0, eps, 0))
    d = _diag_matrix(np.broadcast_to((g * out)[..., None], diagonal.shape))
    return lu_solve(lu, piv, d, adjoint=not _row_major(a))


def _diag_matrix(v):
    n = v.shape[-1]
    return v[..., None, :] * np.eye(n, dtype=v.dtype)


def _det_sympy(sp, a):
    return _per_matrix(a, lambda m: m.det(method="bareiss"), sp)


def _per_matrix(a, fn, sp):
    """``fn`` of each square matrix of an object array (SymPy Matrix), as an array."""
    a = np.asarray(a, dtype=object)
    out = np.empty(a.shape[:-2], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = fn(sp.Matrix(a[idx].tolist()))
    return out


def _singular_point(a, out):
    """Where PyTorch's gradient of det or slogdet is not the derivative: at a singular
    matrix (an exact zero pivot)."""
    return "a singular matrix (PyTorch's gradient there comes from a zero pivot)" \
        if np.any(_det_factor(np.asarray(a, dtype=float))[2]) else None


register("det", "LinalgDetBackward0", _det, (_det_vjp,), params="input", group=LINALG,
         undefined=_singular_point,
         api="torch method linalg", sympy=_det_sympy, dtype_rule="float_only",
         float_only=_float_only("linalg.det"), derivative=("det(input) * inverse(input).T",))


# ---- inverse and solve ------------------------------------------------------------------

def _inv_message(where, k):
    return (f"linalg.inv: {where}The diagonal element {k} is zero, the inversion could not "
            "be completed because the input matrix is singular.")


def _inverse(a):
    square(a, "linalg.inv")
    lu, piv, info = lu_factor(a)
    _singular(info, _inv_message)
    eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    return column_major(lu_solve(lu, piv, eye))


def _inverse_vjp(F, g, A, out):
    """-inverse^H @ (grad @ inverse^H), as derivatives.yaml writes it."""
    return -_matmul(F, _mT(F, out), _matmul(F, g, _mT(F, out)))


def _inverse_matrix(m):
    """A SymPy matrix's inverse as adjugate / det, the determinant divided in once per
    element (far smaller expressions to differentiate than an LU's)."""
    det = m.det(method="bareiss")
    return m.adjugate().applyfunc(lambda e: e / det)


def _inverse_sympy(sp, a):
    a = np.asarray(a, dtype=object)
    out = np.empty(a.shape, dtype=object)
    for idx in np.ndindex(a.shape[:-2]):
        out[idx] = np.array(_inverse_matrix(sp.Matrix(a[idx].tolist())).tolist(),
                            dtype=object)
    return out


register("inverse", "LinalgInvExBackward0", _inverse, (_inverse_vjp,), params="input",
         group=LINALG, keeps_layout=True, sympy=_inverse_sympy, dtype_rule="float_only",
         float_only=_float_only("linalg.inv"),
         derivative=("-inverse(input).T @ g @ inverse(input).T",))


def inv(A):
    """torch.linalg.inv: torch.inverse under its linalg name."""
    from ..functional import NAMESPACE
    return NAMESPACE["inverse"](A)


register("inv", function=inv, params="A", group=LINALG, api="linalg",
         records=("LinalgInvExBackward0",), derivative=("-inverse(A).T @ g @ inverse(A).T",))


def _vector_rhs(a_shape, b_shape) -> bool:
    """PyTorch's linalg_solve_is_vector_rhs."""
    return len(b_shape) == 1 or (len(b_shape) == len(a_shape) - 1 and
                                 tuple(b_shape) == tuple(a_shape[:-1]))


def _solve_message(where, k):
    return f"torch.linalg.solve: {where}The solver failed because the input matrix is singular."


def _solve(a, b):
    square(a, "linalg.solve")
    vector = _vector_rhs(a.shape, b.shape)
    bm = b[..., None] if vector else b
    if bm.ndim < 2 or bm.shape[-2] != a.shape[-1]:
        raise ShapeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                         f"AX = B ({a.shape[-2]}x{a.shape[-1]} and "
                         f"{'x'.join(map(str, bm.shape[-2:]))})")
    lu, piv, info = lu_factor(a)
    _singular(info, _solve_message)
    x = lu_solve(lu, piv, bm)
    return column_major(x[..., 0] if vector else x)


def _solve_vjps(F, g, A, B, out, wants):
    """PyTorch's linalg_solve_backward: gB = A^{-H} g (recomputed by linalg_solve under
    create_graph, else from A's LU), gA = -gB X^H."""
    a_shape, b_shape = F.layout(A)[0], F.layout(B)[0]
    vector = _vector_rhs(a_shape, b_shape)
    gm = F.unsqueeze(g, -1) if vector else g
    if F.tensor_mode:
        gb = F.solve(_mT(F, A), gm)
    else:
        lu, piv, _ = lu_factor(A)
        gb = lu_solve(lu, piv, gm, adjoint=True)
    x = F.unsqueeze(out, -1) if vector else out
    ga = -_matmul(F, gb, _mT(F, x)) if wants[0] else None
    gB = (F.squeeze(gb, -1) if vector else gb) if wants[1] else None
    return (None if ga is None else F.sum_to(ga, a_shape),
            None if gB is None else F.sum_to(gB, b_shape))


def _solve_sympy(sp, a, b):
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    vector = _vector_rhs(a.shape, b.shape)
    bm = b[..., None] if vector else b
    batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    bm = np.broadcast_to(bm, batch + bm.shape[-2:])
    out = np.empty(bm.shape, dtype=object)
    for idx in np.ndindex(batch):
        x = _inverse_matrix(sp.Matrix(a[idx].tolist())) * sp.Matrix(bm[idx].tolist())
        out[idx] = np.array(x.tolist(), dtype=object)
    return out[..., 0] if vector else out


register("solve", "LinalgSolveExBackward0", _solve, (None, None), joint=_solve_vjps,
         params="A, B", group=LINALG, api="linalg", sympy=_solve_sympy, keeps_layout=True,
         dtype_rule="float_only", float_only=_float_only("linalg.solve"),
         derivative=("-inverse(A).T @ g @ solve(A, B).T", "inverse(A).T @ g"))


# ---- slogdet and logdet ---------------------------------------------------------------------

def _slogdet_parts(a, name):
    square(a, name)
    lu, piv, _ = _det_factor(a)
    diagonal = np.diagonal(lu, 0, -2, -1)
    sign = np.prod(np.sign(diagonal), axis=-1) * _permutation_sign(piv)
    with np.errstate(divide="ignore"):
        return sign.astype(a.dtype), np.sum(np.log(np.abs(diagonal)), axis=-1)


def _logabsdet_vjp(F, g, A, out):
    """PyTorch's slogdet_backward: A^{-T} * grad by a solve (recomputed by linalg_solve
    under create_graph, else from det's LU as it is: a zero pivot gives inf/NaN)."""
    shape = F.layout(A)[0]
    d = F.diag_embed(F.expand(F.unsqueeze(g, -1), shape[:-1]), 0)
    if F.tensor_mode:
        return F.solve(_mT(F, A), d)
    a = np.asarray(A)
    lu, piv, _ = _det_factor(a)
    return lu_solve(lu, piv, d, adjoint=not _row_major(a))


register("slogdet_sign", "LinalgSlogdetBackward0",
         lambda a: _slogdet_parts(a, "linalg.slogdet")[0],
         (lambda F, g, A, out: None,), internal=True, syntax="slogdet(A).sign",
         display="slogdet({0}).sign", derivative=(prose("none (a sign)"),),
         sympy=lambda sp, a: _per_matrix(a, lambda m: sp.sign(m.det(method="bareiss")), sp))
register("slogdet_logabsdet", "LinalgSlogdetBackward0",
         lambda a: _slogdet_parts(a, "linalg.slogdet")[1], (_logabsdet_vjp,),
         internal=True, undefined=_singular_point, syntax="slogdet(A).logabsdet",
         display="slogdet({0}).logabsdet", derivative=("inverse(A).T",),
         sympy=lambda sp, a: _per_matrix(
             a, lambda m: sp.log(sp.Abs(m.det(method="bareiss"))), sp))


def _slogdet(kind: str, A):
    from ..function import apply
    from ..return_types import return_type
    from ..signatures import as_tensor
    A = as_tensor(A)
    _float_input(A, "linalg.slogdet")
    sign = apply(REGISTRY["slogdet_sign"], A)
    return return_type(kind, ("sign", "logabsdet"))(
        sign, apply(REGISTRY["slogdet_logabsdet"], A))


def _float_input(A, name: str) -> None:
    from ..dtypes import SCALAR_NAME
    if A.data.dtype.kind != "f":
        raise InputError(_float_only(name).format(dtype=SCALAR_NAME[A.data.dtype]))


def slogdet(A):
    """(sign, logabsdet) as torch.return_types.slogdet: one LinalgSlogdetBackward0 node
    per part here (PyTorch's one node has both outputs; the sign's gradient is none)."""
    return _slogdet("slogdet", A)


def linalg_slogdet(A):
    """torch.linalg.slogdet: the same, as torch.return_types.linalg_slogdet."""
    return _slogdet("linalg_slogdet", A)


SLOGDET_DERIVATIVE = (prose("sign: none; logabsdet: inverse(A).T"),)
register("slogdet", function=slogdet, params="A", group=LINALG,
         records=("LinalgSlogdetBackward0",), derivative=SLOGDET_DERIVATIVE)
register("linalg_slogdet", function=linalg_slogdet, params="A", group=LINALG, api="linalg",
         records=("LinalgSlogdetBackward0",), derivative=SLOGDET_DERIVATIVE)


def logdet(input):
    """PyTorch's logdet: slogdet's logabsdet, NaN where the sign is -1 (WhereBackward0)."""
    from ..function import apply
    from ..functional import NAMESPACE
    from ..signatures import as_tensor
    A = as_tensor(input)
    square(A.data, "logdet")
    _float_input(A, "logdet")
    sign = _slogdet_parts(A.data, "logdet")[0]
    return NAMESPACE["where"](sign == -1, float("nan"),
                              apply(REGISTRY["slogdet_logabsdet"], A))


register("logdet", function=logdet, params="input", group=LINALG,
         records=("WhereBackward0", "LinalgSlogdetBackward0"),
         derivative=("inverse(input).T",))


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
    gb = F.solve_triangular(_mT(F, A), g, not upper, left)
    ga = None
    if wants[0]:
        ga = -_matmul(F, gb, _mT(F, out)) if left else -_matmul(F, _mT(F, out), gb)
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
        _singular(_not_positive_definite(a), _cholesky_message)
        raise


def _cholesky_vjp(F, g, A, out):
    """PyTorch's cholesky_backward: Phi = tril(L^H gL) symmetrised as
    (Phi + tril(Phi, -1)^H) / 2, then L^{-H} Phi L^{-1} by two triangular solves."""
    phi = F.tril(_matmul(F, _mT(F, out), g), 0)
    sym = F.mul_scalar(phi + _mT(F, F.tril(phi, -1)), 0.5)
    return F.solve_triangular(out, F.solve_triangular(_mT(F, out), sym, True, True),
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
         dtype_rule="float_only", float_only=_float_only("linalg.cholesky"),
         undefined=lambda a, out: None if np.array_equal(a, np.swapaxes(a, -1, -2)) else
         "cholesky of a matrix that is not symmetric (PyTorch reads its lower triangle, "
         "its gradient assumes symmetry)",
         derivative=(prose("L^-T Phi(L^T g) L^-1, Phi: the lower triangle, its diagonal "
                           "halved, symmetrised"),))
