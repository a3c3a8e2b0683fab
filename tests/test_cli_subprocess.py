"""The installed ``gradcli`` script in real subprocesses: exit codes, what reaches stderr,
strict JSON, no escape codes off a terminal or under NO_COLOR, the internal-error path,
and a reader that closes stdout early.  Nothing here may ever print a Python traceback.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import pytest

import gradcli

def _script() -> list:
    here = shutil.which("gradcli", path=os.path.dirname(sys.executable))
    found = here or shutil.which("gradcli")
    return [found] if found else [sys.executable, "-m", "gradcli"]


GRADCLI = _script()
ESC = "\x1b"


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GRADCLI_DEBUG", "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS")}
    env["COLUMNS"] = "120"
    env.update(extra)
    return env


def gradcli_run(*args, input=None, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADCLI, *map(str, args)], input=input, capture_output=True,
                          text=True, env=env or _env(), timeout=timeout)


def _bare_constant(name):
    raise AssertionError(f"bare {name} in JSON output: not strict JSON")


def strict_json(text: str):
    return json.loads(text, parse_constant=_bare_constant)


def no_traceback(p: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr


# -- the happy path -----------------------------------------------------------------------

def test_headline_exit_0_and_values():
    p = gradcli_run("grad", "(x1*x2+x3)**2", "--x1", "2", "--x2", "3", "--x3", "1",
                    "--format", "plain")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout == "x1 42\nx2 28\nx3 14\n"


def test_headline_table_without_escape_codes():
    p = gradcli_run("grad", "(x1*x2+x3)**2", "--x1", "2", "--x2", "3", "--x3", "1")
    assert p.returncode == 0
    assert ESC not in p.stdout
    assert re.search(r"^x1\s+2\.\s+42\.\s+2\*x2\*\(x1\*x2 \+ x3\)\s+42\.\s+passed", p.stdout, re.M)


def test_module_entry_point_and_version():
    p = subprocess.run([sys.executable, "-m", "gradcli", "--version"], capture_output=True,
                       text=True, env=_env(), timeout=60)
    assert p.returncode == 0 and p.stdout == f"gradcli {gradcli.__version__}\n"
    assert gradcli_run("--version").stdout == p.stdout


def test_expect_exit_codes():
    assert gradcli_run("grad", "x**2 + 3*x + 1", "--x", "2", "--expect", "x=7",
                       "-q").returncode == 0
    p = gradcli_run("grad", "x**2 + 3*x + 1", "--x", "2", "--expect", "x=8", "-q")
    assert p.returncode == 1 and p.stdout == "" and p.stderr == ""


def test_plain_output_feeds_read_and_awk():
    script = ('"$0" grad "sum(w*w) + x*y" --w "[1, 2]" --x 2 --y 3 --format plain | '
              'while read -r name value; do printf "%s=%s\\n" "$name" "$value"; done')
    p = subprocess.run(["bash", "-c", script, GRADCLI[0]] if len(GRADCLI) == 1 else
                       ["bash", "-c", script.replace('"$0"', " ".join(GRADCLI))],
                       capture_output=True, text=True, env=_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "w=[2.0,4.0]\nx=3\ny=2\n"
    p = subprocess.run(["bash", "-c", " ".join(map(shlex.quote, GRADCLI)) + " grad "
                        "'(x1*x2+x3)**2' --x1 2 --x2 3 --x3 1 --format plain | "
                        "awk '$1 == \"x2\" { print $2 * 10 }'"],
                       capture_output=True, text=True, env=_env(), timeout=60)
    assert p.stdout == "280\n"


def test_program_from_stdin():
    p = gradcli_run("grad", "-f", "-", "--x", "-2", "--format", "plain",
                    input="y = x**3\nbackward(y)\n")
    assert p.returncode == 0 and p.stdout == "x 12\n"                # 3x**2


def test_shell_completion_script():
    p = gradcli_run("--show-completion", "bash", env=_env(SHELL="/bin/bash"))
    assert p.returncode == 0 and "_gradcli_completion" in p.stdout
    assert "complete -o default -F _gradcli_completion gradcli" in p.stdout


def test_help_has_examples():
    p = gradcli_run("grad", "--help")
    assert p.returncode == 0 and "Examples" in p.stdout and ESC not in p.stdout


# -- every kind of bad input: exit 2, a message naming what and where, no traceback -----------

BAD_INPUT = [
    # (id, args, stdin, substrings of stderr)
    ("parse", ["grad", "x**2 +)", "--x", "2"], None,
     ["error: expected an expression, found ')' at column 7", "  x**2 +)\n        ^"]),
    ("parse-line", ["grad", "y = x\nz = y ** ", "--x", "2"], None, ["line 2", "  z = y ** "]),
    ("unknown-function", ["grad", "tahn(x)", "--x", "2"], None,
     ["unknown function 'tahn' — did you mean 'tanh'?", "  tahn(x)\n  ^"]),
    ("unbound", ["grad", "x*x3", "--x", "2"], None,
     ["unbound variable 'x3': pass --x3 VALUE at column 3", "  x*x3\n    ^"]),
    ("dunder", ["grad", "__class__", "--x", "2"], None, ["names starting with '__'"]),
    ("bad-number", ["grad", "x", "--x", "two"], None, ["--x: 'two' is not a number"]),
    ("bad-array", ["grad", "x", "--x", "[1, 2"], None, ["--x: cannot read '[1, 2' as an array"]),
    ("ragged-array", ["grad", "x", "--x", "[[1], [2, 3]]"], None, ["--x", "rectangular"]),
    ("missing-file", ["grad", "x", "--x", "@/nonexistent/w.npy"], None,
     ["--x: cannot read '/nonexistent/w.npy'"]),
    ("file-type", ["grad", "x", "--x", "@w.txt"], None, ["unsupported file type '.txt'"]),
    ("missing-value", ["grad", "x", "--x"], None, ["--x: missing value"]),
    ("twice", ["grad", "x", "--x", "1", "--x", "2"], None, ["--x is given twice"]),
    ("stray", ["grad", "x", "--x", "1", "-z"], None, ["unexpected argument '-z'"]),
    ("no-program", ["grad"], None, ["no program given"]),
    ("program-file", ["grad", "-f", "/nonexistent.grad"], None,
     ["-f: cannot read '/nonexistent.grad'"]),
    ("shape", ["grad", "x @ y", "--x", "[1, 2]", "--y", "[1, 2, 3]"], None,
     ["inconsistent tensor size", "  x @ y\n    ^"]),
    ("upstream-shape", ["grad", "x*x", "--x", "[1, 2]", "--upstream", "[1, 2, 3]"], None,
     ["[3]", "[2]"]),
    ("scalar-output", ["grad", "x*x", "--x", "[1, 2]"], None,
     ["grad can be implicitly created only for scalar outputs"]),
    ("second-backward", ["grad", "y = x**3; backward(y); backward(y)", "--x", "2"], None,
     ["Trying to backward through the graph a second time", "Specify retain_graph=True",
      "                         ^"]),
    ("inplace", ["grad", "b = exp(a); b += 1; backward(sum(b))", "--a", "[1, 2]"], None,
     ["modified by an inplace operation"]),
    ("leaf-inplace", ["grad", "a += 1", "--a", "2"], None,
     ["a leaf Variable that requires grad is being used in an in-place operation"]),
    ("leaf-only", ["grad", "x1 = 2*x; requires_grad_(x1, False)", "--x", "2"], None,
     ["you can only change requires_grad flags of leaf variables"]),
    ("no-grad", ["grad", "y = no_grad(x**3); backward(y)", "--x", "1"], None,
     ["element 0 of tensors does not require grad and does not have a grad_fn"]),
    ("unused-grad", ["grad", "grad(x*2, y)", "--x", "1", "--y", "2"], None,
     ["The differentiated Tensor at index 0 appears to not have been used in the graph"]),
    ("depth-limit", ["grad", "(" * 300 + "x" + ")" * 300, "--x", "1"], None,
     ["nested too deeply"]),
    ("format", ["grad", "x", "--x", "1", "--format", "yaml"], None, ["--format must be one of"]),
    ("dtype", ["grad", "x", "--x", "1", "--dtype", "int32"], None, ["--dtype must be"]),
    ("tolerance", ["grad", "x", "--x", "1", "--rtol", "-1"], None, ["--rtol must be"]),
    ("wrt", ["grad", "x", "--x", "1", "--wrt", "q"], None, ["--wrt q"]),
    ("of", ["grad", "x", "--x", "1", "--of", "q"], None, ["--of q"]),
    ("expect-syntax", ["grad", "x", "--x", "1", "--expect", "x"], None,
     ["--expect expects NAME=VALUE"]),
    ("hessian-vector", ["hessian", "x*x", "--x", "[1, 2]"], None, ["needs a scalar output"]),
    ("jacobian-parse", ["jacobian", "x +* 2", "--x", "1"], None, ["at column"]),
]


@pytest.mark.parametrize("args, stdin, expected", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exit_2_with_a_clear_message(args, stdin, expected):
    p = gradcli_run(*args, input=stdin)
    no_traceback(p)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert p.stderr.startswith("error"), p.stderr
    for text in expected:
        assert text in p.stderr, p.stderr


def test_pickled_npy_is_refused(tmp_path):
    code = textwrap.dedent(f"""
        import numpy as np
        class Boom:
            def __reduce__(self):
                return (open, ({str(tmp_path / 'pwned')!r}, "w"))
        np.save({str(tmp_path / 'evil.npy')!r}, np.array([Boom()], dtype=object),
                allow_pickle=True)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    p = gradcli_run("grad", "sum(w)", "--w", f"@{tmp_path / 'evil.npy'}")
    no_traceback(p)
    assert p.returncode == 2 and "allow_pickle=False" in p.stderr
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("args, message", [
    (["gradd"], "No such command 'gradd'"),
    (["grad", "x", "--x", "1", "--rtol", "abc"], "'abc' is not a valid float"),
    (["grad", "x", "--x", "1", "--format"], "Option '--format' requires an argument"),
], ids=["unknown-command", "bad-float", "option-without-value"])
def test_usage_errors_exit_2(args, message):
    p = gradcli_run(*args)
    no_traceback(p)
    assert p.returncode == 2 and p.stdout == ""
    assert message in p.stderr


# -- strict JSON ----------------------------------------------------------------------------

def test_json_with_nan_and_inf_is_strict():
    p = gradcli_run("grad", "x*y", "--x", "nan", "--y", "inf", "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    obj = strict_json(p.stdout)
    assert obj["value"] == "NaN" and obj["grads"] == {"x": "Infinity", "y": "NaN"}
    # no bare NaN/Infinity token: outside JSON strings (a reason may say "NaN") none left
    assert "NaN" not in re.sub(r'"(?:[^"\\]|\\.)*"', '""', p.stdout)
    p = gradcli_run("grad", "x*x", "--x", "[-inf, 0, inf]", "--upstream", "ones", "--format",
                    "json", "--no-check")
    obj = strict_json(p.stdout)
    assert obj["grads"]["x"] == ["-Infinity", 0, "Infinity"]
    p = gradcli_run("jacobian", "x*y", "--x", "inf", "--y", "1", "--format", "json",
                    "--no-check")
    obj = strict_json(p.stdout)
    assert obj["jacobian"] == [[1, "Infinity"]] and obj["value"] == "Infinity"


# -- colour -------------------------------------------------------------------------------

def _on_a_terminal(args, **env):
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    proc = subprocess.Popen([*GRADCLI, *args], stdout=slave, stderr=slave,
                            env=_env(TERM="xterm-256color", **env))
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=120)
    os.close(master)
    return proc.returncode, out.decode("utf-8", "replace")


HEADLINE = ["grad", "(x1*x2+x3)**2", "--x1", "2", "--x2", "3", "--x3", "1"]


def test_no_escape_codes_when_piped_even_with_force_term():
    assert ESC not in gradcli_run(*HEADLINE, env=_env(TERM="xterm-256color")).stdout
    assert ESC not in gradcli_run(*HEADLINE, env=_env(NO_COLOR="1")).stdout


def test_no_color_on_a_terminal_means_no_escape_codes():
    code, out = _on_a_terminal(HEADLINE)
    assert code == 0 and ESC in out, "a terminal gets styles (else this test proves nothing)"
    code, out = _on_a_terminal(HEADLINE, NO_COLOR="1")
    assert code == 0 and "Gradients" in out
    assert ESC not in out


# -- the internal-error path --------------------------------------------------------------

CRASH = """
import typer
from gradcli.cli.errors import handle_errors
app = typer.Typer()

@app.command()
@handle_errors
def boom():
    raise RuntimeError("boom")

@app.command()
def other():
    pass

app(prog_name="gradcli")
"""


def test_internal_error_exit_70_one_line_and_traceback_only_with_debug():
    p = subprocess.run([sys.executable, "-c", CRASH, "boom"], capture_output=True, text=True,
                       env=_env(), timeout=60)
    assert p.returncode == 70
    no_traceback(p)
    lines = p.stderr.splitlines()
    assert lines[0] == "internal error: RuntimeError: boom"
    assert "please report it" in lines[1] and "GRADCLI_DEBUG=1" in lines[1]
    assert len(lines) == 2
    p = subprocess.run([sys.executable, "-c", CRASH, "boom"], capture_output=True, text=True,
                       env=_env(GRADCLI_DEBUG="1"), timeout=60)
    assert p.returncode == 70
    assert "Traceback (most recent call last)" in p.stderr
    assert "RuntimeError: boom" in p.stderr.splitlines()
    assert "internal error: RuntimeError: boom" in p.stderr


# -- a reader that stops early ----------------------------------------------------------------

@pytest.fixture(scope="module")
def long_program(tmp_path_factory):
    path = tmp_path_factory.mktemp("long") / "chain.grad"
    path.write_text("+".join(["x"] * 3000) + "\n")          # ~3000 graph rows: > a pipe buffer
    return path


@pytest.mark.parametrize("extra, status", [([], 0), (["--expect", "x=1"], 1),
                                           (["--format", "json"], 0)])
def test_closed_stdout_ends_quietly_with_the_real_status(long_program, extra, status):
    script = '"$@" | head -1 > /dev/null; echo "${PIPESTATUS[0]}"'
    p = subprocess.run(["bash", "-c", script, "bash", *GRADCLI, "grad", "-f",
                        str(long_program), "--x", "1", "--full-graph", "--no-check", *extra],
                       capture_output=True, text=True, env=_env(), timeout=300)
    no_traceback(p)
    assert p.stderr == ""
    assert p.stdout.strip() == str(status)          # 1 only when --expect x=1 failed (3000)


def test_closed_stdout_python_side(long_program):
    proc = subprocess.Popen([*GRADCLI, "grad", "-f", str(long_program), "--x", "1",
                             "--full-graph", "--no-check"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env())
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=300)
    assert first.startswith(b"program")
    assert err == "" and proc.returncode == 0


def test_a_large_elementwise_program_is_checked_whole(tmp_path):
    """The installed command on three 5000-element .npy inputs: the check nudges each
    variable whole and checks every element, against hand-derived gradients."""
    import numpy as np
    rng = np.random.default_rng(3)
    data = {name: rng.normal(size=5000) for name in "wxb"}
    args = ["grad", "sum(tanh(w*x + b)**2) + mean(sigmoid(x)*w)"]
    for name, a in data.items():
        np.save(tmp_path / f"{name}.npy", a)
        args += [f"--{name}", f"@{tmp_path / name}.npy"]
    r = gradcli_run(*args, "--format", "json")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    check = strict_json(r.stdout)["check"]
    assert check["status"] == "passed" and check["method"] == "numeric"
    assert [v["checked"] for v in check["variables"].values()] == [5000] * 3
    w, x, b = data["w"], data["x"], data["b"]
    t = np.tanh(w * x + b)
    s = 1 / (1 + np.exp(-x))
    grads = strict_json(r.stdout)["grads"]
    np.testing.assert_allclose(grads["x"], 2 * t * (1 - t * t) * w + s * (1 - s) * w / 5000,
                               rtol=1e-12, atol=1e-15)
