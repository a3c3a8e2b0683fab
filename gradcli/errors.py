"""The exceptions gradcli raises for anything a user can get wrong.

Every error a user can cause is a :class:`GradcliError` with a ``kind`` (one of
``KINDS``), a message, and, when the error points into program text, the line and
column (1-based) and the source line, so that the CLI and the batch can report it
precisely.  This module is the root of the package's layering: every layer may
import it, it imports nothing of gradcli.
"""

from __future__ import annotations

KINDS = ("parse", "bind", "shape", "autograd", "input", "limit")


# The Python exception a script sees for each kind (gradcli run prints "RuntimeError: ..."
# and `except RuntimeError:` catches it); a limit is no Python exception: nothing
# catches it.
PYTHON_TYPES = {"parse": "SyntaxError", "bind": "NameError", "shape": "RuntimeError",
                "autograd": "RuntimeError", "input": "RuntimeError", "limit": None}


def visible(text: str) -> str:
    """Text safe to show on a terminal: control characters (C0 but tab, DEL, C1) and
    the bidirectional overrides become escapes (``\\x1b``, ``\\u202e``), so user text
    in a message can neither move the cursor nor recolour or reorder what follows."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\t" or (ch.isprintable() and not 0x202A <= code <= 0x202E and
                          not 0x2066 <= code <= 0x2069):
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)


class GradcliError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""

    kind = "input"
    python_type: str | None = None      # e.g. "TypeError"; None: PYTHON_TYPES[kind]
    python_message: str | None = None   # PyTorch's words, where gradcli's say more

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 source: str | None = None, kind: str | None = None,
                 python_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.source = source  # the whole program text, to show the offending line
        if kind is not None:
            self.kind = kind
        if python_type is not None:
            self.python_type = python_type

    @property
    def python_name(self) -> str | None:
        """The Python exception type a script sees (None for gradcli's own limits)."""
        return self.python_type or PYTHON_TYPES.get(self.kind)

    def located(self, line: int | None, column: int | None, source: str | None) -> "GradcliError":
        """Attach a position (if the error has none yet) and return self."""
        if self.line is None and line is not None:
            self.line, self.column = line, column
        if self.source is None:
            self.source = source
        return self

    def context(self) -> str:
        """The offending source line with a caret under the column ('' if unknown)."""
        if self.source is None or self.line is None or self.column is None:
            return ""
        lines = self.source.split("\n")
        if not 1 <= self.line <= len(lines):
            return ""
        raw = lines[self.line - 1]
        col = len(visible(raw[:self.column - 1]))      # the caret under the escaped text
        text = visible(raw)
        start = 0
        width = 76
        if len(text) > width:  # keep long lines readable: a window around the column
            start = max(0, min(col - width // 2, len(text) - width))
            text = text[start:start + width]
        pointer = " " * max(0, col - start) + "^"
        return f"  {text}\n  {pointer}"

    def where(self) -> str:
        if self.line is None:
            return ""
        if self.source is not None and "\n" not in self.source.rstrip("\n"):
            return f"column {self.column}"
        return f"line {self.line}, column {self.column}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message,
                "line": self.line, "column": self.column}


class ParseError(GradcliError):
    kind = "parse"


class BindError(GradcliError):
    kind = "bind"


class ShapeError(GradcliError):
    kind = "shape"


class AutogradError(GradcliError):
    kind = "autograd"


class LimitError(GradcliError):
    kind = "limit"


class InputError(GradcliError):
    kind = "input"
