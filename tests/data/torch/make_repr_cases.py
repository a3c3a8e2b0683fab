"""Build tests/data/torch/repr_cases.jsonl: tensors and PyTorch's exact repr of each.

    /tmp/torchenv/bin/python tests/data/torch/make_repr_cases.py

One JSON object per line:

    {"data": [...], "shape": [...], "dtype": "float32"|"float64"|"int64"|"bool",
     "requires_grad": bool, "grad_fn": null|"MulBackward0"|..., "repr": "tensor(...)"}

- "data" is the tensor's own values (``t.tolist()``, nested like the shape; a 0-d tensor
  is a bare number). A float32 value is stored as the float64 number equal to it (so
  ``np.array(data, dtype=np.float32)`` rebuilds it exactly); non-finite values are the
  strings "NaN", "Infinity", "-Infinity"; -0.0 is stored as -0.0.
- "requires_grad": the tensor is a leaf made with requires_grad=True (grad_fn null), or
  the result of a real op on such a leaf when "grad_fn" names that op's node (the ops
  used keep the values: ``x * 1``, ``x.clone()``, ``x.view(shape)``, ``-(-x)``,
  ``x + 0``; "data" is always read back from the result).
- Summarised tensors (more than 1000 elements) carry no "data" but a "generator":
    {"arange": [start, stop, step]} | {"linspace": [start, stop, n]} |
    {"normal_seed": S} (``numpy.random.default_rng(S).standard_normal(numel)``) |
    {"full": value},
  optionally with "scale" (multiply), "offset" (add), "nan_every": k (every k-th element,
  starting at index 0, set to NaN), "mod_eq": [m, r] (bool: the element is value % m == r);
  the values are computed in float64 with numpy, in that order, then reshaped to "shape"
  and cast to "dtype".
  As with "data", requires_grad/grad_fn say how the tensor was made.

Random values come from numpy.random.default_rng(SEED), so the file is reproducible.
The tests never run this file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

SEED = 2013
OUT = Path(__file__).resolve().parent / "repr_cases.jsonl"
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
          "bool": torch.bool}
# Ops that keep the values exactly, with the grad_fn name PyTorch records for each.
GRAD_OPS = [
    ("MulBackward0", lambda x: x * 1),
    ("CloneBackward0", lambda x: x.clone()),
    ("NegBackward0", lambda x: -(-x)),
    ("AddBackward0", lambda x: x + 0),
    ("ViewBackward0", lambda x: x.view(x.shape)),
]


def jsonable(v):
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
    return v


def make_tensor(values: np.ndarray, dtype: str, grad: str | None):
    """A real tensor of the values: grad None (no grad), "leaf", or an op's grad_fn name."""
    t = torch.tensor(values, dtype=DTYPES[dtype])
    if grad is None:
        return t
    t.requires_grad_()
    if grad == "leaf":
        return t
    op = dict(GRAD_OPS)[grad]
    return op(t)


def record(t: torch.Tensor, generator: dict | None = None) -> dict:
    rec = {}
    if generator is None:
        rec["data"] = jsonable(t.detach().tolist())
    rec["shape"] = list(t.shape)
    rec["dtype"] = str(t.dtype).removeprefix("torch.")
    rec["requires_grad"] = t.requires_grad
    rec["grad_fn"] = None if t.grad_fn is None else t.grad_fn.name()
    if generator is not None:
        rec["generator"] = generator
    rec["repr"] = repr(t)
    return rec


# --- value families: float64 arrays of a given size ------------------------------------

def fam_normal(rng, n):
    return rng.standard_normal(n) * 10.0 ** rng.integers(-6, 10)


def fam_uniform(rng, n):
    return rng.random(n)


def fam_ints(rng, n):
    hi = int(10 ** rng.integers(1, 7))
    return rng.integers(-hi, hi, n).astype(np.float64)


def fam_small_ints(rng, n):
    return rng.integers(-9, 10, n).astype(np.float64)


def fam_logspan(rng, n):
    lo, hi = sorted(rng.uniform(-6, 7, 2))
    return rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(lo, hi, n)


def fam_huge_tiny(rng, n):
    base = rng.standard_normal(n)
    pick = rng.random(n)
    base[pick < 0.3] *= 1e20
    base[(pick >= 0.3) & (pick < 0.6)] *= 1e-20
    return base


def fam_fractions(rng, n):
    return rng.integers(-64, 65, n) / float(rng.choice([2, 4, 8, 16, 100, 1000]))


def fam_near_round(rng, n):
    """Values close to where a 4-digit rounding carries (9.99995 and friends)."""
    base = rng.choice([0.99995, 9.99995, 99.99995, 999.9999, 0.00009999, 0.0001, 1000.0,
                       99999.99, 1e8, 99999999.0, 0.5, 1.00005, 0.00005], n)
    return base * rng.choice([-1.0, 1.0], n)


def fam_zeros(rng, n):
    return np.where(rng.random(n) < 0.5, -0.0, 0.0)


FAMILIES = [fam_normal, fam_uniform, fam_ints, fam_small_ints, fam_logspan, fam_huge_tiny,
            fam_fractions, fam_near_round, fam_zeros]


def with_specials(rng, a):
    a = a.copy()
    for i in range(a.size):
        r = rng.random()
        if r < 0.12:
            a.flat[i] = rng.choice([np.nan, np.inf, -np.inf, -0.0])
    return a


def float_values(rng, n):
    fam = FAMILIES[rng.integers(len(FAMILIES))]
    a = fam(rng, n)
    if rng.random() < 0.2:
        a = with_specials(rng, a)
    return a


def int_values(rng, n):
    hi = int(10 ** rng.integers(1, 16))
    return rng.integers(-hi if rng.random() < 0.6 else 0, hi, n)


def random_case(rng, shape, dtype=None, grad=-1):
    n = int(np.prod(shape)) if shape else 1
    if dtype is None:
        dtype = rng.choice(["float32", "float32", "float32", "float64", "int64", "bool"])
    if dtype in ("float32", "float64"):
        values = float_values(rng, n).reshape(shape)
        if grad == -1:
            r = rng.random()
            grad = None if r < 0.5 else ("leaf" if r < 0.7 else
                                         GRAD_OPS[rng.integers(len(GRAD_OPS))][0])
    elif dtype == "int64":
        values = int_values(rng, n).reshape(shape)
        grad = None
    else:
        values = (rng.random(n) < 0.5).reshape(shape)
        grad = None
    return record(make_tensor(values, dtype, grad))


# --- hand-picked value lists: the repr still comes from PyTorch -------------------------

NAN, INF = float("nan"), float("inf")
TARGETED = [
    [1e-5, 1.0, 1e6], [1e-4, 1.0], [1.1e-4, 0.1], [9.9e-5, 0.1], [0.001, 1.0],
    [0.5, 1000.0], [0.5, 500.0], [0.5, 500.1], [1.0, 1000.0], [1.0, 1000.5],
    [99999999.0], [100000000.0], [123456789.0], [1e8, 1.0], [1e9, 2e9], [12345.678],
    [1e20, 1.0], [1e-20, 1.0], [1e20], [1e-20], [1e-20, 1e20], [-1e20, 1e-20, 0.0],
    [0.0, 0.0], [-0.0], [-0.0, 0.0, 1.0], [-0.0, -0.0], [-0.0, 1.5], [-0.0, 1e-5],
    [NAN], [INF], [-INF], [NAN, INF, -INF], [NAN, 1.0], [NAN, 1.5], [INF, 2.0],
    [-INF, 0.25], [NAN, 1e-5, 1e6], [NAN, 0.0], [INF, 1e10], [NAN, -0.0], [INF, -INF, 0.0],
    [1.0, 2.0], [1.0, -2.0, 3.0], [100.0, -1000.0], [1e6, 2.0], [1e7, 1.0], [1e16],
    [123456.0, 1.5], [0.1, 0.25, 3.14159265], [2.5, 1e-3], [0.00012345], [0.00001],
    [0.99995], [0.99994], [9.99995], [9.99994], [999.99995], [-0.00005], [0.00005, 1.0],
    [1.0 / 3.0, 2.0 / 3.0], [0.1, 0.2, 0.30000001], [65504.0], [3.4e38], [1.17549435e-38],
    [1.4e-45], [2.0 ** 24, 1.0], [2.0 ** 24 + 1.0], [-1.0, -0.5, -0.25], [7.0], [-7.0],
    [1e-4], [1e-5, 1e-4, 1e-3], [1e4, 1e5], [1e3, 1e-1], [0.0, 1e-10], [0.0, 1e10],
]

TARGETED_2D = [
    [[1.0, -2.5, 3.25], [10.0, 0.5, -100.0]],
    [[1e-5, 1.0], [1e6, NAN]],
    [[0.0, -0.0], [INF, -INF]],
    [[1.0, 2.0], [3.0, 4.0]],
    [[1e20, 1.0], [1.0, 1e-20]],
    [[0.1], [0.2], [0.3]],
    [[12345678.0, 1.0, 0.5]],
]


def main() -> None:
    rng = np.random.default_rng(SEED)
    cases: list[dict] = []

    # targeted values, in float32 and float64, plain and with a grad_fn
    for values in TARGETED + TARGETED_2D:
        for dtype in ("float32", "float64"):
            for grad in (None, "MulBackward0"):
                cases.append(record(make_tensor(np.array(values, dtype=np.float64),
                                                dtype, grad)))
        if len(values) == 1 and not isinstance(values[0], list):
            for dtype in ("float32", "float64"):
                cases.append(record(make_tensor(np.array(values[0]), dtype,
                                                "leaf" if rng.random() < 0.5 else None)))
    # int64 and bool specials
    for values in ([0], [1, 2, 3], [-1, 0, 1], [2 ** 62, -2 ** 62], [-(2 ** 63)], [10 ** 12, 1],
                   [-5, 123456789], [[1, -2], [30, 400]], [7]):
        cases.append(record(make_tensor(np.array(values), "int64", None)))
    for values in ([True], [False], [True, False, True], [[True, False], [False, False]]):
        cases.append(record(make_tensor(np.array(values), "bool", None)))
    for v in (0, -3, 2 ** 40):
        cases.append(record(torch.tensor(v)))
    for v in (True, False):
        cases.append(record(torch.tensor(v)))

    # empty tensors
    for shape in ((0,), (2, 0), (0, 3), (0, 2, 3), (3, 0, 2)):
        for dtype in DTYPES:
            cases.append(record(make_tensor(np.zeros(shape), dtype, None)))
        cases.append(record(make_tensor(np.zeros(shape), "float32", "leaf")))
        cases.append(record(make_tensor(np.zeros(shape), "float64", "MulBackward0")))

    # random scalars, vectors, matrices, 3-D and 4-D tensors
    for _ in range(140):
        cases.append(random_case(rng, ()))
    for _ in range(340):
        cases.append(random_case(rng, (int(rng.integers(1, 13)),)))
    for _ in range(280):
        cases.append(random_case(rng, (int(rng.integers(1, 7)), int(rng.integers(1, 7)))))
    for _ in range(60):
        cases.append(random_case(rng, (2, 3, 4)))
    for _ in range(50):
        shape = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(3, 5))))
        cases.append(random_case(rng, shape))
    # rows wide enough to wrap at 80 columns
    for _ in range(120):
        cases.append(random_case(rng, (int(rng.integers(10, 60)),),
                                 dtype=rng.choice(["float32", "float64", "int64", "bool"])))
    for _ in range(60):
        cases.append(random_case(rng, (int(rng.integers(2, 4)), int(rng.integers(8, 22))),
                                 dtype=rng.choice(["float32", "float64", "int64"])))

    # summarised tensors (more than 1000 elements): data described by a generator
    big = [
        ((1001,), "float32", None, {"arange": [0, 1001, 1], "scale": 0.5}),
        ((1001,), "int64", None, {"arange": [0, 1001, 1]}),
        ((40, 40), "int64", None, {"arange": [0, 1600, 1]}),
        ((40, 40), "float32", None, {"arange": [0, 1600, 1], "scale": 0.25}),
        ((40, 40), "float64", "leaf", {"normal_seed": 1}),
        ((2000,), "float32", "MulBackward0", {"linspace": [0, 2, 2000]}),
        ((1001,), "float32", "leaf", {"normal_seed": 2, "scale": 1e-3}),
        ((1001,), "float64", None, {"normal_seed": 3, "scale": 1e6}),
        ((1001,), "float32", None, {"arange": [0, 1001, 1], "scale": 1e-5, "nan_every": 500}),
        ((3, 500), "float32", None, {"normal_seed": 4}),
        ((11, 11, 11), "float32", None, {"arange": [0, 1331, 1], "offset": -665}),
        ((1001,), "bool", None, {"arange": [0, 1001, 1], "mod_eq": [3, 0]}),
        ((1200,), "float32", None, {"full": -0.0}),
        ((1001,), "float32", "MulBackward0", {"arange": [0, 1001, 1], "scale": 1e20}),
    ]
    for shape, dtype, grad, gen in big:
        n = int(np.prod(shape))
        if "arange" in gen:
            a = np.arange(*gen["arange"], dtype=np.float64)
        elif "linspace" in gen:
            a = np.linspace(*gen["linspace"], dtype=np.float64)
        elif "normal_seed" in gen:
            a = np.random.default_rng(gen["normal_seed"]).standard_normal(n)
        else:
            a = np.full(n, gen["full"], dtype=np.float64)
        if "scale" in gen:
            a = a * gen["scale"]
        if "offset" in gen:
            a = a + gen["offset"]
        if "nan_every" in gen:
            a[::gen["nan_every"]] = np.nan
        a = a.reshape(shape)
        if "mod_eq" in gen:
            a = a.astype(np.int64) % gen["mod_eq"][0] == gen["mod_eq"][1]
        cases.append(record(make_tensor(a, dtype, grad), gen))

    with OUT.open("w") as f:
        for rec in cases:
            f.write(json.dumps(rec, allow_nan=False) + "\n")
    print(f"{len(cases)} cases -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
