"""The grad, hessian, jacobian and ops commands through typer's CliRunner: every option,
every format, every binding syntax, and the error handler.

Expected values are derived by hand (noted next to each) or are SPEC 3.7's reference
values; JSON output is parsed strictly (a bare NaN/Infinity fails) and validated against
the schema shipped in the package.
"""

from __future__ import annotations

import json
import math
import re

import jsonschema
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from gradcli import __version__
from gradcli.cli import render
from gradcli.cli.app import app
from gradcli.cli.errors import EXIT_INTERNAL, handle_errors, stdout_may_close
from gradcli.cli.schema import load
from gradcli.errors import ParseError

runner = CliRunner()
WIDE = {"COLUMNS": "200", "NO_COLOR": None, "GRADCLI_DEBUG": None}
SCHEMA = load("result")
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
HEADLINE = ("(x1*x2+x3)**2", "--x1", "2", "--x2", "3", "--x3", "1")


def _bare_constant(name):
    raise AssertionError(f"bare {name} in JSON output: not strict JSON")


def strict_json(text: str):
    return json.loads(text, parse_constant=_bare_constant)


def run(*args, input=None, env=None):
    return runner.invoke(app, [str(a) for a in args], input=input, env={**WIDE, **(env or {})})


def ok(*args, code=0, **kw):
    r = run(*args, **kw)
    assert r.exit_code == code, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def run_json(*args, code=0, **kw):
    r = ok(*args, "--format", "json", code=code, **kw)
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1, "one JSON line"
    obj = strict_json(r.stdout)
    VALIDATOR.validate(obj)
    return obj


def plain(*args, code=0, **kw) -> dict:
    """NAME VALUE lines (a matrix's '# LABELS' header line left out)."""
    r = ok(*args, "--format", "plain", code=code, **kw)
    return dict(line.split(" ", 1) for line in r.stdout.splitlines()
                if not line.startswith("# "))


def usage_error(*args, **kw) -> str:
    """Bad input: exit 2, nothing on stdout, one message on stderr, no traceback."""
    r = run(*args, **kw)
    assert r.exit_code == 2, f"exit {r.exit_code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    assert r.stderr.strip()
    return r.stderr


def section(out: str, title: str) -> list:
    """The body rows of a rich table printed with title TITLE, cells split on 2+ spaces."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == title)
    rows = []
    for line in lines[start + 3:]:          # title, column header, rule
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def node(obj, name):
    return next(r for r in obj["graph"] if r["name"] == name)


def leaf(obj, name):
    return next(r for r in obj["leaves"] if r["name"] == name)


# -- the headline, in each format ---------------------------------------------------------

def test_headline_table_has_header_gradients_graph_leaves_and_check():
    r = ok("grad", *HEADLINE)
    out = r.stdout
    assert r.stderr == ""
    assert "\x1b" not in out, "no ANSI codes when stdout is not a terminal"
    header = out.split("\n\n")[0]
    assert re.search(r"^program\s+\(x1\*x2\+x3\)\*\*2", header, re.M)
    # values as PyTorch prints them: tensor(49.) -> 49.
    assert re.search(r"^output\s+49\.\s+shape \(\)\s+grad_fn PowBackward0", header, re.M)
    assert re.search(r"^upstream\s+1 \(implicit: scalar output\)", header, re.M)
    # Gradients: variable, value, gradient, SymPy formula, SymPy value, status
    assert section(out, "Gradients") == [
        ["x1", "2.", "42.", "2*x2*(x1*x2 + x3)", "42.", "passed"],
        ["x2", "3.", "28.", "2*x1*(x1*x2 + x3)", "28.", "passed"],
        ["x3", "1.", "14.", "2*x1*x2 + 2*x3", "14.", "passed"],
    ]
    graph = section(out, "Graph")
    assert [row[:3] for row in graph[3:]] == [["3", "%1", "MulBackward0"],
                                                ["4", "%2", "AddBackward0"],
                                                ["5", "%3", "PowBackward0"]]
    assert [row[1] for row in graph[:3]] == ["x1", "x2", "x3"]
    assert graph[5][-1] == "None"                         # a non-leaf's grad
    leaves = section(out, "Leaves")
    assert [row[0] for row in leaves] == ["x1", "x2", "x3"]
    assert all("leaf: grads accumulate in .grad" in " ".join(row) for row in leaves)
    assert re.search(r"^check\s+passed \(symbolic, max abs error 0\)", out, re.M)


def test_headline_json_fields():
    obj = run_json("grad", *HEADLINE)
    assert obj["ok"] is True
    assert obj["value"] == 49 and obj["shape"] == [] and obj["grad_fn"] == "PowBackward0"
    assert obj["grads"] == {"x1": 42, "x2": 28, "x3": 14}
    assert obj["upstream"] is None
    check = obj["check"]
    assert check["status"] == "passed" and check["method"] == "symbolic"
    assert check["failed"] == [] and check["max_abs_err"] == 0
    assert check["symbolic"]["x1"] == "2*x2*(x1*x2 + x3)"
    assert check["variables"]["x1"]["expected"] == 42
    assert check["rtol"] == 1e-7 and check["atol"] == 1e-9
    assert [r["name"] for r in obj["graph"]] == ["x1", "x2", "x3", "%1", "%2", "%3"]
    assert node(obj, "%3") == {"name": "%3", "grad_fn": "PowBackward0", "inputs": ["%2", "2"],
                               "shape": [], "value": 49, "requires_grad": True,
                               "is_leaf": False, "grad": None}
    assert leaf(obj, "x1") == {"name": "x1", "requires_grad": True, "is_leaf": True,
                               "grad_fn": None, "grad": 42,
                               "note": "leaf: grads accumulate in .grad"}


def test_headline_plain_lines():
    r = ok("grad", *HEADLINE, "--format", "plain")
    assert r.stdout == "x1 42\nx2 28\nx3 14\n"


def test_plain_arrays_are_json_and_none_is_null():
    r = ok("grad", "v = u*2; sum(w*w)", "--w", "[[1, 2], [3, 4]]", "--u", "5",
           "--format", "plain")
    lines = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    assert strict_json(lines["w"]) == [[2, 4], [6, 8]]        # d sum(w*w)/dw = 2w
    assert lines["u"] == "null"                                 # used, never reached


def test_plain_leaves_out_a_bound_name_the_program_never_uses():
    r = ok("grad", "sum(w*w)", "--w", "[1, 2]", "--u", "5", "--format", "plain")
    assert r.stdout == "w [2.0,4.0]\n"                         # no "u null"
    assert r.stderr == "warning: --u is bound but the program never uses u\n"


def test_unknown_format_is_an_error():
    assert "--format must be one of table, json, plain, got 'xml'" in usage_error(
        "grad", "x", "--x", "1", "--format", "xml")


# -- bindings -----------------------------------------------------------------------------

@pytest.mark.parametrize("args, grad", [
    (["--x", "2"], 4.0),
    (["--x=2"], 4.0),
    (["--x=-2"], -4.0),
    (["--x", "-2"], -4.0),
    (["--x", "-1.5"], -3.0),
    (["--x=-1.5"], -3.0),
    (["--x", "+3"], 6.0),
    (["--x", "1e-3"], 2e-3),
    (["--x", "1.5E+2"], 300.0),
    (["--x", ".5"], 1.0),
])
def test_binding_syntaxes(args, grad):
    obj = run_json("grad", "x**2", *args)          # d x**2/dx = 2x
    assert obj["grads"] == {"x": grad}


def test_program_after_or_between_bindings():
    assert plain("grad", "--x", "3", "x**2") == {"x": "6"}
    assert plain("grad", "--x", "3", "x*y", "--y", "2") == {"x": "2", "y": "3"}
    assert plain("grad", "--x=-3", "x**2") == {"x": "-6"}


def test_negative_program_is_not_an_option():
    assert plain("grad", "-x**2", "--x", "2") == {"x": "-4"}
    # "-sqrt(x)" holds the letters of -q and -f: still the program (d -sqrt(x) = -1/(2 sqrt x))
    assert plain("grad", "-sqrt(x)", "--x", "4") == {"x": "-0.25"}
    assert plain("grad", "--x", "4", "-sqrt(x)") == {"x": "-0.25"}
    assert ok("grad", "--format", "plain", "--x", "2", "--", "-x**2").stdout == "x -4\n"
    assert plain("hessian", "-x**3", "--x", "-1") == {"x": "6"}            # -6x
    assert plain("jacobian", "-x**3", "--x", "-1") == {"out": "-3"}        # -3x**2


@pytest.mark.parametrize("value", ["-inf", "-Infinity", "-INF", "-nan", "-1e-3", "-0"])
def test_negative_values_that_look_like_short_options(value):
    # click would read "-inf" as -i -n -f (--file!); gradcli keeps it a value
    obj = run_json("grad", "x*2 + y", "--x", value, "--y", "1", "--no-check")
    assert obj["grads"] == {"x": 2, "y": 1}
    assert node(obj, "x")["value"] == json.loads(json.dumps(
        {"v": float(value)}).replace("NaN", '"NaN"').replace("-Infinity", '"-Infinity"'))["v"]
    obj = run_json("grad", "x*2", "--x", "[1, 2]", "--upstream", f"[{value}, 1]",
                   "--no-check")
    assert obj["upstream"][1] == 1
    assert run_json("grad", "x*2", "--x", "1", "--upstream", value,
                    "--no-check")["upstream"] is not None


def test_json_array_bindings():
    obj = run_json("grad", "x**2", "--x", "[1, 2, 3]", "--upstream", "ones")
    assert obj["grads"]["x"] == [2, 4, 6] and obj["value"] == [1, 4, 9]
    assert obj["shape"] == [3] and obj["upstream"] == [1, 1, 1]
    obj = run_json("grad", "sum(x*x)", "--x", "[[1, 2], [3, 4]]")
    assert obj["grads"]["x"] == [[2, 4], [6, 8]]


def test_nan_and_inf_bindings_give_strict_json_strings():
    # d(x*y)/dx = y = inf, d(x*y)/dy = x = nan, x*y = nan
    obj = run_json("grad", "x*y", "--x", "nan", "--y", "inf", "--no-check")
    assert obj["value"] == "NaN"
    assert obj["grads"] == {"x": "Infinity", "y": "NaN"}
    assert node(obj, "x")["value"] == "NaN" and node(obj, "y")["value"] == "Infinity"
    obj = run_json("grad", "x*2", "--x", "-inf", "--no-check")
    assert obj["value"] == "-Infinity" and obj["grads"] == {"x": 2}
    obj = run_json("grad", "x*x", "--x", "[1, nan, inf, -inf]", "--upstream", "ones",
                   "--no-check")
    assert obj["value"] == [1, "NaN", "Infinity", "Infinity"]
    assert obj["grads"]["x"] == [2, "NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("spelling", ["NaN", "nan", "+nan", "Infinity", "-Infinity", "INF"])
def test_nonfinite_spellings(spelling):
    obj = run_json("grad", "x + 0*y", "--x", spelling, "--y", "1", "--no-check")
    assert obj["grads"]["x"] == 1
    expected = float(spelling)
    assert obj["value"] == ("NaN" if math.isnan(expected) else
                            "Infinity" if expected > 0 else "-Infinity")


def test_gradcli_json_output_reads_back_as_a_binding():
    # its own strings "NaN"/"Infinity" inside an array, and bare tokens
    obj = run_json("grad", "x*1", "--x", '["NaN", 1, "-Infinity", inf]', "--upstream", "ones",
                   "--no-check")
    assert obj["value"] == ["NaN", 1, "-Infinity", "Infinity"]


def test_plain_scalar_nan():
    assert plain("grad", "x*y", "--x", "nan", "--y", "2", "--no-check") == {"x": "2",
                                                                          "y": "nan"}


@pytest.mark.parametrize("value, message", [
    ("abc", "--x: 'abc' is not a number"),
    ("[1, 2", "--x: cannot read '[1, 2' as an array"),
    ("[[1, 2], [3]]", "rectangular"),
    ('["a"]', "'a' is not a number"),
    ("", "--x: empty value"),
])
def test_bad_binding_values(value, message):
    assert message in usage_error("grad", "x", "--x", value)


def test_binding_errors():
    assert "--x is given twice" in usage_error("grad", "x", "--x", "1", "--x", "2")
    assert "--x: missing value" in usage_error("grad", "x", "--x")
    assert "unexpected argument '-z'" in usage_error("grad", "x", "--x", "1", "-z")
    assert "unexpected argument '-x': bind variables with --NAME VALUE" in usage_error(
        "grad", "x**2", "-x", "2")
    assert "unexpected argument '3'" in usage_error("grad", "x", "--x", "1", "3")
    assert "not a valid variable name" in usage_error("grad", "x", "--x", "1", "--__y", "2")


# -- @file ----------------------------------------------------------------------------------

W = np.arange(6.0).reshape(2, 3)


def test_npy_file(tmp_path):
    np.save(tmp_path / "w.npy", W)
    obj = run_json("grad", "sum(w*w)", "--w", f"@{tmp_path / 'w.npy'}")
    assert obj["grads"]["w"] == (2 * W).tolist()
    np.save(tmp_path / "i.npy", np.arange(3))                   # integers are numbers too
    assert run_json("grad", "sum(i*i)", "--i", f"@{tmp_path / 'i.npy'}")["grads"]["i"] == \
        [0, 2, 4]


def test_pickled_npy_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    np.save(tmp_path / "evil.npy", np.array([Boom()], dtype=object), allow_pickle=True)
    err = usage_error("grad", "sum(w)", "--w", f"@{tmp_path / 'evil.npy'}")
    assert "--w: cannot read" in err and "allow_pickle=False" in err
    assert not marker.exists()


@pytest.mark.parametrize("data, message", [
    (np.array(["a", "b"]), "not numbers"),
    (np.array([1 + 2j]), "complex128 data, not numbers"),
])
def test_non_numeric_npy(tmp_path, data, message):
    np.save(tmp_path / "bad.npy", data)
    assert message in usage_error("grad", "sum(w)", "--w", f"@{tmp_path / 'bad.npy'}")


def test_json_file(tmp_path):
    (tmp_path / "w.json").write_text("[[1, 2], [3, 4]]")
    obj = run_json("grad", "sum(w*w)", "--w", f"@{tmp_path / 'w.json'}")
    assert obj["grads"]["w"] == [[2, 4], [6, 8]]
    (tmp_path / "n.json").write_text('[1, "NaN", NaN]')
    obj = run_json("grad", "w*1", "--w", f"@{tmp_path / 'n.json'}", "--upstream", "ones",
                   "--no-check")
    assert obj["value"] == [1, "NaN", "NaN"]
    (tmp_path / "o.json").write_text('{"a": 1}')
    assert "expected a number or an array of numbers" in usage_error(
        "grad", "w", "--w", f"@{tmp_path / 'o.json'}")


def test_csv_file(tmp_path):
    (tmp_path / "w.csv").write_text("0,1,2\n3,4,5\n")
    assert run_json("grad", "sum(w*w)", "--w", f"@{tmp_path / 'w.csv'}")["grads"]["w"] == \
        (2 * W).tolist()
    (tmp_path / "row.csv").write_text("1,2,3\n")
    assert run_json("grad", "sum(w*w)", "--w", f"@{tmp_path / 'row.csv'}")["grads"]["w"] == \
        [2, 4, 6]
    (tmp_path / "one.csv").write_text("5\n")
    assert plain("grad", "w*w", "--w", f"@{tmp_path / 'one.csv'}") == {"w": "10"}
    (tmp_path / "bad.csv").write_text("1,a\n")
    assert "cannot read" in usage_error("grad", "w", "--w", f"@{tmp_path / 'bad.csv'}")


def test_file_errors(tmp_path):
    assert "No such file" in usage_error("grad", "w", "--w", f"@{tmp_path / 'none.npy'}")
    (tmp_path / "w.txt").write_text("1")
    assert "unsupported file type '.txt'" in usage_error(
        "grad", "w", "--w", f"@{tmp_path / 'w.txt'}")
    assert "'@' needs a file name" in usage_error("grad", "w", "--w", "@")


# -- --var, --const, --wrt, --of ------------------------------------------------------------

def test_var_binds_a_name_that_clashes_with_an_option():
    obj = run_json("grad", "x*rtol", "--x", "2", "--var", "rtol=3")
    assert obj["grads"] == {"x": 3, "rtol": 2}
    assert obj["check"]["rtol"] == 1e-7                 # the option itself is untouched
    obj = run_json("grad", "format*x", "--x", "2", "--var", "format=[1, 2]",
                   "--upstream", "ones")
    assert obj["grads"] == {"x": 3, "format": [2, 2]}


def test_var_errors():
    assert "'x' is already bound" in usage_error("grad", "x", "--x", "1", "--var", "x=2")
    assert "--var expects NAME=VALUE, got 'rtol'" in usage_error("grad", "x", "--var", "rtol")


def test_const_does_not_require_grad():
    obj = run_json("grad", "x*y", "--x", "2", "--const", "y=3")
    assert obj["grads"] == {"x": 3}
    y = leaf(obj, "y")
    assert y["requires_grad"] is False and y["grad"] is None
    assert "bound with --const" in y["note"]
    assert "bound twice" in usage_error("grad", "x", "--x", "1", "--const", "x=2")


def test_wrt():
    obj = run_json("grad", "x*y", "--x", "2", "--y", "3", "--wrt", "x")
    assert obj["grads"] == {"x": 3}
    assert "not in --wrt" in leaf(obj, "y")["note"]
    assert run_json("grad", "x*y", "--x", "2", "--y", "3", "--wrt", "x, y")["grads"] == \
        {"x": 3, "y": 2}
    assert "--wrt z: no variable 'z' is bound" in usage_error(
        "grad", "x", "--x", "1", "--wrt", "z")


def test_of_differentiates_a_named_value():
    obj = run_json("grad", "a = x*y; b = a*2", "--x", "2", "--y", "3", "--of", "a")
    assert obj["value"] == 6 and obj["grads"] == {"x": 3, "y": 2}
    obj = run_json("grad", "a = x*y; b = a*2", "--x", "2", "--y", "3")
    assert obj["value"] == 12 and obj["grads"] == {"x": 6, "y": 4}
    assert "--of q" in usage_error("grad", "x", "--x", "1", "--of", "q")


# -- --upstream / --gradient ------------------------------------------------------------------

def test_upstream_value_and_gradient_alias():
    # d sum(x**2 * g)/dx = 2*x*g
    obj = run_json("grad", "x**2", "--x", "[1, 2, 3]", "--gradient", "[1, 0, 2]")
    assert obj["grads"]["x"] == [2, 0, 12] and obj["upstream"] == [1, 0, 2]
    obj = run_json("grad", "x**2", "--x", "[1, 2, 3]", "--upstream", "ONES")
    assert obj["grads"]["x"] == [2, 4, 6]
    obj = run_json("grad", "a*a", "--a", "[[1, 2, 3], [4, 5, 6]]",
                   "--upstream", "[[1, 2, 3], [4, 5, 6]]")
    assert obj["grads"]["a"] == [[2, 8, 18], [32, 50, 72]]            # 2*a*a


def test_upstream_from_file(tmp_path):
    np.save(tmp_path / "g.npy", np.array([3.0, 1.0]))
    obj = run_json("grad", "x*x", "--x", "[1, 2]", "--upstream", f"@{tmp_path / 'g.npy'}")
    assert obj["grads"]["x"] == [6, 4]


def test_upstream_table_header():
    out = ok("grad", "x**2", "--x", "[1, 2, 3]", "--upstream", "ones").stdout
    assert re.search(r"^upstream\s+\[1, 1, 1\]", out, re.M)


def test_upstream_errors():
    err = usage_error("grad", "x**2", "--x", "[1, 2, 3]")
    assert "grad can be implicitly created only for scalar outputs" in err
    err = usage_error("grad", "x**2", "--x", "[1, 2, 3]", "--upstream", "[1, 2]")
    assert "[2]" in err and "[3]" in err
    assert "--upstream: 'foo' is not a number" in usage_error(
        "grad", "x", "--x", "1", "--upstream", "foo")


# -- --retain-grad, --full-graph --------------------------------------------------------------

def test_retain_grad_shows_intermediate_gradients():
    args = ("grad", "a = x*y; b = a*2", "--x", "2", "--y", "3")
    obj = run_json(*args)
    assert node(obj, "a")["grad"] is None and node(obj, "b")["grad"] is None
    obj = run_json(*args, "--retain-grad")
    assert node(obj, "a")["grad"] == 2 and node(obj, "b")["grad"] == 1   # db/da = 2
    assert "retain_grad() was called" in leaf(obj, "a")["note"]
    graph = section(ok(*args, "--retain-grad").stdout, "Graph")
    assert [(row[1], row[-1]) for row in graph] == [("x", "6."), ("y", "4."), ("a", "2."),
                                                    ("b", "1.")]


def test_long_graph_is_summarised_unless_full_graph():
    program = "+".join(["x"] * 100)                            # 99 AddBackward0 nodes
    out = ok("grad", program, "--x", "1").stdout
    graph = section(out, "Graph")
    assert "... 70 more nodes (--full-graph shows all)" in out
    assert len(graph) == 31                                     # 15 + the gap + 15
    assert graph[-1][:3] == ["99", "%99", "AddBackward0"]
    out = ok("grad", program, "--x", "1", "--full-graph").stdout
    graph = section(out, "Graph")
    assert "more nodes" not in out
    assert len(graph) == 100
    assert sum(row[2] == "AddBackward0" for row in graph) == 99


def test_full_graph_of_a_long_chain_is_laid_out_in_one_pass():
    program = "+".join(["x"] * 2500)                  # more rows than rich lays out quickly
    out = ok("grad", program, "--x", "1", "--full-graph", "--no-check",
             env={"COLUMNS": "60"}).stdout
    graph = section(out, "Graph")
    assert len(graph) == 2500
    assert graph[0] == ["0", "x", "()", "1.", "True", "True", "2500."]
    assert graph[-1] == ["2499", "%2499", "AddBackward0", "%2498, x", "()", "2500.", "True",
                         "False", "None"]                 # nothing cut at 60 columns


def test_a_hundred_thousand_node_graph_is_summarised(tmp_path):
    path = tmp_path / "chain.grad"
    path.write_text("+".join(["x"] * 100_000))
    r = ok("grad", "-f", path, "--x", "1", "--no-check")
    assert "... 99,970 more nodes (--full-graph shows all)" in r.stdout
    assert len(r.stdout.splitlines()) < 80
    assert section(r.stdout, "Gradients") == [["x", "1.", "100000.", "skipped"]]


def test_long_program_header_is_cut_short():
    program = "+".join(["x"] * 1000)
    out = ok("grad", program, "--x", "1").stdout
    header = out.split("\n\n")[0]
    assert "(1,999 characters)" in re.sub(r"\s+", " ", header)
    assert header.count("+") == 100 and len(header.splitlines()) <= 5


# -- the check and its options ------------------------------------------------------------

def test_explain_json_is_valid_against_the_schema():
    obj = run_json("grad", *HEADLINE, "--explain")
    assert isinstance(obj["explain"], list) and obj["explain"]


def test_no_check():
    obj = run_json("grad", *HEADLINE, "--no-check")
    assert obj["check"]["status"] == "skipped" and obj["check"]["method"] == "none"
    assert obj["check"]["reason"] == "--no-check"
    out = ok("grad", *HEADLINE, "--no-check").stdout
    assert re.search(r"^check\s+skipped — --no-check", out, re.M)
    assert run_json("grad", *HEADLINE, "--check")["check"]["status"] == "passed"


def test_rtol_atol_are_reported():
    check = run_json("grad", *HEADLINE, "--rtol", "1e-3", "--atol", "1e-4")["check"]
    assert check["rtol"] == 1e-3 and check["atol"] == 1e-4


@pytest.mark.parametrize("command", ["grad", "hessian"])
def test_negative_tolerances_are_refused(command):
    assert "--rtol must be a number >= 0, got -1" in usage_error(
        command, "x*x", "--x", "1", "--rtol", "-1")
    assert "--atol must be a number >= 0, got nan" in usage_error(
        command, "x*x", "--x", "1", "--atol", "nan")


def test_zero_tolerance_fails_on_rounding_error():
    # ten AccumulateGrad additions of 0.1: 0.1 + 0.1 + ... = 0.9999999999999999 in IEEE
    # double, while SymPy's exact sum of ten (double) 0.1s rounds to 1.0
    program = " + ".join(["x*0.1"] * 10)
    obj = run_json("grad", program, "--x", "1")
    assert obj["grads"]["x"] == sum([0.1] * 10) == 0.9999999999999999
    assert obj["check"]["status"] == "passed" and obj["check"]["max_abs_err"] > 0
    obj = run_json("grad", program, "--x", "1", "--rtol", "0", "--atol", "0", code=1)
    assert obj["check"]["status"] == "failed" and obj["check"]["failed"] == ["x"]
    assert obj["check"]["variables"]["x"]["reason"].startswith("differs by")
    r = ok("grad", program, "--x", "1", "--rtol", "0", "--atol", "0", code=1)
    assert re.search(r"^check\s+failed", r.stdout, re.M)


def test_check_skips_at_a_kink():
    obj = run_json("grad", "relu(x)", "--x", "0")
    assert obj["grads"] == {"x": 0}                           # PyTorch: relu'(0) = 0
    assert obj["check"]["status"] == "skipped"
    assert "kink" in obj["check"]["variables"]["x"]["reason"]


def test_expect_pass_and_fail_exit_codes():
    ok("grad", "x**2 + 3*x + 1", "--x", "2", "--expect", "x=7")
    r = ok("grad", "x**2 + 3*x + 1", "--x", "2", "--expect", "x=8", code=1)
    assert re.search(r"^expect\s+x: failed \(expected 8, got 7\) — differs by 1", r.stdout,
                     re.M)
    obj = run_json("grad", "x**2 + 3*x + 1", "--x", "2", "--expect", "x=8", code=1)
    assert obj["check"]["status"] == "failed"                  # the expectation failed,
    assert obj["check"]["variables"]["x"]["status"] == "passed"   # SymPy agrees with 7
    assert obj["check"]["expect"]["x"] == {"expected": 8, "actual": 7, "abs_err": 1,
                                           "status": "failed",
                                           "reason": "differs by 1 (rtol 1e-07, atol 1e-09)"}
    assert obj["check"]["failed"] == ["x"]


def test_expect_arrays_unknown_names_and_syntax():
    ok("grad", "x*2", "--x", "[1, 2]", "--upstream", "ones", "--expect", "x=[2, 2]")
    r = ok("grad", "x*2", "--x", "[1, 2]", "--upstream", "ones", "--expect", "x=[2, 2, 2]",
           code=1)
    assert "does not match the expected shape" in r.stdout
    assert usage_error("grad", "x*2", "--x", "1", "--expect", "q=1") == \
        "error: --expect q: no gradient named 'q' (gradients: x)\n"
    obj = run_json("grad", "x*2", "--x", "1", "--expect", "x=2", "--expect", "x=2.0000000001")
    assert obj["check"]["expect"]["x"]["status"] == "passed"
    assert "--expect expects NAME=VALUE, got 'x'" in usage_error(
        "grad", "x", "--x", "1", "--expect", "x")


def test_quiet_prints_nothing():
    r = ok("grad", *HEADLINE, "-q")
    assert r.stdout == "" and r.stderr == ""
    r = ok("grad", "x**2", "--x", "2", "--expect", "x=5", "--quiet", code=1)
    assert r.stdout == "" and r.stderr == ""
    r = ok("grad", "x**2", "--x", "2", "-q", "--format", "json")
    assert r.stdout == ""


# -- -f / --file, --dtype ------------------------------------------------------------------

def test_file_and_stdin(tmp_path):
    path = tmp_path / "p.grad"
    path.write_text("# a comment\ny = x**3  # cube\nbackward(y)\n")
    assert plain("grad", "-f", path, "--x", "2") == {"x": "12"}             # 3x**2
    assert plain("grad", "--file", path, "--x", "2") == {"x": "12"}
    assert plain("grad", "-f", "-", "--x", "2", input="x**2 + 1\n") == {"x": "4"}
    out = ok("grad", "-f", path, "--x", "2").stdout
    assert "a comment" not in out.split("\n\n")[0]          # the header shows code only
    assert re.search(r"^program\s+y = x\*\*3  # cube\s*\n\s+backward\(y\)", out, re.M)


def test_file_errors_of_f(tmp_path):
    assert "cannot read" in usage_error("grad", "-f", tmp_path / "missing.grad")
    assert "cannot read" in usage_error("grad", "-f", tmp_path)
    (tmp_path / "latin1.grad").write_bytes(b"x**2 # \xe9\n")
    assert "is not UTF-8 text" in usage_error("grad", "-f", tmp_path / "latin1.grad",
                                              "--x", "1")
    (tmp_path / "p.grad").write_text("x")
    assert "either as an argument or with -f" in usage_error(
        "grad", "x", "-f", tmp_path / "p.grad", "--x", "1")
    assert "no program given" in usage_error("grad")
    assert "no program given" in usage_error("grad", "--x", "1")


def test_dtype_float32():
    obj = run_json("grad", "x*0.1", "--x", "3", "--dtype", "float32")
    f32 = np.float32
    assert obj["grads"]["x"] == float(f32(0.1)) != 0.1
    assert obj["value"] == float(f32(3) * f32(0.1))
    assert obj["check"]["status"] == "passed"
    assert obj["check"]["rtol"] == 1e-4                   # float32 cannot meet 1e-7
    assert run_json("grad", "x*0.1", "--x", "3")["grads"]["x"] == 0.1
    assert "--dtype must be float64 or float32, got 'float16'" in usage_error(
        "grad", "x", "--x", "1", "--dtype", "float16")


# -- program errors: one message, the caret line, exit 2 ------------------------------------

def test_parse_error_has_caret_under_the_column():
    err = usage_error("grad", "x**2 +)", "--x", "2")
    lines = err.splitlines()
    assert lines[0] == "error: expected an expression, found ')' at column 7"
    assert lines[1] == "  x**2 +)"
    assert lines[2] == "  " + " " * 6 + "^"


def test_error_in_a_multi_line_program_names_the_line():
    err = usage_error("grad", "y = x**2\nz = y +* 2", "--x", "1")
    assert "line 2, column" in err.splitlines()[0]
    assert err.splitlines()[1] == "  z = y +* 2"


@pytest.mark.parametrize("program, message", [
    ("x*x3", "unbound variable 'x3': pass --x3 VALUE at column 3"),
    ("tahn(x)", "unknown function 'tahn' — did you mean 'tanh'?"),
    ("__import__(x)", "names starting with '__' are not allowed"),
    ("x @ y", "inconsistent tensor size"),
    ("y = x**3; backward(y); backward(y)", "Trying to backward through the graph a second time"),
    ("b = exp(x); b += 1; backward(sum(b))", "modified by an inplace operation"),
    ("x += 1", "a leaf Variable that requires grad is being used in an in-place operation"),
    ("x1 = 2*x; requires_grad_(x1, False)",
     "you can only change requires_grad flags of leaf variables"),
    ("y = no_grad(x**3); backward(y)", "element 0 of tensors does not require grad"),
    ("(" * 250 + "x" + ")" * 250, "nested too deeply"),
])
def test_program_errors(program, message):
    err = usage_error("grad", program, "--x", "[1, 2]" if "@" in program else "2",
                      *(["--y", "[1, 2, 3]"] if "@" in program else []))
    assert message in err
    assert err.splitlines()[-1].strip() == "^", "the caret line ends the message"


def test_sentence_messages_put_the_location_first():
    err = usage_error("grad", "x1 = 2*x; requires_grad_(x1, False)", "--x", "2")
    assert err.splitlines()[0] == (
        "error at column 11: you can only change requires_grad flags of leaf variables. If "
        "you want to use a computed variable in a subgraph that doesn't require "
        "differentiation use var_no_grad = var.detach().")


def test_print_error_formats(capsys):
    render.print_error(ParseError("unexpected ')'", line=1, column=3, source="x )"))
    render.print_error(ParseError("no location"))
    err = capsys.readouterr().err
    assert err == "error: unexpected ')' at column 3\n  x )\n    ^\nerror: no location\n"


# -- hessian ------------------------------------------------------------------------------

S2, C2 = math.sin(2.0), math.cos(2.0)
# f = x**2*y + sin(x*y) at (1, 2): f_xx = 2y - y**2 sin(xy), f_xy = 2x + cos(xy) - xy sin(xy),
# f_yy = -x**2 sin(xy)
HESSIAN = [[4 - 4 * S2, 2 + C2 - 2 * S2], [2 + C2 - 2 * S2, -S2]]
H_ARGS = ("hessian", "x**2*y + sin(x*y)", "--x", "1", "--y", "2")


def test_hessian_json():
    obj = run_json(*H_ARGS)
    assert obj["variables"] == ["x", "y"]
    assert obj["value"] == pytest.approx(2 + S2, abs=1e-12)
    assert np.allclose(obj["hessian"], HESSIAN, rtol=0, atol=1e-12)
    assert obj["check"]["status"] == "passed" and obj["check"]["method"] == "symbolic"
    assert obj["grad_fn"] == "AddBackward0" and obj["shape"] == []


def test_hessian_table_and_plain():
    r = ok(*H_ARGS, "--precision", "16")            # 16 decimals: the values to 1e-12
    assert "Hessian" in r.stdout and re.search(r"^check\s+passed", r.stdout, re.M)
    rows = section(r.stdout, "Hessian")
    assert [row[0] for row in rows] == ["x", "y"]
    assert np.allclose([[float(v) for v in row[1:]] for row in rows], HESSIAN, atol=1e-12)
    lines = ok(*H_ARGS, "--format", "plain").stdout.splitlines()
    assert lines[0] == "# x y"                     # the columns' labels
    lines = lines[1:]
    assert [line.split()[0] for line in lines] == ["x", "y"]
    assert np.allclose([[float(v) for v in line.split()[1:]] for line in lines], HESSIAN,
                       atol=1e-12)


def test_hessian_of_tensors_unused_variables_and_wrt():
    obj = run_json("hessian", "sum(w**3)", "--w", "[1, 2]", "--z", "3")
    assert obj["variables"] == ["w[0]", "w[1]", "z"]
    assert obj["hessian"] == [[6, 0, 0], [0, 12, 0], [0, 0, 0]]           # diag(6w), z unused
    obj = run_json(*H_ARGS, "--wrt", "x")
    assert obj["variables"] == ["x"]
    assert obj["hessian"][0][0] == pytest.approx(HESSIAN[0][0], abs=1e-12)
    obj = run_json("hessian", "x**2*y + sin(x*y)", "--x", "1", "--const", "y=2")
    assert obj["variables"] == ["x"] and np.allclose(obj["hessian"], [HESSIAN[0][:1]])


def test_hessian_options_and_errors():
    assert run_json(*H_ARGS, "--no-check")["check"]["status"] == "skipped"
    r = ok(*H_ARGS, "-q")
    assert r.stdout == "" and r.stderr == ""
    assert "needs a scalar output" in usage_error("hessian", "x*x", "--x", "[1, 2]")
    assert "--format must be one of" in usage_error(*H_ARGS, "--format", "csv")


# -- jacobian -------------------------------------------------------------------------------

J_ARGS = ("jacobian", "w @ v", "--w", "[[1, 2], [3, 4]]", "--v", "[5, 6]")
# out_i = sum_j w[i,j] v[j]: d out_i/d w[i,j] = v[j], d out_i/d v[j] = w[i,j]
JACOBIAN = [[5, 6, 0, 0, 1, 2], [0, 0, 5, 6, 3, 4]]


def test_jacobian_json():
    obj = run_json(*J_ARGS)
    assert obj["jacobian"] == JACOBIAN
    assert obj["variables"] == ["w[0,0]", "w[0,1]", "w[1,0]", "w[1,1]", "v[0]", "v[1]"]
    assert obj["outputs"] == ["out[0]", "out[1]"]
    assert obj["value"] == [17, 39] and obj["shape"] == [2] and obj["grad_fn"] == "MvBackward0"
    assert obj["check"]["status"] == "passed"


def test_jacobian_table_of_a_vector_output():
    out = ok(*J_ARGS).stdout
    # as PyTorch prints tensor([17., 39.]) and the Jacobian's elements
    assert re.search(r"^output\s+\[17\., 39\.\]\s+shape \(2,\)\s+grad_fn MvBackward0", out,
                     re.M)
    rows = section(out, "Jacobian")
    assert rows == [["out[0]", "5.", "6.", "0.", "0.", "1.", "2."],
                    ["out[1]", "0.", "0.", "5.", "6.", "3.", "4."]]


def test_jacobian_plain_and_scalar_output():
    r = ok("jacobian", "stack([x*y, x + y])", "--x", "2", "--y", "3", "--format", "plain")
    assert r.stdout == "# x y\nout[0] 3 2\nout[1] 1 1\n"        # labels, then rows
    obj = run_json("jacobian", "x*y", "--x", "2", "--y", "3")
    assert obj["jacobian"] == [[3, 2]]


# -- ops, --version, --help, completion ----------------------------------------------------

SPEC_GRAD_FNS = """AddBackward0 SubBackward0 RsubBackward1 MulBackward0 DivBackward0
ReciprocalBackward0 PowBackward0 PowBackward1 PowBackward2 NegBackward0 DotBackward0
MvBackward0 MmBackward0 ExpBackward0 Exp2Backward0 LogBackward0 Log2Backward0
Log10Backward0 Log1PBackward0 Expm1Backward0 SqrtBackward0 RsqrtBackward0 SinBackward0
CosBackward0 TanBackward0 AsinBackward0 AcosBackward0 AtanBackward0 SinhBackward0
CoshBackward0 TanhBackward0 AsinhBackward0 AbsBackward0 SignBackward0 ErfBackward0
SigmoidBackward0 ReluBackward0 SoftplusBackward0 SiluBackward0 MaximumBackward0
MinimumBackward0 Atan2Backward0 HypotBackward0 ClampBackward1 SumBackward0 MeanBackward0
SumBackward1 MeanBackward1 ProdBackward0 MaxBackward1 MinBackward1
LinalgVectorNormBackward0 LogsumexpBackward0 SoftmaxBackward0 LogSoftmaxBackward0
MseLossBackward0 ViewBackward0 PermuteBackward0 TBackward0 SelectBackward0 SliceBackward0
StackBackward0 CatBackward0 UnsqueezeBackward0 SqueezeBackward1 TraceBackward0""".split()


def test_ops_json_lists_every_spec_op():
    r = ok("ops", "--format", "json")
    rows = strict_json(r.stdout)
    assert all(set(row) >= {"name", "syntax", "grad_fn", "grad_fns", "derivative", "group"}
               for row in rows)
    assert all(row["syntax"] and row["derivative"] for row in rows)
    # every op that records a node names it (comparisons and statements record none)
    assert all(row["grad_fn"] == row["grad_fns"][0] for row in rows if row["grad_fns"])
    listed = {g for row in rows for g in row["grad_fns"]}
    assert [g for g in SPEC_GRAD_FNS if g not in listed] == []
    assert "SqueezeBackward4" in r.stdout                    # 1-D @ 2-D
    tanh = next(row for row in rows if row["name"] == "tanh")
    assert tanh["syntax"] == "tanh(input)" and tanh["grad_fn"] == "TanhBackward0"
    gt = next(row for row in rows if row["name"] == "gt")
    assert gt["grad_fns"] == [] and "a > b" in gt["syntax"]
    names = {row["name"] for row in rows}
    assert names >= {"backward", "grad", "no_grad", "detach", "zero_grad", "requires_grad_",
                     "retain_grad", "ones", "zeros", "view"}


def test_ops_table():
    out = ok("ops").stdout
    lines = out.splitlines()
    assert lines[0].startswith("── arithmetic ──")
    assert all(len(line) <= 80 for line in lines)
    assert re.search(r"^tanh\(input\)\s+TanhBackward0$", out, re.M)
    assert re.search(r"^tanh\(input\)\s+TanhBackward0\n    d/dinput = 1 - tanh\(input\)\*\*2$",
                     out, re.M)
    assert re.search(r"^add\(input, other\), a \+ b\s+AddBackward0\n"
                     r"    d/dinput = 1; d/dother = 1$", out, re.M)
    assert "── autograd statements and constructors ──" in out
    assert re.search(r"^zero_grad\(x\)\s+no graph node\n    set x.grad to zeros", out, re.M)
    assert "--format must be table or json, got 'plain'" in usage_error(
        "ops", "--format", "plain")
    losses = ok("ops", "--group", "losses").stdout
    assert "mse_loss(" in losses and "tanh(" not in losses
    assert "no group 'nope'" in usage_error("ops", "--group", "nope")


def test_version():
    r = ok("--version")
    assert r.stdout == f"gradcli {__version__}\n"


def _commands():
    return sorted(typer.main.get_command(app).commands)


@pytest.mark.parametrize("command", _commands())
def test_every_command_help_has_examples(command):
    for flag in ("--help", "-h"):
        r = ok(command, flag)
        assert "Examples" in r.stdout, f"gradcli {command} {flag} shows no examples"
        assert f"gradcli {command}" in r.stdout


def test_root_help_lists_commands_with_an_example():
    out = ok("--help").stdout
    assert "Example" in out and 'gradcli grad "(x1*x2+x3)**2"' in out
    for command in ("grad", "hessian", "jacobian", "ops"):
        assert re.search(rf"│ {command}\s", out)
    assert "--install-completion" in out and "--show-completion" in out


def test_unknown_command_is_a_usage_error():
    r = run("gradd")
    assert r.exit_code == 2 and "No such command 'gradd'" in r.stderr


# -- the error handler ------------------------------------------------------------------------

def _crash_app(exc):
    crash = typer.Typer()

    @crash.command()
    @handle_errors
    def boom() -> None:
        raise exc

    @crash.command()
    def other() -> None:          # a second command keeps typer from flattening the app
        pass

    return crash


def test_internal_error_is_one_line_and_exit_70(monkeypatch):
    monkeypatch.delenv("GRADCLI_DEBUG", raising=False)
    r = runner.invoke(_crash_app(RuntimeError("boom")), ["boom"])
    assert r.exit_code == EXIT_INTERNAL == 70
    assert r.stderr.startswith("internal error: RuntimeError: boom\n")
    assert "please report it" in r.stderr and "GRADCLI_DEBUG=1" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_internal_error_traceback_only_with_gradcli_debug():
    r = runner.invoke(_crash_app(RuntimeError("boom")), ["boom"], env={"GRADCLI_DEBUG": "1"})
    assert r.exit_code == 70
    assert "Traceback (most recent call last)" in r.stderr
    assert "internal error: RuntimeError: boom" in r.stderr


def test_gradcli_error_is_exit_2_and_broken_pipe_is_quiet():
    r = runner.invoke(_crash_app(ParseError("bad", line=1, column=1, source="?")), ["boom"])
    assert r.exit_code == 2 and r.stderr == "error: bad at column 1\n  ?\n  ^\n"
    r = runner.invoke(_crash_app(BrokenPipeError()), ["boom"])
    assert r.exit_code == 0 and r.stderr == ""


def test_stdout_may_close_swallows_broken_pipe(monkeypatch):
    calls = []
    monkeypatch.setattr("gradcli.cli.errors.silence_stdout", lambda: calls.append(1))
    with stdout_may_close():
        raise BrokenPipeError
    assert calls == [1]


# -- the schema itself ----------------------------------------------------------------------

def test_schema_is_valid_and_rejects_bare_shapes():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    good = strict_json(ok("grad", *HEADLINE, "--format", "json").stdout)
    for broken in ({**good, "value": "nan"}, {**good, "grads": {"x": "nan"}},
                   {**good, "ok": False}, {**good, "extra": 1},
                   {k: v for k, v in good.items() if k != "grads"}):
        assert not VALIDATOR.is_valid(broken), broken
    error = {"id": 3, "ok": False, "error": {"kind": "parse", "message": "m", "line": 1,
                                              "column": 2}}
    assert VALIDATOR.is_valid(error)
    assert not VALIDATOR.is_valid({**error, "error": {**error["error"], "kind": "oops"}})


def test_render_program_text_cuts_long_programs():
    assert render.program_text("# c\nx = 1\n\ny = x") == "x = 1\ny = x"
    text = render.program_text("x" * 500)
    assert text.startswith("x" * 200) and "(500 characters)" in text
    text = render.program_text("\n".join(f"a{i} = {i}" for i in range(30)))
    assert text.count("\n") == 12 and text.endswith("(18 more lines)")
