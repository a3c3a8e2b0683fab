"""Loss ops: mse, smooth L1, Huber, binary cross-entropy (on probabilities and on
logits) and negative log-likelihood, each with ``reduction`` 'mean' | 'sum' | 'none'.

Inputs arrive as PyTorch's kernels get them: input and target broadcast to one shape
(``nn_functional`` expands them as torch.nn.functional does), weights cast to the
input's dtype and expanded, class indices as an integer array.  Weights and class
indices are parameters, never inputs: PyTorch does not differentiate them either.

Forwards and gradients follow PyTorch's CPU kernels operation by operation (the same
products in the same order, the scale factor rounded to the input's dtype first), so
float32 results round as PyTorch's do.  The gradient of mse, smooth L1, Huber, BCE and
NLL is itself an op, as in PyTorch (``MseLossBackwardBackward0`` under create_graph),
whose VJPs are the second derivatives PyTorch's derivatives.yaml gives.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import InputError
from .core import exact, prose, register, where_any
from .elementwise import MAX_MIN

_max = MAX_MIN["Max"]

REDUCTIONS = ("none", "mean", "sum")
LOSSES = "losses"
LEGACY = "size_average: any = None, reduce: any = None, reduction: str{none|mean|sum|elementwise_mean} = 'mean'"
BCE_EPSILON = 1e-12          # PyTorch's clamp of x*(1-x) in the BCE gradient


def python_error(kind, message: str, python_type: str):
    """A gradcli error that remembers the Python exception PyTorch raises for it
    (``ValueError``, ``IndexError``; ``RuntimeError`` when unset), for `gradcli run`."""
    error = kind(message)
    error.python_type = python_type
    return error


# ---- shared helpers (numpy side) -------------------------------------------------------

def reduce_loss(loss, reduction: str):
    """PyTorch's apply_loss_reduction; the mean of nothing is NaN, the sum 0."""
    if reduction == "none":
        return loss
    if loss.size == 0:
        return np.asarray(np.nan if reduction == "mean" else 0.0, dtype=loss.dtype)
    return np.mean(loss) if reduction == "mean" else np.sum(loss)


def scale(reduction: str, n: int, factor: float, dtype):
    """``factor / n`` for a mean, else ``factor``, computed in double and then rounded to
    ``dtype`` (PyTorch passes it to the kernel as a scalar_t)."""
    value = (factor / n if n else math.inf) if reduction == "mean" else factor
    return np.dtype(dtype).type(value)


def numel(x) -> int:
    """Element count of an array, a Tensor or a Meta (all have ``shape``)."""
    return math.prod(x.shape)


def sym_reduce(sp, losses, reduction: str):
    losses = np.asarray(losses, dtype=object)
    if reduction == "none":
        return losses
    if losses.size == 0:
        return sp.nan if reduction == "mean" else sp.Integer(0)
    total = sp.Add(*losses.reshape(-1))
    return total / losses.size if reduction == "mean" else total


def sym_weight(sp, weight, like):
    """Weights as exact SymPy numbers, shaped to broadcast against ``like`` (1 if None)."""
    if weight is None:
        return np.ones(np.shape(like), dtype=object) * sp.Integer(1)
    return np.frompyfunc(lambda v: exact(sp, v), 1, 1)(np.asarray(weight, dtype=float))


def grad_output_vjp(F, backward_op: str, gg, g, a, b, reduction, **params):
    """d/d(grad_output) of a loss gradient, linear in grad_output: for 'none' the gradient
    op itself applied to gg; reduced, sum(gg * gradient at grad_output = 1) (PyTorch's
    *_double_backward_grad_output)."""
    fn = getattr(F, backward_op)
    if reduction == "none":
        return fn(gg, a, b, reduction=reduction, **params)
    one = F.const(np.ones((), dtype=F.value(gg).dtype))
    return F.sum(fn(one, a, b, reduction=reduction, **params) * gg)


def _mean_div(F, t, reduction, n):
    return F.nn_div_scalar(t, other=n) if reduction == "mean" else t


# ---- mse, smooth L1 and Huber: symmetric in (input, target) ---------------------------

def _register_distance_loss(name, grad_fn, forward, backward, second, sympy, derivative,
                            params, undefined=None):
    """A loss of d = input - target: the loss op, its gradient op, and the VJPs between
    them.  ``backward(g, a, b, reduction, **extra)`` is PyTorch's *_loss_backward kernel;
    ``second(F, t, a, b, reduction, **extra)`` turns t = gg * grad_output into the second
    derivative wrt the input (minus that wrt the target)."""
    bname = f"{name}_backward"

    def vjp_input(F, g, a, b, out, reduction="mean", **extra):
        return getattr(F, bname)(g, a, b, reduction=reduction, **extra)

    def vjp_target(F, g, a, b, out, reduction="mean", **extra):
        return getattr(F, bname)(g, b, a, reduction=reduction, **extra)

    def vjp_g(F, gg, g, a, b, out, reduction="mean", **extra):
        return grad_output_vjp(F, bname, gg, g, a, b, reduction, **extra)

    def vjp_a(F, gg, g, a, b, out, reduction="mean", **extra):
        return second(F, gg * g, a, b, reduction, **extra)

    def vjp_b(F, gg, g, a, b, out, reduction="mean", **extra):
        return -second(F, gg * g, a, b, reduction, **extra)

    register(name, grad_fn, forward, (vjp_input, vjp_target), params=params, group=LOSSES,
             api="F", function=f"nn_losses:{name}", broadcasts=True, sympy=sympy,
             derivative=derivative, undefined=undefined)
    register(bname, grad_fn.replace("Backward0", "BackwardBackward0"), backward,
             (vjp_g, vjp_a, vjp_b), internal=True, broadcasts=True,
             syntax=f"{bname}(g, input, target)")


def _mse(a, b, reduction="mean"):
    d = a - b
    return reduce_loss(d * d, reduction)


def _mse_backward(g, a, b, reduction="mean"):
    d = a - b
    return scale(reduction, d.size, 2.0, d.dtype) * d * g


def _mse_second(F, t, a, b, reduction):
    n = math.prod(np.broadcast_shapes(a.shape, b.shape))
    return _mean_div(F, F.nn_mul_scalar(t, other=2.0), reduction, n)


_register_distance_loss(
    "mse_loss", "MseLossBackward0", _mse, _mse_backward, _mse_second,
    sympy=lambda sp, a, b, reduction="mean": sym_reduce(sp, (a - b) * (a - b), reduction),
    derivative=("2*(a - b)/N", "-2*(a - b)/N"),
    params=f"input, target, {LEGACY}, weight: tensor? = None")


def _smooth_l1(a, b, reduction="mean", beta=1.0):
    z = np.abs(a - b)
    beta, half = z.dtype.type(beta), z.dtype.type(0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(z < beta, half * z * z / beta, z - half * beta)
    return reduce_loss(loss, reduction)


def _smooth_l1_backward(g, a, b, reduction="mean", beta=1.0):
    x = a - b
    norm, beta = scale(reduction, x.size, 1.0, x.dtype), x.dtype.type(beta)
    return np.where(x <= -beta, -norm * g, np.where(x >= beta, norm * g, norm * x * g / beta))


def _smooth_l1_second(F, t, a, b, reduction, beta=1.0):
    inside = np.abs(F.value(a) - F.value(b)) < beta
    t = F.nn_div_scalar(t * F.const(inside.astype(F.value(t).dtype)), other=beta)
    return _mean_div(F, t, reduction, numel(inside))


def _kink(width_name):
    def undefined(a, b, out, reduction="mean", **extra):
        return where_any(np.abs(a - b) == extra.get(width_name, 1.0),
                         f"|input - target| = {width_name}: the loss switches formula there")
    return undefined


_register_distance_loss(
    "smooth_l1_loss", "SmoothL1LossBackward0", _smooth_l1, _smooth_l1_backward,
    _smooth_l1_second,
    sympy=lambda sp, a, b, reduction="mean", beta=1.0: sym_reduce(sp, np.frompyfunc(
        lambda d: sp.Piecewise((d * d / (2 * exact(sp, beta)), sp.Abs(d) < exact(sp, beta)),
                               (sp.Abs(d) - exact(sp, beta) / 2, True)), 1, 1)(a - b),
        reduction),
    derivative=("clamp((a - b)/beta, -1, 1)/N", "-clamp((a - b)/beta, -1, 1)/N"),
    params=f"input, target, {LEGACY}, beta: number = 1.0", undefined=_kink("beta"))


def _huber(a, b, reduction="mean", delta=1.0):
    z = np.abs(a - b)
    delta, half = z.dtype.type(delta), z.dtype.type(0.5)
    return reduce_loss(np.where(z < delta, half * z * z, delta * (z - half * delta)), reduction)


def _huber_backward(g, a, b, reduction="mean", delta=1.0):
    x = a - b
    norm, delta = scale(reduction, x.size, 1.0, x.dtype), x.dtype.type(delta)
    return np.where(x <= -delta, -norm * g * delta,
                    np.where(x >= delta, norm * g * delta, norm * x * g))


def _huber_second(F, t, a, b, reduction, delta=1.0):
    inside = np.abs(F.value(a) - F.value(b)) < delta
    return _mean_div(F, t * F.const(inside.astype(F.value(t).dtype)), reduction,
                     numel(inside))


_register_distance_loss(
    "huber_loss", "HuberLossBackward0", _huber, _huber_backward, _huber_second,
    sympy=lambda sp, a, b, reduction="mean", delta=1.0: sym_reduce(sp, np.frompyfunc(
        lambda d: sp.Piecewise((d * d / 2, sp.Abs(d) < exact(sp, delta)),
                               (exact(sp, delta) * (sp.Abs(d) - exact(sp, delta) / 2), True)),
        1, 1)(a - b), reduction),
    derivative=("clamp(a - b, -delta, delta)/N", "-clamp(a - b, -delta, delta)/N"),
    params="input, target, reduction: str{none|mean|sum} = 'mean', delta: number = 1.0, "
           "weight: tensor? = None", undefined=_kink("delta"))


# ---- binary cross-entropy on probabilities ---------------------------------------------

def _bce(x, y, weight=None, reduction="mean"):
    if not np.all((x >= 0) & (x <= 1)):
        raise InputError("all elements of input should be between 0 and 1")
    if not np.all((y >= 0) & (y <= 1)):
        raise InputError("all elements of target should be between 0 and 1")
    one, floor = x.dtype.type(1), x.dtype.type(-100)
    with np.errstate(divide="ignore"):
        loss = (y - one) * np.maximum(np.log1p(-x), floor) - y * np.maximum(np.log(x), floor)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


def _bce_backward(g, x, y, weight=None, reduction="mean"):
    one, eps = x.dtype.type(1), x.dtype.type(BCE_EPSILON)
    out = g * (x - y) / np.maximum((one - x) * x, eps)
    if weight is not None:
        out = out * weight
    return out / x.dtype.type(x.size) if reduction == "mean" else out


def _weighted(F, t, weight):
    return t if weight is None else t * F.const(weight)


def _bce_vjp_target(F, g, x, y, out, weight=None, reduction="mean"):
    """PyTorch's binary_cross_entropy_target_backward: -logit(x) * g."""
    t = _weighted(F, -F.log(x / (1 - x)) * g, weight)
    return _mean_div(F, t, reduction, numel(x))


def _bce_second_grad_output(F, gg, g, x, y, out, weight=None, reduction="mean"):
    t = _weighted(F, (x - y) / ((x + BCE_EPSILON) * (1 - x + BCE_EPSILON)), weight)
    if reduction == "none":
        return t * gg
    return _mean_div(F, F.sum(t * gg), reduction, numel(x))


def _bce_second_input(F, gg, g, x, y, out, weight=None, reduction="mean"):
    a, b = x + BCE_EPSILON, 1 - x + BCE_EPSILON
    t = _weighted(F, (x * x - 2 * x * y + y) / (a * a * (b * b)), weight) * (gg * g)
    return _mean_div(F, t, reduction, numel(x))


def _bce_second_target(F, gg, g, x, y, out, weight=None, reduction="mean"):
    denom = np.maximum((1 - F.value(x)) * F.value(x), BCE_EPSILON)
    t = _weighted(F, -gg * g, weight) / F.const(denom.astype(F.value(x).dtype))
    return _mean_div(F, t, reduction, numel(x))


def _bce_sympy(sp, x, y, weight=None, reduction="mean"):
    def elem(p, t, w):
        return -w * (t * sp.Max(sp.log(p), -100) + (1 - t) * sp.Max(sp.log(1 - p), -100))
    return sym_reduce(sp, np.frompyfunc(elem, 3, 1)(x, y, sym_weight(sp, weight, x)),
                      reduction)


register("binary_cross_entropy", "BinaryCrossEntropyBackward0", _bce,
         (lambda F, g, x, y, out, weight=None, reduction="mean":
          F.binary_cross_entropy_backward(g, x, y, weight=weight, reduction=reduction),
          _bce_vjp_target),
         params=f"input, target, weight: const? = None, {LEGACY}", group=LOSSES, api="F",
         function="nn_losses:binary_cross_entropy", sympy=_bce_sympy,
         numeric={"Max": _max, "log": np.log},
         derivative=("weight*(x - y)/(x*(1 - x))/N", "-weight*log(x/(1 - x))/N"),
         undefined=lambda x, y, out, weight=None, reduction="mean": where_any(
             (1 - x) * x < BCE_EPSILON, "x is within 1e-12 of 0 or 1, where PyTorch clamps"))
register("binary_cross_entropy_backward", "BinaryCrossEntropyBackwardBackward0", _bce_backward,
         (_bce_second_grad_output, _bce_second_input, _bce_second_target), internal=True,
         syntax="binary_cross_entropy_backward(g, input, target)")


# ---- binary cross-entropy on logits: one node, a composite gradient -------------------

def log_sigmoid(x):
    """log(sigmoid(x)) without overflow: min(x, 0) - log1p(exp(-|x|))."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _bce_logits(x, y, weight=None, pos_weight=None, reduction="mean"):
    one = x.dtype.type(1)
    lsi = log_sigmoid(x)
    if pos_weight is not None:
        lsi = lsi * ((pos_weight - one) * y + one)
    loss = (one - y) * x - lsi
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


def _bce_logits_vjp_input(F, g, x, y, out, weight=None, pos_weight=None, reduction="mean"):
    """PyTorch's binary_cross_entropy_with_logits_backward, op for op."""
    if pos_weight is None:
        t = F.sigmoid(x) - y
    else:
        pw_y = pos_weight * y
        t = ((pw_y + 1) - y) * F.sigmoid(x) - pw_y
    return _mean_div(F, _weighted(F, t * g, weight), reduction, numel(x))


def _bce_logits_vjp_target(F, g, x, y, out, weight=None, pos_weight=None, reduction="mean"):
    if pos_weight is None:
        t = -x * g
    else:
        t = (F.neg(F.softplus(x)) - F.neg(F.softplus(-x)) * pos_weight) * g
    return _mean_div(F, _weighted(F, t, weight), reduction, numel(x))


def _bce_logits_sympy(sp, x, y, weight=None, pos_weight=None, reduction="mean"):
    pw = sym_weight(sp, pos_weight, x)

    def elem(z, t, w, p):
        return w * ((1 - t) * z + (1 + (p - 1) * t) * sp.log(1 + sp.exp(-z)))
    return sym_reduce(sp, np.frompyfunc(elem, 4, 1)(x, y, sym_weight(sp, weight, x), pw),
                      reduction)


register("binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0",
         _bce_logits, (_bce_logits_vjp_input, _bce_logits_vjp_target),
         params=f"input, target, weight: const? = None, {LEGACY}, pos_weight: const? = None",
         group=LOSSES, api="torch F", function="nn_losses:binary_cross_entropy_with_logits",
         sympy=_bce_logits_sympy,
         derivative=("weight*((pos_weight*y + 1 - y)*sigmoid(x) - pos_weight*y)/N",
                     "weight*((pos_weight - 1)*log(1 + exp(-x)) - x)/N"))


# ---- negative log-likelihood -----------------------------------------------------------

def _classes(x) -> int:
    return x.shape[0] if len(x.shape) == 1 else x.shape[1]


def nll_terms(x, target, weight, ignore_index, zero=0):
    """Per sample: x at its target class, and the class weight (``zero`` where the target
    is ignore_index).  x is (C,) with a 0-d target, or (N, C, ...) with (N, ...)."""
    ignored = target == ignore_index
    safe = np.where(ignored, 0, target)
    if x.ndim == 1:
        picked = np.asarray(x[safe])
    else:
        picked = np.take_along_axis(x, np.expand_dims(safe, 1), axis=1)[:, 0]
    w = np.ones(safe.shape, dtype=x.dtype) if weight is None else np.asarray(weight)[safe]
    return picked, np.where(ignored, zero, w), ignored


def check_targets(x, target, ignore_index) -> None:
    bad = (target != ignore_index) & ((target < 0) | (target >= _classes(x)))
    if np.any(bad):
        raise python_error(InputError, f"Target {int(target[bad].reshape(-1)[0])} is out of "
                           "bounds.", "IndexError")


def _nll(x, target, weight=None, reduction="mean", ignore_index=-100):
    check_targets(x, target, ignore_index)
    picked, w, ignored = nll_terms(x, target, weight, ignore_index)
    losses = np.where(ignored, x.dtype.type(0), -picked * w)
    if reduction == "none" or losses.size == 0:
        return reduce_loss(losses, reduction)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.sum(losses)
        return total / np.sum(w) if reduction == "mean" else total


def _nll_backward(g, x, target, weight=None, reduction="mean", ignore_index=-100):
    """PyTorch's nll_loss_backward: -w[t] * g at each sample's target class."""
    dtype = np.dtype(x.dtype)
    ignored = target == ignore_index
    safe = np.where(ignored, 0, target)
    w = np.ones(safe.shape, dtype) if weight is None else np.asarray(weight)[safe]
    if reduction == "none":
        coef = -w * g
    else:
        total = np.sum(np.where(ignored, dtype.type(0), w))
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = w * -(g / total if reduction == "mean" else g)
    coef = np.where(ignored, dtype.type(0), coef).astype(dtype, copy=False)
    out = np.zeros(x.shape, dtype)
    if len(x.shape) == 1:
        out[safe] = coef
    else:
        np.put_along_axis(out, np.expand_dims(safe, 1), np.expand_dims(coef, 1), axis=1)
    return out


def _nll_sympy(sp, x, target, weight=None, reduction="mean", ignore_index=-100):
    x = np.asarray(x, dtype=object)
    w_all = None if weight is None else sym_weight(sp, weight, None)
    picked, w, ignored = nll_terms(x, target, w_all, ignore_index, zero=sp.Integer(0))
    if weight is None:
        w = np.where(ignored, sp.Integer(0), sp.Integer(1))
    losses = np.where(ignored, sp.Integer(0), -picked * w)
    if reduction != "mean" or losses.size == 0:
        return sym_reduce(sp, losses, reduction)
    return sp.Add(*losses.reshape(-1)) / sp.Add(*np.asarray(w, dtype=object).reshape(-1))


def _register_nll(name: str, grad_fn: str, syntax: str, **public) -> None:
    params = ("target", "weight", "reduction", "ignore_index")

    def vjp(F, g, x, out, **kw):
        return getattr(F, f"{name}_backward")(g, x, **kw)

    def vjp_grad_output(F, gg, g, x, out, **kw):
        return getattr(F, name)(gg, **kw)

    register(name, grad_fn, _nll, (vjp,), sympy=_nll_sympy, syntax=syntax, **public,
             derivative=(prose("-w[target] at the target class, /sum(w) for a mean"),))
    def vjp_input(F, gg, g, x, out, **kw):       # the gradient does not depend on x
        return F.zeros(x.shape, x.dtype)

    register(f"{name}_backward", grad_fn.replace("Backward0", "BackwardBackward0"),
             _nll_backward, (vjp_grad_output, vjp_input), internal=True,
             syntax=f"{name}_backward(g, input, {', '.join(params)})")


_register_nll("nll_loss", "NllLossBackward0", "", group=LOSSES, api="F",
              function="nn_classification:nll_loss",
              records=("NllLoss2DBackward0", "ViewBackward0"),
              params="input, target: index, weight: const? = None, size_average: any = None, "
                     "ignore_index: int = -100, reduce: any = None, "
                     "reduction: str{none|mean|sum|elementwise_mean} = 'mean'")
_register_nll("nll_loss2d", "NllLoss2DBackward0",
              "nll_loss(input, target) with input (N, C, d1, ...)", internal=True)
