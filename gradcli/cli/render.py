"""All terminal output of gradcli goes through here: numbers, arrays and rich tables.

rich is imported on first use only (``--format json`` and ``plain`` never load it).
Colour follows rich's rules: none when stdout is not a terminal or NO_COLOR is set.
"""

from __future__ import annotations

import sys

import numpy as np

GRAPH_HEAD = 15         # a long graph shows its first and last rows only
GRAPH_LIMIT = 2 * GRAPH_HEAD + 10


def fmt_number(x) -> str:
    """Shortest text that reads back as the same float (42.0 -> '42')."""
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    text = repr(x)
    return text[:-2] if text.endswith(".0") else text


def fmt_value(a, *, threshold: int = 12) -> str:
    """A number or an array, compactly; large arrays summarised with their shape."""
    if a is None:
        return "None"
    if not isinstance(a, np.ndarray) or a.ndim == 0:
        return fmt_number(a)
    text = np.array2string(a, separator=", ", threshold=threshold, edgeitems=3,
                           max_line_width=60, formatter={"float_kind": fmt_number})
    if a.size > threshold:
        text += f"  (shape {list(a.shape)})"
    return text


def fmt_shape(shape) -> str:
    return "()" if shape is None or len(shape) == 0 else "(" + ", ".join(map(str, shape)) + \
        ("," if len(shape) == 1 else "") + ")"


def console(stderr: bool = False):
    from rich.console import Console
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _status_text(status: str) -> str:
    style = {"passed": "green", "failed": "bold red", "skipped": "yellow"}.get(status, "")
    return f"[{style}]{status}[/]" if style else status


def _table(title: str, *columns):
    from rich import box
    from rich.table import Table
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False)
    for col in columns:
        if isinstance(col, tuple):
            table.add_column(col[0], **col[1])
        else:
            table.add_column(col)
    return table


def _escape(text: str) -> str:
    from rich.markup import escape
    return escape(text)


def header_lines(program: str, result, upstream_text: str) -> list:
    lines = [f"[bold]program[/]  {_escape(program.strip())}"]
    if result.value is not None:
        lines.append(f"[bold]output[/]   {_escape(fmt_value(result.value))}   "
                     f"shape {fmt_shape(result.shape)}   grad_fn {result.grad_fn}")
    lines.append(f"[bold]upstream[/] {_escape(upstream_text)}")
    return lines


def gradients_table(result, check: dict):
    table = _table("Gradients", "variable", "value", "gradient", "SymPy formula",
                   "SymPy value", "status")
    details = check.get("variables", {}) if check else {}
    for name, grad in result.grads.items():
        leaf = result.variables.get(name)
        value = leaf.data if leaf is not None else None
        d = details.get(name, {})
        status = d.get("status", check.get("status", "skipped") if check else "skipped")
        reason = d.get("reason")
        table.add_row(_escape(name), _escape(fmt_value(value)), _escape(fmt_value(grad)),
                      _escape(d.get("formula") or ""), _escape(fmt_value(d["expected"]))
                      if d.get("expected") is not None else "",
                      _status_text(status) + (f"\n[dim]{_escape(reason)}[/]" if reason else ""))
    return table


def graph_table(rows, full: bool = False):
    table = _table("Graph", ("#", {"justify": "right", "style": "dim"}), "node", "grad_fn",
                   "inputs", "shape", "value", "requires_grad", "is_leaf", "grad")
    shown = list(enumerate(rows))
    if not full and len(rows) > GRAPH_LIMIT:
        hidden = len(rows) - 2 * GRAPH_HEAD
        shown = shown[:GRAPH_HEAD] + [(None, hidden)] + shown[-GRAPH_HEAD:]
    for index, row in shown:
        if index is None:
            table.add_row("", f"[dim]... {row:,} more nodes (--full-graph shows all)[/]",
                          *[""] * 7)
            continue
        table.add_row(str(index), _escape(row.name), row.grad_fn or "", _escape(", ".join(
            row.inputs)), fmt_shape(row.shape), _escape(fmt_value(row.value, threshold=6)),
            str(row.requires_grad), str(row.is_leaf),
            _escape(fmt_value(row.grad, threshold=6)))
    return table


def leaves_table(leaves, full: bool = False):
    table = _table("Leaves", "tensor", "requires_grad", "is_leaf", "grad_fn", "grad", "note")
    rows = leaves if full or len(leaves) <= GRAPH_LIMIT else \
        leaves[:GRAPH_HEAD] + [None] + leaves[-GRAPH_HEAD:]
    for leaf in rows:
        if leaf is None:
            table.add_row(f"[dim]... {len(leaves) - 2 * GRAPH_HEAD:,} more[/]", *[""] * 5)
            continue
        table.add_row(_escape(leaf.name), str(leaf.requires_grad), str(leaf.is_leaf),
                      leaf.grad_fn or "", _escape(fmt_value(leaf.grad, threshold=6)),
                      _escape(leaf.note))
    return table


def check_lines(check: dict) -> list:
    if not check:
        return []
    method = check.get("method")
    text = f"[bold]check[/]    {_status_text(check['status'])}"
    if method and method != "none":
        text += f" ({method}"
        if check.get("max_abs_err") is not None:
            text += f", max abs error {fmt_number(check['max_abs_err'])}"
        text += ")"
    if check.get("reason"):
        text += f" — {_escape(check['reason'])}"
    lines = [text]
    for name, e in (check.get("expect") or {}).items():
        lines.append(f"[bold]expect[/]   {_escape(name)}: {_status_text(e['status'])} "
                     f"(expected {_escape(fmt_value(e['expected']))}, got "
                     f"{_escape(fmt_value(e['actual']))})")
    return lines


def print_error(exc) -> None:
    """One clear message on stderr, with the source line and a caret when known."""
    where = exc.where()
    message = f"error: {exc.message}" + (f" at {where}" if where else "")
    context = exc.context()
    sys.stderr.write(message + ("\n" + context if context else "") + "\n")
