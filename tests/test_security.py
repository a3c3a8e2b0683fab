"""User text is never executed (SPEC 2): hostile programs are plain GradcliErrors that run
nothing, and no module of gradcli calls eval/exec/compile/sympify/parse_expr or loads
pickles."""

from __future__ import annotations

import ast as pyast
import os
import pathlib

import pytest

from gradcli.errors import GradcliError, ParseError
from gradcli.lang.evaluator import evaluate

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "gradcli"

# (program, True if the parser itself must reject it).  The language is Python's now
# (SPEC 7), so lambdas, strings and comprehensions parse; what keeps a program in its
# box is that names starting with __ never parse, no builtin reaches the host (no
# open/eval/getattr/globals), imports are torch's modules only, and attributes exist
# only where gradcli lists them.
HOSTILE = [
    ("__import__('os').system('touch pwned')", True),
    ("__import__", True),
    ("x.__class__", True),
    ("().__class__.__bases__", True),
    ("x.__class__.__bases__[0].__subclasses__()", True),
    ("x.__dict__", True),
    ("__builtins__", True),
    ("f'{x.__class__}'", True),
    ("b'x'", True),
    ("`touch pwned`", True),
    ("$(touch pwned)", True),
    ("exec('1')", True),
    ("eval('1')", True),
    ("compile(x)", True),
    ("open('f')", True),
    ("getattr(x, 'y')", True),
    ("globals()", True),
    ("vars()", True),
    ("exec(x)", True),
    ("eval(x)", True),
    ("lambda x: x", False),
    ("import os", False),
    ("x; import os", False),
    ("from os import system", False),
    ("import torch.utils", False),
    ("'abc'", False),
    ('"abc"', False),
    ("f'{x}'", False),
    ("print(x)", False),
    ("type(x)", False),
    ("x.numpy()", False),
    ("x._inplace(x)", False),
    ("x.grad_fn._inputs", False),
    ("print.fn", False),
    ("torch.autograd.grad.fn", False),
    ("(x for i in [1]).gi_frame", False),
    ("[i for i in x].gi_frame", False),
    ("'{0.data}'.format(x)", False),
    ("'%s' % x.grad_fn.op", False),
    ("[i for i in x]", False),
    ("x == x", False),
    ("x.backward", False),
    ("x.requires_grad", False),
    ("os.system", False),
    ("sum.x", False),
]


@pytest.mark.parametrize("program, parse_error", HOSTILE)
def test_hostile_programs_are_errors_and_run_nothing(program, parse_error, tmp_path,
                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GradcliError) as info:
        evaluate(program, {"x": 2.0, "y": 1.0})
    if parse_error:
        assert isinstance(info.value, ParseError), (type(info.value), info.value.message)
    assert info.value.message
    assert list(tmp_path.iterdir()) == []           # nothing was created
    assert not os.path.exists("pwned")


def test_a_leaf_grad_fn_is_the_value_none_and_runs_nothing(tmp_path, monkeypatch):
    # a program's value may be None (issue 16): x.grad_fn of a leaf, as PyTorch says
    monkeypatch.chdir(tmp_path)
    r = evaluate("x.grad_fn", {"x": 2.0, "y": 1.0})
    assert r.value is None and r.grads == {"x": None, "y": None}
    assert r.none_reason == ("x.grad_fn is None: x is a leaf (no op made it, so no node "
                             "computes its gradient)")
    assert list(tmp_path.iterdir()) == []


def test_touch_command_is_not_run(tmp_path):
    target = tmp_path / "pwned"
    for program in (f"__import__('os').system('touch {target}')",
                    f"exec(\"open('{target}', 'w')\")",
                    f"open('{target}', 'w')"):
        with pytest.raises(ParseError):
            evaluate(program, {"x": 1.0})
    assert not target.exists()


def test_a_name_that_is_a_python_builtin_is_just_an_unbound_variable():
    for name in ("open", "os", "sys", "eval", "getattr", "globals"):
        with pytest.raises(GradcliError) as info:
            evaluate(f"{name} + 1", {"x": 1.0})
        assert info.value.message == f"unbound variable '{name}': pass --{name} VALUE"


def test_bindings_do_not_evaluate_strings():
    for value in ("__import__('os').system('touch pwned')", ["1+1"], "1"):
        with pytest.raises(GradcliError):
            evaluate("x", {"x": value})


def test_a_npy_files_header_never_reaches_pythons_parser(tmp_path):
    """numpy.load gives the header (text from the user's file) to ast.literal_eval;
    gradcli parses it itself (gradcli/cli/npyfile.py), for --x @file.npy as for a pipe."""
    import json
    import threading

    import numpy as np
    from typer.testing import CliRunner

    from gradcli.cli.app import app

    np.save(tmp_path / "w.npy", np.arange(4.0))
    fifo = tmp_path / "pipe.npy"
    os.mkfifo(fifo)

    def never(*args, **kwargs):
        raise AssertionError("a .npy header reached Python's parser")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pyast, "literal_eval", never)
        patch.setattr(pyast, "parse", never)
        result = CliRunner().invoke(app, ["grad", "sum(w*w)", "--w", f"@{tmp_path / 'w.npy'}",
                                          "--no-check", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["grads"]["w"] == [0, 2, 4, 6]

        writer = threading.Thread(target=lambda: fifo.write_bytes(
            (tmp_path / "w.npy").read_bytes()))
        writer.start()
        result = CliRunner().invoke(app, ["grad", "sum(w*w)", "--w", f"@{fifo}", "--no-check",
                                          "--format", "json"])
        writer.join()
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["grads"]["w"] == [0, 2, 4, 6]


# -- a scan of the source ---------------------------------------------------------------------

FORBIDDEN_NAMES = {"eval", "exec", "compile", "sympify", "parse_expr", "__import__"}
FORBIDDEN_ATTRS = {"eval", "exec", "sympify", "parse_expr"}


def _python_files():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10, files
    return files


def _calls(path: pathlib.Path):
    tree = pyast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Call):
            yield node


def _where(path, node) -> str:
    shown = path.relative_to(PACKAGE.parent) if PACKAGE.parent in path.parents else path.name
    return f"{shown}:{node.lineno}"


def _violations(path: pathlib.Path) -> list:
    """Calls of eval/exec/compile (but re.compile)/sympify/parse_expr, and imports of them."""
    bad = []
    for call in _calls(path):
        func = call.func
        if isinstance(func, pyast.Name) and func.id in FORBIDDEN_NAMES:
            bad.append(f"{_where(path, call)}: {func.id}()")
        elif isinstance(func, pyast.Attribute):
            owner = func.value.id if isinstance(func.value, pyast.Name) else None
            if func.attr in FORBIDDEN_ATTRS:
                bad.append(f"{_where(path, call)}: .{func.attr}()")
            elif func.attr == "compile" and owner != "re":
                bad.append(f"{_where(path, call)}: {owner}.compile()")
            elif func.attr == "S" and owner in ("sp", "sympy"):
                bad.append(f"{_where(path, call)}: {owner}.S() (sympify)")
    tree = pyast.parse(path.read_text(encoding="utf-8"))
    for node in pyast.walk(tree):
        if isinstance(node, pyast.ImportFrom):
            for alias in node.names:
                if alias.name in ("sympify", "parse_expr", "eval", "exec"):
                    bad.append(f"{_where(path, node)}: imports {alias.name}")
    return bad


def _unsafe_loads(path: pathlib.Path) -> list:
    """np.load without allow_pickle=False, and any pickle.load(s)."""
    bad = []
    for call in _calls(path):
        func = call.func
        if not (isinstance(func, pyast.Attribute) and isinstance(func.value, pyast.Name)):
            continue
        if func.attr == "load" and func.value.id in ("np", "numpy"):
            if not any(k.arg == "allow_pickle" and isinstance(k.value, pyast.Constant)
                       and k.value.value is False for k in call.keywords):
                bad.append(f"{_where(path, call)}: np.load without allow_pickle=False")
        elif func.attr in ("load", "loads") and func.value.id == "pickle":
            bad.append(f"{_where(path, call)}: pickle.{func.attr}")
    return bad


def test_no_module_calls_eval_exec_compile_sympify_or_parse_expr():
    assert [v for path in _python_files() for v in _violations(path)] == []


def test_every_np_load_refuses_pickles():
    assert [v for path in _python_files() for v in _unsafe_loads(path)] == []


def test_the_scan_flags_planted_calls(tmp_path):
    """The scanners can fail: they flag what they look for, and only that."""
    planted = tmp_path / "planted.py"
    planted.write_text("import re\nimport numpy as np\nimport sympy as sp\n"
                       "from sympy import parse_expr\n"
                       "sp.sympify('x')\neval('1')\nre.compile('a')\nsp.S('x')\n"
                       "np.load('f')\nnp.load('f', allow_pickle=False)\n"
                       "np.load('f', allow_pickle=True)\nexec(x)\nbuiltins.compile(x)\n")
    found = _violations(planted)
    loads = _unsafe_loads(planted)
    assert [v.split(": ", 1)[1] for v in found] == [
        ".sympify()", "eval()", "sp.S() (sympify)", "exec()", "builtins.compile()",
        "imports parse_expr"]
    assert [v.split(":")[1] for v in loads] == ["9", "11"]
