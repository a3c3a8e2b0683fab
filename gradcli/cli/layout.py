"""Tensors in tables, as PyTorch prints them, within the terminal's width.

A table cell holds a tensor's body (``[[ 0.1257, -0.1321], ...]``, ``0.3000``) from
:func:`gradcli.autograd.tensor_str.format_body`: 4 decimals unless ``--precision``
says otherwise, rows of a matrix on their own lines, float32 values read as float32.

A table whose tensors fit their columns with every matrix row on one line is laid out
as a row per item (:func:`fits`).  Otherwise it becomes a :class:`Blocks` layout: the
short cells on the item's line, each tensor below it, labelled, laid out as PyTorch
lays it out at the width that is left.  No number is ever cut: a line is only broken
between elements, as PyTorch breaks a long row.
"""

from __future__ import annotations

import numpy as np

from ..autograd.summary import ArraySummary
from ..autograd.tensor_str import DTYPES, PrintOptions, format_body

DEFAULT_PRECISION = 4
_precision = [DEFAULT_PRECISION]
GAP = 2                     # columns between two table columns (box.SIMPLE_HEAD)
NATURAL = 10 ** 6           # a line width nothing wraps at


def set_precision(digits) -> None:
    """Decimals shown (``--precision``); None: PyTorch's 4."""
    if digits is not None and not 0 <= digits <= 30:
        from ..errors import InputError
        raise InputError(f"--precision must be from 0 to 30, got {digits}")
    _precision[0] = DEFAULT_PRECISION if digits is None else int(digits)


def body(value, width: int = 80) -> str:
    """A value as PyTorch prints the body of its tensor, rows wrapped at ``width``."""
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    array = value if isinstance(value, ArraySummary) else np.asarray(value)
    if array.dtype.name not in DTYPES:
        return str(value)
    options = PrintOptions(precision=_precision[0], linewidth=max(1, width))
    return format_body(array, options=options)


def widest(text: str) -> int:
    return max((len(line) for line in text.split("\n")), default=0)


def natural(value) -> str:
    """The body with no row wrapped (a matrix row per line)."""
    return body(value, NATURAL)


def fitted(value, width: int) -> str:
    """The body with every line within ``width`` where PyTorch's wrapping can get it
    there (one element per line at the least)."""
    text = body(value, width)
    linewidth = width
    while widest(text) > width and linewidth > 1:
        linewidth -= max(1, widest(text) - width)
        text = body(value, linewidth)
    return text


def fits(cells: list, width: int) -> bool:
    """Do these columns (each a list of cell texts, header first) fit ``width`` with
    every cell on its natural lines?"""
    total = sum(max(widest(c) for c in column) for column in cells)
    return total + GAP * (len(cells) - 1) <= width


def visible_len(markup: str) -> int:
    from rich.text import Text
    return Text.from_markup(markup).cell_len


class Blocks:
    """A table as blocks: per item one line of short cells (aligned in columns, markup
    allowed), then its long parts, each as ``label  text`` indented under the line.

    ``items``: (cells, [(label, text), ...]).  Texts are laid out before (see
    :func:`fitted`); a line is never cut or wrapped here."""

    def __init__(self, title: str, headers: list, items: list, right: tuple = ()):
        self.title, self.headers, self.items, self.right = title, headers, items, right

    def __rich_console__(self, console, options):
        from rich.text import Text
        widths = [len(h) for h in self.headers]
        for cells, _ in self.items:
            if isinstance(cells, str):
                continue
            for i, cell in enumerate(cells):
                widths[i] = max(widths[i], visible_len(cell))

        def line(cells, markup: bool) -> Text:
            out = Text(no_wrap=True, overflow="ignore")
            for i, (cell, w) in enumerate(zip(cells, widths)):
                text = Text.from_markup(cell) if markup else Text(cell)
                pad = " " * (w - text.cell_len)
                if i:
                    out.append(" " * GAP)
                if i in self.right:
                    out.append(pad)
                out.append(text)
                if i not in self.right:
                    out.append(pad)
            out.rstrip()
            return out

        yield Text(self.title, style="bold")
        head = line(self.headers, False)
        head.stylize("bold")
        yield head
        rule = sum(widths) + GAP * (len(widths) - 1)
        yield Text("─" * min(rule, options.max_width))
        indent = " " * (widths[0] + GAP)
        for cells, parts in self.items:
            if isinstance(cells, str):                # a gap: "... N more"
                yield Text(cells, style="dim")
                continue
            yield line(cells, True)
            label_width = max((len(label) for label, _ in parts), default=0)
            for label, text in parts:
                if isinstance(text, Below):          # under its label, from column 4
                    yield Text(indent + label, no_wrap=True, overflow="ignore")
                    for rest in text.split("\n"):
                        yield Text(" " * BELOW + rest, no_wrap=True, overflow="ignore")
                    continue
                lines = text.split("\n")
                head = indent + label.ljust(label_width) + " " * GAP
                yield Text(head + lines[0], no_wrap=True, overflow="ignore")
                for rest in lines[1:]:
                    yield Text(" " * len(head) + rest, no_wrap=True,
                               overflow="ignore")


BELOW = 4        # a tensor too wide beside its label starts this far from the left


class Below(str):
    """A long part's text laid out under its label rather than beside it."""


def placed(value, room: int, width: int) -> str:
    """A tensor for a :class:`Blocks` part: beside its label (``room`` columns) when its
    rows fit there; else under it, when they fit the width that gives; else beside it,
    rows wrapped as PyTorch wraps them."""
    natural_text = natural(value)
    if widest(natural_text) <= room:
        return natural_text
    if widest(natural_text) <= width - BELOW:
        return Below(natural_text)
    return fitted(value, room)


def part_width(width: int, first_column: int, labels: list) -> int:
    """Columns left for a long part's text in a :class:`Blocks` item."""
    label = max((len(lab) for lab in labels), default=0)
    return max(8, width - first_column - GAP - label - GAP)
