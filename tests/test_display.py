"""Tensors in grad's tables at 80 and 60 columns (rich Console of a fixed width): every
number whole, as PyTorch prints it (tensor_str, itself checked against PyTorch's own
reprs), matrix rows kept on their lines, no line past the width."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from rich.console import Console

import gradcli
from gradcli.autograd.tensor_str import PrintOptions, format_elements
from gradcli.check import run_check
from gradcli.cli import layout, render

RNG = np.random.default_rng(3)
SHAPES = [(), (3,), (3, 4), (2, 3, 4), (200,)]
NUMBER = re.compile(r"-?\d+\.\d*(?:e[+-]\d+)?|-?\d+\.")


def printed(result, report, width: int) -> str:
    out = io.StringIO()
    con = Console(file=out, width=width, color_system=None, highlight=False, soft_wrap=False)
    for line in render.header_lines("program", result, "1", width=width):
        con.print(line)
    con.print(render.gradients_table(result, report, width=width))
    con.print(render.graph_table(result.graph, width=width), crop=False)
    con.print(render.leaves_table(result.leaves, width=width), crop=False)
    return out.getvalue()


def elements(a) -> list:
    return [t.strip() for t in format_elements(np.asarray(a), options=PrintOptions())]


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numbers_whole_rows_kept_within_width(shape, width, dtype):
    x = RNG.normal(size=shape)
    result = gradcli.evaluate("sum(x * x) + sum(x)", {"x": x}, dtype=dtype)
    report = run_check(result)
    text = printed(result, report, width)
    assert "…" not in text
    assert all(len(line) <= width for line in text.splitlines()), text
    tokens = NUMBER.findall(text)
    value = result.bound["x"][0] if "x" in result.bound else x
    grad = np.asarray(result.grads["x"])
    assert grad.dtype == np.dtype(dtype)
    for array in (value, grad):
        # every element as PyTorch prints it, whole, somewhere in the table
        for e in elements(array):
            assert e in tokens, (e, text)
    if len(shape) >= 2:
        # rows kept: each row of the gradient's last axis on one line, in order
        rows = np.array(elements(grad), dtype=object).reshape(-1, shape[-1])
        lines = text.splitlines()
        for texts in rows:
            assert any(", ".join(texts) in re.sub(r"\s+", " ", line) for line in lines), \
                (texts, text)


def test_float32_shows_float32_digits_and_noise_as_pytorch():
    result = gradcli.evaluate("x * 3", {"x": 0.1}, dtype="float32")
    text = printed(result, run_check(result), 80)
    assert "0.1000" in text and "0.3000" in text        # torch: tensor(0.1000), tensor(0.3000)
    assert "0.1000000014" not in text and "0.3000000119" not in text
    # torch.tensor(-30.000000000000004, dtype=torch.float64) prints tensor(-30.0000)
    result = gradcli.evaluate("x * 1", {"x": -30.000000000000004})
    text = printed(result, run_check(result), 80)
    assert "-30.0000" in text and "-30.000000000000004" not in text


def test_a_matrix_as_pytorch_prints_it():
    # torch.set_printoptions defaults: tensor([[ 0.1250, -2.5000], [ 3.0000,  4.1235]])
    x = np.array([[0.125, -2.5], [3.0, 4.123456]])
    result = gradcli.evaluate("sum(x)", {"x": x})
    text = printed(result, run_check(result), 80)
    assert "[[ 0.1250, -2.5000],\n" in text and " [ 3.0000,  4.1235]]" in text


def test_precision_option():
    layout.set_precision(8)
    try:
        result = gradcli.evaluate("x * 3", {"x": 0.1})
        text = printed(result, run_check(result), 80)
        assert "0.30000000" in text
    finally:
        layout.set_precision(None)


def test_tensor_formula_of_one_element():
    x = np.array([[0.5, 1.0], [1.5, 2.0]])
    result = gradcli.evaluate("sum(sin(x) * y)", {"x": x, "y": x * 2})
    report = run_check(result)
    assert report["variables"]["x"]["element"] == "x[i,j]"
    assert report["variables"]["x"]["formula"] == "y[i,j]*cos(x[i,j])"
    text = printed(result, report, 80)
    assert "x[i,j]: y[i,j]*cos(x[i,j])" in text
    # an element whose formula is not the same for all: the first element's, named so
    result = gradcli.evaluate("sum(x * x[0])", {"x": np.array([1.0, 2.0, 3.0])})
    report = run_check(result)
    assert report["variables"]["x"]["element"] == "x[0]"
