"""Determinants, inverses and solves (det, slogdet, logdet, inverse, solve), on the LU of
:mod:`.lu` as PyTorch computes them.  det and slogdet factor A^T where A is laid out row
by row (PyTorch's det(A^T) = det(A) shortcut), inverse and solve factor A.
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError, ShapeError
from .core import REGISTRY, prose, register
from .lu import (det_factor, float_only_message, matmul_of, mT, permutation_sign, row_major,
                 raise_singular, column_major, lu_factor, lu_solve, square)

LINALG = "linear algebra"


# ---- det ----------------------------------------------------------------------------------

def _det(a):
    square(a, "linalg.det")
    lu, piv, _ = det_factor(a)
    return np.prod(np.diagonal(lu, 0, -2, -1), axis=-1) * permutation_sign(piv)


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
        return F.solve(mT(F, A), mT(F, eye))
    a = np.asarray(A)
    lu, piv, _ = det_factor(a)
    diagonal = np.diagonal(lu, 0, -2, -1)
    eps = np.finfo(lu.dtype).eps
    lu = lu + _diag_matrix(np.where(diagonal == 0, eps, 0))
    d = _diag_matrix(np.broadcast_to((g * out)[..., None], diagonal.shape))
    return lu_solve(lu, piv, d, adjoint=not row_major(a))


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
        if np.any(det_factor(np.asarray(a, dtype=float))[2]) else None


register("det", "LinalgDetBackward0", _det, (_det_vjp,), params="input", group=LINALG,
         undefined=_singular_point,
         api="torch method linalg", sympy=_det_sympy, dtype_rule="float_only",
         float_only=float_only_message("linalg.det"), derivative=("det(input) * inverse(input).T",))


# ---- inverse and solve ------------------------------------------------------------------

def _inv_message(where, k):
    return (f"linalg.inv: {where}The diagonal element {k} is zero, the inversion could not "
            "be completed because the input matrix is singular.")


def _inverse(a):
    square(a, "linalg.inv")
    lu, piv, info = lu_factor(a)
    raise_singular(info, _inv_message)
    eye = np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape)
    return column_major(lu_solve(lu, piv, eye))


def _inverse_vjp(F, g, A, out):
    """-inverse^H @ (grad @ inverse^H), as derivatives.yaml writes it."""
    return -matmul_of(F, mT(F, out), matmul_of(F, g, mT(F, out)))


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
         float_only=float_only_message("linalg.inv"),
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


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _solve(a, b, left=True):
    """X with A X = B, or X A = B (``left=False``: A^T X^T = B^T, transposed back)."""
    square(a, "linalg.solve")
    vector = _vector_rhs(a.shape, b.shape)
    bm = b[..., None] if vector else b
    if bm.ndim < 2 or bm.shape[-2 if left else -1] != a.shape[-1]:
        raise ShapeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                         f"{'AX' if left else 'XA'} = B ({a.shape[-2]}x{a.shape[-1]} and "
                         f"{'x'.join(map(str, bm.shape[-2:]))})")
    if vector and not left:
        raise ShapeError("linalg.solve: Vector broadcasting of the left hand side is not "
                         "supported for left=False. In this case linalg.solve is equivalent "
                         "to B / A.squeeze(-1)")
    lu, piv, info = lu_factor(a if left else _swap(a))
    raise_singular(info, _solve_message)
    if not left:
        return _swap(column_major(lu_solve(lu, piv, _swap(bm))))
    x = lu_solve(lu, piv, bm)
    return column_major(x[..., 0] if vector else x)


def _solve_vjps(F, g, A, B, out, wants, left=True):
    """PyTorch's linalg_solve_backward: gB = A^{-H} g (g A^{-H} if not ``left``),
    recomputed by linalg_solve under create_graph, else from A's LU; gA = -gB X^H
    (-X^H gB)."""
    a_shape, b_shape = F.layout(A)[0], F.layout(B)[0]
    vector = _vector_rhs(a_shape, b_shape)
    gm = F.unsqueeze(g, -1) if vector else g
    if F.tensor_mode:
        gb = F.solve(mT(F, A), gm, left)
    else:
        lu, piv, _ = lu_factor(A)
        gb = lu_solve(lu, piv, gm, adjoint=True) if left else \
            _swap(lu_solve(lu, piv, _swap(gm)))
    x = F.unsqueeze(out, -1) if vector else out
    ga = None
    if wants[0]:
        ga = -matmul_of(F, gb, mT(F, x)) if left else -matmul_of(F, mT(F, x), gb)
    gB = (F.squeeze(gb, -1) if vector else gb) if wants[1] else None
    return (None if ga is None else F.sum_to(ga, a_shape),
            None if gB is None else F.sum_to(gB, b_shape))


def _solve_sympy(sp, a, b, left=True):
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    vector = _vector_rhs(a.shape, b.shape)
    bm = b[..., None] if vector else b
    batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
    a = np.broadcast_to(a, batch + a.shape[-2:])
    bm = np.broadcast_to(bm, batch + bm.shape[-2:])
    out = np.empty(bm.shape, dtype=object)
    for idx in np.ndindex(batch):
        inverse, rhs = _inverse_matrix(sp.Matrix(a[idx].tolist())), sp.Matrix(bm[idx].tolist())
        x = inverse * rhs if left else rhs * inverse
        out[idx] = np.array(x.tolist(), dtype=object)
    return out[..., 0] if vector else out


register("solve", "LinalgSolveExBackward0", _solve, (None, None), joint=_solve_vjps,
         params="A, B, left: bool = True", group=LINALG, api="linalg", sympy=_solve_sympy,
         keeps_layout=True, dtype_rule="float_only",
         float_only=float_only_message("linalg.solve"),
         derivative=("-inverse(A).T @ g @ solve(A, B).T", "inverse(A).T @ g"))


# ---- slogdet and logdet ---------------------------------------------------------------------

def _slogdet_parts(a, name):
    square(a, name)
    lu, piv, _ = det_factor(a)
    diagonal = np.diagonal(lu, 0, -2, -1)
    sign = np.prod(np.sign(diagonal), axis=-1) * permutation_sign(piv)
    with np.errstate(divide="ignore"):
        return sign.astype(a.dtype), np.sum(np.log(np.abs(diagonal)), axis=-1)


def _logabsdet_vjp(F, g, A, out):
    """PyTorch's slogdet_backward: A^{-T} * grad by a solve (recomputed by linalg_solve
    under create_graph, else from det's LU as it is: a zero pivot gives inf/NaN)."""
    shape = F.layout(A)[0]
    d = F.diag_embed(F.expand(F.unsqueeze(g, -1), shape[:-1]), 0)
    if F.tensor_mode:
        return F.solve(mT(F, A), d)
    a = np.asarray(A)
    lu, piv, _ = det_factor(a)
    return lu_solve(lu, piv, d, adjoint=not row_major(a))


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
        raise InputError(float_only_message(name).format(dtype=SCALAR_NAME[A.data.dtype]))


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
