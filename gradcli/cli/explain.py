"""`grad --explain`: the chain rule, node by node, in the order the engine runs it.

An :class:`Explainer` watches the backward pass (``on_node`` is the engine's hook):
for every node it keeps the gradient that arrived and the gradients it sent on, and
for every leaf what was added to its ``.grad``.  After evaluation, :meth:`steps` names
each node after the program's values (through the result's graph rows) and writes the
local derivatives from the op table's formulas with the values plugged in::

    4. MulBackward0  %1 = x1*x2
       upstream gradient 14
       d/d x1 (x1*x2) = x2 = 3  -> x1 gets 14 * 3 = 42
       d/d x2 (x1*x2) = x1 = 2  -> x2 gets 14 * 2 = 28
    5. AccumulateGrad  x1.grad += 42   (x1.grad = 42)

A step is a dict: ``{"index", "call" (which backward() of the program), "kind": "node",
"node", "grad_fn", "expr", "upstream", "inputs": [{"name", "local", "local_value"
(elementwise ops), "grad", "chain"}]}`` or ``{"index", "call", "kind": "accumulate",
"leaf", "added", "grad"}``; either may carry ``"paths"`` (how many gradients were
summed into what arrived) and ``"summed"`` (those gradients, when few).  Values are
JSON data (jsonout.array); texts round them to DIGITS significant digits.
"""

from __future__ import annotations

import re

import numpy as np

from ..autograd import tape as _tape
from ..autograd.ops.core import Prose
from ..autograd.tensor import Tensor
from .graphview import Structure, compact, expression, input_symbols
from .jsonout import array as json_value
from .render import fmt_number, fmt_shape

LIMIT = 10                 # a long trace shows its first and last LIMIT steps
FAST_RENDER = 300          # more steps than this print as plain lines (no wrapping)
MAX_TERMS = 4              # a gradient summed from more paths shows the count only
DIGITS = 6                 # significant digits of values in the text (JSON has them exact)

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def _data(g):
    return g.data if isinstance(g, Tensor) else g


class Explainer:
    """Collects the steps of every backward pass a program runs."""

    def __init__(self):
        self._raw: list = []        # (call, node, grad, input grads, leaf grad after)
        self._calls = 0
        self._scanned = 0
        self._call_text: dict = {}

    # -- while the engine runs ---------------------------------------------------------------
    def on_node(self, node, grad, input_grads) -> None:
        tape = _tape.current()
        if tape is not None:        # each backward() the program runs logs an event first
            events = tape.events
            for i in range(self._scanned, len(events)):
                if events[i].kind == "backward":
                    self._calls += 1
            self._scanned = len(events)
        call = max(self._calls, 1)
        variable = getattr(node, "variable", None)
        after = None
        if variable is not None and variable.grad is not None:
            after = variable.grad.data.copy()      # later backward calls add in place
        self._raw.append((call, node, _data(grad),
                          [_data(g) for g in input_grads] if input_grads else [], after))

    # -- after evaluation ------------------------------------------------------------------
    def steps(self, result, limit=None, first: int = 0) -> list:
        """Every step as a JSON-ready dict (see the module docstring for what it holds).
        With ``limit``, a long trace keeps its first and last ``limit`` steps and one
        ``{"kind": "gap", "count": K}`` in between (the rest is never worked out).
        ``first``: only the steps after the first ``first`` (a script's latest call),
        numbered as in the whole trace."""
        graph = Structure(result)
        self._call_text = {}
        for k, call in enumerate(graph.backward_roots, 1):
            name = graph.name_of_tensor(call.root)
            text = f"implicit backward of the output {name}" if call.implicit else \
                f"backward({name})"
            if call.gradient is not None:
                text += f" with gradient {_c(call.gradient)}"
            self._call_text[k] = text
        out = []
        incoming: dict = {}         # node -> the gradients sent to it in this call
        current_call = None
        total = len(self._raw)
        hidden = range(0)
        if limit is not None and total > 2 * limit + 2:
            hidden = range(limit + 1, total - limit + 1)
        for index, (call, node, g, grads, after) in enumerate(self._raw[first:], first + 1):
            if call != current_call:
                incoming, current_call = {}, call
            arrived = incoming.pop(node, ())
            variable = getattr(node, "variable", None)
            if index in hidden:
                for nxt, gk in zip(node.next_edges, grads):
                    if nxt is not None and gk is not None:
                        incoming.setdefault(nxt, []).append(gk)
                if index == hidden.start:
                    out.append({"index": index, "call": call, "kind": "gap",
                                "count": len(hidden)})
                continue
            if variable is not None:
                step = {"index": index, "call": call, "kind": "accumulate",
                        "leaf": graph.name_of_tensor(variable), "added": json_value(g),
                        "grad": json_value(after)}
            else:
                step = _node_step(graph, index, call, node, g, grads)
                for nxt, gk in zip(node.next_edges, grads):
                    if nxt is not None and gk is not None:
                        incoming.setdefault(nxt, []).append(gk)
            if len(arrived) > 1:    # the multivariate chain rule: paths add up
                step["paths"] = len(arrived)
                if len(arrived) <= MAX_TERMS:
                    step["summed"] = [json_value(a) for a in arrived]
            out.append(step)
        return out

    def forget(self, upto: int) -> None:
        """Let go of the arrays of the first ``upto`` steps (shown already); later steps
        keep their numbers."""
        for k in range(upto):
            if self._raw[k] is not None:
                call, node = self._raw[k][:2]
                self._raw[k] = (call, node, None, [], None)

    # -- showing them ----------------------------------------------------------------------
    def render(self, console, steps, limit=LIMIT) -> None:
        """Print the steps on a rich console, numbered (long traces summarised)."""
        from rich.table import Table
        from rich.text import Text
        console.print(Text("Chain rule, node by node (in the order backward runs)",
                           style="bold"))
        if not steps:
            console.print(Text("  (no backward pass ran)", style="dim"))
            return
        items = _shown(steps, limit, self._call_text)
        if len(items) > FAST_RENDER:    # --full-graph on a long trace: plain lines, fast
            console.print("\n".join(self.plain_lines(steps, limit)), markup=False,
                          highlight=False, soft_wrap=True)
            console.print()
            return
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", style="dim", no_wrap=True)
        grid.add_column()
        for item in items:
            if isinstance(item, str):                  # a call header or the gap
                grid.add_row("", Text(item, style="bold" if item.startswith("backward")
                                      else "dim"))
                continue
            head, body = _lines(item, console.width - len(str(steps[-1]["index"])) - 3)
            text = Text(head, style="bold")
            for line in body:
                text.append("\n" + line, style="")
            grid.add_row(f"{item['index']}.", text)
        console.print(grid)
        console.print()

    def plain_lines(self, steps, limit=LIMIT) -> list:
        """The same explanation as plain text lines (for --format plain)."""
        if not steps:
            return ["(no backward pass ran)"]
        width = len(str(steps[-1]["index"])) + 1
        lines = []
        for item in _shown(steps, limit, self._call_text):
            if isinstance(item, str):
                lines.append(item)
                continue
            head, body = _lines(item)
            lines.append(f"{item['index']}.".rjust(width) + " " + head)
            lines.extend(" " * (width + 1) + line for line in body)
        return lines


def _shown(steps, limit, call_text) -> list:
    """The steps to show, with call headers and a '... K more steps' gap."""
    calls = len({s["call"] for s in steps})
    chosen = list(steps)
    if limit is not None and len(steps) > 2 * limit + 2:
        chosen = steps[:limit] + [{"kind": "gap", "call": None,
                                   "count": len(steps) - 2 * limit}] + steps[-limit:]
    items = []
    last_call = None
    for step in chosen:
        if step["kind"] == "gap":
            items.append(f"... {step['count']:,} more steps (--full-graph shows all)")
            continue
        if calls > 1 and step["call"] != last_call:
            text = call_text.get(step["call"])
            items.append(f"backward call {step['call']}" + (f": {text}" if text else ""))
        last_call = step["call"]
        items.append(step)
    return items


_SCALAR_TEXT: dict = {}


def _c(value) -> str:
    """A value in the explanation's text (scalars memoised: long chains repeat them)."""
    if isinstance(value, (float, np.floating)) or (
            isinstance(value, np.ndarray) and value.ndim == 0):
        x = float(value)
        text = _SCALAR_TEXT.get(x) if x else None
        if text is None:
            text = compact(x, digits=DIGITS)
            if x and len(_SCALAR_TEXT) < 10_000:
                _SCALAR_TEXT[x] = text
        return text
    return compact(value, digits=DIGITS)


def _show(value) -> str:
    """A JSON value (numbers, nested lists, 'NaN' strings) compactly."""
    if value is None:
        return "None"
    if isinstance(value, list):
        return _c(np.array(value, dtype=object).astype(float))
    return _c(float(value))


def _lines(step, width=None) -> tuple:
    """A step as its heading and body lines; an input's local derivative and what it
    passes on share a line when it fits in ``width`` (None: always)."""
    if step["kind"] == "accumulate":
        leaf = step["leaf"]
        head = f"AccumulateGrad  {leaf}.grad += {_show(step['added'])}"
        now = f"({leaf}.grad = {_show(step['grad'])})"
        body = [_paths(step)] if "paths" in step else []
        if width is None or len(head) + len(now) + 3 <= width:
            return f"{head}   {now}", body
        return head, [now] + body
    head = f"{step['grad_fn']}  {step['node']} = {step['expr']}"
    if step["upstream"] is None:
        return head, ["no gradient arrived: nothing to pass on"]
    body = [f"upstream gradient {_show(step['upstream'])}"]
    if "paths" in step:
        body.append(_paths(step))
    pairs = [(inp.get("local") or "", f"-> {inp['name']} gets {inp['chain']}")
             for inp in step["inputs"]]
    column = max((len(local) for local, _ in pairs), default=0)
    one_line = width is None or all(len(p) + column + 2 <= width for _, p in pairs)
    for local, passes in pairs:
        if not local:
            body.append(passes)
        elif one_line:
            body.append(f"{local.ljust(column)}  {passes}")
        else:
            body.extend([local, "  " + passes])
    if not step["inputs"]:
        body.append("(no input requires grad)")
    return head, body


# -- one node's step ----------------------------------------------------------------------

def _paths(step) -> str:
    """How the gradient that arrived was summed from several paths."""
    if "summed" not in step:
        return f"  summed over {step['paths']:,} paths"
    terms = [_show(v) for v in step["summed"]]
    text = terms[0] + "".join(f" - {t[1:]}" if t.startswith("-") else f" + {t}"
                              for t in terms[1:])
    return f"  summed over {step['paths']} paths: {text}"


def _node_step(graph: Structure, index, call, node, g, grads) -> dict:
    i = graph.row_of_node.get(node)
    op = node.op
    gnode = graph.nodes[i] if i is not None else None
    if gnode is not None:
        labels = [graph.input_label(gnode, k) for k in range(len(gnode.inputs))]
        values = [graph.input_value(gnode, k) for k in range(len(gnode.inputs))]
        out_value = gnode.row.value
        name = gnode.row.name
    else:                                   # a node the graph rows do not list
        labels = [graph.name_of_node(e) if e is not None else "?" for e in node.next_edges]
        values = out_value = None
        name = f"({node.name})"
    expr = expression(op, labels, node.params)
    step = {"index": index, "call": call, "kind": "node", "node": name,
            "grad_fn": node.name, "expr": expr,
            "upstream": None if g is None else json_value(g), "inputs": []}
    if g is None:
        return step
    local = _Local(op, labels, values, out_value, node.params, expr)
    upstream = _c(g)
    for k, gk in enumerate(grads):
        if gk is None:
            continue
        label = labels[k] if k < len(labels) else "?"
        text, local_value = local.derivative(k, label)
        if local_value is not None:
            factor = _c(local_value)
            chain = f"{upstream} * {f'({factor})' if factor.startswith('-') else factor}"
            if np.broadcast_shapes(np.shape(g), np.shape(local_value)) != np.shape(gk):
                chain += f", summed to shape {fmt_shape(np.shape(gk))}"   # unbroadcast
            chain += f" = {_c(gk)}"
        else:
            chain = _c(gk)
        entry = {"name": label, "local": text, "grad": json_value(gk), "chain": chain}
        if local_value is not None:
            entry["local_value"] = json_value(local_value)
        step["inputs"].append(entry)
    return step


class _Local:
    """The local derivatives of one node: formulas from the op table, with the inputs'
    names and (for scalars) values plugged in."""

    def __init__(self, op, labels, values, out_value, params, expr):
        self.op, self.labels, self.values = op, labels, values
        self.out_value, self.params, self.expr = out_value, params, expr
        self.symbols = input_symbols(op)
        names: dict = {}
        for s, lb in zip(self.symbols, labels):
            names[s] = names[s.upper()] = lb
        for key, v in params.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                names[key] = fmt_number(v)
        self.count = _count(op, values, out_value, params)
        self.names = names
        self._plugged = None

    def plugged(self):
        """Symbol -> value text, or None when some input is not a scalar."""
        if self._plugged is None:
            plugged = dict(self.names)
            if self.count is not None:
                plugged["N"] = str(self.count)
            for s, v in zip(self.symbols, self.values):
                if np.size(v) != 1:
                    self._plugged = False
                    return None
                plugged[s] = plugged[s.upper()] = _c(v)
            self._plugged = plugged
        return self._plugged or None

    def derivative(self, k, label):
        """The text of d(out)/d(input k), and its value where it is one elementwise
        factor of the chain rule (None for reductions, products, views)."""
        op, values = self.op, self.values
        formulas = op.derivative
        formula = formulas[0] if op.variadic and formulas else (
            formulas[k] if k < len(formulas) else None)
        local_value = None
        if op.elementwise and values is not None and self.out_value is not None:
            local_value = _vjp_of_ones(op, k, values, self.out_value, self.params)
        head = f"d/d {label} ({self.expr})"
        if formula is None:
            return ("", None) if local_value is None else \
                (f"{head} = {_c(local_value)}", local_value)
        names = self.names
        if op.name == "pow" and values is not None:        # x**n: n*x**(n-1), simplified
            plugged = self.plugged()
            named, filled = _power_rule(self.labels[0], plugged and plugged.get("x"),
                                        values[1])
        elif isinstance(formula, Prose):     # the op table marks words as prose
            where = ", ".join(f"{s} = {names[s]}" for s in self.symbols
                              if names[s] != s and re.search(rf"\b{s}\b", formula))
            return f"{head}: {formula}" + (f" ({where})" if where else ""), local_value
        else:
            named = _substitute(formula, names)
            plugged = self.plugged() if values is not None else None
            if not plugged and self.count is not None:      # N is known even for tensors
                plugged = {**names, "N": str(self.count)}
            filled = _substitute(formula, plugged) if plugged else None
            if re.search(r"\bg\b", formula):
                named += "  (g = upstream)"
        parts = [head, named]
        if filled is not None:
            parts.append(filled)
        if local_value is not None:
            parts.append(_c(local_value))
        deduped = [parts[0]]
        for p in parts[1:]:
            if p != deduped[-1]:
                deduped.append(p)
        return " = ".join(deduped), local_value


def _power_rule(base: str, base_value, n):
    """x**n's derivative written as a teacher would: 2*x, 3*x**2, -1.5*x**(-2.5)."""
    n = float(n)
    if n in (0, 1):
        return fmt_number(n), None          # d/dx 1 = 0, d/dx x = 1
    coef, exp = fmt_number(n), fmt_number(n - 1)
    power = "" if n == 2 else "**" + (exp if n >= 1 else f"({exp})")

    def term(b):
        return f"{coef}*{f'({b})' if b.startswith('-') else b}{power}"
    return term(base), (term(base_value) if base_value is not None else None)


def _substitute(formula: str, mapping: dict) -> str:
    def repl(m):
        text = mapping.get(m.group(0))
        if text is None:
            return m.group(0)
        return f"({text})" if text.startswith("-") else text
    return _TOKEN.sub(repl, formula)


def _count(op, values, out_value, params):
    """N of a derivative text that uses it (mean, a loss's mean): how many elements are
    averaged into each output element."""
    if values is None or out_value is None or not any(
            isinstance(d, str) and re.search(r"\bN\b", d) for d in op.derivative):
        return None
    if params.get("reduction") in ("sum", "none"):
        return 1
    shapes = [np.shape(v) for v in values if v is not None]
    try:
        size = int(np.prod(np.broadcast_shapes(*shapes)))
    except ValueError:
        size = max(int(np.prod(s)) for s in shapes)
    return size // max(int(np.size(out_value)), 1) if size else 0


def _vjp_of_ones(op, k, values, out_value, params):
    """The elementwise local derivative: the op's own VJP with an upstream of ones."""
    vjp = op.vjps[k] if k < len(op.vjps) else None
    if vjp is None:
        return None
    from ..autograd.function import ARRAY_OPS
    ones = np.ones(np.shape(out_value), dtype=np.result_type(out_value, np.float64))
    try:
        with np.errstate(all="ignore"):
            local = vjp(ARRAY_OPS, ones, *values, out_value, **params)
    except Exception:  # noqa: BLE001 - an explanation must never break the command
        return None
    local = np.asarray(local)
    if local.size > 1 and np.all(local == local.reshape(-1)[0]):
        local = local.reshape(-1)[0]      # a constant factor reads better as a number
    return local
