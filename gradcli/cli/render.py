"""All terminal output of gradcli goes through here: numbers, arrays and rich tables.

rich is imported on first use only (``--format json`` and ``plain`` never load it).
No escape codes when stdout is not a terminal (rich's rule) or NO_COLOR is set.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from ..autograd.events import BackwardEvent, has

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


def output_text(value, shape, grad_fn, width: int) -> str:
    """The header's output line: the value as PyTorch prints it, then shape and grad_fn
    (below the value when it takes more than a line)."""
    from .layout import fitted
    text = fitted(value, width - 10)          # the header's label column: 10 wide
    tail = f"shape {fmt_shape(shape)}   grad_fn {grad_fn}"
    return _escape(text + ("\n" if "\n" in text else "   ") + tail)


def header_lines(program: str, result, upstream_text: str, width: int | None = None) -> list:
    rows = [("program", program_text(program))]
    if result.value is not None:
        rows.append(("output", output_text(result.value, result.shape, result.grad_fn,
                                           width or console().width)))
    elif getattr(result, "none_reason", None):
        rows.append(("output", f"None   ({_escape(result.none_reason)})"))
    rows.append(("upstream", _escape(upstream_text)))
    return [header(rows)]


def _status_cell(status: str, reason) -> str:
    return _status_text(status) + (f"\n[dim]{_escape(reason)}[/]" if reason else "")


def gradients_table(result, check: dict, width: int | None = None):
    """Gradients: a row per variable, or (tensors too wide for a row) a block each."""
    from . import layout
    width = width or console().width
    numeric = bool(check) and check.get("method") == "numeric"
    expected_title = "numeric value" if numeric else "SymPy value"
    details = check.get("variables", {}) if check else {}
    made = {r.name: r.value for r in result.graph if r.is_leaf}   # requires_grad_() leaves
    notes = {leaf.name: leaf.note for leaf in result.leaves if leaf.is_leaf}
    backward = has(result.events, BackwardEvent)
    rows = []
    for name, grad in result.grads.items():
        value = result.bound[name][0] if name in result.bound else made.get(name)
        d = details.get(name, {})
        status = d.get("status", check.get("status", "skipped") if check else "skipped")
        reason = d.get("reason")
        if grad is None and status == "passed" and name in notes:
            reason = notes[name]                # why .grad is None, in the Leaves' words
            if not backward:                    # nothing was differentiated into .grad:
                d = {}                          # no formula "0" that reads as d/dx = 0
        expected = d.get("expected")
        formula = d.get("formula") or ""
        if formula and d.get("element"):
            formula = f"{d['element']}: {formula}"
        rows.append((name, value, grad, formula, expected, status, reason))
    tensors = [[layout.natural(v) for v in (r[1], r[2])] +
               [layout.natural(r[4]) if r[4] is not None else ""] for r in rows]
    short = [[c, *(r[0] for r in rows)] for c in ("variable",)] + \
        [[c, *(t[i] for t in tensors)] for i, c in enumerate(("value", "gradient"))] + \
        [["SymPy formula", *(r[3][:24] for r in rows)],
         [expected_title, *(t[2] for t in tensors)],
         ["status", *(r[5] for r in rows)]]
    if layout.fits(short, width):
        table = _table("Gradients", "variable", ("value", {"no_wrap": True}),
                       ("gradient", {"no_wrap": True}), ("SymPy formula", {"overflow": "fold"}),
                       (expected_title, {"no_wrap": True}), "status")
        for (name, _, _, formula, _, status, reason), (v, g, e) in zip(rows, tensors):
            table.add_row(_escape(name), _escape(v), _escape(g), _escape(formula),
                          _escape(e), _status_cell(status, reason))
        return table
    first = max([len("variable")] + [len(r[0]) for r in rows])
    labels = ["value", "gradient", "SymPy formula", expected_title, "note"]
    room = layout.part_width(width, first, labels)
    items = []
    for name, value, grad, formula, expected, status, reason in rows:
        parts = [("value", layout.placed(value, room, width)),
                 ("gradient", layout.placed(grad, room, width))]
        if formula:
            parts.append(("SymPy formula", _folded(formula, room)))
        if expected is not None:
            parts.append((expected_title, layout.placed(expected, room, width)))
        if reason:
            parts.append(("note", _folded(reason, room)))
        items.append(([_escape(name), _status_text(status)], parts))
    return layout.Blocks("Gradients", ["variable", "status"], items)


def _folded(text: str, width: int) -> str:
    """Text in lines of at most ``width``, broken at spaces where it can be."""
    import textwrap
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def values_table(check: dict, width: int | None = None):
    """grad() results the program computed, each checked like a gradient."""
    from . import layout
    table = _table("grad() results", "value of", ("autograd", {"no_wrap": True}),
                   ("SymPy formula", {"overflow": "fold"}), ("SymPy value", {"no_wrap": True}),
                   "status")
    room = max(20, (width or console().width) // 3)
    for name, d in check.get("values", {}).items():
        table.add_row(_escape(name), _escape(layout.fitted(d.get("actual"), room)),
                      _escape(d.get("formula") or ""),
                      _escape(layout.fitted(d["expected"], room))
                      if d.get("expected") is not None else "",
                      _status_cell(d["status"], d.get("reason")))
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


def _shown_rows(rows: list, full: bool, gap: str) -> list:
    """The rows a table shows: all, or the first and last GRAPH_HEAD with a gap line."""
    if full or len(rows) <= GRAPH_LIMIT:
        return list(rows)
    return rows[:GRAPH_HEAD] + [gap.format(f"{len(rows) - 2 * GRAPH_HEAD:,}")] + \
        rows[-GRAPH_HEAD:]


def _table_or_blocks(title: str, columns: list, cells: list, long: tuple, width,
                     right: tuple = (), dim_first: bool = False, fast_right=(0,)):
    """A rich table when every cell fits on its natural lines within ``width``; else
    blocks, with the ``long`` columns (tensors, notes) under each row."""
    from . import layout
    if len(cells) > FAST_ROWS:
        return _PlainTable(title, columns, [[c] + [""] * (len(columns) - 1)
                                            if isinstance(c, str) else c for c in cells],
                           right=fast_right)
    width = width or console().width
    body = [c for c in cells if not isinstance(c, str)]
    if layout.fits([[h, *(row[i] for row in body)] for i, h in enumerate(columns)], width):
        return _rich_table(title, columns, cells, dim_first=dim_first)
    short = [i for i in range(len(columns)) if i not in long]
    long = list(long)
    while len(short) > 2 and not layout.fits(
            [[columns[i], *(row[i] for row in body)] for i in short], width):
        long.insert(0, short.pop())            # the line too wide: its last cell goes below
    first = max([len(columns[0])] + [len(row[0]) for row in body])
    room = layout.part_width(width, first, [columns[i] for i in long])
    items = []
    for row in cells:
        if isinstance(row, str):
            items.append((row, []))
            continue
        items.append(([_escape(row[i]) for i in short],
                      [(columns[i], _long_cell(row[i], room, width)) for i in long]))
    return layout.Blocks(title, [columns[i] for i in short], items, right=right)


class _Tensor(str):
    """A cell holding a tensor's natural body, and the value to lay out again."""

    def __new__(cls, value):
        from .layout import natural
        self = super().__new__(cls, natural(value))
        self.value = value
        return self


def _long_cell(cell, room: int, width: int) -> str:
    from .layout import placed
    if isinstance(cell, _Tensor):
        return placed(cell.value, room, width)
    return _folded(cell, room)


def graph_table(rows, full: bool = False, width: int | None = None):
    cells = []
    for item in _shown_rows(list(enumerate(rows)), full,
                            "... {} more nodes (--full-graph shows all)"):
        index, row = (None, item) if isinstance(item, str) else item
        if isinstance(row, str):
            cells.append(row)
            continue
        cells.append([str(index), row.name, row.grad_fn or "", ", ".join(row.inputs),
                      fmt_shape(row.shape), _Tensor(row.value), str(row.requires_grad),
                      str(row.is_leaf), _Tensor(row.grad)])
    return _table_or_blocks("Graph", GRAPH_COLUMNS, cells, (5, 8), width, right=(0,),
                            dim_first=True)


LEAF_COLUMNS = ["tensor", "requires_grad", "is_leaf", "grad_fn", "grad", "note"]


def leaves_table(leaves, full: bool = False, width: int | None = None):
    # leaves only, and those the program names: a non-leaf's or a literal's (%1) row
    # is in the Graph table
    leaves = [leaf for leaf in leaves if leaf.is_leaf and not leaf.name.startswith("%")]
    cells = [leaf if isinstance(leaf, str) else
             [leaf.name, str(leaf.requires_grad), str(leaf.is_leaf), str(leaf.grad_fn),
              _Tensor(leaf.grad), leaf.note]
             for leaf in _shown_rows(leaves, full, "... {} more")]
    return _table_or_blocks("Leaves", LEAF_COLUMNS, cells, (4, 5), width, fast_right=())


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
            # (an error's size, to three digits: 1.67e-10, not 1.667632698598709e-10)
            text += f", max abs error {float(check['max_abs_err']):.3g}"
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
