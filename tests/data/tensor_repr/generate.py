"""Write cases.jsonl: repr() of real PyTorch tensors, for tests/test_tensor_str.py.

Run once, with the PyTorch reference environment (never from the tests):

    /tmp/torchenv/bin/python tests/data/tensor_repr/generate.py

Every array comes from a seeded numpy generator, is written as values or a recipe
(corpus.py reads both), read back with corpus.array_of and only then handed to torch,
so the stored data is exactly what PyTorch printed.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402

rng = np.random.default_rng(2013)

FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "int16", "int8", "uint8")
INT_RANGE = {name: (int(np.iinfo(name).min), int(np.iinfo(name).max)) for name in INTS}
SPECIALS = (math.nan, math.inf, -math.inf, -0.0, 0.0)


# -- values -----------------------------------------------------------------------------


def float_values(n: int, dtype: str) -> np.ndarray:
    """n values of one of several kinds, as float64 exactly representable in dtype."""
    kind = rng.choice(
        ["logspan", "narrow", "integers", "bigints", "extreme", "boundary", "zeros"],
        p=[0.32, 0.2, 0.16, 0.06, 0.08, 0.12, 0.06],
    )
    if kind == "logspan":
        lo = rng.uniform(-6, 7)
        hi = min(lo + rng.choice([0.5, 1, 2, 3, 4, 8]), 8)
        values = 10 ** rng.uniform(lo, hi, n)
    elif kind == "narrow":
        values = rng.uniform(-1, 1, n) * 10.0 ** rng.integers(-3, 5)
    elif kind == "integers":
        values = rng.integers(-(10 ** rng.integers(1, 5)), 10 ** rng.integers(1, 5), n).astype(float)
    elif kind == "bigints":
        values = np.round(10 ** rng.uniform(0, rng.choice([9, 12, 20]), n))
    elif kind == "extreme":
        pool = [1e20, -1e20, 1e-20, -1e-20, 3.4e38, 1.2e-38, 1e-45, 1e-5, 1e6, 123456.789]
        if dtype == "float64":
            pool += [1e300, -1e300, 1e-300, 5e-324, 1.7976931348623157e308, 2.2e-308, 1e100, 9.99995e99]
        values = rng.choice(pool, n)
    elif kind == "boundary":
        pool = [9.99995, 0.99995, 99999.5, 0.00005, 0.00015, 1e-4, 1e8, 100000000.5, 1e8 + 8,
                1000.0, 1.0, 0.001, 0.5, 2.5, 0.12345, 0.00012345, 1.00005, 12345.67895,
                0.3, 0.1, 0.7, 1e4, 99999.99995, 1001.0, 0.9999, 1e-4 * 1.0000001]
        values = rng.choice(pool, n) * rng.choice([1, -1], n)
    else:
        values = np.zeros(n)
    if kind not in ("integers", "bigints", "zeros"):
        values = values * rng.choice([1, -1], n, p=[0.65, 0.35])
    if rng.random() < 0.3 and n:
        # mix in nan, inf, -inf, -0.0, 0.0
        spots = rng.random(n) < rng.choice([0.1, 0.3, 1.0])
        values[spots] = rng.choice(SPECIALS, spots.sum())
    with np.errstate(over="ignore"):
        return values.astype(dtype).astype(np.float64)


def int_values(n: int, dtype: str) -> list[int]:
    lo, hi = INT_RANGE[dtype]
    if rng.random() < 0.15:
        return [int(v) for v in rng.choice([lo, hi, 0, -1, 1], n) if lo <= v <= hi] or [0] * n
    span = 10 ** int(rng.integers(0, 19))
    a, b = max(lo, -span if rng.random() < 0.6 else 0), min(hi, span)
    return [int(v) for v in rng.integers(a, b, n, endpoint=True)]


def encode_floats(values: np.ndarray) -> list:
    out = []
    for v in values.tolist():
        out.append(v if math.isfinite(v) else repr(v))
    return out


def random_values(shape: tuple, dtype: str) -> list:
    n = math.prod(shape)
    if dtype == "bool":
        return [bool(v) for v in rng.random(n) < rng.choice([0.0, 0.5, 1.0], p=[0.1, 0.8, 0.1])]
    if dtype in INTS:
        values = int_values(n, dtype)
        return values if len(values) == n else [0] * n
    return encode_floats(float_values(n, dtype))


# -- cases ------------------------------------------------------------------------------

cases: list[dict] = []


def pick_dtype(allow_int=True, allow_half=True) -> str:
    r = rng.random()
    if allow_int and r < 0.18:
        return str(rng.choice(["int64"] * 4 + ["int32", "int16", "int8", "uint8", "bool", "bool"]))
    if allow_half and r < 0.22:
        return "float16"
    return str(rng.choice(FLOATS, p=[0.55, 0.45]))


def add(shape, dtype, *, values=None, recipe=None, options=None, grad=None, default=None,
        parameter=False):
    case = {"shape": list(shape), "dtype": dtype}
    if recipe is not None:
        case["recipe"] = recipe
    else:
        case["values"] = values if values is not None else random_values(tuple(shape), dtype)
    floating = dtype.startswith("float")
    if default is None:
        default = "float64" if rng.random() < 0.3 else "float32"
    case["default_dtype"] = default
    if grad is None:
        r = rng.random()
        grad = "leaf" if r < 0.2 else ("op" if r < 0.4 else None)
    if not floating:
        grad = None
    case["requires_grad"] = grad in ("leaf", "op")
    case["grad_fn"] = None
    case["parameter"] = bool(parameter)
    if parameter and not floating:
        case["requires_grad"] = False
    if options:
        case["options"] = options
    case["_op"] = grad == "op"
    cases.append(case)


def small_shape(ndim: int) -> tuple:
    return tuple(int(v) for v in rng.integers(1, 6 if ndim <= 3 else 4, ndim))


# 0-d
for _ in range(220):
    add((), pick_dtype())
# vectors, mostly short, some that wrap
for _ in range(560):
    n = int(rng.choice([int(rng.integers(1, 9)), int(rng.integers(9, 25)), int(rng.integers(25, 70))],
                       p=[0.55, 0.3, 0.15]))
    add((n,), pick_dtype())
# matrices
for _ in range(420):
    add(small_shape(2) if rng.random() < 0.8 else (int(rng.integers(1, 4)), int(rng.integers(10, 40))),
        pick_dtype())
# 3-d and 4-d
for _ in range(170):
    add((2, 3, 4), pick_dtype())
for _ in range(130):
    add(small_shape(int(rng.choice([3, 3, 4, 5]))) if rng.random() < 0.9 else (1, 1, 1, 1, 1, 1),
        pick_dtype())
# integer and bool tensors on their own
for _ in range(160):
    dt = str(rng.choice(["int64", "int64", "int32", "bool", "int8", "uint8", "int16"]))
    add(small_shape(int(rng.integers(0, 4))), dt)
# empty tensors
for shape in [(0,), (0, 3), (3, 0), (2, 0, 3), (0, 0), (1, 0), (0, 1, 2), (4, 0, 0)]:
    for dt in ["float32", "float64", "int64", "int32", "bool", "float16"]:
        for default in ("float32", "float64"):
            add(shape, dt, values=[], default=default, grad=("leaf" if rng.random() < 0.3 else None))
# hand-picked lists
HAND = [
    [0.3], [0.1, 0.2, 0.3], [1.0, 2.0], [1.0, 1000.0], [1.0, 1000.5], [1.0, 1001.0],
    [1e-4], [1.0001e-4], [1e8], [1e8, 1.0], [100000008.0], [1e-4, 0.1], [1e-5, 1.0],
    [-0.0], [-0.0, 1.0], [-0.0, 1.5], [0.0, -0.0], [math.nan], [math.inf], [-math.inf],
    [math.nan, 1.0], [math.nan, 1.5], [math.inf, 1e-5], [-math.inf, 2.0, math.nan],
    [0.0, 0.0], [1e20], [1e-20], [1e20, 1e-20], [1.5e20, -2.0], [9.99995], [0.99995],
    [99999.5], [0.00005], [123456.0], [1234567.0, 1.0], [-1.0, -2.0, -3.0], [2.5],
    [1e300], [1e-300], [5e-324], [1.7976931348623157e308], [1e300, 1e-300],
    [9.99995e99, 1.0], [9.9999e-100, 1.0], [1e100, -1e-100], [0.5, 1e-4, 1e8],
    [-9.99995, 0.1], [3.0, -0.0, math.nan, math.inf, -math.inf],
]
for values in HAND:
    for dt in FLOATS:
        arr = np.array(values, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore"):
            arr = arr.astype(dt).astype(np.float64)
        add((len(values),), dt, values=encode_floats(arr), grad=None, default="float32")
        if len(values) == 1:
            add((), dt, values=encode_floats(arr), grad=None, default="float64")
# layouts where PyTorch passes the line width: zeros, nan and -0. do not count towards
# the element width, nor closing brackets towards the row
for values, shape in [([0.0] * 19, (19,)), ([0.0] * 30, (30,)), ([math.nan] * 19 + [1.0], (20,)),
                      ([-0.0] * 20 + [2.0] * 20, (2, 20)), ([math.inf, 1.0] * 15, (30,)),
                      ([v + 100.5 for v in range(28)], (2, 2, 7)),
                      ([v + 100.5 for v in range(63)], (3, 21))]:
    for dt in FLOATS:
        add(shape, dt, values=encode_floats(np.array(values)), grad=str(rng.choice(["leaf", "op", "none"])))
# long rows with suffixes (suffix placement near the line width)
for _ in range(120):
    n = int(rng.integers(5, 40))
    rows = int(rng.integers(1, 4))
    add((rows, n) if rng.random() < 0.5 else (n,), pick_dtype(allow_int=False),
        default=str(rng.choice(["float32", "float64"])), grad=str(rng.choice(["leaf", "op"])))


# summarised tensors: recipes.  Edge entries get random values; a few entries in the
# middle (never printed) get values that would change the width or mode if counted.
def shown_flat_indices(shape, edge=3):
    axes = [np.r_[0:edge, n - edge:n] if n > 2 * edge else np.arange(n) for n in shape]
    grid = np.ix_(*axes)
    return np.ravel_multi_index(np.broadcast_arrays(*grid), shape).ravel()


BIG_SHAPES = [(1001,), (40, 40), (3, 1000), (1000,), (1001, 1), (1, 1001), (2, 3, 200),
              (11, 11, 11), (7, 7, 7, 7), (10000,), (100, 100), (6, 6, 28), (5, 201),
              (2, 1000, 1), (1, 2, 3, 4, 50)]
for shape in BIG_SHAPES:
    # (1000,) is printed whole and (7, 7, 7, 7) shows 6**4 elements: fewer of those
    for _ in range(4 if shape in [(1000,), (7, 7, 7, 7)] else 14):
        dt = pick_dtype(allow_half=True)
        n = math.prod(shape)
        integer = dt in INTS or dt == "bool"
        if integer:
            lo, hi = INT_RANGE.get(dt, (0, 1))
            scale = int(rng.choice([1, 3, -7, 1000])) if dt in ("int64", "int32") else 1
            recipe = {"mod": int(rng.choice([2, 50, 97, 120])), "scale": scale,
                      "offset": int(rng.choice([0, -5])) if lo < 0 else 0}
        else:
            recipe = {"scale": float(rng.choice([1.0, 0.5, 0.37, 1e-3, 123.25, -2.0])),
                      "offset": float(rng.choice([0.0, -100.0, 0.5, 1e5]))}
            if rng.random() < 0.5:
                recipe["mod"] = int(rng.choice([7, 100, 1000]))
        sets = []
        if rng.random() < 0.6 and len(shape) <= 3:
            shown = shown_flat_indices(shape)
            values = random_values((len(shown),), dt)
            sets += [[int(i), v] for i, v in zip(shown, values) if rng.random() < 0.7]
        if rng.random() < 0.5 and not integer:
            middle = n // 2
            sets.append([middle, str(rng.choice(["nan", "inf"])) if rng.random() < 0.3
                         else float(rng.choice([1e10, 1e-7, 123456789.5, 0.5]))])
        if integer and rng.random() < 0.5 and dt == "int64":
            sets.append([n // 2, -(10 ** 15)])
        if sets:
            recipe["set"] = sets
        add(shape, dt, recipe=recipe)

# print options other than the defaults
OPTION_CHOICES = [
    {"precision": 2}, {"precision": 0}, {"precision": 1}, {"precision": 6}, {"precision": 10},
    {"sci_mode": True}, {"sci_mode": False}, {"linewidth": 40}, {"linewidth": 120},
    {"linewidth": 10}, {"linewidth": 0}, {"threshold": 5}, {"threshold": 10, "edgeitems": 2},
    {"threshold": 3, "edgeitems": 1}, {"threshold": 5, "edgeitems": 0}, {"edgeitems": 0},
    {"threshold": "inf"}, {"threshold": 0}, {"edgeitems": 5, "threshold": 20},
    {"precision": 2, "sci_mode": True, "linewidth": 60},
]
for _ in range(300):
    options = dict(OPTION_CHOICES[int(rng.integers(len(OPTION_CHOICES)))])
    shape = [(), small_shape(1), small_shape(2), (2, 3, 4), (int(rng.integers(10, 30)),)][
        int(rng.integers(5))]
    add(shape, pick_dtype(), options=options)
for options in ({"threshold": "inf"}, {"threshold": 2000}):
    for shape, dt in [((1001,), "float32"), ((40, 40), "float64"), ((3, 1000), "int64")]:
        add(shape, dt, recipe={"scale": 1.0 if dt == "int64" else 0.25, "mod": 37}, options=options)
# nn.Parameter
for _ in range(60):
    shape = [(), small_shape(1), small_shape(2), (2, 3, 4), (0,), (2, 0)][int(rng.integers(6))]
    add(shape, pick_dtype(allow_int=False), parameter=True,
        grad=("leaf" if rng.random() < 0.8 else "none"))


# -- PyTorch ----------------------------------------------------------------------------

TORCH_DTYPES = {name: getattr(torch, name) for name in FLOATS + INTS + ("float16", "bool")}
OPS = [
    lambda x: x * 1,
    lambda x: x.clone(),
    lambda x: x.view(x.shape),
    lambda x: x.reshape(x.shape) * 1,
    lambda x: x.expand(x.shape),
]


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def print_case(case: dict) -> str:
    array = corpus.array_of(case)
    tensor = torch.from_numpy(array.copy())
    assert tensor.dtype == TORCH_DTYPES[case["dtype"]]
    op = case.pop("_op")
    if case["parameter"]:
        tensor = torch.nn.Parameter(tensor, requires_grad=case["requires_grad"])
    elif case["requires_grad"]:
        tensor.requires_grad_(True)
        if op:
            result = OPS[int(rng.integers(len(OPS)))](tensor)
            case["grad_fn"] = type(result.grad_fn).__name__
            tensor = result
    assert same_bits(tensor.detach().numpy(), array), case
    options = corpus.options_of(case)
    torch.set_default_dtype(TORCH_DTYPES[case["default_dtype"]])
    try:
        with torch._tensor_str.printoptions(**options):
            return repr(tensor)
    finally:
        torch.set_default_dtype(torch.float32)


def main() -> None:
    assert torch.__version__.startswith("2.13"), torch.__version__
    with open(corpus.CASES, "w", encoding="utf-8") as out:
        for number, case in enumerate(cases):
            case["repr"] = print_case(case)
            case = {"id": number, **case}
            out.write(json.dumps(case, allow_nan=False, separators=(",", ":")) + "\n")
    print(f"{len(cases)} cases, {corpus.CASES.stat().st_size} bytes, torch {torch.__version__}")


if __name__ == "__main__":
    main()
