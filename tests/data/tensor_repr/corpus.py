"""Reading the tensor-repr corpus (cases.jsonl): no torch here, the tests use it.

One JSON object a line:

    {"shape": [2, 3], "dtype": "float32", "values": [...] | "recipe": {...},
     "default_dtype": "float64", "requires_grad": false, "grad_fn": "MulBackward0",
     "parameter": false, "options": {"precision": 2}, "repr": "tensor(...)"}

``values`` lists the elements in C order: numbers (float64 values exactly representable
in the dtype), "nan", "inf", "-inf", or ints / bools.  ``recipe`` stands for the large
arrays: ``(arange(n) % mod) * scale + offset`` computed in float64 (or int64 for integer
dtypes; ``mod`` optional), then ``set`` = [[flat index, value], ...] patches, then cast.
``options`` are PrintOptions fields (threshold may be "inf").
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases.jsonl"


def _number(value, integer: bool):
    return value if integer else float(value)


def array_of(case: dict) -> np.ndarray:
    dtype = np.dtype(case["dtype"])
    shape = tuple(case["shape"])
    integer = dtype.kind in "iub"
    if "values" in case:
        if dtype.kind == "b":
            flat = np.array(case["values"], dtype=np.bool_)
        elif integer:
            flat = np.array(case["values"], dtype=np.int64)
        else:
            flat = np.array([float(v) for v in case["values"]], dtype=np.float64)
    else:
        recipe = case["recipe"]
        n = math.prod(shape)
        base = np.arange(n, dtype=np.int64)
        if "mod" in recipe:
            base = base % recipe["mod"]
        if integer:
            flat = base * int(recipe.get("scale", 1)) + int(recipe.get("offset", 0))
        else:
            flat = base.astype(np.float64) * float(recipe.get("scale", 1.0)) + float(
                recipe.get("offset", 0.0))
        for index, value in recipe.get("set", []):
            flat[index] = _number(value, integer)
    with np.errstate(over="ignore"):  # float16 recipes may overflow to inf, as in torch
        return flat.astype(dtype).reshape(shape)


def options_of(case: dict) -> dict:
    options = dict(case.get("options") or {})
    if options.get("threshold") == "inf":
        options["threshold"] = math.inf
    return options


def load() -> list[dict]:
    with open(CASES, encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]
