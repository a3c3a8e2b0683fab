"""Issue 16: every note, header line, warning and hint a newcomer meets says what is true
for this run.  Each case asserts the exact words, through typer's CliRunner and, for
the shell-level ones, the installed command in a subprocess."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gradcli.cli.app import app
from gradcli.lang.evaluator import evaluate


def run(*args, code=0):
    r = CliRunner().invoke(app, list(args), env={"NO_COLOR": "1", "COLUMNS": "200"})
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    return r


def header(out: str) -> dict:
    """label -> text of the header grid (continuation lines joined)."""
    rows, last = {}, None
    for line in out.split("\n\n", 1)[0].splitlines():
        label, _, text = line.partition("  ")
        if label.strip():
            last = label.strip()
            rows[last] = text.strip()
        else:
            rows[last] += "\n" + line.strip()
    return rows


def table(out: str, title: str) -> list:
    """Rows (lists of cells split at 2+ spaces) of the table titled ``title``."""
    block = out.split(f"\n{title}\n", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    block = block[:next((i for i, line in enumerate(block)
                         if line.startswith("not leaves:")), len(block))]
    return [re.split(r"\s{2,}", line.strip()) for line in block]


def note_of(result, name: str) -> str:
    (row,) = [r for r in result.leaves if r.name == name]
    return row.note


# -- why a .grad is None ----------------------------------------------------------------

def test_backward_from_a_tensor_whose_graph_misses_x():
    # the tutorial puzzle: t = x + y; z.backward(t) -- t uses x, but backward starts at z
    r = evaluate("t = x + y; z.backward(t)", {"x": [1.0, 2.0], "y": [3.0, 4.0],
                                             "z": [5.0, 6.0]})
    assert note_of(r, "x") == "grad is None: backward() started from z, whose graph does " \
                              "not contain x"
    assert note_of(r, "y") == "grad is None: backward() started from z, whose graph does " \
                              "not contain y"
    assert note_of(r, "z") == "leaf: grads accumulate in .grad"


def test_two_backward_roots_both_missing_a_leaf():
    r = evaluate("a = x*2; b = y*3; v = w + 0; backward(a); backward(b)",
                 {"x": 1.0, "y": 1.0, "w": 1.0})
    assert note_of(r, "w") == "grad is None: backward() started from a and b, whose graphs " \
                              "do not contain w"


def test_only_grad_ran():
    r = evaluate("y = x**3; grad(y, x)", {"x": 2.0})
    assert note_of(r, "x") == "grad is None: only grad() ran, which returns its result and " \
                              "leaves .grad untouched"


def test_never_used_and_requires_grad_false_and_non_leaf():
    r = evaluate("y = x*2", {"x": 1.0, "u": 3.0}, const={"c": 1.0})
    assert note_of(r, "u") == "grad is None: the program never uses u"
    assert note_of(r, "c") == "grad is None: requires_grad=False (bound with --const)"
    assert note_of(r, "y") == "grad is None: not a leaf (call retain_grad() to keep its grad)"


def test_the_header_names_the_upstream_of_each_backward_call():
    out = run("grad", "t = x + y; z.backward(t)", "--x", "[1, 2]", "--y", "[3, 4]",
              "--z", "[5, 6]").stdout
    assert header(out)["upstream"] == "backward from z: t = [4, 6]"
    out = run("grad", "t = x + y; loss = dot(t, z); backward(loss, retain_graph=True); "
              "backward(t, z)", "--x", "[1, 2]", "--y", "[3, 4]", "--z", "[5, 6]").stdout
    assert header(out)["upstream"] == "backward from loss: 1 (scalar output)\n" \
                                      "backward from t: z = [5, 6]"
    out = run("grad", "y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)",
              "--x", "2").stdout
    assert header(out)["upstream"] == "grad(y, x): 1 (scalar output)\n" \
                                      "grad(dy, x): 1 (scalar output)"
    out = run("grad", "x**2", "--x", "[1, 2]", "--upstream", "ones").stdout
    assert header(out)["upstream"] == "[1, 1]"
    out = run("grad", "x**2", "--x", "3").stdout
    assert header(out)["upstream"] == "1 (implicit: scalar output)"


def test_leaves_note_in_the_table_for_the_puzzle():
    out = run("grad", "t = x + y; z.backward(t)", "--x", "[1, 2]", "--y", "[3, 4]",
              "--z", "[5, 6]").stdout
    rows = table(out, "Leaves")
    assert [r[0] for r in rows] == ["x", "y", "z"]          # t is not a leaf: not listed
    assert "\nnot leaves: t (a non-leaf's .grad stays None unless retain_grad() was called " \
           "on it)\n" in out
    assert rows[0] == ["x", "True", "True", "None", "None", "grad is None: backward() "
                       "started from z, whose graph does not contain x"]
    grads = table(out, "Gradients")
    assert grads[:2] == [["x", "[1, 2]", "None", "[0, 0]", "passed"],
                         ["grad is None: backward() started from z, whose graph does not "
                          "contain x"]]


# -- grad() only: no formula 0 that reads as d/dx = 0 -------------------------------------

def test_gradients_table_after_grad_only_says_what_is_true():
    out = run("grad", "y = x**3; grad(y, x)", "--x", "2").stdout
    rows = table(out, "Gradients")
    assert rows[0] == ["x", "2", "None", "passed"]           # no formula 0, no SymPy value 0
    assert "grad is None: only grad() ran, which returns its result and leaves .grad " \
           "untouched" in " ".join(" ".join(r) for r in rows)
    assert "(derivative 0)" not in out
    assert table(out, "grad() results")[0] == ["grad(y, x)", "12", "3*x**2", "12", "passed"]


# -- a program whose value is None ---------------------------------------------------------

def test_a_grad_read_before_backward_is_none_with_why():
    r = run("grad", "y = x**2; x.grad", "--x", "2")
    assert header(r.stdout)["output"] == \
        "None   (x.grad is None: no backward() had run when x.grad was read)"
    assert header(r.stdout)["upstream"] == "none: no backward() ran"
    assert r.stderr == ""


def test_a_non_leaf_grad_as_last_value_keeps_the_output_row():
    r = run("grad", "y = x**2; y.backward(); y.grad", "--x", "2")
    assert header(r.stdout)["output"] == (
        "None   (y.grad is None: y is not a leaf, and a non-leaf keeps no .grad unless "
        "retain_grad() was called on it before backward())")
    assert table(r.stdout, "Gradients")[0] == ["x", "2", "4", "2*x", "4", "passed"]


def test_none_value_in_json_and_plain():
    r = run("grad", "y = x**2; x.grad", "--x", "2", "--format", "json")
    assert '"value":null' in r.stdout and '"grads":{"x":null}' in r.stdout
    assert run("grad", "y = x**2; x.grad", "--x", "2", "--format", "plain").stdout == \
        "x null\n"


# -- bound names the program never uses; names that differ in case ------------------------

def test_unused_binding_warns_on_stderr():
    r = run("grad", "x**2", "--x", "2", "--y", "3")
    assert r.stderr == "warning: --y is bound but the program never uses y\n"
    r = run("grad", "x**2", "--x", "2", "--y", "3", "--format", "plain")
    assert r.stdout == "x 4\n"                                  # no "y null"
    assert r.stderr == "warning: --y is bound but the program never uses y\n"
    assert run("grad", "x**2", "--x", "2", "--y", "3", "-q").stderr == ""


def test_a_name_in_the_wrong_case():
    r = run("grad", "x**2", "--X", "2", code=2)
    assert r.stderr.splitlines()[0] == ("error: unbound variable 'x': pass --x VALUE (--X is "
                                        "bound: did you mean --x? names are case-sensitive) "
                                        "at column 1")


# -- values the shell mangled -------------------------------------------------------------

def test_an_array_split_at_its_spaces():
    r = run("grad", "sum(x**2)", "--x", "[1,", "2,", "3]", code=2)
    assert r.stderr == ("error: --x: the array [1, 2, 3] reached gradcli split at its spaces "
                        "('[1,', '2,', '3]'); quote it: --x \"[1, 2, 3]\"\n")
    r = run("grad", "sum(x**2)", "--x", "[1,", "-2,", "3]", code=2)
    assert "quote it: --x \"[1, -2, 3]\"" in r.stderr
    r = run("grad", "sum(x**2)", "--x", "[1,", code=2)
    assert r.stderr == ("error: --x: cannot read '[1,' as an array: its '[' is never closed "
                        "(if the shell split it at spaces, quote it: --x \"[1, 2, 3]\")\n")


def test_pieces_left_after_a_binding():
    r = run("grad", "sum(x**2)", "--x", "1", "2", code=2)
    assert r.stderr == ("error: unexpected argument '2' after --x: to bind an array, quote "
                        "it: --x \"[1, 2, 3]\"\n")


BIN = os.path.dirname(shutil.which("gradcli", path=os.path.dirname(sys.executable)) or "")


@pytest.mark.skipif(not BIN or not shutil.which("bash"), reason="installed gradcli, bash")
def test_a_globbed_array_in_a_real_shell(tmp_path):
    # bash turns an unquoted [1,2,3] into the name of a file called 1, if there is one
    (tmp_path / "1").write_text("")
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
    p = subprocess.run(["bash", "-c", "gradcli grad 'sum(x**2)' --x [1,2,3] --format plain"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout == "x 2\n"
    assert p.stderr == ("warning: --x 1: a file named '1' is in this directory; if you typed "
                        "an array unquoted (--x [1,2,3]), the shell replaced it by that "
                        "file's name: quote arrays, --x \"[1, 2, 3]\"\n")
    p = subprocess.run(["bash", "-c", "gradcli grad 'sum(x**2)' --x [1, 2, 3]"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr == ("error: --x: the array [1, 2, 3] reached gradcli split at its spaces "
                        "('[1,', '2,', '3]'); quote it: --x \"[1, 2, 3]\"\n")


# -- tables written to a file -------------------------------------------------------------

@pytest.mark.skipif(not BIN, reason="installed gradcli")
def test_tables_in_a_file_carry_no_trailing_spaces(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    with open(tmp_path / "out.txt", "w") as fh:
        subprocess.run([os.path.join(BIN, "gradcli"), "grad", "t = x + y; z.backward(t)",
                        "--x", "[1, 2]", "--y", "[3, 4]", "--z", "[5, 6]"], stdout=fh,
                       env=env, timeout=120, check=True)
    text = (tmp_path / "out.txt").read_text()
    assert "Leaves" in text and "\x1b" not in text
    assert [line for line in text.splitlines() if line != line.rstrip()] == []


def test_constant_leaves_are_not_in_the_leaves_table():
    out = run("grad", "y = x * [1, 2]; sum(y)", "--x", "[3, 4]").stdout
    assert [r[0] for r in table(out, "Leaves")] == ["x"]         # not %1, not y
    assert "%1" in out.split("\nLeaves\n")[0]                     # (the Graph shows it)


def test_a_method_on_a_none_grad_says_why_it_is_none():
    r = run("grad", "x.grad.zero_()", "--x", "1", code=2)
    assert r.stderr.splitlines()[0] == (
        "error: 'NoneType' object has no attribute 'zero_' (x.grad is None: no backward() "
        "had run when x.grad was read) at column 8")
    r = run("grad", "y = x*2; backward(y); y.grad + 1", "--x", "1", code=2)
    assert r.stderr.splitlines()[0] == (
        "error: None cannot be used as a value here (a .grad is None until a backward pass "
        "reaches its tensor, and a non-leaf's stays None unless retain_grad() was called on "
        "it) at column 30")


def test_non_leaves_are_named_below_the_leaves_table():
    example = Path(__file__).resolve().parent.parent / "examples" / "07b_non_leaves.grad"
    out = run("grad", "-f", str(example), "--x", "[[1, 1], [1, 1]]").stdout
    assert [r[0] for r in table(out, "Leaves")] == ["x", "[-170, -170]]"]   # (a 2x2 grad)
    assert "not leaves: x1, w1, w2, y, L (a non-leaf's .grad stays None unless " \
           "retain_grad() was called on it)" in " ".join(out.split())


def test_hessian_of_a_none_value_says_why():
    r = run("hessian", "y = x**2; x.grad", "--x", "2", code=2)
    assert r.stderr == ("error: the program has no output to differentiate: its value is None "
                        "(x.grad is None: no backward() had run when x.grad was read)\n")
