"""var and std (correction / unbiased), amax and amin, argmax and argmin.

Backward formulas are PyTorch's (FunctionsManual.cpp): var's is
``(2 / (N - correction)) * g * (x - x.mean(dim, True))`` (over the whole tensor with
N <= correction: inf, or NaN where x equals its mean); std's is var's of
``g / (2 * std)`` with 0 where std is 0; amax/amin split the gradient evenly between the
tied extremes of each slice.  argmax/argmin give int64 indices (no gradient).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ...errors import InputError, ShapeError
from .core import REGISTRY, prose, reduce_objects, register, where_any
from .elementwise import MAX_MIN

RED = "reductions"
VAR_INT = "std and var only support floating point and complex dtypes"


# ---- var / std -------------------------------------------------------------------------

def _axes(shape, dim) -> tuple:
    """The reduced axes: ``dim`` None (no dim given) is every one."""
    return tuple(range(len(shape))) if dim is None else dim


def _dof(shape, dim, correction) -> float:
    return math.prod(shape[d] for d in _axes(shape, dim)) - correction


def _var(x, dim, correction, keepdim):
    return _variance(x, dim, correction, keepdim).astype(x.dtype, copy=False)


def _std(x, dim, correction, keepdim):
    return np.sqrt(_variance(x, dim, correction, keepdim)).astype(x.dtype, copy=False)


def _variance(x, dim, correction, keepdim):
    """Sum of squared deviations / (N - correction); float32 in float64 (PyTorch's CPU
    kernel accumulates in double; var and std round once)."""
    dim = _axes(x.shape, dim)
    n = math.prod(x.shape[d] for d in dim)
    work = x.astype(np.float64) if x.dtype == np.float32 else x
    mean = np.mean(work, axis=dim, keepdims=True) if n else np.full(
        [1 if i in dim else s for i, s in enumerate(x.shape)], np.nan, work.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(np.square(work - mean), axis=dim, keepdims=keepdim) / max(
            n - correction, 0)


def _var_vjp(F, g, x, out, dim, correction, keepdim):
    """PyTorch's var_backward (``dim`` None: no dim given, the whole tensor's)."""
    shape = F.value(x).shape
    if dim is None or not shape:
        dof = math.prod(shape) - correction
        if dof <= 0:
            xv = F.value(x)
            at_mean = F.const(np.where(xv == np.mean(xv), math.nan, math.inf))
            return g * at_mean
        return F.mul_scalar(g, 2.0 / dof) * (x - F.mean(x))
    if not keepdim and len(shape) > 1:
        for d in sorted(dim):
            g = F.unsqueeze(g, d)
    dof = _dof(shape, dim, correction)
    scale = 2.0 / dof if dof else math.inf
    return F.mul_scalar(g, scale) * (x - F.mean_dim(x, dim=dim, keepdim=True))


def _std_vjp(F, g, x, out, dim, correction, keepdim):
    """PyTorch's std_backward: var_backward of (g / (2 * std)), 0 where std is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g_var = F.written(F.masked_fill(g / F.mul_scalar(out, 2), mask=F.value(out) == 0,
                                        value=0))
    return _var_vjp(F, g_var, x, out, dim, correction, keepdim)


def _var_sympy(sp, x, dim, correction, keepdim, root=False):
    c = sp.nsimplify(correction)

    def var(*e):
        mean = sp.Add(*e) / len(e)
        value = sp.Add(*[(t - mean) ** 2 for t in e]) / (len(e) - c)
        return sp.sqrt(value) if root else value
    return reduce_objects(var, x, _axes(np.shape(x), dim), keepdim)


def _few_dof(x, out, dim, correction, keepdim):
    return where_any(_dof(np.shape(x), dim, correction) <= 0,
                     "no degrees of freedom left (N <= correction): PyTorch gives inf/NaN")


def _std_undefined(x, out, dim, correction, keepdim):
    return _few_dof(x, out, dim, correction, keepdim) or where_any(
        out == 0, "std is 0 (a kink of sqrt: PyTorch gives the gradient 0)")


def _statistic(name: str):
    def fn(input, dim=None, unbiased=None, keepdim=False, correction=None):
        """var/std(x, dim=None, *, correction=1, keepdim=False), or with unbiased:
        var(x, unbiased), var(x, dim, unbiased, keepdim) (PyTorch's overloads)."""
        from ..function import apply
        from ..signatures import as_tensor, dims_of
        x = as_tensor(input)
        if isinstance(dim, (bool, np.bool_)):
            if unbiased is not None:
                raise InputError(f"{name}() received an invalid combination of arguments",
                                 python_type="TypeError")
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise InputError(f"{name}() received an invalid combination of arguments - got "
                             "(Tensor, unbiased=bool, correction=...): give one of unbiased "
                             "and correction", python_type="TypeError")
        correction = _correction(name, unbiased, correction)
        if isinstance(dim, (list, tuple)) and not dim:
            dim = None      # PyTorch reduces everything (its gradient there is inf: a bug)
        dims = None if dim is None else dims_of(x, _dim_list(name, dim))
        if _dof(x.shape, dims, correction) <= 0:
            warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be "
                          "strictly less than the reduction factor (input numel divided by "
                          "output numel).", UserWarning, stacklevel=2)
        return apply(REGISTRY[name], x, dim=dims, correction=correction,
                     keepdim=bool(keepdim))
    fn.__name__ = fn.__qualname__ = name
    return fn


def _correction(name, unbiased, correction) -> float:
    if correction is None:
        if unbiased is None:
            return 1.0
        if not isinstance(unbiased, (bool, np.bool_, int)) or unbiased not in (0, 1):
            raise InputError(f"{name}(): argument 'unbiased' must be bool, not "
                             f"{type(unbiased).__name__}", python_type="TypeError")
        return 1.0 if unbiased else 0.0
    if isinstance(correction, bool) or not isinstance(correction, (int, float, np.number)):
        raise InputError(f"{name}(): argument 'correction' must be a number, not "
                         f"{type(correction).__name__}", python_type="TypeError")
    return float(correction)


def _dim_list(name, dim):
    items = dim if isinstance(dim, (list, tuple)) else (dim,)
    for d in items:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, float, np.number)) \
                or not float(d).is_integer():
            raise InputError(f"{name}() received an invalid combination of arguments - "
                             f"dim must be an int or a tuple of ints, got {dim!r}",
                             python_type="TypeError")
    return dim


STAT_PARAMS = ("input, dim: any = None, unbiased: any = None, keepdim: bool = False, "
               "correction: number? = None")
register(
    "var", "VarBackward0", _var, (_var_vjp,), params=STAT_PARAMS, group=RED,
    function=_statistic("var"), sympy=_var_sympy, undefined=_few_dof,
    derivative=("2*(x - mean(x))/(N - correction)",), dtype_rule="float_only",
    float_only=VAR_INT, keeps_layout=False)
register(
    "std", "StdBackward0", _std, (_std_vjp,), params=STAT_PARAMS, group=RED,
    function=_statistic("std"),
    sympy=lambda sp, x, dim, correction, keepdim: _var_sympy(
        sp, x, dim, correction, keepdim, root=True),
    undefined=_std_undefined, derivative=("(x - mean(x))/((N - correction)*std(x))",),
    dtype_rule="float_only", float_only=VAR_INT, keeps_layout=False)


# ---- amax / amin: ties share the gradient evenly ----------------------------------------

def _extreme(name: str, fn):
    def forward(x, dim, keepdim):
        dim = dim or ()                       # None, as (): every dimension
        if not dim and x.size == 0:
            raise ShapeError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0. Specify the reduction dim with the 'dim' "
                             "argument.")
        for d in dim:
            if x.shape[d] == 0:
                raise InputError(f"{name}(): Expected reduction dim {d} to have non-zero "
                                 "size.", python_type="IndexError")
        return fn(x, axis=dim or None, keepdims=keepdim)
    return forward


def _amax_vjp(F, g, x, out, dim, keepdim):
    """scale_grad_by_count(restore_reduced_dims(g), restore_reduced_dims(out) == x, dim):
    (g / count) * mask, the reduced dims restored with a view."""
    xv = F.value(x)
    axes = dim or tuple(range(xv.ndim))
    kept = tuple(1 if i in axes else n for i, n in enumerate(xv.shape))
    if not keepdim:
        g = F.reshape(g, kept)
    mask = xv == np.reshape(F.value(out), kept)
    count = np.sum(mask, axis=axes, keepdims=True).astype(xv.dtype)
    return F.div(g, F.const(count)) * F.const(mask.astype(xv.dtype))


def _tied(x, out, dim, keepdim):
    axes = dim or tuple(range(np.ndim(x)))
    kept = tuple(1 if i in axes else n for i, n in enumerate(np.shape(x)))
    ties = np.sum(x == np.reshape(out, kept), axis=axes) > 1
    return where_any(ties, "a tie for the extreme element (PyTorch splits the gradient "
                           "evenly)")


for _name, _grad_fn, _fn, _sp in (("amax", "AmaxBackward0", np.amax, "Max"),
                                  ("amin", "AminBackward0", np.amin, "Min")):
    register(_name, _grad_fn, _extreme(_name, _fn), (_amax_vjp,),
             params="input, dim: dims = (), keepdim: bool = False", group=RED,
             sympy=(lambda f: lambda sp, x, dim, keepdim: reduce_objects(
                 getattr(sp, f), x, dim or None, keepdim))(_sp), numeric=MAX_MIN,
             undefined=_tied, dtype_rule="keep", keeps_layout=False,
             derivative=(prose(f"1/k on the k {_name[1:]}imal elements of each slice, "
                               "0 elsewhere"),))


# ---- argmax / argmin: int64 indices, no gradient ----------------------------------------

def _arg(name: str, fn):
    def forward(x, dim, keepdim):
        if x.dtype == bool:
            raise InputError(f"{name}(): does not support bool input")
        if dim is None:
            if x.size == 0:
                raise ShapeError(f"{name}(): Expected reduction dim to be specified for "
                                 "input.numel() == 0.")
            out = np.asarray(fn(x))
            return out.reshape((1,) * x.ndim) if keepdim else out
        if x.ndim == 0:
            return np.zeros((), dtype=np.int64)
        if x.shape[dim] == 0:
            raise InputError(f"{name}(): Expected reduction dim {dim} to have non-zero size.",
                             python_type="IndexError")
        out = fn(x, axis=dim)
        return np.expand_dims(out, dim) if keepdim else out
    return lambda x, dim, keepdim: forward(x, dim, keepdim).astype(np.int64)


for _name, _fn in (("argmax", np.argmax), ("argmin", np.argmin)):
    register(_name, _name.capitalize() + "Backward0", _arg(_name, _fn), (None,),
             params="input, dim: dim = None, keepdim: bool = False", group=RED,
             dtype_rule="keep", derivative=(prose("none (integer indices)"),))
