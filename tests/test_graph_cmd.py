"""`gradcli graph`: the rich tree, Graphviz DOT (checked with `dot` itself when it is
installed), Mermaid, rendering with -o, and long graphs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from gradcli.cli import graphview
from gradcli.cli.app import app
from gradcli.lang.evaluator import evaluate

runner = CliRunner()
HEADLINE = ("(x1*x2+x3)**2", "--x1", "2", "--x2", "3", "--x3", "1")
ENV = {"COLUMNS": "120", "NO_COLOR": "1", "GRADCLI_DEBUG": None}
DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz 'dot' is not installed")

NODE = re.compile(r"^\s+(\w+) \[label=\"((?:[^\"\\]|\\.)*)\", fillcolor=([\w]+)", re.M)
EDGE = re.compile(r"^\s+(\w+) -> (\w+)", re.M)


def run(*args, code=0, env=None):
    r = runner.invoke(app, ["graph", *map(str, args)], env={**ENV, **(env or {})})
    assert r.exit_code == code, f"exit {r.exit_code}\n{r.stdout}\n{r.stderr}"
    return r


def expected_counts(program, bindings, const=None):
    """Nodes and edges the DOT must have, from the evaluated graph's own rows: a node per
    row, an AccumulateGrad node per leaf that requires grad; an edge per tensor input of
    every op row, and one from each such leaf into its AccumulateGrad."""
    result = evaluate(program, bindings, const=const)
    names = {r.name for r in result.graph}
    grad_leaves = sum(1 for r in result.graph if r.is_leaf and r.requires_grad)
    inputs = sum(sum(1 for i in r.inputs if i in names)
                 for r in result.graph if not r.is_leaf)
    return len(result.graph) + grad_leaves, inputs + grad_leaves


# -- the tree -------------------------------------------------------------------------------

def test_tree_from_the_output_down_to_the_leaves():
    out = run(*HEADLINE).stdout
    lines = out.splitlines()
    root = next(i for i, line in enumerate(lines) if line.startswith("%3 = %2**2"))
    assert "PowBackward0" in lines[root] and "value 49" in lines[root]
    tree = "\n".join(lines[root:])
    for text in ("%2 = %1 + x3  AddBackward0", "%1 = x1*x2  MulBackward0",
                 "x1  AccumulateGrad (leaf)  shape ()  value 2  grad 42",
                 "x2  AccumulateGrad (leaf)  shape ()  value 3  grad 28",
                 "x3  AccumulateGrad (leaf)  shape ()  value 1  grad 14"):
        assert text in tree, text
    # children hang under their parent: x1 is deeper than %1, which is deeper than %2
    indent = {name: next(len(line) - len(line.lstrip("│ ├└─")) for line in lines[root:]
                         if line.lstrip("│ ├└─").startswith(name + " "))
              for name in ("%2", "%1", "x1")}
    assert indent["%2"] < indent["%1"] < indent["x1"]


def test_no_backward_shows_no_gradients():
    out = run(*HEADLINE, "--no-backward").stdout
    assert "x1  AccumulateGrad (leaf)  shape ()  value 2" in out
    assert "grad 42" not in out and "not shown (--no-backward)" in out


def test_shared_subtrees_are_shown_once_and_constants_are_marked():
    out = run("a = x*y; b = a + a*c; sum(b)", "--x", "[1, 2, 3]", "--y", "2",
              "--const", "c=5").stdout
    assert out.count("a = x*y  MulBackward0") == 1
    assert "↑ a (see above)" in out
    assert "c  constant (bound with --const)" in out
    # d/dx sum(x*y + x*y*c) = y*(1 + c) = 12 per element; d/dy = sum(x)*(1 + c) = 36
    assert "grad [12, 12, 12]" in out and "grad 36" in out


def test_in_place_versions_and_no_grad_values():
    out = run("b = a*2; b += 1; backward(sum(b))", "--a", "[1, 2]").stdout
    assert "b@v1 = b + 1  AddBackward0" in out and "b = 2*a  MulBackward0" in out
    out = run("y1 = x**2; y2 = no_grad(x**3); y1 + y2", "--x", "1").stdout
    assert "y2  constant (computed under no_grad)" in out


def test_retain_grad_shows_intermediate_gradients():
    out = run(*HEADLINE, "--retain-grad").stdout
    # d out/d %2 = 2*7 = 14, and the add passes 14 on to %1
    assert re.search(r"%2 = %1 \+ x3  AddBackward0  shape \(\)  value 7  grad 14", out)
    assert re.search(r"%1 = x1\*x2  MulBackward0  shape \(\)  value 6  grad 14", out)


def test_tree_of_a_100000_term_chain_is_summarised_quickly(tmp_path):
    program = tmp_path / "chain.grad"
    program.write_text("+".join(["x"] * 100_000))
    start = time.monotonic()
    p = gradcli("graph", "-f", program, "--x", "2")
    elapsed = time.monotonic() - start
    assert p.returncode == 0, p.stderr
    assert "more nodes (--full-graph shows all)" in p.stdout
    assert "%99999 = %99998 + x  AddBackward0" in p.stdout
    assert "(continued)" in p.stdout            # a deep branch goes on in a tree of its own
    assert len(p.stdout.splitlines()) < 120
    assert elapsed < 240, f"{elapsed:.1f} s"


def test_tree_is_built_without_recursion():
    result = evaluate("+".join(["x"] * 5000), {"x": 1.0})
    structure = graphview.Structure(result)
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(400)
        trees = graphview.tree(structure, full=True, width=80)
        dot_text = graphview.dot(structure)
    finally:
        sys.setrecursionlimit(limit)
    assert len(trees) > 100                      # continuation trees: depth stays bounded
    assert dot_text.count("->") == 2 * 4999 + 1


# -- DOT ----------------------------------------------------------------------------------------

def parse_dot(text):
    nodes = {m.group(1): (m.group(2), m.group(3)) for m in NODE.finditer(text)}
    edges = EDGE.findall(text)
    return nodes, edges


def test_dot_nodes_edges_and_colours_match_the_graph():
    text = run(*HEADLINE, "--dot").stdout
    assert text.startswith("digraph gradcli {") and text.rstrip().endswith("}")
    nodes, edges = parse_dot(text)
    # six tensors (x1, x2, x3, %1, %2, %3) and three AccumulateGrad sinks;
    # edges: x1, x2, x3 -> their sinks, sinks -> Mul/Add, Mul -> Add, Add -> Pow
    assert (len(nodes), len(edges)) == (9, 8)
    assert (len(nodes), len(edges)) == expected_counts(HEADLINE[0], {"x1": 2, "x2": 3, "x3": 1})
    colour = {label.split("\\n")[0]: fill for label, fill in nodes.values()}
    assert colour["x1"] == colour["x2"] == colour["x3"] == "lightblue"
    assert colour["PowBackward0"] == "darkolivegreen1"           # the output
    assert colour["MulBackward0"] == colour["AccumulateGrad"] == "lightgrey"
    labels = {label for label, _ in nodes.values()}
    assert "MulBackward0\\n%1 = x1*x2\\nshape ()\\nvalue 6" in labels
    assert "x1\\nleaf (requires grad)\\nshape ()\\nvalue 2\\ngrad 42" in labels
    # every leaf that requires grad flows into an AccumulateGrad node
    acc = {n for n, (label, _) in nodes.items() if label == "AccumulateGrad"}
    leaves = {n for n, (label, fill) in nodes.items() if fill == "lightblue"}
    assert {(a, b) for a, b in edges if a in leaves} == {(leaf, "a" + leaf[1:]) for leaf in leaves}
    assert all(b in acc for a, b in edges if a in leaves)


@pytest.mark.parametrize("program, bindings, const", [
    ("a = x*y; b = a + a*c; sum(b)", {"x": [1, 2, 3], "y": 2}, {"c": 5}),
    ("sum(tanh(w @ x + b)**2)", {"w": [[1, 2], [3, 4]], "x": [0.5, -1], "b": [0, 1]}, None),
    ("stack([x[0], x[1]*2, x[0]]).sum()", {"x": [3, 4]}, None),
    ("x*x*x", {"x": 2}, None),
])
def test_dot_counts_for_more_graphs(program, bindings, const):
    args = [program] + [a for k, v in bindings.items() for a in (f"--{k}", str(v))]
    args += [f"--const={k}={v}" for k, v in (const or {}).items()]
    nodes, edges = parse_dot(run(*args, "--dot").stdout)
    assert (len(nodes), len(edges)) == expected_counts(program, bindings, const)


def test_dot_colours_constants_grey_with_dashed_edges():
    text = run("x*c", "--x", "2", "--const", "c=3", "--dot").stdout
    nodes, edges = parse_dot(text)
    fills = {label.split("\\n")[0]: fill for label, fill in nodes.values()}
    assert fills["c"] == "gray90" and fills["x"] == "lightblue"
    assert re.search(r'n1 \[label="c\\nconstant \(bound with --const\)', text)
    assert "n1 -> n2 [style=dashed" in text


def test_dot_escaping():
    assert graphview.dot_escape('a "b" \\ c\nd') == 'a \\"b\\" \\\\ c\\nd'


@needs_dot
@pytest.mark.parametrize("args", [
    HEADLINE,
    ("a = x*y; b = a + a*c; sum(b)", "--x", "[1, 2, 3]", "--y", "2", "--const", "c=5"),
    ("b = a*2; b += 1; backward(sum(b))", "--a", "[1, 2]"),
    ("y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)", "--x", "2"),
])
def test_dot_output_parses_with_graphviz(args):
    text = run(*args, "--dot").stdout
    nodes, edges = parse_dot(text)
    svg = subprocess.run([DOT, "-Tsvg"], input=text, capture_output=True, text=True,
                         timeout=60)
    assert svg.returncode == 0, svg.stderr
    assert "<svg" in svg.stdout
    # Graphviz saw exactly the nodes and edges we meant
    assert svg.stdout.count('class="node"') == len(nodes)
    assert svg.stdout.count('class="edge"') == len(edges)


# -- Mermaid ----------------------------------------------------------------------------------

def test_mermaid_flowchart():
    text = run(*HEADLINE, "--mermaid").stdout
    lines = text.splitlines()
    assert lines[0] == "flowchart BT"
    node_lines = [line for line in lines if re.match(r"\s+\w+(\[\"|\(\[\")", line)]
    edge_lines = [line for line in lines if "-->" in line or "-.->" in line]
    assert (len(node_lines), len(edge_lines)) == (9, 8)
    assert '  n5["PowBackward0<br/>%3 = %2**2<br/>shape ()<br/>value 49"]' in lines
    assert "  n0 --> a0" in lines and "  n4 --> n5" in lines
    assert "  class n0,n1,n2 leaf" in lines and "  class n5 output" in lines


def test_mermaid_escaping():
    assert graphview.mermaid_escape('say "hi" <b> & #1') == \
        "say #quot;hi#quot; #lt;b#gt; #amp; #35;1"


# -- writing files ----------------------------------------------------------------------------

@needs_dot
@pytest.mark.parametrize("suffix, magic", [("svg", b"<svg"), ("png", b"\x89PNG"),
                                           ("pdf", b"%PDF")])
def test_output_renders_with_dot(tmp_path, suffix, magic):
    path = tmp_path / f"graph.{suffix}"
    r = run(*HEADLINE, "-o", path)
    assert magic in path.read_bytes()[:1000]
    assert r.stdout == "" and f"wrote {path}" in r.stderr


def test_output_dot_and_mermaid_text_need_no_graphviz(tmp_path):
    run(*HEADLINE, "-o", tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph gradcli {")
    run(*HEADLINE, "-o", tmp_path / "g.mmd")
    assert (tmp_path / "g.mmd").read_text().startswith("flowchart BT")


def test_output_with_an_unknown_suffix_is_a_usage_error(tmp_path):
    r = run(*HEADLINE, "-o", tmp_path / "graph.xyz", code=2)
    assert "cannot tell the format" in r.stderr


def test_dot_and_mermaid_together_is_a_usage_error():
    r = run(*HEADLINE, "--dot", "--mermaid", code=2)
    assert "either --dot or --mermaid" in r.stderr


def test_program_errors_exit_2():
    r = run("x**2", "--x", "[1, 2, 3]", code=2)       # non-scalar output, no --upstream
    assert "grad can be implicitly created only for scalar outputs" in r.stderr
    out = run("x**2", "--x", "[1, 2, 3]", "--no-backward").stdout   # the graph still shows
    assert "%1 = x**2  PowBackward0" in out


def test_help_has_examples():
    r = runner.invoke(app, ["graph", "--help"], env=ENV)
    assert r.exit_code == 0
    assert "Examples" in r.stdout and "--mermaid" in r.stdout and "-o graph.svg" in r.stdout


# -- the installed command ----------------------------------------------------------------------

def _script() -> list:
    here = shutil.which("gradcli", path=os.path.dirname(sys.executable))
    found = here or shutil.which("gradcli")
    return [found] if found else [sys.executable, "-m", "gradcli"]


def gradcli(*args, path=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("GRADCLI_DEBUG", "FORCE_COLOR")}
    env["COLUMNS"] = "80"
    if path is not None:
        env["PATH"] = path
    return subprocess.run([*_script(), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_installed_command_prints_tree_and_dot():
    p = gradcli("graph", *HEADLINE)
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout and "x1  AccumulateGrad (leaf)" in p.stdout
    p = gradcli("graph", *HEADLINE, "--dot")
    assert p.returncode == 0 and parse_dot(p.stdout)[0]


def test_missing_dot_says_how_to_install_it(tmp_path):
    # a PATH with python and gradcli but no Graphviz
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = _script()
    path = os.pathsep.join([str(bindir), os.path.dirname(sys.executable)])
    if shutil.which("dot", path=path):
        pytest.skip("dot sits next to the Python interpreter")
    p = gradcli("graph", *HEADLINE, "-o", tmp_path / "graph.svg", path=path)
    assert p.returncode == 2, (script, p.stdout, p.stderr)
    assert "Graphviz 'dot' was not found" in p.stderr
    assert "apt install graphviz" in p.stderr and "brew install graphviz" in p.stderr
    assert "--dot" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "graph.svg").exists()
