"""All terminal output of gradcli goes through here: numbers, arrays and rich tables.

rich is imported on first use only (``--format json`` and ``plain`` never load it).
No escape codes when stdout is not a terminal (rich's rule) or NO_COLOR is set.
"""

from __future__ import annotations

import os
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


def fmt_value(a, *, threshold: int = 12, with_shape: bool = True) -> str:
    """A number or an array, compactly; large arrays summarised with their shape."""
    if a is None:
        return "None"
    if not isinstance(a, np.ndarray) or a.ndim == 0:
        return fmt_number(a)
    summarised = a.size > threshold
    # a summary is a glance: 8 significant digits (full precision: --format json/plain)
    element = (lambda x: fmt_number(float(f"{x:.8g}"))) if summarised else fmt_number
    text = np.array2string(a, separator=", ", threshold=threshold, edgeitems=3,
                           max_line_width=60, formatter={"float_kind": element})
    if summarised and with_shape:
        text += f"  (shape {list(a.shape)})"
    return text


def fmt_shape(shape) -> str:
    return "()" if shape is None or len(shape) == 0 else "(" + ", ".join(map(str, shape)) + \
        ("," if len(shape) == 1 else "") + ")"


def console(stderr: bool = False):
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich's default is SystemExit(1), which reads as "check failed": hand the
            # error to the command instead (cli.errors ends quietly, with the real status)
            self.quiet = True
            raise BrokenPipeError

        def _render_buffer(self, buffer) -> str:
            text = super()._render_buffer(buffer)
            if self.is_terminal:
                return text
            # a file or a pipe gets no padding at the ends of lines (tables pad every cell)
            return "\n".join(line.rstrip(" ") for line in text.split("\n"))

    # rich alone keeps bold/dim under NO_COLOR; no-color.org asks for no escape codes at all
    plain = bool(os.environ.get("NO_COLOR"))
    return _Console(stderr=stderr, highlight=False, soft_wrap=False,
                    **({"color_system": None} if plain else {}))


def _status_text(status: str) -> str:
    style = {"passed": "green", "failed": "bold red", "skipped": "yellow",
             "partial": "yellow"}.get(status, "")
    return f"[{style}]{status}[/]" if style else status


def _table(title: str, *columns):
    from rich import box
    from rich.table import Table
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False, collapse_padding=True)
    for col in columns:
        if isinstance(col, tuple):
            table.add_column(col[0], **col[1])
        else:
            table.add_column(col)
    return table


def _escape(text: str) -> str:
    from rich.markup import escape
    return escape(text)


PROGRAM_LINES = 12      # the header shows at most this many lines of the program
PROGRAM_CHARS = 200     # ... and of each line, this many characters


def program_text(program: str) -> str:
    """The program for the header: its code lines (not blank or comment-only ones), a
    long program (a 100 000-term chain) cut short with a note of how much was left out."""
    lines = [line.rstrip() for line in program.strip().split("\n")]
    code = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    lines = code or lines     # a file's comment header is not the program
    shown = []
    for line in lines[:PROGRAM_LINES]:
        if len(line) > PROGRAM_CHARS:
            line = line[:PROGRAM_CHARS] + f"… ({len(line):,} characters)"
        shown.append(line)
    if len(lines) > PROGRAM_LINES:
        shown.append(f"… ({len(lines) - PROGRAM_LINES:,} more lines)")
    return "\n".join(_escape(line) for line in shown)


def header(rows):
    """Label/text rows as a grid: text that wraps stays indented under its column."""
    from rich.table import Table
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        grid.add_row(label, text)
    return grid


def header_lines(program: str, result, upstream_text: str) -> list:
    rows = [("program", program_text(program))]
    if result.value is not None:
        rows.append(("output", f"{_escape(fmt_value(result.value))}   "
                     f"shape {fmt_shape(result.shape)}   grad_fn {result.grad_fn}"))
    elif getattr(result, "none_reason", None):
        rows.append(("output", f"None   ({_escape(result.none_reason)})"))
    rows.append(("upstream", _escape(upstream_text)))
    return [header(rows)]


def gradients_table(result, check: dict):
    numeric = bool(check) and check.get("method") == "numeric"
    table = _table("Gradients", "variable", "value", "gradient", "SymPy formula",
                   "numeric value" if numeric else "SymPy value", "status")
    details = check.get("variables", {}) if check else {}
    made = {r.name: r.value for r in result.graph if r.is_leaf}   # requires_grad_() leaves
    notes = {leaf.name: leaf.note for leaf in result.leaves if leaf.is_leaf}
    backward = any(e[0] == "backward" for e in result.events)
    for name, grad in result.grads.items():
        value = result.bound[name][0] if name in result.bound else made.get(name)
        d = details.get(name, {})
        status = d.get("status", check.get("status", "skipped") if check else "skipped")
        reason = d.get("reason")
        if grad is None and status == "passed" and name in notes:
            reason = notes[name]                # why .grad is None, in the Leaves' words
            if not backward:                    # nothing was differentiated into .grad:
                d = {}                          # no formula "0" that reads as d/dx = 0
        table.add_row(_escape(name), _escape(fmt_value(value)), _escape(fmt_value(grad)),
                      _escape(d.get("formula") or ""), _escape(fmt_value(d["expected"]))
                      if d.get("expected") is not None else "",
                      _status_text(status) + (f"\n[dim]{_escape(reason)}[/]" if reason else ""))
    return table


def values_table(check: dict):
    """grad() results the program computed, each checked like a gradient."""
    table = _table("grad() results", "value of", "autograd", "SymPy formula", "SymPy value",
                   "status")
    for name, d in check.get("values", {}).items():
        reason = d.get("reason")
        table.add_row(_escape(name), _escape(fmt_value(d.get("actual"))),
                      _escape(d.get("formula") or ""),
                      _escape(fmt_value(d["expected"])) if d.get("expected") is not None
                      else "",
                      _status_text(d["status"]) + (f"\n[dim]{_escape(reason)}[/]"
                                                   if reason else ""))
    return table


FAST_ROWS = 2000        # a longer table skips rich's layout (a 100 000-row --full-graph)


class _PlainTable:
    """A long table laid out in one pass.

    rich measures and wraps every cell of a Table: about a millisecond a row, minutes
    for a 100 000-node graph.  Here each column is as wide as its widest cell, each row
    is one line (print it with ``crop=False``: nothing is cut at the terminal width).
    """

    def __init__(self, title: str, headers: list, rows: list, right: tuple = (0,)):
        self.title, self.headers, self.rows, self.right = title, headers, rows, right

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style
        rows = [[cell.replace("\n", "") for cell in row] for row in self.rows]
        widths = [len(h) for h in self.headers]
        for row in rows:
            for i, cell in enumerate(row):
                if len(cell) > widths[i]:
                    widths[i] = len(cell)

        def line(cells) -> str:
            return "  ".join(c.rjust(w) if i in self.right else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        bold = Style(bold=True)
        yield Segment(self.title, bold)
        yield Segment.line()
        yield Segment(line(self.headers), bold)
        yield Segment.line()
        yield Segment("─" * (sum(widths) + 2 * (len(widths) - 1)))
        yield Segment.line()
        for row in rows:
            yield Segment(line(row))
            yield Segment.line()


def _rich_table(title: str, columns: list, rows: list, dim_first: bool = False):
    table = _table(title, *[(c, {"justify": "right", "style": "dim"}) if i == 0 and dim_first
                            else (c, {"no_wrap": True}) if c in NO_WRAP else c
                            for i, c in enumerate(columns)])
    for row in rows:
        if isinstance(row, str):                 # a gap: "... N more"
            table.add_row(*([""] if dim_first else []), f"[dim]{_escape(row)}[/]",
                          *[""] * (len(columns) - 1 - dim_first))
        else:
            table.add_row(*[_escape(cell) for cell in row])
    return table


NO_WRAP = {"grad_fn", "shape"}     # names that read badly cut: values wrap instead

GRAPH_COLUMNS = ["#", "node", "grad_fn", "inputs", "shape", "value", "requires_grad",
                 "is_leaf", "grad"]


def graph_table(rows, full: bool = False):
    shown = list(enumerate(rows))
    if not full and len(rows) > GRAPH_LIMIT:
        hidden = len(rows) - 2 * GRAPH_HEAD
        shown = shown[:GRAPH_HEAD] + [(None, hidden)] + shown[-GRAPH_HEAD:]
    cells = []
    for index, row in shown:
        if index is None:
            cells.append(f"... {row:,} more nodes (--full-graph shows all)")
            continue
        cells.append([str(index), row.name, row.grad_fn or "", ", ".join(row.inputs),
                      fmt_shape(row.shape), fmt_value(row.value, threshold=6, with_shape=False),
                      str(row.requires_grad), str(row.is_leaf),
                      fmt_value(row.grad, threshold=6, with_shape=False)])
    if len(cells) > FAST_ROWS:
        return _PlainTable("Graph", GRAPH_COLUMNS, cells)
    return _rich_table("Graph", GRAPH_COLUMNS, cells, dim_first=True)


LEAF_COLUMNS = ["tensor", "requires_grad", "is_leaf", "grad_fn", "grad", "note"]


def leaves_table(leaves, full: bool = False):
    # leaves only, and those the program names: a non-leaf's or a literal's (%1) row
    # is in the Graph table
    leaves = [leaf for leaf in leaves if leaf.is_leaf and not leaf.name.startswith("%")]
    rows = leaves if full or len(leaves) <= GRAPH_LIMIT else \
        leaves[:GRAPH_HEAD] + [None] + leaves[-GRAPH_HEAD:]
    cells = [f"... {len(leaves) - 2 * GRAPH_HEAD:,} more" if leaf is None else
             [leaf.name, str(leaf.requires_grad), str(leaf.is_leaf), str(leaf.grad_fn),
              fmt_value(leaf.grad, threshold=6), leaf.note] for leaf in rows]
    if len(cells) > FAST_ROWS:
        return _PlainTable("Leaves", LEAF_COLUMNS, cells, right=())
    return _rich_table("Leaves", LEAF_COLUMNS, cells)


def non_leaves_line(leaves):
    """Below the Leaves table: the named tensors that are not leaves, and why their .grad
    is None (the Graph table has their rows)."""
    names = [leaf.name for leaf in leaves if not leaf.is_leaf and leaf.grad is None]
    if not names:
        return None
    shown = ", ".join(names[:GRAPH_HEAD]) + (f", … ({len(names) - GRAPH_HEAD:,} more)"
                                             if len(names) > GRAPH_HEAD else "")
    return (f"[dim]not leaves: {_escape(shown)} (a non-leaf's .grad stays None unless "
            f"retain_grad() was called on it)[/]")


def check_lines(check: dict) -> list:
    if not check:
        return []
    method = check.get("method")
    text = f"[bold]check[/]     {_status_text(check['status'])}"
    if method and method != "none":
        text += f" ({method}"
        if check.get("max_abs_err") is not None:
            text += f", max abs error {fmt_number(check['max_abs_err'])}"
        text += ")"
    if check.get("reason"):
        text += f" — {_escape(check['reason'])}"
    lines = [text]
    for name, e in (check.get("expect") or {}).items():
        lines.append(f"[bold]expect[/]    {_escape(name)}: {_status_text(e['status'])} "
                     f"(expected {_escape(fmt_value(e['expected']))}, got "
                     f"{_escape(fmt_value(e['actual']))})"
                     + (f" — {_escape(e['reason'])}" if e.get("reason") else ""))
    return lines


def print_error(exc) -> None:
    """One clear message on stderr, with the source line and a caret when known; user
    text in it shows its control characters as escapes (never raw to the terminal)."""
    from ..errors import visible
    where = exc.where()
    text = visible(exc.message)
    if where and exc.message.rstrip().endswith((".", "?", "!")):
        # a full sentence (PyTorch's own wording, "did you mean ...?"): place first
        message = f"error at {where}: {text}"
    else:
        message = f"error: {text}" + (f" at {where}" if where else "")
    context = exc.context()
    sys.stderr.write(message + ("\n" + context if context else "") + "\n")
