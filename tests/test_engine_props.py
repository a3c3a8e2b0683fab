"""Property tests of the autograd engine: every op of SPEC 3.2 against finite differences.

For each op (every non-internal entry of the op table, plus the dispatch variants of the
Python API) over the shapes (), (4,), (3, 4), (1, 4) and, for binary ops, over
broadcasting pairs, with inputs drawn by hypothesis inside the op's smooth domain:

* the forward value matches an independent numpy formula;
* the output's grad_fn is the name of SPEC 3.2 (PyTorch's, checked by hand);
* d(sum(out * upstream))/dx for a random upstream matches central finite differences,
  through both ``grad()`` and ``backward()``;
* under ``create_graph`` the first derivative is the same and its own derivative
  (a Hessian-vector product) matches finite differences of the first derivative.

Random expression chains of 2-4 ops get the same first- and second-order checks.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradcli.autograd as ag
from gradcli.autograd import functional as F

H = 1e-6                      # finite-difference step
RTOL, ATOL = 1e-6, 1e-6       # analytic vs finite differences
VALUE_TOL = dict(rtol=1e-12, atol=1e-12)

# GRADCLI_PROP_SCALE=50 multiplies every example count (a deep run; the default is fast)
SCALE = int(os.environ.get("GRADCLI_PROP_SCALE", "1"))
SETTINGS = settings(max_examples=4 * SCALE, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.differing_executors])


# ---- element strategies: each op's smooth domain ----------------------------------------

def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def away(lo, hi):
    """|x| in [lo, hi], either sign: away from a kink or pole at 0."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


def grid(offset, lo=-25, hi=25):
    """k/10 + offset: values that differ by >= 0.1 (no ties) and miss the kinks of the
    tests (0, the clamp bounds +-0.5 and 1, the other grid) by >= 0.03."""
    return st.integers(lo, hi).map(lambda k: round(k / 10 + offset, 10))


ANY = floats(-3, 3)
SMALL = floats(-2, 2)
POS = floats(0.2, 3)
NONZERO = away(0.3, 3)
KINKLESS = grid(0.05)        # never 0, never on a clamp bound
OTHER_GRID = grid(0.02)      # never equal to a KINKLESS value

SHAPES = [(), (4,), (3, 4), (1, 4)]
SAME_PAIRS = [(s, s) for s in SHAPES]
BROADCAST_PAIRS = [((3, 4), (4,)), ((3, 4), (1, 4)), ((3, 1), (1, 4)), ((), (3, 4))]
PAIRS = SAME_PAIRS + BROADCAST_PAIRS + [(b, a) for a, b in BROADCAST_PAIRS]


@dataclass(frozen=True)
class In:
    shape: tuple
    elements: st.SearchStrategy = ANY
    unique: bool = False


@dataclass
class Case:
    id: str
    fn: Callable                          # tensors -> tensor
    inputs: tuple                         # In per argument
    grad_fn: Optional[str]                # None: the op returns its input itself
    ref: Optional[Callable] = None        # arrays -> expected forward value
    node_check: Optional[Callable] = None  # extra check of the recorded graph
    second: bool = True


CASES: list[Case] = []


def case(id, fn, inputs, grad_fn, ref=None, **kw):
    CASES.append(Case(id, fn, tuple(inputs), grad_fn, ref, **kw))


def shape_id(shape) -> str:
    return "x".join(map(str, shape)) if shape else "0d"


# ---- elementwise unary ops ---------------------------------------------------------------

def _erf(a):
    return np.vectorize(math.erf, otypes=[float])(a)


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


UNARY = [
    ("exp", SMALL, np.exp, "ExpBackward0"),
    ("exp2", SMALL, lambda a: 2.0 ** a, "Exp2Backward0"),
    ("expm1", SMALL, lambda a: np.exp(a) - 1, "Expm1Backward0"),
    ("log", POS, np.log, "LogBackward0"),
    ("log2", POS, lambda a: np.log(a) / math.log(2), "Log2Backward0"),
    ("log10", POS, lambda a: np.log(a) / math.log(10), "Log10Backward0"),
    ("log1p", floats(-0.5, 3), lambda a: np.log(1 + a), "Log1PBackward0"),
    ("sqrt", POS, lambda a: a ** 0.5, "SqrtBackward0"),
    ("rsqrt", POS, lambda a: a ** -0.5, "RsqrtBackward0"),
    ("reciprocal", NONZERO, lambda a: 1 / a, "ReciprocalBackward0"),
    ("sin", ANY, np.sin, "SinBackward0"),
    ("cos", ANY, np.cos, "CosBackward0"),
    ("tan", floats(-1.2, 1.2), lambda a: np.sin(a) / np.cos(a), "TanBackward0"),
    ("asin", floats(-0.9, 0.9), np.arcsin, "AsinBackward0"),
    ("acos", floats(-0.9, 0.9), np.arccos, "AcosBackward0"),
    ("atan", ANY, np.arctan, "AtanBackward0"),
    ("sinh", ANY, lambda a: (np.exp(a) - np.exp(-a)) / 2, "SinhBackward0"),
    ("cosh", ANY, lambda a: (np.exp(a) + np.exp(-a)) / 2, "CoshBackward0"),
    ("tanh", ANY, np.tanh, "TanhBackward0"),
    ("asinh", ANY, lambda a: np.log(a + np.sqrt(a * a + 1)), "AsinhBackward0"),
    ("abs", away(0.05, 3), lambda a: np.where(a < 0, -a, a), "AbsBackward0"),
    ("sign", away(0.05, 3), lambda a: (a > 0) * 1.0 - (a < 0) * 1.0, "SignBackward0"),
    ("square", ANY, lambda a: a * a, "PowBackward0"),
    ("erf", ANY, _erf, "ErfBackward0"),
    ("sigmoid", floats(-5, 5), _sigmoid, "SigmoidBackward0"),
    ("relu", away(0.05, 3), lambda a: np.where(a > 0, a, 0.0), "ReluBackward0"),
    ("softplus", floats(-5, 5), lambda a: np.log1p(np.exp(a)), "SoftplusBackward0"),
    ("silu", floats(-4, 4), lambda a: a * _sigmoid(a), "SiluBackward0"),
]

for _name, _dom, _ref, _gf in UNARY:
    for _s in SHAPES:
        case(f"{_name}-{shape_id(_s)}", getattr(F, _name), [In(_s, _dom)], _gf, _ref)
    case(f"{_name}-method", lambda t, _n=_name: getattr(t, _n)(), [In((3, 4), _dom)], _gf, _ref)

# ---- arithmetic dispatch: numbers on either side ------------------------------------------


def _next_is(name):
    def check(out, inputs):
        assert out.grad_fn.next_functions[0][0].name == name
    return check


DISPATCH = [
    ("neg", lambda t: -t, ANY, lambda a: -a, "NegBackward0", None),
    ("t+NUMBER", lambda t: t + 1.5, ANY, lambda a: a + 1.5, "AddBackward0", None),
    ("NUMBER+t", lambda t: 1.5 + t, ANY, lambda a: a + 1.5, "AddBackward0", None),
    ("t-NUMBER", lambda t: t - 1.5, ANY, lambda a: a - 1.5, "SubBackward0", None),
    ("NUMBER-t", lambda t: 2.5 - t, ANY, lambda a: 2.5 - a, "RsubBackward1", None),
    ("t*NUMBER", lambda t: t * -1.5, ANY, lambda a: a * -1.5, "MulBackward0", None),
    ("NUMBER*t", lambda t: -1.5 * t, ANY, lambda a: a * -1.5, "MulBackward0", None),
    ("t/NUMBER", lambda t: t / 0.7, ANY, lambda a: a / 0.7, "DivBackward0", None),
    ("NUMBER/t", lambda t: 2.5 / t, NONZERO, lambda a: 2.5 / a, "MulBackward0",
     _next_is("ReciprocalBackward0")),
    ("t**2", lambda t: t ** 2, ANY, lambda a: a * a, "PowBackward0", None),
    ("t**3", lambda t: t ** 3, SMALL, lambda a: a * a * a, "PowBackward0", None),
    ("t**1", lambda t: t ** 1, ANY, lambda a: a, "PowBackward0", None),
    ("t**0", lambda t: t ** 0, ANY, lambda a: np.ones_like(a), "PowBackward0", None),
    ("t**0.5", lambda t: t ** 0.5, POS, np.sqrt, "PowBackward0", None),
    ("t**-1.5", lambda t: t ** -1.5, POS, lambda a: 1 / (a * np.sqrt(a)), "PowBackward0", None),
    ("t**-2", lambda t: t ** -2, NONZERO, lambda a: 1 / (a * a), "PowBackward0", None),
    ("pow(t,2.5)", lambda t: F.pow(t, 2.5), POS, lambda a: a * a * np.sqrt(a), "PowBackward0",
     None),
    ("2**t", lambda t: 2 ** t, SMALL, lambda a: np.exp(a * math.log(2)), "PowBackward2", None),
    ("0.5**t", lambda t: 0.5 ** t, SMALL, lambda a: np.exp(-a * math.log(2)), "PowBackward2",
     None),
    ("pow(3,t)", lambda t: F.pow(3.0, t), SMALL, lambda a: np.exp(a * math.log(3)),
     "PowBackward2", None),
]

for _name, _fn, _dom, _ref, _gf, _chk in DISPATCH:
    for _s in SHAPES:
        case(f"{_name}-{shape_id(_s)}", _fn, [In(_s, _dom)], _gf, _ref, node_check=_chk)

# ---- binary ops with broadcasting --------------------------------------------------------


def _mse_ref(a, b):
    d = np.broadcast_arrays(a, b)
    return np.mean((d[0] - d[1]) ** 2)


BINARY = [
    ("add", lambda a, b: a + b, ANY, ANY, np.add, "AddBackward0"),
    ("sub", lambda a, b: a - b, ANY, ANY, np.subtract, "SubBackward0"),
    ("mul", lambda a, b: a * b, ANY, ANY, np.multiply, "MulBackward0"),
    ("div", lambda a, b: a / b, ANY, NONZERO, np.divide, "DivBackward0"),
    # exponent != 0: there PyTorch (and gradcli) mask d/da to a constant 0, which also
    # zeroes its derivative wrt b (see test_engine_errors)
    ("pow", lambda a, b: a ** b, POS, away(0.1, 2), lambda a, b: np.exp(b * np.log(a)),
     "PowBackward1"),
    ("maximum", F.maximum, KINKLESS, OTHER_GRID, lambda a, b: np.where(a > b, a, b),
     "MaximumBackward0"),
    ("minimum", F.minimum, KINKLESS, OTHER_GRID, lambda a, b: np.where(a < b, a, b),
     "MinimumBackward0"),
    ("atan2", F.atan2, SMALL, floats(0.3, 2), lambda a, b: np.arctan(a / b), "Atan2Backward0"),
    ("hypot", F.hypot, away(0.2, 2), SMALL, lambda a, b: np.sqrt(a * a + b * b),
     "HypotBackward0"),
    ("mse_loss", F.mse_loss, ANY, ANY, _mse_ref, "MseLossBackward0"),
]

for _name, _fn, _da, _db, _ref, _gf in BINARY:
    for _sa, _sb in PAIRS:
        case(f"{_name}-{shape_id(_sa)}&{shape_id(_sb)}", _fn, [In(_sa, _da), In(_sb, _db)],
             _gf, _ref)

case("atan2-left-half-plane", F.atan2, [In((3, 4), away(0.3, 2)), In((4,), floats(-2, -0.3))],
     "Atan2Backward0", np.arctan2)
case("maximum-method", lambda a, b: a.maximum(b), [In((3, 4), KINKLESS), In((4,), OTHER_GRID)],
     "MaximumBackward0", np.maximum)
case("max(a,b)", lambda a, b: F.max(a, b), [In((3, 4), KINKLESS), In((4,), OTHER_GRID)],
     "MaximumBackward0", np.maximum)
case("min(a,b)", lambda a, b: F.min(a, b), [In((3, 4), KINKLESS), In((4,), OTHER_GRID)],
     "MinimumBackward0", np.minimum)

# ---- products ------------------------------------------------------------------------------


def _vm_check(out, inputs):
    mm = out.grad_fn.next_functions[0][0]
    assert mm.name == "MmBackward0"
    assert mm.next_functions[0][0].name == "UnsqueezeBackward0"


MATMUL = [
    ("1d@1d", lambda a, b: a @ b, (4,), (4,), "DotBackward0", None),
    ("dot", F.dot, (4,), (4,), "DotBackward0", None),
    ("2d@1d", lambda a, b: a @ b, (3, 4), (4,), "MvBackward0", None),
    ("matmul-mv", F.matmul, (1, 4), (4,), "MvBackward0", None),
    ("2d@2d", lambda a, b: a @ b, (3, 4), (4, 2), "MmBackward0", None),
    ("mm", F.mm, (1, 4), (4, 1), "MmBackward0", None),
    ("matmul-mm", F.matmul, (4, 3), (3, 4), "MmBackward0", None),
    ("1d@2d", lambda a, b: a @ b, (4,), (4, 2), "SqueezeBackward4", _vm_check),
    ("matmul-vm", F.matmul, (4,), (4, 1), "SqueezeBackward4", _vm_check),
]

for _name, _fn, _sa, _sb, _gf, _chk in MATMUL:
    case(_name, _fn, [In(_sa, SMALL), In(_sb, SMALL)], _gf, np.matmul, node_check=_chk)
case("ndarray@t", lambda a: np.full((2, 3), 0.5) @ a, [In((3, 4), SMALL)], "MmBackward0",
     lambda a: np.full((2, 3), 0.5) @ a)

# ---- reductions ----------------------------------------------------------------------------

DIMS = {(): [0, -1], (4,): [0, -1], (3, 4): [0, 1, -1, (0, 1), (-1, 0)], (1, 4): [0, 1]}


def _axes(dim, ndim):
    if ndim == 0:
        return ()
    dims = dim if isinstance(dim, tuple) else (dim,)
    return tuple(d % ndim for d in dims)


def _lse_ref(a, dim, keepdim):
    return np.log(np.sum(np.exp(a), axis=_axes(dim, a.ndim), keepdims=keepdim))


def _softmax_ref(a, dim):
    e = np.exp(a)
    return e / np.sum(e, axis=_axes(dim, a.ndim), keepdims=True)


for _s in SHAPES:
    sid = shape_id(_s)
    case(f"sum-{sid}", F.sum, [In(_s)], "SumBackward0", np.sum)
    case(f"mean-{sid}", F.mean, [In(_s)], "MeanBackward0", np.mean)
    case(f"sum-method-{sid}", lambda t: t.sum(), [In(_s)], "SumBackward0", np.sum)
    case(f"prod-{sid}", F.prod, [In(_s, away(0.3, 1.5))], "ProdBackward0", np.prod)
    case(f"max-{sid}", F.max, [In(_s, KINKLESS, unique=True)], "MaxBackward1", np.max)
    case(f"min-{sid}", F.min, [In(_s, KINKLESS, unique=True)], "MinBackward1", np.min)
    case(f"norm-{sid}", F.norm, [In(_s, KINKLESS)], "LinalgVectorNormBackward0",
         lambda a: np.sqrt(np.sum(a * a)))
    case(f"sum-keepdim-{sid}", lambda t: F.sum(t, keepdim=True), [In(_s)], "SumBackward1",
         lambda a: np.sum(a, keepdims=True))
    for _d in DIMS[_s]:
        for _k in (False, True):
            kid = f"{sid}-dim{_d}{'-keep' if _k else ''}"
            case(f"sum-{kid}", lambda t, d=_d, k=_k: F.sum(t, d, keepdim=k), [In(_s)],
                 "SumBackward1", lambda a, d=_d, k=_k: np.sum(a, _axes(d, a.ndim), keepdims=k))
            case(f"mean-{kid}", lambda t, d=_d, k=_k: F.mean(t, d, keepdim=k), [In(_s)],
                 "MeanBackward1",
                 lambda a, d=_d, k=_k: np.mean(a, _axes(d, a.ndim), keepdims=k))
            case(f"logsumexp-{kid}", lambda t, d=_d, k=_k: F.logsumexp(t, d, keepdim=k),
                 [In(_s)], "LogsumexpBackward0", lambda a, d=_d, k=_k: _lse_ref(a, d, k))
        if isinstance(_d, int):
            case(f"softmax-{sid}-dim{_d}", lambda t, d=_d: F.softmax(t, d), [In(_s)],
                 "SoftmaxBackward0", lambda a, d=_d: _softmax_ref(a, d))
            case(f"log_softmax-{sid}-dim{_d}", lambda t, d=_d: F.log_softmax(t, d), [In(_s)],
                 "LogSoftmaxBackward0", lambda a, d=_d: np.log(_softmax_ref(a, d)))

case("sum-method-dim", lambda t: t.sum(1), [In((3, 4))], "SumBackward1",
     lambda a: a.sum(1))
case("logsumexp-method", lambda t: t.logsumexp(0), [In((3, 4))], "LogsumexpBackward0",
     lambda a: _lse_ref(a, 0, False))
case("softmax-large-values", lambda t: F.softmax(t, 1), [In((3, 4), floats(40, 45))],
     "SoftmaxBackward0", lambda a: _softmax_ref(a - 40, 1))

for _s in [(3, 4), (1, 4), (3, 3), (4, 1)]:
    case(f"trace-{shape_id(_s)}", F.trace, [In(_s)], "TraceBackward0", np.trace)
    case(f"trace-method-{shape_id(_s)}", lambda t: t.trace(), [In(_s)], "TraceBackward0",
         np.trace)

# ---- linear algebra: matrices kept well away from singular by 4 on the diagonal ----------

_EYE4 = 4 * np.eye(3)


def _well(t):
    return t + ag.tensor(_EYE4)


def _spd(t):
    """Symmetric and diagonally dominant (entries in [-2, 2]): positive definite."""
    return t + t.T + ag.tensor(4 * _EYE4)


case("bmm", F.bmm, [In((2, 3, 4)), In((2, 4, 2))], "BmmBackward0", np.matmul)
case("matmul-batched", F.matmul, [In((2, 3, 4)), In((4,))], "UnsafeViewBackward0",
     np.matmul)
for _name, _np in (("triu", np.triu), ("tril", np.tril)):
    case(_name, getattr(F, _name), [In((3, 4))], _name.capitalize() + "Backward0", _np)
    case(f"{_name}-batched-offset", lambda t, n=_name: getattr(t, n)(-1), [In((2, 3, 3))],
         _name.capitalize() + "Backward0", lambda a, f=_np: f(a, -1))
case("det", lambda t: F.det(_well(t)), [In((3, 3), SMALL)], "LinalgDetBackward0",
     lambda a: np.linalg.det(a + _EYE4))
case("inverse", lambda t: F.inverse(_well(t)), [In((3, 3), SMALL)], "LinalgInvExBackward0",
     lambda a: np.linalg.inv(a + _EYE4))
case("solve", lambda t, b: F.solve(_well(t), b), [In((3, 3), SMALL), In((3, 2))],
     "LinalgSolveExBackward0", lambda a, b: np.linalg.solve(a + _EYE4, b))
case("cholesky", lambda t: F.cholesky(_spd(t)), [In((3, 3), SMALL)],
     "LinalgCholeskyExBackward0", lambda a: np.linalg.cholesky(a + a.T + 4 * _EYE4))

# ---- clamp ---------------------------------------------------------------------------------

CLAMPS = [
    ("min", dict(min=-0.5), lambda a: np.where(a < -0.5, -0.5, a)),
    ("max", dict(max=1.0), lambda a: np.where(a > 1.0, 1.0, a)),
    ("both", dict(min=-0.5, max=1.0), lambda a: np.minimum(np.maximum(a, -0.5), 1.0)),
    ("positional", (-0.5, 0.5), lambda a: np.minimum(np.maximum(a, -0.5), 0.5)),
]
for _name, _kw, _ref in CLAMPS:
    for _s in SHAPES:
        _fn = ((lambda t, kw=_kw: F.clamp(t, *kw)) if isinstance(_kw, tuple)
               else (lambda t, kw=_kw: F.clamp(t, **kw)))
        case(f"clamp-{_name}-{shape_id(_s)}", _fn, [In(_s, KINKLESS)], "ClampBackward1", _ref)

# ---- SPEC 3.9 elementwise ops and activations (issue 15), off their kinks -----------------

_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)
_GELU_TANH = math.sqrt(2 / math.pi)
SPEC39 = [
    ("gelu", {}, ANY, lambda a: a / 2 * (1 + _erf(a / math.sqrt(2))), "GeluBackward0"),
    ("gelu", {"approximate": "tanh"}, ANY,
     lambda a: a / 2 * (1 + np.tanh(_GELU_TANH * (a + 0.044715 * a ** 3))), "GeluBackward0"),
    ("leaky_relu", {"negative_slope": 0.2}, away(0.05, 3), lambda a: np.where(a > 0, a, 0.2 * a),
     "LeakyReluBackward0"),
    ("elu", {"alpha": 0.5}, away(0.05, 3),
     lambda a: np.where(a > 0, a, 0.5 * (np.exp(a) - 1)), "EluBackward0"),
    ("selu", {}, away(0.05, 3),
     lambda a: _SELU[1] * np.where(a > 0, a, _SELU[0] * (np.exp(a) - 1)), "EluBackward0"),
    ("celu", {"alpha": 2.0}, away(0.05, 3), lambda a: np.where(a > 0, a, 2 * (np.exp(a / 2) - 1)),
     "CeluBackward0"),
    ("hardtanh", {}, KINKLESS, lambda a: np.minimum(np.maximum(a, -1), 1), "HardtanhBackward0"),
    ("relu6", {}, grid(0.05, -20, 80), lambda a: np.minimum(np.maximum(a, 0), 6),
     "HardtanhBackward0"),
    ("logsigmoid", {}, ANY, lambda a: -np.log(1 + np.exp(-a)), "LogSigmoidBackward0"),
    ("mish", {}, ANY, lambda a: a * np.tanh(np.log(1 + np.exp(a))), "MishBackward0"),
    ("hardsigmoid", {}, grid(0.05, -45, 45), lambda a: np.clip(a / 6 + 0.5, 0, 1),
     "HardsigmoidBackward0"),
    ("hardswish", {}, grid(0.05, -45, 45), lambda a: a * np.clip(a / 6 + 0.5, 0, 1),
     "HardswishBackward0"),
    ("atanh", {}, floats(-0.9, 0.9), lambda a: 0.5 * np.log((1 + a) / (1 - a)),
     "AtanhBackward0"),
    ("acosh", {}, floats(1.2, 3), lambda a: np.log(a + np.sqrt(a * a - 1)), "AcoshBackward0"),
    ("erfc", {}, ANY, lambda a: 1 - _erf(a), "ErfcBackward0"),
    ("logit", {}, floats(0.05, 0.95), lambda a: np.log(a) - np.log(1 - a), "LogitBackward0"),
    ("clamp_min", {"min": -0.5}, KINKLESS, lambda a: np.where(a < -0.5, -0.5, a),
     "ClampMinBackward0"),
    ("clamp_max", {"max": 1.0}, KINKLESS, lambda a: np.where(a > 1.0, 1.0, a),
     "ClampMaxBackward0"),
]
for _name, _kw, _dom, _ref, _gf in SPEC39:
    _id = _name + "".join(f"-{k}={v}" for k, v in _kw.items())
    for _s in SHAPES:
        case(f"{_id}-{shape_id(_s)}", lambda t, n=_name, kw=_kw: getattr(F, n)(t, **kw),
             [In(_s, _dom)], _gf, _ref)
    case(f"{_id}-method", lambda t, n=_name, kw=_kw: getattr(t, n)(**kw), [In((3, 4), _dom)],
         _gf, _ref)
for _sa, _sb in PAIRS:
    case(f"xlogy-{shape_id(_sa)}&{shape_id(_sb)}", F.xlogy, [In(_sa, NONZERO), In(_sb, POS)],
         "XlogyBackward0", lambda a, b: a * np.log(b))
    case(f"logaddexp-{shape_id(_sa)}&{shape_id(_sb)}", F.logaddexp, [In(_sa), In(_sb)],
         "LogaddexpBackward0", lambda a, b: np.log(np.exp(a) + np.exp(b)))
    case(f"where-{shape_id(_sa)}&{shape_id(_sb)}", lambda a, b: F.where(a > 0, a, b),
         [In(_sa, away(0.05, 3)), In(_sb)], "WhereBackward0", lambda a, b: np.where(a > 0, a, b))

# ---- SPEC 3.9 reductions, rounding, special functions, masked_fill (issue 15) -------------

def off_jumps(lo=-3, hi=3):
    """k + [0.1, 0.4]: off the jumps of floor, ceil, trunc (integers) and round (halves)."""
    return st.tuples(st.integers(lo, hi), floats(0.1, 0.4)).map(lambda p: p[0] + p[1])


for _s, _d in [((4,), 0), ((3, 4), 1), ((3, 4), -2)]:
    sid = f"{shape_id(_s)}-dim{_d}"
    case(f"cumsum-{sid}", lambda t, d=_d: F.cumsum(t, d), [In(_s)], "CumsumBackward0",
         lambda a, d=_d: np.cumsum(a, d))
    case(f"cumprod-{sid}", lambda t, d=_d: t.cumprod(d), [In(_s, away(0.3, 1.5))],
         "CumprodBackward0", lambda a, d=_d: np.cumprod(a, d))
    case(f"logcumsumexp-{sid}", lambda t, d=_d: F.logcumsumexp(t, d), [In(_s)],
         "LogcumsumexpBackward0", lambda a, d=_d: np.log(np.cumsum(np.exp(a), d)))
    case(f"amax-{sid}", lambda t, d=_d: F.amax(t, d), [In(_s, KINKLESS, unique=True)],
         "AmaxBackward0", lambda a, d=_d: np.max(a, d))
    case(f"amin-{sid}-keep", lambda t, d=_d: t.amin(d, keepdim=True),
         [In(_s, KINKLESS, unique=True)], "AminBackward0",
         lambda a, d=_d: np.min(a, d, keepdims=True))
for _s in [(4,), (3, 4)]:
    sid = shape_id(_s)
    case(f"var-{sid}", F.var, [In(_s)], "VarBackward0", lambda a: np.var(a, ddof=1))
    case(f"var-{sid}-dim-1-keep-c0", lambda t: F.var(t, -1, keepdim=True, correction=0),
         [In(_s)], "VarBackward0", lambda a: np.var(a, -1, keepdims=True))
    case(f"std-{sid}", lambda t: t.std(0), [In(_s, KINKLESS, unique=True)], "StdBackward0",
         lambda a: np.std(a, 0, ddof=1))
    case(f"amax-{sid}-all", F.amax, [In(_s, KINKLESS, unique=True)], "AmaxBackward0", np.max)
    for _name, _ref, _gf in (("floor", np.floor, "FloorBackward0"),
                             ("ceil", np.ceil, "CeilBackward0"),
                             ("trunc", np.trunc, "TruncBackward0"),
                             ("round", np.round, "RoundBackward0"),
                             ("frac", lambda a: a - np.trunc(a), "FracBackward0")):
        case(f"{_name}-{sid}", getattr(F, _name), [In(_s, off_jumps())], _gf, _ref)
    case(f"round-decimals-{sid}", lambda t: F.round(t, decimals=1),
         [In(_s, off_jumps().map(lambda v: v / 10))], "RoundBackward1",
         lambda a: np.round(a, 1))
    for _name, _gf, _ref in (("erfinv", "ErfinvBackward0", None),
                             ("lgamma", "LgammaBackward0",
                              np.vectorize(math.lgamma, otypes=[float])),
                             ("digamma", "DigammaBackward0", None),
                             ("sinc", "SincBackward0", np.sinc)):
        _dom = {"erfinv": floats(-0.9, 0.9), "lgamma": st.one_of(floats(0.2, 4),
                                                                  floats(-2.8, -2.2)),
                "digamma": floats(0.6, 4), "sinc": away(0.05, 3)}[_name]  # (PyTorch's
        # trigamma switches formulas at 0.5, with a jump of ~1e-9: no finite differences)
        case(f"{_name}-{sid}", getattr(F, _name), [In(_s, _dom)], _gf, _ref)
    case(f"masked_fill-{sid}", lambda t: F.masked_fill(t, [False, True, True, False], 0.5),
         [In(_s)], "MaskedFillBackward0", lambda a: np.where([False, True, True, False], 0.5, a))
case("masked_fill-tensor-value", lambda t, v: t.masked_fill(np.array([True, False, True,
                                                                      False]), v),
     [In((3, 4)), In(())], "MaskedFillBackward1",
     lambda a, v: np.where([True, False, True, False], v, a))
for _sa, _sb in [((4,), (4,)), ((3, 4), (4,)), ((3, 1), (1, 4))]:
    _ids = f"{shape_id(_sa)}&{shape_id(_sb)}"
    case(f"fmod-{_ids}", F.fmod, [In(_sa, away(0.1, 0.9)), In(_sb, away(1.0, 2.0))],
         "FmodBackward1", np.fmod)
    case(f"remainder-{_ids}", F.remainder, [In(_sa, away(0.1, 0.9)), In(_sb, away(1.0, 2.0))],
         "RemainderBackward1", lambda a, b: a - b * np.floor(a / b))
case("fmod-number", lambda t: F.fmod(t, 1.5), [In((3, 4), away(0.1, 1.4))], "FmodBackward0",
     lambda a: np.fmod(a, 1.5))
case("remainder-number", lambda t: t.remainder(-1.5), [In((3, 4), away(0.1, 1.4))],
     "RemainderBackward0", lambda a: a - (-1.5) * np.floor(a / -1.5))

# ---- the losses and addmm that programs reach since issue 15 ------------------------------

def _smooth(d, beta=1.0):
    return np.where(np.abs(d) < beta, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)


def _bce_ref(x, y):
    return -np.mean(y * np.log(x) + (1 - y) * np.log(1 - x))


def _bce_logits_ref(x, y):
    return np.mean((1 - y) * x + np.log(1 + np.exp(-x)))


for _s in [(4,), (3, 4)]:
    sid = shape_id(_s)
    case(f"smooth_l1_loss-{sid}", F.smooth_l1_loss, [In(_s, KINKLESS), In(_s, OTHER_GRID)],
         "SmoothL1LossBackward0", lambda a, b: np.mean(_smooth(a - b)))
    case(f"huber_loss-{sid}", lambda a, b: F.huber_loss(a, b, reduction="sum"),
         [In(_s, KINKLESS), In(_s, OTHER_GRID)], "HuberLossBackward0",
         lambda a, b: np.sum(_smooth(a - b)))
    case(f"binary_cross_entropy-{sid}", F.binary_cross_entropy,
         [In(_s, floats(0.05, 0.95)), In(_s, floats(0.05, 0.95))], "BinaryCrossEntropyBackward0",
         _bce_ref)
    case(f"binary_cross_entropy_with_logits-{sid}", F.binary_cross_entropy_with_logits,
         [In(_s, ANY), In(_s, floats(0, 1))], "BinaryCrossEntropyWithLogitsBackward0",
         _bce_logits_ref)
case("nll_loss-3x4", lambda x: F.nll_loss(x, [0, 3, 1]), [In((3, 4))], "NllLossBackward0",
     lambda a: -np.mean(a[np.arange(3), [0, 3, 1]]))
case("addmm", F.addmm, [In((3, 2)), In((3, 4)), In((4, 2))], "AddmmBackward0",
     lambda b, m1, m2: b + m1 @ m2)

# ---- shapes: views, indexing, joining -----------------------------------------------------

RESHAPES = {(): [(1,), (1, 1)], (4,): [(2, 2), (4, 1), (-1,)], (3, 4): [(2, 6), (12,), (-1, 3)],
            (1, 4): [(4,), (2, -1)]}
for _s, _targets in RESHAPES.items():
    for _t in _targets:
        case(f"reshape-{shape_id(_s)}-to-{_t}", lambda x, t=_t: F.reshape(x, t), [In(_s)],
             "ViewBackward0", lambda a, t=_t: np.reshape(a, t))
case("reshape-varargs", lambda x: F.reshape(x, 6, 2), [In((3, 4))], "ViewBackward0",
     lambda a: a.reshape(6, 2))
case("reshape-method", lambda x: x.reshape(2, 6), [In((3, 4))], "ViewBackward0",
     lambda a: a.reshape(2, 6))
case("reshape-to-0d", lambda x: F.reshape(x, ()), [In((1,))], "ViewBackward0",
     lambda a: a.reshape(()))
for _s in [(), (3, 4), (1, 4)]:
    case(f"flatten-{shape_id(_s)}", F.flatten, [In(_s)], "ViewBackward0",
         lambda a: a.reshape(-1))
case("flatten-1d-is-identity", F.flatten, [In((4,))], None, lambda a: a)
for _s in [(3, 4), (1, 4)]:
    case(f"T-{shape_id(_s)}", lambda x: x.T, [In(_s)], "PermuteBackward0", lambda a: a.T)
    case(f"permute-{shape_id(_s)}", lambda x: F.permute(x, 1, 0), [In(_s)], "PermuteBackward0",
         lambda a: a.T)
for _s in [(3, 4), (1, 4), (4,)]:
    case(f"t-{shape_id(_s)}", F.t, [In(_s)], "TBackward0", lambda a: a.T)
    case(f"t-method-{shape_id(_s)}", lambda x: x.t(), [In(_s)], "TBackward0", lambda a: a.T)

UNSQUEEZE = {(): [0, -1], (4,): [0, 1, -1], (3, 4): [0, 1, 2, -2], (1, 4): [0, 2]}
for _s, _ds in UNSQUEEZE.items():
    for _d in _ds:
        case(f"unsqueeze-{shape_id(_s)}-{_d}", lambda x, d=_d: F.unsqueeze(x, d), [In(_s)],
             "UnsqueezeBackward0", lambda a, d=_d: np.expand_dims(a, d))
for _s, _d in [((1, 4), 0), ((1, 4), -2), ((3, 4), 1), ((4,), 0), ((), 0), ((3, 1), 1)]:
    case(f"squeeze-{shape_id(_s)}-{_d}", lambda x, d=_d: F.squeeze(x, d), [In(_s)],
         "SqueezeBackward1",
         lambda a, d=_d: np.squeeze(a, d) if a.ndim and a.shape[d] == 1 else a)
for _s in [(1, 4), (3, 4), (3, 1)]:
    case(f"squeeze-all-{shape_id(_s)}", F.squeeze, [In(_s)], "SqueezeBackward0", np.squeeze)

INDEXES = [
    ((4,), 0, "SelectBackward0"), ((4,), -1, "SelectBackward0"),
    ((4,), slice(1, 3), "SliceBackward0"), ((4,), slice(None, None, 2), "SliceBackward0"),
    ((4,), slice(1, None), "SliceBackward0"), ((4,), slice(-3, -1), "SliceBackward0"),
    ((4,), slice(None), "SliceBackward0"),
    ((3, 4), 1, "SelectBackward0"), ((3, 4), -1, "SelectBackward0"),
    ((3, 4), (slice(None), 0), "SelectBackward0"), ((3, 4), (1, 2), "SelectBackward0"),
    ((3, 4), (slice(1, None), 0), "SelectBackward0"), ((3, 4), (0, slice(1, 3)), "SliceBackward0"),
    ((3, 4), (slice(None), slice(1, None)), "SliceBackward0"),
    ((3, 4), slice(None, None, 2), "SliceBackward0"),
    ((3, 4), (slice(1, None), slice(1, None)), "SliceBackward0"),
    ((3, 4), (-1, -2), "SelectBackward0"),
    ((1, 4), 0, "SelectBackward0"), ((1, 4), (slice(None), 2), "SelectBackward0"),
    ((1, 4), (0, -1), "SelectBackward0"),
]
for _s, _key, _gf in INDEXES:
    case(f"index-{shape_id(_s)}-{_key!r}", lambda x, k=_key: x[k], [In(_s)], _gf,
         lambda a, k=_key: a[k])
case("index-chained", lambda x: x[0][1], [In((3, 4))], "SelectBackward0", lambda a: a[0][1])
case("index-twice-same-element", lambda x: x[1] * x[1] + x[1:][0], [In((3, 4))],
     "AddBackward0", lambda a: a[1] * a[1] + a[1])

for _s in SHAPES:
    for _d in ([0, -1] if _s else [0]):
        case(f"stack2-{shape_id(_s)}-dim{_d}", lambda a, b, d=_d: F.stack([a, b], d),
             [In(_s), In(_s)], "StackBackward0", lambda a, b, d=_d: np.stack([a, b], d))
    case(f"stack3-{shape_id(_s)}", lambda a, b, c: F.stack([a, b, c]), [In(_s)] * 3,
         "StackBackward0", lambda a, b, c: np.stack([a, b, c]))
case("stack-same-tensor-twice", lambda a: F.stack([a, a * 2.0]), [In((3, 4))], "StackBackward0",
     lambda a: np.stack([a, a * 2]))
CATS = [((4,), (4,), 0), ((3, 4), (3, 4), 0), ((3, 4), (3, 4), 1), ((3, 4), (1, 4), 0),
        ((1, 4), (1, 4), -1), ((3, 4), (3, 1), 1)]
for _sa, _sb, _d in CATS:
    case(f"cat-{shape_id(_sa)}&{shape_id(_sb)}-dim{_d}", lambda a, b, d=_d: F.cat([a, b], d),
         [In(_sa), In(_sb)], "CatBackward0", lambda a, b, d=_d: np.concatenate([a, b], d))
case("cat3", lambda a, b, c: F.cat([a, b, c]), [In((4,)), In((2,)), In((1,))], "CatBackward0",
     lambda a, b, c: np.concatenate([a, b, c]))

# ---- views of SPEC 3.8 and copies ------------------------------------------------------------

for _s, _d0, _d1 in [((3, 4), 0, 1), ((3, 4), -1, 0), ((4,), 0, 0), ((1, 4), 1, 0)]:
    case(f"transpose-{shape_id(_s)}-{_d0}{_d1}", lambda x, a=_d0, b=_d1: F.transpose(x, a, b),
         [In(_s)], "TransposeBackward0", lambda a, d0=_d0, d1=_d1: np.swapaxes(a, d0, d1))
for _s, _sizes in [((1, 4), (3, 4)), ((4,), (2, 4)), ((), (3,)), ((3, 1), (3, -1)),
                   ((3, 1), (2, 3, 5))]:
    case(f"expand-{shape_id(_s)}-to-{_sizes}", lambda x, z=_sizes: F.expand(x, *z), [In(_s)],
         "ExpandBackward0", lambda a, z=_sizes: np.broadcast_to(
             a, tuple(a.shape[i - len(z) + a.ndim] if n == -1 else n for i, n in enumerate(z))))
for _s, _kw in [((3, 4), {}), ((3, 4), dict(offset=1)), ((3, 4), dict(offset=-1)),
                ((4, 3), dict(dim1=1, dim2=0))]:
    case(f"diagonal-{shape_id(_s)}-{_kw}", lambda x, kw=_kw: F.diagonal(x, **kw), [In(_s)],
         "DiagonalBackward0", lambda a, kw=_kw: np.diagonal(
             a, kw.get("offset", 0), kw.get("dim1", 0), kw.get("dim2", 1)))
for _s, _args in [((3, 4), (1, 1, 2)), ((3, 4), (0, 0, 3)), ((4,), (0, -2, 2))]:
    case(f"narrow-{shape_id(_s)}-{_args}", lambda x, a=_args: F.narrow(x, *a), [In(_s)],
         "SliceBackward0", lambda a, args=_args: np.take(
             a, range(args[1] % a.shape[args[0]], args[1] % a.shape[args[0]] + args[2]),
             axis=args[0]))
case("view-3x4", lambda x: x.view(2, 6), [In((3, 4))], "ViewBackward0",
     lambda a: a.reshape(2, 6))
case("view-of-T-viewable", lambda x: F.view(x.T, 4, 1, 3), [In((3, 4))], "ViewBackward0",
     lambda a: a.T.reshape(4, 1, 3))
case("reshape-of-T-copies", lambda x: F.reshape(x.T, 12), [In((3, 4))], "UnsafeViewBackward0",
     lambda a: a.T.reshape(12))
case("reshape-of-T-viewable", lambda x: F.reshape(x.T, 4, 1, 3), [In((3, 4))],
     "ReshapeAliasBackward0", lambda a: a.T.reshape(4, 1, 3))
case("clone", lambda x: x.clone(), [In((3, 4))], "CloneBackward0", lambda a: a)
case("zero_", lambda x: (x * 1.0).zero_(), [In((3, 4))], "ZeroBackward0", np.zeros_like)
case("fill_-number", lambda x: (x * 1.0).fill_(2.5), [In((3, 4))], "FillBackward2",
     lambda a: np.full_like(a, 2.5))
case("fill_-tensor", lambda x, v: (x * 1.0).fill_(v), [In((3, 4)), In(())], "FillBackward3",
     lambda a, v: np.full_like(a, v))
case("copy_", lambda x, v: (x * 1.0).copy_(v), [In((3, 4)), In((4,))], "CopyBackwards",
     lambda a, v: np.broadcast_to(v, a.shape))

# ---- SPEC 3.9's shape ops and layers (tests/test_ops_shape.py has their errors) ----------

IDX = np.array([[0, 3], [2, 2], [1, 0]])
case("flip-dim0", lambda x: F.flip(x, 0), [In((3, 4))], "FlipBackward0", lambda a: a[::-1])
case("flip-both", lambda x: x.flip(0, -1), [In((3, 4))], "FlipBackward0", lambda a: a[::-1, ::-1])
case("roll-flat", lambda x: x.roll(5), [In((3, 4))], "RollBackward0",
     lambda a: np.roll(a.reshape(-1), 5).reshape(3, 4))
case("roll-dims", lambda x: F.roll(x, (1, -1), (0, 1)), [In((3, 4))], "RollBackward0",
     lambda a: np.roll(np.roll(a, 1, 0), -1, 1))
case("repeat-2x1", lambda x: x.repeat(2, 1), [In((3, 4))], "RepeatBackward0",
     lambda a: np.concatenate([a, a]))
case("repeat-new-dims", lambda x: x.repeat(2, 3, 1), [In((4,))], "RepeatBackward0",
     lambda a: np.broadcast_to(a, (2, 3, 4)))
case("tile", lambda x: F.tile(x, (2,)), [In((3, 4))], "RepeatBackward0",
     lambda a: np.concatenate([a, a], 1))
case("gather", lambda x: F.gather(x, 1, IDX), [In((3, 4))], "GatherBackward0",
     lambda a: np.array([[a[i, j] for j in row] for i, row in enumerate(IDX)]))
case("index_select", lambda x: F.index_select(x, 1, [3, 0, 3]), [In((3, 4))],
     "IndexSelectBackward0", lambda a: np.stack([a[:, 3], a[:, 0], a[:, 3]], 1))
case("movedim", lambda x: F.movedim(x, 0, 1), [In((3, 4))], "PermuteBackward0", lambda a: a.T)
case("split-last", lambda x: x.split(3, 1)[1], [In((3, 4))], "SplitBackward0",
     lambda a: a[:, 3:])
case("chunk-first", lambda x: x.chunk(2)[0], [In((4,))], "SplitBackward0", lambda a: a[:2])


def _layer_norm_ref(a, w=None, b=None):
    c = a - a.mean(-1, keepdims=True)
    out = c / np.sqrt((c * c).mean(-1, keepdims=True) + 1e-5)
    return out * (1 if w is None else w) + (0 if b is None else b)


case("layer_norm", lambda x: F.layer_norm(x, (4,)), [In((3, 4), unique=True)],
     "NativeLayerNormBackward0", _layer_norm_ref)
case("layer_norm-affine", lambda x, w, b: F.layer_norm(x, [4], w, b),
     [In((3, 4), unique=True), In((4,)), In((4,))], "NativeLayerNormBackward0",
     _layer_norm_ref)
case("normalize", lambda x: F.normalize(x, dim=-1), [In((3, 4), NONZERO)], "DivBackward0",
     lambda a: a / np.sqrt((a * a).sum(-1, keepdims=True)))
case("cosine_similarity", lambda a, b: F.cosine_similarity(a, b), [In((3, 4), NONZERO),
     In((4,), NONZERO)], "SumBackward1", lambda a, b: (a * b).sum(1) / np.sqrt(
         (a * a).sum(1) * (b * b).sum()))
case("kl_div", lambda x, t: F.kl_div(x, t, reduction="batchmean"), [In((3, 4)), In((3, 4), POS)],
     "DivBackward0", lambda x, t: np.sum(t * (np.log(t) - x)) / 3)

# ops reached by other tests: dtype conversions (tests/test_dtypes.py) and the ones that
# give bool results, which no gradient passes through
COVERED_ELSEWHERE = {"to_copy", "eq", "ne", "lt", "le", "gt", "ge", "all", "any",
                     # no gradient passes: against PyTorch's output in test_run_cli.py
                     "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                     "floor_divide",
                     "isclose", "allclose", "equal",
                     # int64 results (tests/test_ops_torch.py: elem.json)
                     "argmax", "argmin"}

# ---- the checks -----------------------------------------------------------------------------

def leaves(arrays):
    return [ag.tensor(a, requires_grad=True) for a in arrays]


def forward_value(fn, arrays) -> np.ndarray:
    with ag.no_grad():
        return fn(*[ag.tensor(a) for a in arrays]).data


def first_grads(fn, arrays, upstream) -> list:
    """The engine's d(sum(fn * upstream))/dx (zeros where an input is unused)."""
    xs = leaves(arrays)
    out = fn(*xs)
    gs = ag.grad(out, xs, grad_outputs=ag.tensor(upstream), allow_unused=True)
    return [np.zeros_like(a) if g is None else g.data for a, g in zip(arrays, gs)]


def finite_differences(scalar_fn, arrays) -> list:
    """Central differences of scalar_fn(arrays) for every element of every array."""
    arrays = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
    result = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            x0 = a[idx]
            a[idx] = x0 + H
            up = scalar_fn(arrays)
            a[idx] = x0 - H
            down = scalar_fn(arrays)
            a[idx] = x0
            g[idx] = (up - down) / (2 * H)
        result.append(g)
    return result


def draw_like(data, shape, label):
    return data.draw(hnp.arrays(np.float64, shape, elements=floats(-2, 2)), label=label)


def check_gradients(fn, arrays, data, *, second=True) -> ag.Tensor:
    """All the gradient properties of ``fn`` at ``arrays``; returns the output tensor."""
    xs = leaves(arrays)
    out = fn(*xs)
    upstream = draw_like(data, out.shape, "upstream")

    # first order: grad() against finite differences
    analytic = ag.grad(out, xs, grad_outputs=ag.tensor(upstream), retain_graph=True,
                       allow_unused=True)
    analytic = [np.zeros_like(a) if g is None else g.data for a, g in zip(arrays, analytic)]
    numeric = finite_differences(
        lambda arrs: float(np.sum(forward_value(fn, arrs) * upstream)), arrays)
    for i, (g, n) in enumerate(zip(analytic, numeric)):
        assert g.shape == arrays[i].shape
        np.testing.assert_allclose(g, n, rtol=RTOL, atol=ATOL,
                                   err_msg=f"first derivative wrt input {i}")

    # backward() accumulates the same values into .grad
    out.backward(upstream)
    for i, (x, g) in enumerate(zip(xs, analytic)):
        got = np.zeros_like(g) if x.grad is None else x.grad.data
        np.testing.assert_allclose(got, g, **VALUE_TOL, err_msg=f".grad of input {i}")
    assert out.grad is None or out.is_leaf

    if not second:
        return out

    # create_graph: same first derivative, and a differentiable one
    xs = leaves(arrays)
    out = fn(*xs)
    g1 = ag.grad(out, xs, grad_outputs=ag.tensor(upstream), create_graph=True,
                 allow_unused=True)
    for i, (g, a) in enumerate(zip(g1, analytic)):
        got = np.zeros_like(a) if g is None else g.data
        np.testing.assert_allclose(got, a, rtol=1e-10, atol=1e-12,
                                   err_msg=f"create_graph first derivative wrt input {i}")
    vs = [draw_like(data, a.shape, f"v{i}") for i, a in enumerate(arrays)]
    phi = None
    for g, v in zip(g1, vs):
        if g is not None and g.requires_grad:
            term = F.sum(g * ag.tensor(v))
            phi = term if phi is None else phi + term
    if phi is None:
        hvp = [np.zeros_like(a) for a in arrays]
    else:
        hvp = ag.grad(phi, xs, allow_unused=True)
        hvp = [np.zeros_like(a) if h is None else h.data for a, h in zip(arrays, hvp)]
    numeric2 = finite_differences(
        lambda arrs: float(sum(np.sum(g * v) for g, v in
                               zip(first_grads(fn, arrs, upstream), vs))), arrays)
    for i, (h, n) in enumerate(zip(hvp, numeric2)):
        np.testing.assert_allclose(h, n, rtol=RTOL, atol=ATOL,
                                   err_msg=f"second derivative (HVP) wrt input {i}")
    return out


def draw_inputs(data, inputs) -> list:
    return [data.draw(hnp.arrays(np.float64, spec.shape, elements=spec.elements,
                                 unique=spec.unique), label=f"x{i}")
            for i, spec in enumerate(inputs)]


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
@SETTINGS
@given(data=st.data())
def test_op(c: Case, data):
    arrays = draw_inputs(data, c.inputs)
    xs = leaves(arrays)
    out = c.fn(*xs)
    if c.grad_fn is None:
        assert out is xs[0]
    else:
        assert out.grad_fn is not None and out.grad_fn.name == c.grad_fn
        assert not out.is_leaf and out.requires_grad and out.grad is None
    if c.node_check is not None:
        c.node_check(out, xs)
    if c.ref is not None:
        expected = np.asarray(c.ref(*arrays), dtype=np.float64)
        assert out.shape == expected.shape
        np.testing.assert_allclose(out.data, expected, **VALUE_TOL)
    assert out.data.dtype == np.float64
    check_gradients(c.fn, arrays, data, second=c.second)


def test_every_public_op_is_covered():
    """Every non-internal op of the table is reached by some case above."""
    seen = set()
    for c in CASES:
        arrays = [np.full(spec.shape, 0.55) for spec in c.inputs]
        xs = leaves(arrays)
        out = c.fn(*xs)
        stack = [out.grad_fn] if out.grad_fn is not None else []
        while stack:
            node = stack.pop()
            if hasattr(node, "op"):
                seen.add(node.op.name)
                stack.extend(n for n in node.next_edges if n is not None)
    # (an entry without a forward is a composite: it records the nodes of the ops it calls)
    public = {name for name, op in ag.REGISTRY.items()
              if not op.internal and op.forward is not None}
    assert public - seen - COVERED_ELSEWHERE - pytorch_cases() == set()


def pytorch_cases() -> set:
    """The ops with PyTorch-written cases (tests/data/ops/*.json): test_ops_torch checks
    their values, gradients and second derivatives against differences, as the cases
    above do, so a new op needs no case here too."""
    import json
    from pathlib import Path
    files = (Path(__file__).parent / "data" / "ops").glob("*.json")
    return {case["fn"] for path in files for case in json.loads(path.read_text())["cases"]}


# ---- grad_fn names of SPEC 3.2, with no inputs drawn ---------------------------------------

def test_constants_have_no_grad_fn():
    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    for t in (F.ones_like(x), F.zeros_like(x), F.ones(2, 3), F.zeros(2, 3), F.ones((2, 3))):
        assert t.grad_fn is None and t.is_leaf and not t.requires_grad
        assert t.shape == (2, 3)
    np.testing.assert_array_equal(F.ones_like(x).data, np.ones((2, 3)))
    np.testing.assert_array_equal(F.zeros(2, 3).data, np.zeros((2, 3)))


def test_no_node_without_an_input_that_requires_grad():
    c = ag.tensor([0.5, 1.5])
    for out in (F.exp(c), c * c, c @ c, F.sum(c), c[0], F.stack([c, c]), 2 ** c, c ** c):
        assert out.grad_fn is None and out.is_leaf and not out.requires_grad


def test_methods_match_functions():
    x = ag.tensor([[0.5, 0.25], [0.75, 0.125]], requires_grad=True)
    for name, *_ in UNARY:
        a, b = getattr(x, name)(), getattr(F, name)(x)
        assert a.grad_fn.name == b.grad_fn.name
        np.testing.assert_array_equal(a.data, b.data)


# ---- composed expressions -----------------------------------------------------------------

def _last_dim(fn_nd, fn_0d):
    return lambda t, x, y: fn_nd(t) if t.ndim else fn_0d(t)


STEPS = {
    "sin": lambda t, x, y: F.sin(t),
    "tanh*x": lambda t, x, y: F.tanh(t) * x,
    "log(t^2+1)": lambda t, x, y: F.log(t * t + 1),
    "sqrt(t^2+.5)": lambda t, x, y: F.sqrt(t * t + 0.5),
    "exp(-t^2)": lambda t, x, y: F.exp(-(t ** 2)),
    "sigmoid+y": lambda t, x, y: F.sigmoid(t) + y,
    "t/(1+t^2)": lambda t, x, y: t / (1 + t * t),
    "softplus-y*t": lambda t, x, y: F.softplus(t) - y * t,
    "atan^2": lambda t, x, y: F.atan(t) ** 2,
    "2**tanh": lambda t, x, y: 2 ** F.tanh(t),
    "cos*sin(y)": lambda t, x, y: F.cos(t) * F.sin(y),
    "erf": lambda t, x, y: F.erf(t),
    "hypot(t,y)": lambda t, x, y: F.hypot(t, y),
    "(t^2+1)**tanh(y)": lambda t, x, y: (t * t + 1) ** (F.tanh(y) * 0.5),
    "1-t*y": lambda t, x, y: 1 - t * y,
    "3/(2+t^2)": lambda t, x, y: 3 / (2 + t * t),
    "silu": lambda t, x, y: F.silu(t),
    "softmax": _last_dim(lambda t: F.softmax(t, -1), F.sigmoid),
    "t-logsumexp": _last_dim(lambda t: t - F.logsumexp(t, -1, keepdim=True), F.tanh),
    "log_softmax*t": _last_dim(lambda t: F.log_softmax(t, 0) * t, F.sin),
    "t*mean(t)": _last_dim(lambda t: t * F.mean(t, -1, keepdim=True), lambda t: t * t),
    "stack/select": lambda t, x, y: F.stack([F.sin(t), t])[0] * t,
    "reshape-roundtrip": lambda t, x, y: F.reshape(F.reshape(t, (-1,)) * 0.5, t.shape),
    "x*y/(1+y^2)": lambda t, x, y: t + x * y / (1 + y * y),
    "clamp(wide)": lambda t, x, y: F.clamp(t, -1e3, 1e3) * F.cos(t),
    "cat/slice": lambda t, x, y: F.reshape(
        F.cat([F.sin(F.reshape(t, (-1,))), F.reshape(t, (-1,))])[t.numel():], t.shape)
    * F.cos(t),
}
ENDINGS = {
    "none": lambda t: t,
    "sum": F.sum,
    "mean(dim0)": lambda t: F.mean(t, 0) if t.ndim else t,
    "norm": lambda t: F.norm(t + 3.0),
    "prod": lambda t: F.prod(t * 0.1 + 1.5),
    "logsumexp": lambda t: F.logsumexp(t, -1) if t.ndim else t,
    "t@t": lambda t: F.reshape(t, (-1,)) @ F.reshape(t, (-1,)),
    "mse": lambda t: F.mse_loss(t, F.sin(t)),
    "trace": lambda t: F.trace(t if t.ndim == 2 else F.reshape(t, (1, -1))),
}


@settings(SETTINGS, max_examples=80 * SCALE)
@given(data=st.data(),
       shapes=st.sampled_from(SAME_PAIRS + BROADCAST_PAIRS),
       steps=st.lists(st.sampled_from(sorted(STEPS)), min_size=2, max_size=4),
       ending=st.sampled_from(sorted(ENDINGS)))
def test_composed_expressions(data, shapes, steps, ending):
    sx, sy = shapes
    x0 = data.draw(hnp.arrays(np.float64, sx, elements=SMALL), label="x")
    y0 = data.draw(hnp.arrays(np.float64, sy, elements=away(0.2, 2)), label="y")

    def fn(x, y):
        t = x
        for name in steps:
            t = STEPS[name](t, x, y)
        return ENDINGS[ending](t)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)     # no inf/nan along the way
        out = check_gradients(fn, [x0, y0], data)
    assert out.grad_fn is not None


@settings(SETTINGS, max_examples=25 * SCALE)
@given(x0=hnp.arrays(np.float64, (3,), elements=floats(-1, 1)), order=st.integers(2, 4))
def test_higher_order_derivatives_of_a_polynomial(x0, order):
    """d^k/dx^k of sum(x^5) is 5!/(5-k)! x^(5-k), through repeated create_graph."""
    x = ag.tensor(x0, requires_grad=True)
    g = F.sum(x ** 5)
    for k in range(1, order + 1):
        (g,) = ag.grad(F.sum(g), x, create_graph=True)
    expected = math.factorial(5) // math.factorial(5 - order) * x0 ** (5 - order)
    np.testing.assert_allclose(g.data, expected, rtol=1e-12, atol=1e-12)


@settings(SETTINGS, max_examples=20 * SCALE)
@given(w=hnp.arrays(np.float64, (3, 4), elements=SMALL),
       v=hnp.arrays(np.float64, (4,), elements=SMALL),
       b=hnp.arrays(np.float64, (3,), elements=SMALL))
def test_hessian_of_a_small_network_is_symmetric_and_matches_differences(w, v, b):
    """Full Hessian of L(v) = sum(tanh(W v + b)^2) by one create_graph pass per row."""
    W, B = ag.tensor(w), ag.tensor(b)

    def loss(t):
        return F.sum(F.tanh(W @ t + B) ** 2)

    x = ag.tensor(v, requires_grad=True)
    (g,) = ag.grad(loss(x), x, create_graph=True)
    rows = [ag.grad(g[i], x, retain_graph=True)[0].data for i in range(4)]
    hess = np.stack(rows)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-10, atol=1e-12)

    def grad_at(arr):
        t = ag.tensor(arr, requires_grad=True)
        return ag.grad(loss(t), t)[0].data

    numeric = np.stack([(grad_at(v + H * e) - grad_at(v - H * e)) / (2 * H)
                        for e in np.eye(4)])
    np.testing.assert_allclose(hess, numeric, rtol=RTOL, atol=ATOL)


@settings(SETTINGS, max_examples=20 * SCALE)
@given(x0=hnp.arrays(np.float64, (2, 3), elements=SMALL),
       g0=hnp.arrays(np.float64, (2, 3), elements=SMALL))
def test_gradient_is_linear_in_the_upstream(x0, g0):
    def vjp(g):
        x = ag.tensor(x0, requires_grad=True)
        (r,) = ag.grad(F.sin(x) * F.exp(x), x, grad_outputs=g)
        return r.data

    np.testing.assert_allclose(vjp(2.5 * g0), 2.5 * vjp(g0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vjp(g0 + 1.0), vjp(g0) + vjp(np.ones((2, 3))),
                               rtol=1e-12, atol=1e-12)


@settings(SETTINGS, max_examples=10 * SCALE)
@given(x0=hnp.arrays(np.float32, (3,), elements=st.floats(0.25, 2, width=32)))
def test_float32_stays_float32(x0):
    x = ag.tensor(x0, requires_grad=True)
    assert x.dtype == np.float32
    y = F.sum(F.exp(x) * x)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, np.exp(x0) * (1 + x0), rtol=1e-5)
