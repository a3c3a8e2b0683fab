"""gradcli.autograd.tensor_str prints numpy arrays exactly as torch.Tensor.__repr__.

* a corpus of real PyTorch 2.13 reprs (tests/data/tensor_repr/cases.jsonl, written
  once by generate.py there) replayed case by case;
* hand-checked reprs;
* properties of the layout on random arrays (line width, alignment, values read back,
  summaries), on which PyTorch's printer is built.

No torch here.
"""

from __future__ import annotations

import importlib.util
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcli.autograd.tensor_str import PrintOptions, format_body, tensor_repr

_spec = importlib.util.spec_from_file_location(
    "tensor_repr_corpus", Path(__file__).parent / "data" / "tensor_repr" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpus)

PARAMETER = "Parameter containing:\n"
nan, inf = math.nan, math.inf


# -- the corpus -------------------------------------------------------------------------


def replay(case: dict) -> str:
    prefix = PARAMETER + "tensor(" if case["parameter"] else "tensor("
    return tensor_repr(
        corpus.array_of(case),
        dtype=case["dtype"],
        requires_grad=case["requires_grad"],
        grad_fn=case["grad_fn"],
        default_dtype=case["default_dtype"],
        options=PrintOptions(**corpus.options_of(case)),
        prefix=prefix,
    )


def test_corpus_of_pytorch_reprs():
    cases = corpus.load()
    assert len(cases) >= 2000
    mismatches = []
    for case in cases:
        got = replay(case)
        if got != case["repr"]:
            mismatches.append((case, got))
    report = [
        f"case {case['id']}: shape {case['shape']} {case['dtype']} "
        f"default {case['default_dtype']} options {case.get('options')}\n"
        f"--- PyTorch\n{case['repr']}\n--- tensor_repr\n{got}"
        for case, got in mismatches[:5]
    ]
    assert not mismatches, f"{len(mismatches)} of {len(cases)} differ:\n" + "\n\n".join(report)


def test_corpus_covers_what_it_should():
    cases = corpus.load()
    reprs = [case["repr"] for case in cases]
    shapes = {tuple(case["shape"]) for case in cases}
    for shape in [(), (0,), (0, 3), (1001,), (40, 40), (3, 1000), (2, 3, 4)]:
        assert shape in shapes
    assert {case["dtype"] for case in cases} >= {"float32", "float64", "int64", "int32", "bool"}
    assert {case["default_dtype"] for case in cases} == {"float32", "float64"}
    for text in ["e+", "e-", "nan", "-inf", "-0.", "...", "grad_fn=<MulBackward0>",
                 "requires_grad=True", "dtype=torch.float32", "dtype=torch.float64",
                 "size=(0, 3)", "\n\n", "Parameter containing:", "e+300", "e+20", "e-20"]:
        assert any(text in r for r in reprs), text
    assert sum("recipe" in case for case in cases) >= 100


# -- by hand ----------------------------------------------------------------------------

f32, f64 = np.float32, np.float64
HAND = [
    (np.array(2.5, f32), {}, "tensor(2.5000)"),
    (np.array(3), {}, "tensor(3)"),
    (np.array(True), {}, "tensor(True)"),
    (np.array(0.3, f32), {}, "tensor(0.3000)"),
    (np.array([1.0, 2.0], f32), {}, "tensor([1., 2.])"),
    (np.array([1e-5, 1.0], f32), {}, "tensor([1.0000e-05, 1.0000e+00])"),
    (np.array([1.0, 1000.0], f32), {}, "tensor([   1., 1000.])"),
    (np.array([1.0, 1001.0], f32), {}, "tensor([1.0000e+00, 1.0010e+03])"),
    (np.array([1e8, 1.0], f32), {}, "tensor([1.0000e+08, 1.0000e+00])"),
    (np.array([123456789.0], f32), {}, "tensor([1.2346e+08])"),
    (np.array([nan, inf, -inf, -0.0, 1.0], f32), {}, "tensor([nan, inf, -inf, -0., 1.])"),
    (np.array([-0.0, 1.5], f32), {}, "tensor([-0.0000, 1.5000])"),
    (np.array([0.0, 0.0], f32), {}, "tensor([0., 0.])"),
    (np.array([1, -20, 300]), {}, "tensor([  1, -20, 300])"),
    (np.array([[1.5, -2], [3, 4]], f32), {},
     "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.0000]])"),
    (np.array([1e20, 1e-20], f32), {}, "tensor([1.0000e+20, 1.0000e-20])"),
    (np.array([1e300, 1e-300]), {}, "tensor([1.0000e+300, 1.0000e-300], dtype=torch.float64)"),
    (np.array([[True, False], [False, True]]), {},
     "tensor([[ True, False],\n        [False,  True]])"),
    (np.array([1, 2], np.int32), {}, "tensor([1, 2], dtype=torch.int32)"),
    (np.zeros((0, 3), f32), {}, "tensor([], size=(0, 3))"),
    (np.zeros(0, bool), {}, "tensor([], dtype=torch.bool)"),
    (np.zeros(0, np.int64), {}, "tensor([], dtype=torch.int64)"),
    (np.arange(1001.0, dtype=f32), {}, "tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.])"),
    (np.arange(2000).reshape(2, 1000), {},
     "tensor([[   0,    1,    2,  ...,  997,  998,  999],\n"
     "        [1000, 1001, 1002,  ..., 1997, 1998, 1999]])"),
    (np.arange(12.0, dtype=f32).reshape(3, 4) / 4, {},
     "tensor([[0.0000, 0.2500, 0.5000, 0.7500],\n"
     "        [1.0000, 1.2500, 1.5000, 1.7500],\n"
     "        [2.0000, 2.2500, 2.5000, 2.7500]])"),
    (np.array([1.0, 2.0], f32), {"default_dtype": "float64"}, "tensor([1., 2.], dtype=torch.float32)"),
    (np.array([1.0, 2.0]), {"default_dtype": "float64"}, "tensor([1., 2.])"),
    (np.zeros(0), {"default_dtype": "float64"}, "tensor([])"),
    (np.zeros(0, f32), {"default_dtype": "float64"}, "tensor([], dtype=torch.float32)"),
    (np.array([1.0, 2.0], f32), {"requires_grad": True}, "tensor([1., 2.], requires_grad=True)"),
    (np.array([2.0, 4.0], f32), {"requires_grad": True, "grad_fn": "MulBackward0"},
     "tensor([2., 4.], grad_fn=<MulBackward0>)"),
    (np.array([1.0, 2.0]), {"dtype": "float32"}, "tensor([1., 2.])"),
    (np.array([[1.5, 2], [3, 4]], f32), {"requires_grad": True, "prefix": PARAMETER + "tensor("},
     "Parameter containing:\ntensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]], requires_grad=True)"),
    # closing brackets may pass the line width: PyTorch counts only the elements
    (np.arange(28.0).reshape(2, 2, 7) + 100.5, {"default_dtype": "float64"},
     "tensor([[[100.5000, 101.5000, 102.5000, 103.5000, 104.5000, 105.5000, 106.5000],\n"
     "         [107.5000, 108.5000, 109.5000, 110.5000, 111.5000, 112.5000, 113.5000]],\n\n"
     "        [[114.5000, 115.5000, 116.5000, 117.5000, 118.5000, 119.5000, 120.5000],\n"
     "         [121.5000, 122.5000, 123.5000, 124.5000, 125.5000, 126.5000, 127.5000]]])"),
    # zeros, nan, inf and -0. do not count towards the width, and may pass the line width
    (np.zeros(19, f32), {}, "tensor([" + ", ".join(["0."] * 19) + "])"),
    (np.array([nan] * 19 + [1.0], f32), {},
     "tensor([" + ", ".join(["nan"] * 18) + ",\n        nan, 1.])"),
    (np.array([0.0, nan], f32), {}, "tensor([0., nan])"),
    (np.arange(20), {"options": PrintOptions(edgeitems=0)},
     "tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
     "        18, 19], size=(20,))"),
    (np.arange(2000).reshape(2, 1000), {"options": PrintOptions(edgeitems=0)},
     "tensor([...], size=(2, 1000))"),
    (np.array([1.23456], f32), {"options": PrintOptions(precision=2)}, "tensor([1.23])"),
    (np.array([1.5, 2.5], f32), {"options": PrintOptions(sci_mode=True)},
     "tensor([1.5000e+00, 2.5000e+00])"),
]


@pytest.mark.parametrize("data, kwargs, expected", HAND, ids=range(len(HAND)))
def test_by_hand(data, kwargs, expected):
    assert tensor_repr(data, **kwargs) == expected


def test_parameter_is_the_tensor_repr_under_a_heading():
    data = np.linspace(-1, 1, 30).reshape(3, 10).astype(f32)
    assert (tensor_repr(data, requires_grad=True, prefix=PARAMETER + "tensor(")
            == PARAMETER + tensor_repr(data, requires_grad=True))


def test_format_body_of_a_matrix_lines_up_as_in_the_repr():
    data = np.array([[1.5, -2, 3, 40], [5, 6, 7, 8], [9, 10, 11.25, -12]], f32)
    body = format_body(data)
    assert body == ("[[  1.5000,  -2.0000,   3.0000,  40.0000],\n"
                    " [  5.0000,   6.0000,   7.0000,   8.0000],\n"
                    " [  9.0000,  10.0000,  11.2500, -12.0000]]")
    lines = tensor_repr(data)[len("tensor("):-1].split("\n")
    assert body.split("\n") == [lines[0]] + [line[len("tensor("):] for line in lines[1:]]
    assert tensor_repr(data) == "tensor(" + format_body(data, indent=len("tensor(")) + ")"


def test_format_body_0d_and_empty():
    assert format_body(np.array(2.5, f32)) == "2.5000"
    assert format_body(np.array(2.5), dtype="float32") == "2.5000"
    assert format_body(np.zeros((0, 3))) == "[]"


def test_bad_arguments():
    with pytest.raises(ValueError, match="dtype"):
        tensor_repr(np.zeros(2), dtype="complex64")
    with pytest.raises(TypeError, match="dtype"):
        tensor_repr(np.zeros(2, np.complex128))
    with pytest.raises(ValueError, match="precision"):
        tensor_repr(np.zeros(2), options=PrintOptions(precision=-1))
    with pytest.raises(ValueError, match="default_dtype"):
        tensor_repr(np.zeros(2), default_dtype="int64")
    assert tensor_repr(np.zeros(2), dtype="torch.float64", default_dtype="torch.float64") == \
        "tensor([0., 0.])"


def test_values_are_cast_to_the_dtype_first(recwarn):
    # as torch.tensor(data, dtype=...) would: 1e300 is inf in float32, 0.1 is 0.1000000015
    assert tensor_repr(np.array([1e300, 1.0]), dtype="float32") == "tensor([inf, 1.])"
    assert tensor_repr(np.array([0.1]), dtype="float32", options=PrintOptions(precision=10)) \
        == "tensor([0.1000000015])"
    assert tensor_repr(np.array([1.7, -2.2]), dtype="int64") == "tensor([ 1, -2])"
    assert not recwarn.list


def test_a_huge_array_is_cut_down_before_formatting():
    data = np.linspace(-1.0, 1.0, 10**7)
    data[5_000_000] = 1e30  # not shown, so it does not make the printout scientific
    start = time.perf_counter()
    text = tensor_repr(data, default_dtype="float64")
    elapsed = time.perf_counter() - start
    assert text.startswith("tensor([") and "..." in text and "e+" not in text
    assert elapsed < 1.0, elapsed  # a few milliseconds in fact


# -- properties -------------------------------------------------------------------------

TOKEN = re.compile(r"\[|\]|\.\.\.|[^\s,\[\]]+")
DIGITS = re.compile(r"^-?\d*\.?(\d*)(?:e([+-]\d+))?$")


def parse_body(body: str):
    """The nested lists of element strings (and '...') that a body shows."""
    stack = [[]]
    for token in TOKEN.findall(body):
        if token == "[":
            stack.append([])
        elif token == "]":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    assert len(stack) == 1 and len(stack[0]) == 1
    return stack[0][0]


def shown_part(data: np.ndarray, options: PrintOptions):
    """What PyTorch shows of data: per dimension the first and last edgeitems."""
    if data.size <= options.threshold or data.ndim == 0:
        return data
    e = options.edgeitems
    index = [np.r_[0:e, n - e:n] if n > 2 * e else np.arange(n) for n in data.shape]
    return data[np.ix_(*index)]


def check_structure(shown, data_shape, summarised, e):
    """The parsed body has the shape of the data, with '...' after exactly e entries
    (and e after it) wherever a summarised dimension is longer than 2e."""
    if not data_shape:
        return [shown]
    n = data_shape[0]
    assert isinstance(shown, list)
    if summarised and n > 2 * e:
        assert len(shown) == 2 * e + 1 and shown[e] == "..."
        assert "..." not in shown[:e] + shown[e + 1:]
        parts = shown[:e] + shown[e + 1:]
    else:
        assert len(shown) == n
        parts = shown
    leaves = []
    for part in parts:
        leaves += check_structure(part, data_shape[1:], summarised, e)
    return leaves


def close_enough(token: str, value: float, precision: int, floating: bool) -> bool:
    if not floating:
        return token == str(value)
    if math.isnan(value) or math.isinf(value):
        return token == str(value)
    shown = float(token)
    match = DIGITS.match(token)
    assert match, token
    decimals = len(match.group(1)) if "." in token else 0
    exponent = int(match.group(2) or 0)
    if token.endswith("."):
        return shown == value  # int mode is exact
    assert decimals == precision, token
    allowed = 0.5 * 10.0 ** (exponent - precision)
    return abs(shown - value) <= allowed * (1 + 1e-9) + 2 * math.ulp(max(abs(shown), abs(value)))


float_arrays = st.one_of(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7),
        elements=st.one_of(
            st.floats(-1e6, 1e6, width=32),
            st.floats(-1e6, 1e6, width=32).map(round),
            st.floats(width=32),
            st.floats(float(f32(1e-5)), float(f32(1e-3)), width=32),
        ),
    ),
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7),
        elements=st.floats(allow_subnormal=True),
    ),
)
int_arrays = hnp.arrays(
    st.sampled_from([np.int64, np.int32, np.bool_]),
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7),
)
ROWS = st.tuples(st.integers(1, 3), st.integers(10, 80)) | st.tuples(st.integers(10, 200))
long_rows = hnp.arrays(
    st.sampled_from([np.float32, np.float64]),
    ROWS,
    elements=st.floats(-1e5, 1e5, width=32) | st.floats(width=32) | st.sampled_from([7.0, 0.0]),
) | hnp.arrays(np.int64, ROWS, elements=st.integers(-10**9, 10**9) | st.just(3))
any_arrays = st.one_of(float_arrays, float_arrays, int_arrays, long_rows)
BIG_SHAPES = st.sampled_from([(1001,), (40, 40), (3, 1000), (2, 3, 200), (1, 1200), (11, 11, 11)])
big_arrays = hnp.arrays(
    st.sampled_from([np.float32, np.float64]),
    BIG_SHAPES,
    elements=st.floats(-1e4, 1e4, width=32) | st.just(0.0),
    fill=st.floats(-1e4, 1e4, width=32),
) | hnp.arrays(np.int64, BIG_SHAPES, elements=st.integers(-10**6, 10**6), fill=st.integers(0, 9))
options_strategy = st.builds(
    PrintOptions,
    precision=st.integers(0, 8),
    threshold=st.sampled_from([1000, 20, 5, 0]),
    edgeitems=st.integers(1, 4),
    linewidth=st.sampled_from([80, 40, 120]),
    sci_mode=st.sampled_from([None, None, True, False]),
)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUFFIX = re.compile(r"(dtype=|grad_fn=|requires_grad=|size=)")


def is_special(token: str) -> bool:
    """nan, inf, -inf, 0. and -0. print unpadded and are left out of the width."""
    try:
        value = float(token)
    except ValueError:
        return False  # True, False
    return not math.isfinite(value) or value == 0


@PROPERTY
@given(any_arrays | big_arrays, st.sampled_from(["float32", "float64"]), st.booleans())
def test_lines_keep_to_the_line_width(data, default, requires_grad):
    floating = data.dtype.kind == "f"
    text = tensor_repr(data, default_dtype=default, requires_grad=requires_grad and floating)
    tokens = [t for t in TOKEN.findall(text[len("tensor("):]) if t not in ("[", "]", "...")]
    tokens = [t for t in tokens if not SUFFIX.match(t) and not t.startswith("torch.")]
    width = max([len(t) for t in tokens if not (floating and is_special(t))], default=1)
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if SUFFIX.match(line.strip()):
            assert len(line) <= 80, line  # a suffix moved to its own line
            continue
        if number == len(lines) - 1:
            line = SUFFIX.split(line)[0]
        # PyTorch fits a row's elements into the width, counting each as wide as the
        # widest finite nonzero element: wider nan/inf/zeros and the closing brackets
        # of the last rows (and suffixes placed by its own estimate) may pass it.
        elements = line.rstrip("]), ")
        on_line = TOKEN.findall(elements.replace("tensor(", "").replace("[", ""))
        excess = sum(max(0, len(t) - width) for t in on_line if t != "...")
        if "..." in on_line:
            excess += max(0, 4 - (width + 2))
        assert len(elements) <= 80 + excess or len(on_line) == 1, (line, width)


@PROPERTY
@given(any_arrays, options_strategy)
def test_elements_are_right_aligned_to_one_width(data, options):
    floating = data.dtype.kind == "f"
    if floating:
        data = data[...].copy()
        data[~np.isfinite(data) | (data == 0)] = 1.5  # specials may stick out: see below
    if data.size == 0 or data.size > options.threshold:
        return
    body = format_body(data, options=options)
    widths = {len(token) for token in TOKEN.findall(body) if token not in "[]"}
    width = max(widths)
    for line in body.split("\n"):
        if not line:
            continue
        # where the first element's field starts: after the row's "[", or on a
        # continuation line under the first field of the innermost row
        slot = line.rfind("[") + 1 if "[" in line else data.ndim
        ends = [match.end() for match in re.finditer(r"[^\s,\[\]]+", line)]
        assert ends == [slot + width + k * (width + 2) for k in range(len(ends))], (body, line)


@PROPERTY
@given(st.lists(st.sampled_from([nan, inf, -inf, -0.0, 0.0, 1.5, -2.0, 1e-5, 7.0]), min_size=1,
                max_size=12))
def test_special_values_stick_out_only_when_wider(values):
    data = np.array(values, f32)
    tokens = re.split(r",\n |, ", format_body(data)[1:-1])  # padding kept
    finite = [t for t, v in zip(tokens, values) if math.isfinite(v) and v != 0]
    width = len(finite[0]) if finite else 1
    assert all(len(t) == width for t in finite)
    for token, value in zip(tokens, values):
        assert len(token) == max(width, len(token.lstrip())), token


@PROPERTY
@given(any_arrays | big_arrays, options_strategy)
def test_values_read_back_and_summaries_keep_edgeitems(data, options):
    floating = data.dtype.kind == "f"
    body = format_body(data, options=options)
    if data.size == 0:
        assert body == "[]"
        return
    summarised = data.size > options.threshold
    if data.ndim == 0:
        leaves = [body]
    else:
        leaves = check_structure(parse_body(body), data.shape, summarised, options.edgeitems)
    shown = shown_part(data, options).ravel().tolist()
    assert len(leaves) == len(shown)
    for token, value in zip(leaves, shown):
        assert close_enough(token.strip(), value, options.precision, floating), (token, value, body)
