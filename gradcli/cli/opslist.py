"""The text of `gradcli ops`: the op table by group, each function on two lines --
its call form with the grad_fn names it records, then its local derivative(s) -- within
80 columns (or the terminal's width, when narrower)."""

from __future__ import annotations

import re
import textwrap

WIDTH = 80
INDENT = "    "


def entry_lines(row: dict, width: int = WIDTH) -> list:
    """(text, style) pairs of one function: the call and grad_fns, then the derivative."""
    syntax, names = row["syntax"], ", ".join(row["grad_fns"])
    out = []
    if not names:
        names = "no graph node"
        if len(syntax) + 2 + len(names) > width:
            names = ""
    if names and len(syntax) + 2 + len(names) <= width:
        out.append(((syntax.ljust(width - len(names)), names), "head"))
    else:
        for line in textwrap.wrap(syntax, width, subsequent_indent=INDENT):
            out.append((line, "call"))
        for line in textwrap.wrap(names, width - len(INDENT)) if names else ():
            out.append((line.rjust(width), "grad_fn"))
    derivative = "; ".join(_labelled(row))
    if derivative:
        for line in textwrap.wrap(derivative, width, initial_indent=INDENT,
                                  subsequent_indent=INDENT + "  ", break_on_hyphens=False):
            out.append((line, "derivative"))
    return out


def _labelled(row: dict) -> list:
    """``d/dinput = other``: each derivative named after the parameter it is for, its
    inputs' symbols (``a``, ``b``, ``B``) written as the parameters' names."""
    texts, symbols, names = row["derivative"], row["inputs"], row["tensor_params"]
    if not names or not row["grad_fns"]:
        return texts
    rename = {**dict(zip(symbols, names)), **{s.upper(): n for s, n in zip(symbols, names)}}

    def spelled(text: str) -> str:
        return re.sub(r"[A-Za-z_][A-Za-z_0-9]*", lambda m: rename.get(m[0], m[0]), text)
    prose = row.get("prose", [False] * len(texts))
    return [f"d/d{name}{': ' if words else ' = '}{spelled(text)}"
            for name, text, words in zip(names, texts, prose)]


def lines(data: list, width: int = WIDTH) -> list:
    """Every line of the listing, as (text, style)."""
    out, group = [], None
    for row in data:
        if row["group"] != group:
            group = row["group"]
            if out:
                out.append(("", ""))
            title = f"── {group} "
            out.append((title + "─" * max(width - len(title), 0), "group"))
        out.extend(entry_lines(row, width))
    return out


STYLES = {"group": "bold", "head": "", "call": "", "grad_fn": "cyan", "derivative": "dim"}


def render(data: list) -> None:
    from rich.text import Text
    from . import render as _render
    console = _render.console()
    width = min(WIDTH, console.width) if console.is_terminal else WIDTH
    for text, style in lines(data, width):
        if style == "head":                 # the call, then the grad_fn names in colour
            line = Text(text[0])
            line.append(text[1], style=STYLES["grad_fn"])
        else:
            line = Text(text, style=STYLES.get(style, ""))
        console.print(line, soft_wrap=True)


def plain(data: list, width: int = WIDTH) -> str:
    """The listing as plain text (tests, and a pipe)."""
    return "\n".join("".join(t) if isinstance(t, tuple) else t
                     for t, _ in lines(data, width)) + "\n"
