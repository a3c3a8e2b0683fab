"""The gamma family and erfinv on numpy arrays (float64 arithmetic; no scipy).

``lgamma``: log|Gamma(x)| to a few ulps (Python's ``math.lgamma`` is off by thousands
of ulps near its zeros): a power series about 2 on [0.5, 2.5), the recurrence down to
it below 10, Stirling's series from 10 on, the reflection formula for x < 0 (there,
next to the zeros of log|Gamma| the error is absolute, ~1e-16).
``digamma``, ``trigamma`` and ``polygamma(n >= 2)`` are PyTorch's own algorithms
(aten/src/ATen/native/Math.h: a recurrence to 10 and an asymptotic series; trigamma's
shorter series is good to ~1e-9 relative, as PyTorch's; Hurwitz zeta for n >= 2), so
values and gradients are PyTorch's.  ``erfinv``: PyTorch's rational first guess, then
Newton steps on erf -- on erfc in the tails, where erf(x) - y cancels.
float32 inputs are computed in float64 and rounded once: lgamma, erfinv agree with
PyTorch's float32 to an ulp; its float32 digamma runs in float arithmetic and is less
accurate than this (only ~30% bit-identical on a grid, thousands of ulps by its root).
"""

from __future__ import annotations

import math

import numpy as np

# ---- lgamma -------------------------------------------------------------------------------

# lgamma(2 + t) = sum_k C[k] t**k (k >= 1): C[1] = 1 - Euler's gamma,
# C[k] = (-1)**k (zeta(k) - 1) / k
_C2 = (0.42278433509846713, 0.3224670334241132, -0.0673523010531981, 0.020580808427784546,
       -0.007385551028673986, 0.0028905103307415234, -0.001192753911703261,
       0.0005096695247430425, -0.00022315475845357939, 9.945751278180853e-05,
       -4.492623673813314e-05, 2.050721277567069e-05, -9.439488275268397e-06,
       4.374866789907488e-06, -2.039215753801366e-06, 9.55141213040742e-07,
       -4.492469198764566e-07, 2.1207184805554665e-07, -1.0043224823968099e-07,
       4.7698101693639804e-08, -2.2711094608943164e-08, 1.0838659214896955e-08,
       -5.183475041970047e-09, 2.4836745438024785e-09, -1.1921401405860912e-09,
       5.731367241678862e-10, -2.7595228851242334e-10, 1.330476437424449e-10,
       -6.4229645638381e-11, 3.1044247747322276e-11, -1.5021384080754142e-11,
       7.275974480239079e-12, -3.527742476575915e-12)
# Stirling: B(2k) / (2k (2k - 1)) for k = 1..7
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _about_two(t):
    """lgamma(2 + t) for |t| <= 0.5 (Horner's rule on the series)."""
    acc = np.full_like(t, _C2[-1])
    for c in _C2[-2::-1]:
        acc = acc * t + c
    return acc * t


def _stirling(x):
    """lgamma(x) for x >= 10."""
    inv, inv2 = 1 / x, 1 / (x * x)
    acc = np.full_like(x, _STIRLING[-1])
    for c in _STIRLING[-2::-1]:
        acc = acc * inv2 + c
    return (x - 0.5) * np.log(x) - x + _HALF_LOG_2PI + acc * inv


def _lgamma_positive(x):
    """lgamma for x > 0 (finite)."""
    out = np.empty_like(x)
    big = x >= 10
    out[big] = _stirling(x[big])
    small = ~big
    z = x[small]
    tiny = z < 0.5                  # lgamma(z) = lgamma(z + 1) - log(z)
    shift = np.where(tiny, z + 1, z)
    logs = np.where(tiny, -np.log(z), 0.0)
    prod = np.ones_like(z)
    while True:                     # lgamma(z) = lgamma(z - 1) + log(z - 1), down to < 2.5
        high = shift >= 2.5
        if not high.any():
            break
        shift = np.where(high, shift - 1, shift)
        prod = np.where(high, prod * shift, prod)
    near_one = shift < 1.5          # lgamma(1 + t) = lgamma(2 + t) - log1p(t)
    t = np.where(near_one, shift - 1, shift - 2)
    core = _about_two(t) - np.where(near_one, np.log1p(t), 0.0)
    out[small] = core + np.log(prod) + logs
    return out


def _sinpi(x):
    """sin(pi x), exact at the integers, reduced first (x's fraction carries no error)."""
    r = x - 2.0 * np.round(x / 2.0)           # in [-1, 1]
    return np.sin(math.pi * np.where(np.abs(r) > 0.5, np.sign(r) - r, r))


def lgamma(x):
    """log|Gamma(x)|: inf at 0 and the negative integers, and at +-inf."""
    x = np.asarray(x)
    work = x.astype(np.float64)
    out = np.full(work.shape, np.inf)
    finite = np.isfinite(work)
    out[np.isnan(work)] = np.nan
    pos = finite & (work > 0)
    out[pos] = _lgamma_positive(work[pos])
    neg = finite & (work < 0) & (work != np.floor(work))
    if neg.any():
        z = work[neg]
        with np.errstate(divide="ignore"):
            out[neg] = np.log(math.pi / np.abs(_sinpi(z))) - _lgamma_positive(1 - z)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


# ---- digamma, trigamma, polygamma (PyTorch's algorithms) ----------------------------------

_PSI_10 = 2.25175258906672110764
_DIGAMMA_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2,
              7.57575757575757575758E-3, -4.16666666666666666667E-3,
              3.96825396825396825397E-3, -8.33333333333333333333E-3,
              8.33333333333333333333E-2)


def _digamma_positive(x):
    result = np.zeros_like(x)
    for _ in range(10):                        # push x to >= 10
        low = x < 10
        result = np.where(low, result - 1 / np.where(low, x, 1.0), result)
        x = np.where(low, x + 1, x)
    z = 1.0 / (x * x)
    poly = np.full_like(x, _DIGAMMA_A[0])
    for a in _DIGAMMA_A[1:]:
        poly = poly * z + a
    y = np.where(x < 1.0e17, z * poly, 0.0)
    with np.errstate(invalid="ignore"):
        asymptotic = result + np.log(x) - (0.5 / x) - y
    return np.where(x == 10, result + _PSI_10, asymptotic)


def digamma(x):
    """psi(x): -inf at +0 (+inf at -0), NaN at the negative integers and -inf."""
    x = np.asarray(x)
    work = x.astype(np.float64)
    out = np.empty(work.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        negative = work < 0
        reflect = np.where(negative, 1 - work, work)
        out[...] = _digamma_positive(np.where(np.isnan(reflect), np.nan, reflect))
        frac = np.modf(work)[0]
        out = np.where(negative, out - math.pi / np.tan(math.pi * frac), out)
        out = np.where(negative & (work == np.trunc(work)), np.nan, out)
        out = np.where(work == 0, np.copysign(np.inf, -work), out)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _trigamma(x):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        low = x < 0.5
        sin_pi_x = np.sin(math.pi * x)
        result = np.where(low, -(math.pi * math.pi) / (sin_pi_x * sin_pi_x), 0.0)
        x = np.where(low, 1 - x, x)
        for _ in range(6):
            result = result + 1 / (x * x)
            x = x + 1
        ixx = 1 / (x * x)
        result = result + (1 + 1 / (2 * x) + ixx * (1. / 6 - ixx * (1. / 30 - ixx * (
            1. / 42)))) / x
        return np.where(low, -result, result)


_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
           7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
           -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)
_MACHEP = 1.11022302462515654042E-16


def _zeta(x: float, q: float) -> float:
    """Hurwitz zeta(x, q), Cephes' (as PyTorch): a sum, then Euler-Maclaurin."""
    if x == 1:
        return math.inf
    if x < 1 or math.isnan(q):
        return math.nan
    if q <= 0:
        if q == math.floor(q):
            return math.inf
        if x != math.floor(x):
            return math.nan
    s, a, i, b = math.pow(q, -x) if q else math.inf, q, 0, 0.0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1
        b = math.pow(a, -x)
        s += b
        if -_MACHEP * s < b < _MACHEP * s:
            return s
    w = a
    s += b * w / (x - 1)
    s -= 0.5 * b
    a, k = 1.0, 0.0
    for coefficient in _ZETA_A:
        a *= x + k
        b /= w
        t = a * b / coefficient
        s = s + t
        if abs(t / s) < _MACHEP:
            return s
        k += 1
        a *= x + k
        b /= w
        k += 1
    return s


def polygamma(x, n: int):
    """The n-th derivative of digamma (n >= 1): PyTorch's trigamma for n = 1, else
    (-1)**(n+1) n! zeta(n + 1, x)."""
    x = np.asarray(x)
    work = x.astype(np.float64)
    if n == 0:
        out = digamma(work)
    elif n == 1:
        out = _trigamma(work)
    else:
        scale = (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0))
        zeta = np.frompyfunc(lambda q: _zeta(float(n + 1), float(q)), 1, 1)
        with np.errstate(over="ignore", invalid="ignore"):
            out = scale * np.asarray(zeta(work), dtype=np.float64)
    return np.asarray(out).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


# ---- erfinv ---------------------------------------------------------------------------

_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_D = (3.543889200, 1.637067800)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _first_guess(y, y_abs):
    with np.errstate(divide="ignore", invalid="ignore"):
        z = y * y
        num = ((_A[3] * z + _A[2]) * z + _A[1]) * z + _A[0]
        dem = (((_B[3] * z + _B[2]) * z + _B[1]) * z + _B[0]) * z + 1.0
        central = y * num / dem
        z = np.sqrt(-np.log((1.0 - y_abs) / 2.0))
        num = ((_C[3] * z + _C[2]) * z + _C[1]) * z + _C[0]
        dem = (_D[1] * z + _D[0]) * z + 1.0
        tail = np.copysign(num, y) / dem
    return np.where(y_abs <= 0.7, central, tail)


def erfinv(y):
    """The inverse of erf: +-inf at +-1, NaN outside [-1, 1]."""
    y_in = np.asarray(y)
    y = y_in.astype(np.float64)
    y_abs = np.abs(y)
    x = _first_guess(y, y_abs)
    ok = np.isfinite(x)
    x = np.where(ok, x, 0.0)
    tail = y_abs > 0.5                       # 1 - |y| is exact there
    for _ in range(3):
        a = np.abs(x)
        residual = np.where(
            tail, np.sign(y) * ((1.0 - y_abs) - np.asarray(_erfc(a), dtype=np.float64)),
            np.asarray(_erf(x), dtype=np.float64) - y)
        x = x - residual / (_TWO_OVER_SQRT_PI * np.exp(-x * x))
    out = np.where(y_abs == 1, np.copysign(np.inf, y), np.where(y_abs > 1, np.nan, x))
    out = np.where(np.isnan(y), np.nan, out)
    return out.astype(y_in.dtype if y_in.dtype.kind == "f" else np.float64, copy=False)
