"""The program's graph as nodes and edges, for `gradcli graph` and `grad --explain`.

:func:`structure` reads a :class:`~gradcli.lang.result.Result`: its graph rows (one per
tensor version, in creation order) and the tape events they were built from.  It
resolves each row's inputs to row indices by tensor identity (two rows may share a
name, e.g. after ``y = x**2; t = y; y = x*3``) and finds the autograd node each op
row was made with (a tensor's ``grad_fn`` changes when it is updated in place, so the
node at creation time is recovered from the in-place events).  Everything here is
iterative: a 100 000-node chain is only a long list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..autograd.events import BackwardEvent, of_kind
from ..autograd.summary import ArraySummary
from ..autograd.tensor import Tensor
from .render import fmt_number, fmt_shape

COMPACT_ELEMENTS = 6        # arrays up to this size are shown whole on one line


def compact(value, limit: int = COMPACT_ELEMENTS, digits=None) -> str:
    """A number or an array on ONE line: small arrays whole, larger ones as their first
    and last elements with the shape (``[1, 2, 3, …, 99, 100] (shape [10, 10])``).
    ``digits``: round to that many significant digits (exact round-trip otherwise)."""
    if value is None:
        return "None"
    if isinstance(value, Tensor):
        value = value.data
    num = fmt_number if digits is None else (lambda v: _rounded(v, digits))
    if isinstance(value, ArraySummary):     # its edges hold the first and last elements
        return _ends(value.edges.reshape(-1), value.shape, num)
    a = np.asarray(value)
    if a.dtype.kind not in "fiub":
        return str(value)
    if a.ndim == 0:
        return num(a)
    if a.size <= limit:
        text = np.array2string(a.astype(float), separator=", ", threshold=limit + 1,
                               formatter={"float_kind": num})
        return " ".join(text.split())
    return _ends(a.reshape(-1), a.shape, num)


def _ends(flat: np.ndarray, shape: tuple, num) -> str:
    head = ", ".join(num(v) for v in flat[:3])
    tail = ", ".join(num(v) for v in flat[-2:])
    return f"[{head}, …, {tail}] (shape {list(shape)})"


def _rounded(x, digits: int) -> str:
    x = float(x)
    return fmt_number(float(f"{x:.{digits}g}")) if np.isfinite(x) else fmt_number(x)


@dataclass
class GraphNode:
    """One row of the graph with its inputs resolved."""

    index: int
    row: object                      # the GraphRow
    node: object = None              # the autograd Node made with it (op rows that track)
    inputs: list = field(default_factory=list)   # per op argument: row index, or literal text
    args: tuple = ()                 # the op's raw arguments (numbers stay numbers)
    params: dict = field(default_factory=dict)


class Structure:
    """Rows with resolved inputs, the node -> row map and the graph's roots."""

    def __init__(self, result):
        self.result = result
        self.rows = rows = result.graph
        self.nodes = [GraphNode(i, row, row.node if row.op is not None else None,
                                list(row.sources), row.args, row.params)
                      for i, row in enumerate(rows)]
        self.row_of_node = {row.node: i for i, row in enumerate(rows)
                            if row.op is not None and row.node is not None}
        self.current = result.row_of             # id(tensor) -> row of its current version
        self.backward_roots = list(of_kind(result.events, BackwardEvent))

    # -- naming ---------------------------------------------------------------------------
    def name_of_tensor(self, tensor) -> str:
        i = self.current.get(id(tensor))
        return self.rows[i].name if i is not None else "?"

    def name_of_node(self, node) -> str:
        i = self.row_of_node.get(node)
        if i is not None:
            return self.rows[i].name
        variable = getattr(node, "variable", None)
        if variable is not None:
            return self.name_of_tensor(variable)
        return f"({node.name})"

    def input_label(self, gnode: GraphNode, k: int) -> str:
        item = gnode.inputs[k]
        return self.rows[item].name if isinstance(item, int) else str(item)

    def input_value(self, gnode: GraphNode, k: int):
        item = gnode.inputs[k]
        if isinstance(item, int):
            return self.rows[item].value
        arg = gnode.args[k]
        return arg.data if isinstance(arg, Tensor) else arg

    # -- shape of the graph ---------------------------------------------------------------
    def expands(self, i: int) -> bool:
        """Whether the graph views descend into this row's inputs (autograd nodes only:
        a leaf is a leaf, even one computed from constants or under no_grad)."""
        return not self.rows[i].is_leaf

    def children(self, i: int) -> list:
        return self.nodes[i].inputs if self.expands(i) else []

    def output_index(self):
        out = self.result.output
        return self.current.get(id(out)) if isinstance(out, Tensor) else None

    def roots(self) -> list:
        """The output first, then every other op row that nothing consumes."""
        consumed = set()
        for i in range(len(self.rows)):
            for item in self.children(i):
                if isinstance(item, int):
                    consumed.add(item)
        roots = []
        out = self.output_index()
        if out is not None:
            roots.append(out)
        roots.extend(i for i in range(len(self.rows))
                     if i not in consumed and i != out and self.expands(i))
        return roots

    def reachable(self, roots=None) -> list:
        """Row indices reachable from the roots, in row (topological) order."""
        roots = self.roots() if roots is None else roots
        seen = set(roots)
        stack = list(roots)
        while stack:
            i = stack.pop()
            for item in self.children(i):
                if isinstance(item, int) and item not in seen:
                    seen.add(item)
                    stack.append(item)
        return sorted(seen)

    # -- kinds of rows ---------------------------------------------------------------------
    def kind(self, i: int) -> str:
        """'op' (has a grad_fn), 'leaf' (requires grad), or 'constant'."""
        row = self.rows[i]
        if not row.is_leaf:
            return "op"
        return "leaf" if row.requires_grad else "constant"


# -- how an op reads, with its inputs named (the op table's ``display``) -------------------

def _wrap(label: str) -> str:
    """Parenthesise a label that would not read as one operand (a negative number)."""
    return f"({label})" if label.startswith("-") else label


def param_text(value) -> str:
    if isinstance(value, (tuple, list)):
        items = [param_text(v) for v in value]
        return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, float):
        return fmt_number(value)
    if isinstance(value, np.ndarray):
        return compact(value)
    return repr(value) if isinstance(value, str) else str(value)


def expression(op, labels: list, params: dict) -> str:
    """``x1*x2``, ``sum(x, dim=0)``, ``x[1]``: the op written with its inputs' names, as
    its table entry says (``display``: a template or a function), else as a call."""
    labels = [_wrap(lb) for lb in labels]
    if op.name == "mul" and len(labels) == 2 and _is_number_text(labels[1]):
        return f"{labels[1]}*{labels[0]}"
    display = op.display
    if callable(display):
        return display(labels, params)
    if display is not None and len(labels) >= display.count("{"):
        return display.format(*labels)
    args = list(labels)
    if op.variadic:
        args = ["[" + ", ".join(labels) + "]"]
    args += [f"{k}={param_text(v)}" for k, v in params.items() if v is not None]
    return f"{op.shown_as}({', '.join(args)})"


_NUMBER = re.compile(r"^\(?-?(\d+\.?\d*(e[-+]?\d+)?|\.\d+|inf|nan)\)?$")


def _is_number_text(text: str) -> bool:
    return bool(_NUMBER.match(text))


def input_symbols(op) -> tuple:
    """The names the op's derivative formulas use for its inputs."""
    from ..autograd.ops.checks import symbols_of
    return symbols_of(op)


# -- what a node says about itself ---------------------------------------------------------

DIGITS = 6                  # significant digits of values in the graph views


def _v(value) -> str:
    return compact(value, digits=DIGITS)


class Describe:
    """The facts a view shows for each row: title, kind, shape, value, grad."""

    def __init__(self, graph: Structure, show_grad: bool, drawn: bool = False):
        self.graph = graph
        self.show_grad = show_grad
        self.drawn = drawn          # DOT and Mermaid draw AccumulateGrad nodes of their own
        self.output = graph.output_index()
        notes = {}
        for leaf in graph.result.leaves:
            notes.setdefault(leaf.name, leaf.note)
        self.notes = notes

    def title(self, i: int) -> str:
        """``%1 = x1*x2`` for an op row, the name for a leaf."""
        graph = self.graph
        g = graph.nodes[i]
        row = g.row
        if graph.kind(i) != "op" or g.node is None:
            return row.name
        labels = [graph.input_label(g, k) for k in range(len(g.inputs))]
        return f"{row.name} = {expression(g.node.op, labels, g.params)}"

    def kind_text(self, i: int) -> str:
        kind = self.graph.kind(i)
        row = self.graph.rows[i]
        if kind == "op":
            return row.grad_fn
        if kind == "leaf":
            return "leaf (requires grad)" if self.drawn else "AccumulateGrad (leaf)"
        note = self.notes.get(row.name, "")
        reason = note[note.find("(") + 1:note.rfind(")")] if "(" in note else ""
        return f"constant ({reason})" if reason and reason != "a constant" else "constant"

    def facts(self, i: int) -> list:
        """shape, value and (after backward, where there is one) grad, as texts."""
        row = self.graph.rows[i]
        out = [f"shape {fmt_shape(row.shape)}", f"value {_v(row.value)}"]
        if self.show_grad and (row.grad is not None or self.graph.kind(i) == "leaf"):
            out.append(f"grad {_v(row.grad)}")
        return out


# -- the rich tree -------------------------------------------------------------------------

TREE_NODES = 40             # a summarised tree shows this many lines


def tree(graph: Structure, *, show_grad: bool = True, full: bool = False,
         width: int = 80) -> list:
    """The graph as rich Trees from the output down to the leaves (a list: the output's
    tree, then the trees of values nothing uses, then continuations of deep branches).

    Built with an explicit stack: no recursion over the graph.  A subtree met again is
    shown as "↑ name (see above)"; a branch deeper than the width allows continues in a
    tree of its own; without ``full`` at most TREE_NODES lines are shown."""
    from rich.text import Text
    from rich.tree import Tree

    describe = Describe(graph, show_grad)
    max_depth = max(4, (width - 50) // 4)
    budget = None if full else TREE_NODES
    styles = {"op": "bold", "leaf": "bold blue", "constant": "dim"}
    output = describe.output

    def label(i: int, depth: int, note: str = "") -> Text:
        kind = graph.kind(i)
        title, what = describe.title(i), describe.kind_text(i)
        facts = "  ".join(describe.facts(i))
        room = width - 4 * depth - 1            # what is left right of the guides
        text = Text(title, style=styles[kind] + (" green" if i == output else ""))
        text.append("  " + what, style="cyan" if kind == "op" else
                    ("blue" if kind == "leaf" else "dim"))
        one_line = len(title) + len(what) + len(facts) + len(note) + 4 <= room
        text.append(("  " if one_line else "\n") + facts,
                    style="dim" if kind == "constant" else "")
        if note:
            text.append(note, style="dim italic")
        return text

    trees: list = []
    expanded: set = set()
    shown: set = set()
    pending = [(r, False) for r in graph.roots()]   # (row, is a continuation)
    lines = 0
    truncated = False
    while pending and not truncated:
        root, continued = pending.pop(0)
        if root in expanded and not continued:
            continue
        top = Tree(label(root, 0, "  (continued)" if continued else ""), guide_style="dim")
        trees.append(top)
        shown.add(root)
        expanded.add(root)
        lines += 1
        stack = [(c, top, 1) for c in reversed(graph.children(root)) if isinstance(c, int)]
        while stack:
            if budget is not None and lines >= budget:
                truncated = True
                break
            i, parent, depth = stack.pop()
            lines += 1
            expands = graph.expands(i)
            if expands and i in expanded:
                parent.add(Text(f"↑ {graph.rows[i].name} (see above)", style="dim"))
                continue
            shown.add(i)
            kids = [c for c in graph.children(i) if isinstance(c, int)]
            if expands and kids and depth >= max_depth:
                parent.add(label(i, depth, "  ↓ continued below"))
                pending.append((i, True))
                expanded.add(i)
                continue
            branch = parent.add(label(i, depth))
            if expands:
                expanded.add(i)
                stack.extend((c, branch, depth + 1) for c in reversed(kids))
    if truncated or pending:
        hidden = len(graph.reachable()) - len(shown)
        if hidden > 0:
            trees.append(Text(f"... {hidden:,} more nodes (--full-graph shows all)",
                              style="dim"))
    return trees


# -- Graphviz DOT (torchviz's style) ------------------------------------------------------

COLOURS = {"op": "lightgrey", "leaf": "lightblue", "output": "darkolivegreen1",
           "constant": "gray90", "accumulate": "lightgrey"}


def dot_escape(text: str) -> str:
    """Text for a double-quoted DOT string: backslashes and quotes escaped, newlines as
    DOT's centred line breaks."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _graph_items(graph: Structure):
    """Nodes and edges every text view draws: (id, kind, row or None) and (from, to).

    One node per row reachable from the roots, plus an AccumulateGrad node per leaf
    that requires grad (the leaf feeds it, it feeds the ops that use the leaf), as
    PyTorch's graph and torchviz have it.  Constants and number literals have no
    autograd edge; constants are drawn (grey, dashed edges), literals are part of the
    op's label."""
    rows = graph.reachable()
    output = graph.output_index()
    nodes, edges = [], []
    for i in rows:
        kind = graph.kind(i)
        nodes.append((f"n{i}", "output" if i == output and kind == "op" else kind, i))
        if kind == "leaf":
            nodes.append((f"a{i}", "accumulate", i))
            edges.append((f"n{i}", f"a{i}", "leaf"))
    for i in rows:
        for item in graph.children(i):
            if isinstance(item, int):
                kind = graph.kind(item)
                src = f"a{item}" if kind == "leaf" else f"n{item}"
                edges.append((src, f"n{i}", kind))
    return nodes, edges


def _label_lines(describe: Describe, kind: str, i: int) -> list:
    if kind == "accumulate":
        return ["AccumulateGrad"]
    graph = describe.graph
    if kind in ("op", "output"):
        return [graph.rows[i].grad_fn, describe.title(i)] + describe.facts(i)
    return [describe.title(i), describe.kind_text(i)] + describe.facts(i)


def dot(graph: Structure, *, show_grad: bool = True) -> str:
    """The graph in Graphviz DOT, in torchviz's style: grad_fn boxes, leaves that require
    grad light blue (feeding their AccumulateGrad), the output light green, constants
    grey; edges point the way values flow, the output at the bottom."""
    describe = Describe(graph, show_grad, drawn=True)
    nodes, edges = _graph_items(graph)
    out = ["digraph gradcli {",
           '  graph [size="12,12", ranksep="0.3"];',
           '  node [style=filled, shape=box, align=left, fontsize=10, height=0.2, '
           'fontname=monospace];',
           "  edge [arrowsize=0.7];"]
    for nid, kind, i in nodes:
        label = dot_escape("\n".join(_label_lines(describe, kind, i)))
        attrs = f'label="{label}", fillcolor={COLOURS[kind]}'
        if kind == "constant":
            attrs += ', style="filled,dashed", fontcolor=gray30'
        if kind == "leaf" and i == describe.output:
            attrs += ", penwidth=2"
        out.append(f"  {nid} [{attrs}];")
    for src, dst, kind in edges:
        out.append(f"  {src} -> {dst}" + (" [style=dashed, color=gray50];"
                                           if kind == "constant" else ";"))
    out.append("}")
    return "\n".join(out) + "\n"


# -- Mermaid --------------------------------------------------------------------------------

_MERMAID_ESCAPES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;",
                    "`": "#96;"}


def mermaid_escape(text: str) -> str:
    """Text for a quoted Mermaid label: markup characters as entity codes."""
    return "".join(_MERMAID_ESCAPES.get(ch, ch) for ch in text)


def mermaid(graph: Structure, *, show_grad: bool = True) -> str:
    """The graph as a Mermaid flowchart (for Markdown): leaves at the bottom, arrows up
    to the output; same nodes, edges and colours as the DOT view."""
    describe = Describe(graph, show_grad, drawn=True)
    nodes, edges = _graph_items(graph)
    out = ["flowchart BT"]
    classes: dict = {}
    for nid, kind, i in nodes:
        label = "<br/>".join(mermaid_escape(t) for t in _label_lines(describe, kind, i))
        shape = ('(["', '"])') if kind in ("leaf", "constant") else ('["', '"]')
        out.append(f"  {nid}{shape[0]}{label}{shape[1]}")
        classes.setdefault(kind, []).append(nid)
    for src, dst, kind in edges:
        out.append(f"  {src} {'-.->' if kind == 'constant' else '-->'} {dst}")
    fills = {"op": "fill:#d3d3d3,stroke:#555", "accumulate": "fill:#d3d3d3,stroke:#555",
             "leaf": "fill:#add8e6,stroke:#333", "output": "fill:#caff70,stroke:#333",
             "constant": "fill:#e5e5e5,stroke:#999,stroke-dasharray:4 2,color:#555"}
    for kind, ids in classes.items():
        out.append(f"  classDef {kind} {fills[kind]}")
        out.append(f"  class {','.join(ids)} {kind}")
    return "\n".join(out) + "\n"
