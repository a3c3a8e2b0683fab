"""`gradcli run` as a user meets it: through typer's CliRunner and the installed command;
stdin, errors with the script's line and a caret (what was printed before kept), the
non-leaf warning once per line, limits, --explain, and the Python API's gradcli.run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import gradcli
from gradcli.cli.app import app
from gradcli.errors import GradcliError

runner = CliRunner()

SEED = """import torch
x = torch.tensor(2.0, requires_grad=True)
y = x**2
z = x
y.backward()
print(x.grad)
z.backward()
print(x.grad)
"""


def invoke(args, stdin=None):
    return runner.invoke(app, args, input=stdin)


TORCH_DATA = Path(__file__).parent / "data" / "torch"


def pytorch_printed(name: str) -> str:
    """What PyTorch 2.13 printed for tests/data/torch/NAME.py (its NAME.out)."""
    return (TORCH_DATA / f"{name}.out").read_text()


def test_the_seed_example_from_a_file(tmp_path):
    path = tmp_path / "seed.py"
    path.write_text(SEED)
    r = invoke(["run", str(path)])
    assert (r.exit_code, r.stdout) == (0, "tensor(4.)\ntensor(5.)\n")


def test_standard_input():
    r = invoke(["run", "-"], stdin=SEED)
    assert (r.exit_code, r.stdout) == (0, "tensor(4.)\ntensor(5.)\n")


def test_an_error_keeps_what_was_printed_and_points_at_the_line(tmp_path):
    path = tmp_path / "twice.py"
    path.write_text("import torch\nx = torch.tensor(2.0, requires_grad=True)\n"
                    "y = x**3\ny.backward()\nprint(x.grad)\ny.backward()\n")
    r = invoke(["run", str(path)])
    assert r.exit_code == 2
    assert r.stdout == "tensor(12.)\n"
    lines = r.stderr.splitlines()
    assert lines[0] == f'  File "{path}", line 6, in <module>'
    assert lines[1] == "    y.backward()"
    assert lines[2] == "      ^"          # under backward, where the call is
    assert lines[3].startswith("RuntimeError: Trying to backward through the graph a "
                               "second time")
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


def test_an_error_inside_a_function_names_it():
    r = invoke(["run", "-"], stdin="def f(t):\n    return t.nope()\nf(1)\n")
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == '  File "<stdin>", line 2, in f'
    assert r.stderr.splitlines()[-1] == "AttributeError: 'int' object has no attribute 'nope'"


def test_the_non_leaf_grad_warning_once_per_line():
    script = ("import torch\nx = torch.tensor(1.0, requires_grad=True)\ny = x * 2\n"
              "for i in range(3):\n    g = y.grad\nprint(y.grad)\n")
    r = invoke(["run", "-"], stdin=script)
    assert (r.exit_code, r.stdout) == (0, "None\n")
    warnings = [line for line in r.stderr.splitlines() if "UserWarning" in line]
    assert [w.split(": UserWarning")[0] for w in warnings] == ["<stdin>:5", "<stdin>:6"]
    assert "is not a leaf Tensor is being accessed" in warnings[0]


@pytest.mark.parametrize("script, message", [
    ("import matplotlib", "ModuleNotFoundError: No module named 'matplotlib' in gradcli "
                          "run"),
    ("class Net:\n    pass", "SyntaxError: class definitions are not supported"),
    ("import torch\ntorch.fft.fft(1)", "AttributeError: module 'torch' has no attribute "
                                       "'fft'"),
    ("x = 1 +", "SyntaxError: expected an expression, found end of input"),
    ("open('f')", "NameError: name 'open' is not defined"),
])
def test_outside_the_subset_is_a_clear_error(script, message):
    r = invoke(["run", "-"], stdin=script)
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1].startswith(message)


def test_an_endless_loop_meets_the_statement_limit(monkeypatch):
    from gradcli.lang import script
    assert script.MAX_STATEMENTS == 10 ** 7              # SPEC 7
    out, error = script.run_script("while True:\n    pass\n", max_statements=10_000)
    assert error is not None and error.python_name is None
    assert error.message.startswith("the program ran over 10000 statements")
    monkeypatch.setattr(script, "MAX_STATEMENTS", 5000)  # the CLI's path, kept quick
    r = invoke(["run", "-"], stdin="n = 0\nwhile True:\n    try:\n        n += 1\n"
                                   "    except Exception:\n        pass\n")
    assert r.exit_code == 2       # a limit is no exception: `except Exception` can't stop it
    assert r.stderr.splitlines()[-1].startswith("gradcli: limit: the program ran over "
                                                "5000 statements")


def test_explain_shows_each_backward():
    r = invoke(["run", "-", "--explain"], stdin=SEED)
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "[chain rule of backward(y)]",
        "1. PowBackward0  y = x**2",
        "   upstream gradient 1",
        "   d/d x (x**2) = 2*x = 2*2 = 4  -> x gets 1 * 4 = 4",
        "2. AccumulateGrad  x.grad += 4   (x.grad = 4)",
        "tensor(4.)",
        "[chain rule of backward(x)]",
        "3. AccumulateGrad  x.grad += 1   (x.grad = 5)",
        "tensor(5.)"]


def test_explain_shows_each_grad_call_under_its_line():
    script = ("import torch\nx = torch.tensor(2.0, requires_grad=True)\ny = x**3\n"
              "g, = torch.autograd.grad(y, x)   # 3x^2\nprint(g)\n")
    r = invoke(["run", "-", "--explain"], stdin=script)
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "[chain rule of line 4: g, = torch.autograd.grad(y, x)]",
        "1. PowBackward0  y = x**3",
        "   upstream gradient 1",
        "   d/d x (x**3) = 3*x**2 = 3*2**2 = 12  -> x gets 1 * 12 = 12",
        "tensor(12.)"]


def test_the_python_api():
    assert gradcli.run(SEED) == "tensor(4.)\ntensor(5.)\n"
    with pytest.raises(GradcliError) as info:
        gradcli.run("print('before')\nraise ValueError('no')\n")
    assert (info.value.python_name, info.value.message, info.value.line) == \
        ("ValueError", "no", 2)
    assert info.value.printed == "before\n"


def test_the_installed_command_reads_stdin():
    p = subprocess.run([sys.executable, "-m", "gradcli", "run", "-"], input=SEED,
                       capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stdout, p.stderr) == (0, "tensor(4.)\ntensor(5.)\n", "")


def test_a_missing_file_is_a_clear_error():
    r = invoke(["run", "no/such/script.py"])
    assert r.exit_code == 2
    assert "cannot read 'no/such/script.py'" in r.stderr


def test_a_0d_tensor_formats_as_its_item_in_f_strings():
    # PyTorch's Tensor.__format__ (outputs written once by PyTorch 2.13)
    script = ('import torch\nx = torch.tensor(3.0, requires_grad=True)\n'
              'y = 2 * x ** 2\ny.backward()\n'
              'print(f"{x.grad}", f"{x}", "{}".format(x.grad), f"{x!r}", '
              'f"{torch.tensor(2)}", f"{torch.ones(2)}", f"{x.grad:.3f}")\n'
              'print(f"{torch.ones(2):.2f}")\n')
    r = invoke(["run", "-"], stdin=script)
    assert r.stdout == "12.0 3.0 12.0 tensor(3., requires_grad=True) 2 tensor([1., 1.]) " \
        "12.000\n"
    assert r.stderr.splitlines()[-1] == \
        "TypeError: unsupported format string passed to Tensor.__format__"


@pytest.mark.parametrize("data, error", [
    ("[[1, 2], [3]]", "ValueError: expected sequence of length 2 at dim 1 (got 1)"),
    ("[[1], [2, 3]]", "ValueError: expected sequence of length 1 at dim 1 (got 2)"),
    ("[[[1], [2]], [[3], [4, 5]]]",
     "ValueError: expected sequence of length 1 at dim 2 (got 2)"),
    ("[[1, 2], 3]", "TypeError: not a sequence"),
    ("[1, [2]]", "TypeError: 'list' object cannot be interpreted as an integer"),
    ("[1.5, [2]]", "TypeError: must be real number, not list"),
])
def test_ragged_data_is_pytorchs_error(data, error):
    r = invoke(["run", "-"], stdin=f"import torch\nt = torch.tensor({data})\n")
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1] == error


def test_legacy_constructors_torch_Tensor_and_Variable():
    # outputs written once by PyTorch 2.13
    script = ("import torch\nfrom torch.autograd import Variable\n"
              "print(torch.Tensor([1,2,3]), torch.Tensor(2,3).shape, "
              "torch.Tensor([[1,2]]).dtype, torch.Tensor())\n"
              "t = torch.ones(2); v = Variable(t, requires_grad=True)\n"
              "print(v is t, t.requires_grad, v.is_leaf, v)\n"
              "v.data[0] = 5; print(t)\nprint(isinstance(t, torch.Tensor))\n")
    r = invoke(["run", "-"], stdin=script)
    assert (r.exit_code, r.stdout) == (0, (
        "tensor([1., 2., 3.]) torch.Size([2, 3]) torch.float32 tensor([])\n"
        "False False True tensor([1., 1.], requires_grad=True)\n"
        "tensor([5., 1.])\nTrue\n"))


@pytest.mark.parametrize("script, out, error", [
    # outputs and errors written once by PyTorch 2.13
    ("x = torch.zeros(2, 3)\nprint(x.shape[-1], x.shape[:1], len(x.shape), "
     "x.shape.numel())\nprint(torch.Size([2, 3]))\n",
     "3 torch.Size([2]) 2 6\ntorch.Size([2, 3])\n", None),
    ("a = torch.ones(2, 3)\nb = torch.ones(3, 2)\nprint(a + b)\n", "",
     "RuntimeError: The size of tensor a (3) must match the size of tensor b (2) at "
     "non-singleton dimension 1"),
    ("x = torch.tensor([1.0], requires_gradient=True)\n", "",
     "TypeError: tensor() got an unexpected keyword argument 'requires_gradient'"),
])
def test_pytorchs_words_for_sizes_and_mistakes(script, out, error):
    r = invoke(["run", "-"], stdin="import torch\n" + script)
    assert r.stdout == out
    if error is None:
        assert r.exit_code == 0
    else:
        assert (r.exit_code, r.stderr.splitlines()[-1]) == (2, error)


@pytest.mark.parametrize("script, out", [
    # outputs written once by PyTorch 2.13 (CPU build)
    ("x = torch.ones(2)\nprint(x.to('cpu'), x.cpu(), torch.device('cpu'))\n"
     "print(torch.all(x > 0), (x > 0).all(), torch.cuda.is_available())\n"
     "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
     "print(device, repr(device), x.to(device, torch.float64), x.device == 'cpu')\n"
     "with torch.inference_mode():\n    y = x * 2\nprint(y.requires_grad)\n",
     "tensor([1., 1.]) tensor([1., 1.]) cpu\ntensor(True) tensor(True) False\n"
     "cpu device(type='cpu') tensor([1., 1.], dtype=torch.float64) True\nFalse\n"),
    ("x = torch.tensor([1, 2])\nprint(x.to(torch.float32), x.type(), "
     "x.type(torch.float64), x.float().type())\n",
     "tensor([1., 2.]) torch.LongTensor tensor([1., 2.], dtype=torch.float64) "
     "torch.FloatTensor\n"),
    ("x = torch.arange(5)\ntry:\n    x[10]\nexcept IndexError as e:\n    print('caught:', e)\n",
     "caught: index 10 is out of bounds for dimension 0 with size 5\n"),
])
def test_devices_dtypes_and_index_errors_as_pytorch(script, out):
    r = invoke(["run", "-"], stdin="import torch\n" + script)
    assert (r.exit_code, r.stdout) == (0, out), r.stderr


@pytest.mark.parametrize("script, error", [
    ("torch.ones(2).to('cuda')\n", "AssertionError: Torch not compiled with CUDA enabled"),
    ("for i in range(2):\nprint(i)\n",
     "IndentationError: expected an indented block after 'for' statement on line 2"),
    ("x = 1\n    y = 2\n", "IndentationError: unexpected indent"),
])
def test_pytorch_and_python_error_types(script, error):
    r = invoke(["run", "-"], stdin="import torch\n" + script)
    assert (r.exit_code, r.stderr.splitlines()[-1]) == (2, error)


def test_a_main_guard_math_getattr_and_state_dict_keys():
    # outputs written once by PyTorch 2.13
    script = ("import math\nimport torch\nimport torch.nn as nn\n\ndef main():\n"
              "    x = torch.tensor(math.pi / 2, requires_grad=True)\n"
              "    torch.sin(x).backward()\n    print(x.grad)\n\n"
              "if __name__ == '__main__':\n    main()\n"
              "x = torch.ones(2, 2)\nfor name in ['clone', 't', 'sum']:\n"
              "    print(name, getattr(x, name)().shape)\n"
              "print(hasattr(x, 'grad'), hasattr(x, 'nope'), getattr(x, 'nope', 5))\n"
              "print(list(nn.Linear(2, 1).state_dict().keys()))\n")
    r = invoke(["run", "-"], stdin=script)
    assert (r.exit_code, r.stdout) == (0, (
        "tensor(-4.3711e-08)\nclone torch.Size([2, 2])\nt torch.Size([2, 2])\n"
        "sum torch.Size([])\nTrue False 5\n['weight', 'bias']\n")), r.stderr


def test_getattr_cannot_reach_private_names():
    r = invoke(["run", "-"], stdin="x = 1\ngetattr(x, '__class__')\n")
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1].startswith("AttributeError: 'int' object has no "
                                                "attribute '__class__'")


def test_autograd_functional_jacobian_and_hessian():
    """tests/data/torch/functional_jh.out is what PyTorch 2.13 printed for the script."""
    r = invoke(["run", str(TORCH_DATA / "functional_jh.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("functional_jh"))


def test_max_and_min_along_a_dim_return_values_and_indices():
    """torch.max(x, 1) is a reduction along dim 1 with its indices (a named tuple), not an
    elementwise maximum with 1; tests/data/torch/max_dim.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "max_dim.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("max_dim"))


@pytest.mark.parametrize("program, grads, status", [
    ("sum(max(w, 1).values * 2)", [[0.0, 2.0], [2.0, 0.0]], "passed"),
    ("v, i = max(w, 0); sum(v**2)", [[0.0, 10.0], [14.0, 0.0]], "passed"),
    ("sum(min(w, dim=1, keepdim=True).values)", [[1.0, 0.0], [0.0, 1.0]], "passed"),
])
def test_max_along_a_dim_in_grad_programs_is_checked(program, grads, status):
    r = invoke(["grad", program, "--w", "[[1, 5], [7, 2]]", "--format", "json"])
    out = json.loads(r.stdout)
    assert (out["grads"]["w"], out["check"]["status"]) == (grads, status)


def test_a_tie_along_the_dim_is_skipped_not_failed():
    r = invoke(["grad", "sum(max(w, 1).values)", "--w", "[[3, 3], [7, 2]]",
                "--format", "json"])
    out = json.loads(r.stdout)
    assert out["grads"]["w"] == [[1.0, 0.0], [1.0, 0.0]]        # PyTorch: the first
    assert out["check"]["status"] == "skipped"
    assert "tie for the extreme element" in out["check"]["reason"]


def test_advanced_indexing_masks_and_index_lists():
    """x[mask], x[[0, 2]], x[idx_a, idx_b]: IndexBackward0, gradients summed where an
    element is picked twice; tests/data/torch/advanced_index.out is PyTorch 2.13's."""
    r = invoke(["run", str(TORCH_DATA / "advanced_index.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("advanced_index"))


@pytest.mark.parametrize("program, binding, grads", [
    ("sum(x[x > 0]**2)", "[1, -2, 3]", [2.0, 0.0, 6.0]),
    ("sum(x[[0, 0, 2]]**3)", "[1, -2, 3]", [6.0, 0.0, 27.0]),
    ("sum(x[[1, 0]] * 3)", "[[1, 2], [3, 4]]", [[3.0, 3.0], [3.0, 3.0]]),
])
def test_advanced_indexing_in_grad_programs_passes_the_check(program, binding, grads):
    r = invoke(["grad", program, "--x", binding, "--format", "json"])
    out = json.loads(r.stdout)
    assert (out["grads"]["x"], out["check"]["status"]) == (grads, "passed")


def test_iterating_over_a_tensor_unbinds_it():
    """``a, b = x`` and ``for row in x`` are unbind(0), as in PyTorch: UnbindBackward0
    views, the gradient stacked back, multi-view in-place errors; torch.unbind and
    Tensor.unbind; tests/data/torch/unbind.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "unbind.py")])
    out = re.sub(r"at 0x[0-9a-f]+>", "at 0x...>", r.stdout)
    assert (r.exit_code, out) == (0, pytorch_printed("unbind"))


@pytest.mark.parametrize("program, binding, grads", [
    ("a, b = x; a * b", "[2, 3]", [3.0, 2.0]),
    ("a, b = x; sum(a * b)", "[[2, 3], [1, 5]]", [[1.0, 5.0], [2.0, 3.0]]),
])
def test_unpacking_a_tensor_in_grad_programs_is_unbind_and_passes_the_check(
        program, binding, grads):
    r = invoke(["grad", program, "--x", binding, "--format", "json"])
    out = json.loads(r.stdout)
    assert (out["grads"]["x"], out["check"]["status"]) == (grads, "passed"), out
    assert [row["grad_fn"] for row in out["graph"][1:3]] == ["UnbindBackward0"] * 2


def test_flatten_takes_its_dims_and_dims_out_of_range_are_index_errors():
    """torch.flatten/Tensor.flatten(start_dim, end_dim), nn.Flatten, and a dim out of
    range is PyTorch's IndexError everywhere (it was a RuntimeError);
    tests/data/torch/flatten.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "flatten.py")])
    out = re.sub(r"at 0x[0-9a-f]+>", "at 0x...>", r.stdout)
    assert (r.exit_code, out) == (0, pytorch_printed("flatten"))


def test_register_hook_sees_and_replaces_gradients():
    """Tensor.register_hook on leaves and non-leaves: the hook sees the gradient, one
    that returns a tensor replaces it (retain_grad keeps the replaced one), remove(),
    and PyTorch's errors; tests/data/torch/hooks.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "hooks.py")])
    out = re.sub(r"at 0x[0-9a-f]+>", "at 0x...>", r.stdout)
    assert (r.exit_code, out) == (0, pytorch_printed("hooks"))


def test_a_hook_that_replaces_a_gradient_leaves_that_call_unchecked():
    """.grad is then not the derivative: the check says so instead of failing."""
    script = ("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
              "y = x * 3\nh = y.register_hook(lambda grad: grad * 2)\n"
              "y.sum().backward()\nh.remove()\n(x * 3).sum().backward()\n"
              "x.register_hook(print)\n(x * x).sum().backward()\nprint(x.grad)\n")
    r = invoke(["run", "-", "--check"], stdin=script)
    assert r.exit_code == 0, r.stderr
    assert r.stderr.splitlines()[-1] == (
        "check: partial: 2 of 3 backward/grad calls passed, max abs err 0; 1 not checked (a "
        "register_hook() replaced a gradient, so .grad is not the derivative)")
    assert r.stdout.splitlines()[-2:] == ["tensor([2., 4.])", "tensor([11., 13.])"]  # (PyTorch)


def test_a_hook_returning_no_tensor_is_pythons_type_error():
    r = invoke(["run", "-"], stdin="import torch\nx = torch.ones(2, requires_grad=True)\n"
               "x.register_hook(lambda g: 3)\nx.sum().backward()\n")
    assert r.exit_code == 2       # PyTorch 2.13's words
    assert r.stderr.splitlines()[-1] == "TypeError: expected Variable, but hook returned 'int'"


def test_hooks_in_the_python_api():
    x = gradcli.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()))
    (x * x).sum().backward()
    assert seen == [[2.0, 4.0]] and x.grad.tolist() == [2.0, 4.0]
    handle.remove()
    y = x * 1
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert x.grad.tolist() == [12.0, 14.0]


def test_assigning_through_masks_and_index_tensors_is_index_put():
    """``x[mask] = v`` and ``x[idx] = v``: IndexPutBackward0, gradients of the input and
    of the values, broadcasting, create_graph, and PyTorch's errors (dtypes, a leaf,
    shapes, bounds); tests/data/torch/index_put.out is PyTorch 2.13's output (object
    addresses written 0x...)."""
    r = invoke(["run", str(TORCH_DATA / "index_put.py")])
    out = re.sub(r"at 0x[0-9a-f]+>", "at 0x...>", r.stdout)
    assert (r.exit_code, out) == (0, pytorch_printed("index_put"))


@pytest.mark.parametrize("program, grads, status", [
    ("y = x * 1; y[y < 0] = 0; sum(y**2)", {"x": [2.0, 0.0, 6.0], "v": None}, "passed"),
    ("y = x * 1; y[[0, 2]] = v * 3; sum(y**2)", {"x": [0.0, -4.0, 0.0], "v": 72.0},
     "passed"),
    # element 2 written twice: PyTorch's v.grad is 2 * x[2] (a write each), the
    # derivative x[2]; the check skips v, and says why
    ("y = x * 1; y[[2, -1]] = v; sum(y * x)", {"x": [2.0, -4.0, 2.0], "v": 6.0}, "partial"),
])
def test_index_assignment_in_grad_programs_is_checked(program, grads, status):
    r = invoke(["grad", program, "--x", "[1, -2, 3]", "--v", "2", "--format", "json"])
    out = json.loads(r.stdout)
    assert out["grads"] == grads and out["check"]["status"] == status, out
    if status == "partial":
        assert "written twice" in out["check"]["variables"]["v"]["reason"]


def test_pytorchs_user_warnings_point_at_the_script_line(tmp_path):
    path = tmp_path / "soft.py"
    path.write_text("import torch\nimport torch.nn.functional as F\n"
                    "print(F.softmax(torch.tensor([1., 2.])))\n")
    r = invoke(["run", str(path)])
    assert r.stdout == "tensor([0.2689, 0.7311])\n"       # PyTorch 2.13's
    assert r.stderr.splitlines() == [
        f"{path}:3: UserWarning: Implicit dimension choice for softmax has been deprecated. "
        "Change the call to include dim=X as an argument.",
        "  print(F.softmax(torch.tensor([1., 2.])))"]


def test_floor_divide_and_bitwise_operators():
    """``//``, ``&``, ``|``, ``^``, ``~`` on tensors, their errors and floor_divide's
    NotImplemented node; tests/data/torch/bitwise.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "bitwise.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("bitwise"))


def test_isclose_allclose_and_equal():
    """torch.isclose/allclose/equal and their methods: tolerances, NaN, equal_nan,
    broadcasting, and PyTorch's errors (a number for a tensor, two dtypes, a negative
    rtol); tests/data/torch/allclose.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "allclose.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("allclose"))


def test_type_names_and_caught_messages_are_pythons():
    """``type(e).__name__`` (the one dunder attribute a script may read) and ``str(e)``
    of a caught error in PyTorch's words; tests/data/torch/type_name.out is PyTorch
    2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "type_name.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("type_name"))
    r = invoke(["run", "-"], "import torch\nprint(torch.ones(1).__name__)\n")
    assert r.exit_code == 2 and "'Tensor' object has no attribute '__name__'" in r.stderr
    r = invoke(["run", "-"], "import torch\nprint(torch.ones(1).__class__)\n")
    assert r.exit_code == 2 and "names starting with '__' are not allowed" in r.stderr


def test_new_tensors_follow_the_default_dtype_and_mT():
    """rand/randn/nn.Linear take torch.set_default_dtype as PyTorch's do; x.mT and x.mH
    swap the last two dims; tests/data/torch/default_dtype.out is PyTorch 2.13's."""
    r = invoke(["run", str(TORCH_DATA / "default_dtype.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("default_dtype"))


def test_norm_along_dims_with_p_and_keepdim():
    """torch.norm(x, p, dim, keepdim) and x.norm(...): values, LinalgVectorNormBackward0
    and gradients for p = 2, 1, 3, inf, 0.5; tests/data/torch/norm_dims.out is PyTorch
    2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "norm_dims.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("norm_dims"))


@pytest.mark.parametrize("program, want", [
    ("sum(norm(x, 2, 1))", [[3 / 13, -4 / 13, 12 / 13], [1 / 3, 2 / 3, -2 / 3]]),
    ("sum(norm(x, p=1, dim=0))", [[1.0, -1.0, 1.0], [1.0, 1.0, -1.0]]),
])
def test_norm_along_dims_in_programs_passes_the_check(program, want):
    result = gradcli.evaluate(program, {"x": [[3.0, -4.0, 12.0], [1.0, 2.0, -2.0]]},
                              check=True)
    np.testing.assert_allclose(result.grads["x"], want, rtol=1e-15, atol=1e-15)
    assert result.check["status"] == "passed", result.check


def test_in_place_forms_of_the_elementwise_methods():
    """x.relu_(), x.sigmoid_(), x.tanh_(), ... (generated for every elementwise method of
    the table): the node of the out-of-place op, PyTorch's leaf and version errors;
    tests/data/torch/inplace_methods.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "inplace_methods.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("inplace_methods"))


def test_grad_fn_types_version_counters_and_the_create_graph_warning():
    """type(grad_fn) is PyTorch's class (SumBackward0, not gradcli's Node), _version
    counts in-place writes across views, and backward(create_graph=True) warns once (as
    TORCH_WARN_ONCE does), grad() never; tests/data/torch/grad_fn_types.out is PyTorch
    2.13's output."""
    from gradcli.autograd.engine import CREATE_GRAPH_CYCLE
    r = invoke(["run", str(TORCH_DATA / "grad_fn_types.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("grad_fn_types"))
    assert r.stderr.splitlines() == [
        f"{TORCH_DATA / 'grad_fn_types.py'}:33: UserWarning: {CREATE_GRAPH_CYCLE}",
        "  (z ** 3).sum().backward(create_graph=True)"]
    assert CREATE_GRAPH_CYCLE.startswith("Using backward() with create_graph=True will "
                                         "create a reference cycle")


def test_linalg_norm_and_vector_norm():
    """torch.linalg.norm (no ord, vector ords, 'fro', dims, keepdim, PyTorch's error for
    ord on a 3-D input) and torch.linalg.vector_norm, with their gradients;
    tests/data/torch/linalg_norm.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "linalg_norm.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("linalg_norm"))


def test_a_matrix_norm_gradcli_lacks_is_a_clear_error():
    r = invoke(["run", "-"], stdin="import torch\nprint(torch.linalg.norm(torch.eye(2), 'nuc'))\n")
    assert r.exit_code == 2 and "ord='nuc' over two dims is not in gradcli" in r.stderr
    assert "Traceback" not in r.stderr


def test_one_hot():
    """F.one_hot: default and given num_classes, batches, a 0-d index, a cross entropy
    written with it (its gradient), and PyTorch's four errors;
    tests/data/torch/one_hot.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "one_hot.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("one_hot"))


def test_one_hot_is_held_to_the_memory_budget():
    r = invoke(["run", "-", "--max-memory", "64MB"],
               stdin="import torch\nimport torch.nn.functional as F\n"
                     "print(F.one_hot(torch.tensor([0, 1]), 10**9).shape)\n")
    assert r.exit_code == 2 and "would allocate" in r.stderr and "Traceback" not in r.stderr


def test_gradient_clipping():
    """torch.nn.utils.clip_grad_norm_ (2-, inf- and 1-norms, a lone tensor, no grads,
    error_if_nonfinite) and clip_grad_value_, imported both ways;
    tests/data/torch/clip_grad.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "clip_grad.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("clip_grad"))


def test_the_warnings_module_and_its_filters():
    """import warnings: warn (categories, an instance, in a loop), filterwarnings and
    simplefilter (ignore by message and by category, error, always), catch_warnings,
    resetwarnings, over the script's own warnings and PyTorch's;
    tests/data/torch/warnings_filters.out/.err are Python and PyTorch 2.13's output."""
    script = TORCH_DATA / "warnings_filters.py"
    r = invoke(["run", str(script)])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("warnings_filters"))
    assert r.stderr.replace(str(script), script.name) == \
        (TORCH_DATA / "warnings_filters.err").read_text()


@pytest.mark.parametrize("call, error", [
    ("warnings.filterwarnings('loud')", "AssertionError: invalid action: 'loud'"),
    ("warnings.simplefilter('ignore', category=ValueError)",
     "AssertionError: category must be a Warning subclass"),
    ("warnings.warn('x', 3)", "TypeError: category must be a Warning subclass, not 'int'"),
])
def test_the_warnings_modules_errors(call, error):
    r = invoke(["run", "-"], stdin=f"import warnings\n{call}\n")
    assert r.exit_code == 2 and r.stderr.strip().splitlines()[-1] == error


def test_autograd_functional_vjp_and_jvp():
    """torch.autograd.functional.vjp and jvp: one and several inputs and outputs, v
    omitted for one element, create_graph, an output that does not depend on the input,
    and PyTorch's errors for v; tests/data/torch/vjp_jvp.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "vjp_jvp.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("vjp_jvp"))


def test_tensor_uniform_and_normal_fill_in_place():
    """Tensor.uniform_/normal_ (manual initialisation): shapes, ranges, the version
    counter, under no_grad, and PyTorch's error for a leaf that requires grad (the
    numbers are gradcli's generator's, so the script prints only what they share);
    tests/data/torch/random_fill.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "random_fill.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("random_fill"))


def test_legacy_typed_tensor_classes():
    """torch.FloatTensor, DoubleTensor, LongTensor, BoolTensor (old tutorials): their
    constructors from data and from sizes, isinstance, .type() with them, gradients;
    tests/data/torch/legacy_types.out is PyTorch 2.13's output."""
    r = invoke(["run", str(TORCH_DATA / "legacy_types.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("legacy_types"))


def test_randperm_shuffles_minibatches():
    """torch.randperm: int64, a permutation, dtype=, n = 0, indexing mini-batches, and
    PyTorch's error for a negative n (the order is gradcli's generator's, so the script
    prints only what both share); tests/data/torch/randperm.out is PyTorch 2.13's."""
    r = invoke(["run", str(TORCH_DATA / "randperm.py")])
    assert (r.exit_code, r.stdout) == (0, pytorch_printed("randperm"))


def test_randperm_is_held_to_the_memory_budget():
    r = invoke(["run", "-", "--max-memory", "64MB"],
               stdin="import torch\nprint(torch.randperm(10**9).shape)\n")
    assert r.exit_code == 2 and "would allocate" in r.stderr and "Traceback" not in r.stderr
