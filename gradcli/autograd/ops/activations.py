"""Activation functions (torch.nn.functional's), with PyTorch's kernels' formulas and
values at kinks (relu'(0) = 0).  The gradient of most is an op of its own, as in
PyTorch (``threshold_backward``, ``softplus_backward``: :mod:`.backward`), so that
derivatives of any order record PyTorch's nodes.
"""

from __future__ import annotations

import numpy as np

from ...errors import InputError
from . import float32 as f32
from .core import exact, prose, register, where_any
from .elementwise import MAX_MIN, _erf
from .float32 import silu_backward

ACT = "activations"


def _not_bool_relu(x):
    if x.dtype == bool:
        raise InputError("Boolean inputs not supported for relu")
    return x


def _softplus(x, beta, threshold):
    # PyTorch: x itself where x*beta > threshold, log1p(exp(x*beta))/beta below.
    bx = x * beta
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)


def _softplus_vjp(F, g, x, out, beta, threshold):
    return F.softplus_backward(g, x, beta, threshold)


def _softplus_sympy(sp, x, beta, threshold):
    beta, threshold = exact(sp, beta), exact(sp, threshold)
    return sp.Piecewise((x, x * beta > threshold), (sp.log(1 + sp.exp(beta * x)) / beta, True))


def _silu_vjp(F, g, x, out):
    """PyTorch's silu_backward kernel in a plain backward; under create_graph its
    infinitely_differentiable_silu_backward."""
    if not F.tensor_mode:
        return silu_backward(g, x)
    s = F.sigmoid(x)
    right = F.add_scalar(x * F.sub(1, s), 1)
    return g * s * right


register("sigmoid", "SigmoidBackward0", lambda x: 1 / (1 + np.exp(-x)),
         (lambda F, g, x, out: F.sigmoid_backward(g, out),), params="input", group=ACT,
         api="torch F method", elementwise=True, dtype_rule="float",
         sympy=lambda sp, x: 1 / (1 + sp.exp(-x)),
         derivative=("sigmoid(x)*(1 - sigmoid(x))",), forward_f32=f32.sigmoid)
register("relu", "ReluBackward0", lambda x: np.maximum(_not_bool_relu(x), 0),
         (lambda F, g, x, out: F.threshold_backward(g, out, 0),), params="input", group=ACT,
         api="torch F method", elementwise=True, dtype_rule="promote",
         sympy=lambda sp, x: sp.Max(x, 0), numeric=MAX_MIN,
         derivative=("1 if x > 0 else 0",),
         undefined=lambda x, out: where_any(x == 0, "relu has a kink at 0 (PyTorch uses 0)"))
register("softplus", "SoftplusBackward0", _softplus, (_softplus_vjp,),
         params="input, beta: number = 1.0, threshold: number = 20.0", group=ACT, api="F",
         elementwise=True, dtype_rule="float", sympy=_softplus_sympy,
         derivative=("sigmoid(beta*x) if x*beta <= threshold else 1",),
         undefined=lambda x, out, beta, threshold: where_any(
             x * beta == threshold, "softplus jumps to slope 1 at its threshold"),
             forward_f32=f32.softplus)
register("silu", "SiluBackward0", lambda x: x / (1 + np.exp(-x)), (_silu_vjp,),
         params="input", group=ACT, api="F", elementwise=True, dtype_rule="float",
         sympy=lambda sp, x: x / (1 + sp.exp(-x)),
         derivative=("sigmoid(x)*(1 + x*(1 - sigmoid(x)))",), forward_f32=f32.silu)


# ---- SPEC 3.9: the activations of torch.nn.functional ----------------------------------
# Forwards and gradients are PyTorch's CPU kernels' formulas (aten/src/ATen/native/cpu/
# Activation.cpp); the gradients are written with ops, so they differentiate again.

SQRT1_2 = 0.7071067811865476                 # M_SQRT1_2
GELU_BETA = 0.3989422804014327               # M_2_SQRTPI * M_SQRT1_2 * 0.5
GELU_TANH_BETA = 0.7978845608028654          # M_SQRT2 * M_2_SQRTPI * 0.5
GELU_KAPPA = 0.044715
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _gelu(x, approximate):
    if approximate == "tanh":
        inner = GELU_TANH_BETA * (x + GELU_KAPPA * (x * x * x))
        return 0.5 * x * (1 + np.tanh(inner))
    return x * 0.5 * (1 + _erf(x * SQRT1_2))


def _gelu_vjp(F, g, x, out, approximate):
    if approximate == "tanh":
        x_sq = x * x
        inner = F.mul_scalar(x + F.mul_scalar(x_sq * x, GELU_KAPPA), GELU_TANH_BETA)
        t = F.tanh(inner)
        left_derivative = F.mul_scalar(F.add_scalar(t, 1), 0.5)
        right_derivative = F.mul_scalar(x, 0.5) * F.add_scalar(-(t * t), 1) * \
            F.mul_scalar(F.add_scalar(F.mul_scalar(x_sq, 3 * GELU_KAPPA), 1), GELU_TANH_BETA)
        return g * (left_derivative + right_derivative)
    cdf = F.mul_scalar(F.add_scalar(F.erf(F.mul_scalar(x, SQRT1_2)), 1), 0.5)
    pdf = F.mul_scalar(F.exp(F.mul_scalar(x * x, -0.5)), GELU_BETA)
    return g * (cdf + x * pdf)


def _gelu_sympy(sp, x, approximate):
    if approximate == "tanh":
        beta = sp.sqrt(2 / sp.pi)
        return x / 2 * (1 + sp.tanh(beta * (x + exact(sp, GELU_KAPPA) * x ** 3)))
    return x / 2 * (1 + sp.erf(x / sp.sqrt(2)))


register("gelu", "GeluBackward0", _gelu, (_gelu_vjp,),
         params="input, approximate: str{none|tanh} = 'none'", group=ACT, api="F",
         elementwise=True, dtype_rule="float", sympy=_gelu_sympy,
         numeric={"erf": _erf, "exp": np.exp, "tanh": np.tanh},
         derivative=("Phi(x) + x*phi(x)",))


def _leaky_relu(x, negative_slope):
    return np.where(x > 0, x, x * negative_slope)


def _at_zero(name):
    return lambda x, out, **params: where_any(x == 0, f"{name} has a kink at 0")


register("leaky_relu", "LeakyReluBackward0", _leaky_relu,
         (lambda F, g, x, out, negative_slope: F.where(F.value(x) > 0, g,
                                                       F.mul_scalar(g, negative_slope)),),
         params="input, negative_slope: number = 0.01, inplace: bool = False", group=ACT,
         api="F", elementwise=True, dtype_rule="float",
         sympy=lambda sp, x, negative_slope: sp.Piecewise(
             (x, x > 0), (exact(sp, negative_slope) * x, True)),
         derivative=("1 if x > 0 else negative_slope",), undefined=_at_zero("leaky_relu"))


def _elu_forward(x, alpha, scale, input_scale):
    neg = alpha * np.expm1(np.minimum(x, 0) * input_scale)
    return np.where(x > 0, x * scale, neg * scale)


def _elu_vjp(F, g, x, out, alpha, scale, input_scale):
    """PyTorch's elu_backward (is_result=False): x <= 0 takes the exponential side."""
    neg = F.mul_scalar(F.exp(F.mul_scalar(x, input_scale)), input_scale * alpha * scale)
    return F.where(F.value(x) <= 0, g * neg, F.mul_scalar(g, scale))


def _elu_sympy(sp, x, alpha, scale, input_scale):
    a, s, i = exact(sp, alpha), exact(sp, scale), exact(sp, input_scale)
    return sp.Piecewise((s * x, x > 0), (s * a * (sp.exp(i * x) - 1), True))


def _elu_kink(x, out, alpha, scale, input_scale):
    if alpha * input_scale == 1:
        return None                           # slopes meet at 0: no kink
    return where_any(x == 0, "elu has a kink at 0 (PyTorch takes the left slope)")


_ELU = dict(group=ACT, elementwise=True, dtype_rule="float", sympy=_elu_sympy,
            numeric={"exp": np.exp}, undefined=_elu_kink)
register("elu", "EluBackward0", _elu_forward, (_elu_vjp,),
         params="input, alpha: number = 1.0, inplace: bool = False, scale: number = 1.0, "
                "input_scale: number = 1.0", api="F", function=None,
         derivative=("1 if x > 0 else alpha*exp(x)",), **_ELU)


def _input_scale(alpha, input_scale):
    """celu's 1/alpha (PyTorch's error for alpha 0), or selu's fixed 1."""
    if input_scale is not None:
        return input_scale
    if alpha == 0:
        from ...errors import InputError
        raise InputError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return 1 / alpha


def _fixed_elu(name, grad_fn, alpha, scale, input_scale, api, params, derivative):
    """selu and celu: elu with fixed constants (PyTorch records EluBackward0 for selu)."""
    def forward(x, **p):
        a = p.get("alpha", alpha)
        return _elu_forward(x, a, scale, _input_scale(a, input_scale))

    def vjp(F, g, x, out, **p):
        a = p.get("alpha", alpha)
        return _elu_vjp(F, g, x, None, a, scale, _input_scale(a, input_scale))

    def sympy(sp, x, **p):
        a = p.get("alpha", alpha)
        return _elu_sympy(sp, x, a, scale, _input_scale(a, input_scale))

    def kink(x, out, **p):
        a = p.get("alpha", alpha)
        return _elu_kink(x, out, a, scale, _input_scale(a, input_scale))
    register(name, grad_fn, forward, (vjp,), params=params, api=api, derivative=derivative,
             **{**_ELU, "sympy": sympy, "undefined": kink})


_fixed_elu("selu", "EluBackward0", SELU_ALPHA, SELU_SCALE, 1.0, "torch F",
           "input, inplace: bool = False", (prose("1.0507 if x > 0 else 1.7581*exp(x)"),))
_fixed_elu("celu", "CeluBackward0", 1.0, 1.0, None, "torch F",
           "input, alpha: number = 1.0, inplace: bool = False",
           ("1 if x > 0 else exp(x/alpha)",))


def _hardtanh(x, min_val, max_val):
    return np.clip(x, min_val, max_val)


def _hardtanh_vjp(F, g, x, out, min_val, max_val):
    xv = F.value(x)
    return F.where((xv <= min_val) | (xv >= max_val), 0.0, g)


def _hardtanh_kink(x, out, min_val, max_val):
    return where_any((x == min_val) | (x == max_val), "hardtanh has kinks at its bounds "
                                                      "(PyTorch uses 0 there)")


_HARDTANH = dict(group=ACT, api="F", elementwise=True, dtype_rule="promote",
                 numeric=MAX_MIN, undefined=_hardtanh_kink)
register("hardtanh", "HardtanhBackward0", _hardtanh, (_hardtanh_vjp,),
         params="input, min_val: number = -1.0, max_val: number = 1.0, inplace: bool = False",
         sympy=lambda sp, x, min_val, max_val: sp.Min(sp.Max(x, exact(sp, min_val)),
                                                       exact(sp, max_val)),
         derivative=("1 if min_val < x < max_val else 0",), **_HARDTANH)
register("relu6", "HardtanhBackward0", lambda x: _hardtanh(x, 0.0, 6.0),
         (lambda F, g, x, out: _hardtanh_vjp(F, g, x, None, 0.0, 6.0),),
         params="input, inplace: bool = False",
         sympy=lambda sp, x: sp.Min(sp.Max(x, 0), 6), derivative=("1 if 0 < x < 6 else 0",),
         **{**_HARDTANH, "undefined": lambda x, out: _hardtanh_kink(x, out, 0.0, 6.0)})


def _logsigmoid(x):
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def _logsigmoid_vjp(F, g, x, out):
    """PyTorch's log_sigmoid_backward: g * (max_deriv - sign * z/(1 + z)), z = exp(-|x|);
    under create_graph g * sigmoid(-x), whose derivative is PyTorch's
    log_sigmoid_double_backward (|x| would make it 0 at x = 0)."""
    if F.tensor_mode:
        return g * F.sigmoid(-x)
    negative = F.value(x) < 0
    z = F.exp(-F.abs(x))
    r = z / F.add_scalar(z, 1)
    return g * F.where(negative, F.add_scalar(-r, 1), r)


register("logsigmoid", "LogSigmoidBackward0", _logsigmoid, (_logsigmoid_vjp,),
         params="input", group=ACT, api="F", elementwise=True, dtype_rule="float",
         sympy=lambda sp, x: -sp.log(1 + sp.exp(-x)), numeric={"exp": np.exp, "log": np.log},
         derivative=("1 - sigmoid(x)",))


def _mish(x):
    return x * np.tanh(np.log1p(np.exp(x)))


def _mish_vjp(F, g, x, out):
    s = F.sigmoid(x)
    t = F.tanh(F.log1p(F.exp(x)))
    return g * (t + x * s * F.add_scalar(-(t * t), 1))


register("mish", "MishBackward0", _mish, (_mish_vjp,), params="input, inplace: bool = False",
         group=ACT, api="F", elementwise=True, dtype_rule="float",
         sympy=lambda sp, x: x * sp.tanh(sp.log(1 + sp.exp(x))),
         numeric={"exp": np.exp, "log": np.log, "tanh": np.tanh},
         derivative=("tanh(softplus(x)) + x*sigmoid(x)*(1 - tanh(softplus(x))**2)",))


ONE_SIXTH_F32 = float(np.float32(1 / 6))   # PyTorch's kernel: one_sixth(1.0f / 6.0f)


def _kinks_at(name, *points):
    def undefined(x, out, **params):
        return where_any(np.isin(x, points), f"{name} has kinks at {points}")
    return undefined


register("hardsigmoid", "HardsigmoidBackward0", lambda x: np.clip(x + 3, 0, 6) / 6,
         (lambda F, g, x, out: F.where((F.value(x) > -3) & (F.value(x) < 3),
                                       F.mul_scalar(g, ONE_SIXTH_F32), 0.0),),
         params="input, inplace: bool = False", group=ACT, api="F", elementwise=True,
         dtype_rule="float", sympy=lambda sp, x: sp.Min(sp.Max(x + 3, 0), 6) / 6,
         numeric=MAX_MIN, derivative=("1/6 if -3 < x < 3 else 0",),
         undefined=_kinks_at("hardsigmoid", -3.0, 3.0))


def _hardswish_vjp(F, g, x, out):
    xv = F.value(x)
    middle = g * F.add_scalar(F.div_scalar(x, 3), 0.5)
    return F.where(xv <= -3, 0.0, F.where(xv < 3, middle, g))


register("hardswish", "HardswishBackward0", lambda x: x * np.clip(x + 3, 0, 6) / 6,
         (_hardswish_vjp,), params="input, inplace: bool = False", group=ACT, api="F",
         elementwise=True, dtype_rule="float",
         sympy=lambda sp, x: sp.Piecewise((0, x <= -3), (x, x >= 3), (x * (x + 3) / 6, True)),
         derivative=("0 if x <= -3 else (x/3 + 1/2 if x < 3 else 1)",),
         undefined=_kinks_at("hardswish", -3.0, 3.0))


# ---- composites: what PyTorch records is what their functions call ----------------------

def softsign(input):
    from ..functional import NAMESPACE as F
    return F["div"](input, F["add"](F["abs"](input), 1))


def tanhshrink(input):
    from ..functional import NAMESPACE as F
    return F["sub"](input, F["tanh"](input))


def softmin(input, dim):
    from ..functional import NAMESPACE as F
    return F["softmax"](F["neg"](input), dim)


register("softsign", function=softsign, params="input", group=ACT, api="F",
         records=("DivBackward0", "AddBackward0", "AbsBackward0"),
         derivative=("1/(1 + abs(x))**2",))
register("tanhshrink", function=tanhshrink, params="input", group=ACT, api="F",
         records=("SubBackward0", "TanhBackward0"), derivative=("tanh(x)**2",))
register("softmin", function=softmin, params="input, dim: dim", group=ACT, api="F",
         records=("SoftmaxBackward0", "NegBackward0"),
         derivative=(prose("as softmax(-x, dim), times -1"),))
