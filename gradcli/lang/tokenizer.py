"""Split gradcli source text into tokens, each with its 1-based line and column.

One tokenizer serves both dialects of the language (SPEC 2 and 7): the expressions of
``gradcli grad`` and the Python subset of ``gradcli run``.  It is a generator, so the
first error in the text is the one reported.  Token kinds:

* ``NUMBER``, ``NAME`` and ``STRING`` (``Token.text`` is the text as written; a STRING's
  ``value`` is its decoded content, with ``prefix`` holding its lower-cased prefix
  letters, e.g. ``"f"`` or ``"rb"``);
* a keyword (``if``, ``for``, ``def``, ...), whose kind is its own text;
* an operator or punctuation mark, whose kind is its own text (``+ ** // == += ( ...``);
* ``NEWLINE`` at the end of a logical line (never inside brackets, where lines join),
  ``INDENT`` and ``DEDENT`` when a logical line's indentation grows or shrinks, as in
  Python; ``EOF``, repeated forever at the end, positioned just after the last token.

Columns count characters (not bytes), starting at 1.  Comments (``#`` to the end of
the line), blank lines and backslash-newline continuations are skipped.  Everything
else is a :class:`ParseError` at its position: names starting with ``__``, numbers run
into letters (``2x``), non-ASCII characters outside strings, unterminated strings, bad
indentation.  Nothing here evaluates text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterator

from gradcli.errors import LimitError, ParseError
from gradcli.lang.strings import StringScanner

NUMBER, NAME, STRING, NEWLINE, INDENT, DEDENT, EOF = (
    "NUMBER", "NAME", "STRING", "NEWLINE", "INDENT", "DEDENT", "EOF")

KEYWORDS = frozenset("""
    lambda import def class for while if else elif return yield with as from global
    nonlocal del pass raise try except finally assert async await is in not and or
    break continue
""".split())

MAX_INDENT_LEVELS = 100

# One token, after any blanks.  The last two groups make finditer cover every character.
_TOKEN = re.compile(r"""(?:[ \t\f\v]|\r(?!\n))*(?:
    (?P<op>\*\*=|//=|>>=|<<=|\.\.\.|->|:=|\*\*|//|==|!=|<=|>=|<<|>>|[-+*/%@&|^]=
           |[-+*/%@&|^~<>(),:;=\[\]{}]|\.(?![0-9]))
  | (?P<string>(?:[rRuUfFbB]|[rR][fFbB]|[fFbB][rR])?['"])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+
           |(?:[0-9](?:_?[0-9])*\.?(?:[0-9](?:_?[0-9])*)?|\.[0-9](?:_?[0-9])*)
            (?:[eE][+-]?[0-9](?:_?[0-9])*)?)
  | (?P<newline>\r?\n)
  | (?P<continuation>\\\r?\n)
  | (?P<comment>\#[^\n]*)
  | (?P<end>\Z)
  | (?P<error>.)
)""", re.VERBOSE | re.DOTALL)
_KINDS = (None,) + tuple(sorted(_TOKEN.groupindex, key=_TOKEN.groupindex.get))
_INDENT = re.compile(r"[ \t\f\r]*")
_WORD_TAIL = re.compile(r"[A-Za-z0-9_]+")
_BLANK_LINE = re.compile(r"[ \t\f\v\r]*(?:\#[^\n]*)?(?:\n|\Z)")
_OPEN, _CLOSE = "([{", ")]}"
# Characters pasted from documents, and what to type instead.
LOOK_ALIKES = {
    "\u2212": "write '-'", "\u2013": "write '-'", "\u2014": "write '-'",
    "\u00d7": "write '*'", "\u22c5": "write '*'", "\u00b7": "write '*'",
    "\u00f7": "write '/'", "\u00b2": "write '**2'", "\u00b3": "write '**3'",
    "\u221a": "write sqrt(x)", "\u03c0": "write pi",
    "\u2018": "write a plain quote '", "\u2019": "write a plain quote '",
    "\u201c": 'write a plain quote "', "\u201d": 'write a plain quote "',
    "\u2264": "write '<='", "\u2265": "write '>='", "\u2260": "write '!='",
    "\u00a0": "write a plain space",
}


class Token:
    """One token: ``kind`` (see the module doc), ``text`` as written, ``line``, ``col``;
    STRING tokens also carry ``value`` (decoded) and ``prefix``."""

    __slots__ = ("kind", "text", "line", "col", "value", "prefix")

    def __init__(self, kind: str, text: str, line: int, col: int, value=None,
                 prefix: str = "") -> None:
        self.kind, self.text, self.line, self.col = kind, text, line, col
        self.value, self.prefix = value, prefix

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.text!r}, {self.line}, {self.col})"

    def describe(self) -> str:
        """How an error message names this token: "'x'", "end of input"..."""
        if self.kind == EOF:
            return "end of input"
        if self.kind == NEWLINE:
            return "end of line" if self.text else "end of input"
        if self.kind == INDENT:
            return "an indented block"
        if self.kind == DEDENT:
            return "the end of an indented block"
        if self.kind == STRING:
            return "a string"
        return f"'{self.text}'"


def show_char(ch: str) -> str:
    """A character as error messages quote it: "'$'", or "U+00A0" if unprintable."""
    return f"'{ch}'" if ch.isprintable() and ch != " " else f"U+{ord(ch):04X}"


def _indent_width(text: str) -> int:
    """Python's measure: a tab moves to the next multiple of 8."""
    width = 0
    for ch in text:
        width = (width // 8 + 1) * 8 if ch == "\t" else width + 1
    return width


class _Lexer:
    def __init__(self, source: str, lenient_indent: bool, span=None):
        self.source = source
        self.lenient = lenient_indent       # grad programs: ignore a common indentation
        self.start, self.end = span if span is not None else (0, len(source))
        self.line = source.count("\n", 0, self.start) + 1
        self.line_start = source.rfind("\n", 0, self.start) + 1
        # an expression inside an f-string is read as if in brackets: one logical line
        self.brackets: list = [] if span is None else ["("]
        self.indents = [0]
        self.at_line_start = span is None
        self.last = None                    # the last token made
        self.last_real = None               # ... that is not NEWLINE, INDENT or DEDENT

    def error(self, message: str, at: int, cls=ParseError, **kw) -> ParseError:
        return cls(message, line=self.line, column=at - self.line_start + 1,
                   source=self.source, **kw)

    def token(self, kind: str, text: str, start: int, **kw) -> Token:
        tok = Token(kind, text, self.line, start - self.line_start + 1, **kw)
        self.last = tok
        if kind != NEWLINE:
            self.last_real = tok
        return tok

    def newline(self, end: int) -> None:
        self.line, self.line_start = self.line + 1, end

    # -- indentation ------------------------------------------------------------------
    def indentation(self, pos: int) -> Iterator[Token]:
        """INDENT/DEDENT for the logical line starting at ``pos`` (not blank)."""
        self.at_line_start = False
        text = _INDENT.match(self.source, pos).group()
        width = _indent_width(text)
        at = pos + len(text)
        if self.lenient and self.last_real is None:
            self.indents[0] = width         # the first line sets the margin
        opens_block = self.last_real is not None and self.last_real.kind == ":"
        if width > self.indents[-1]:
            if opens_block:
                if len(self.indents) > MAX_INDENT_LEVELS:
                    raise self.error(f"blocks nested too deeply (over {MAX_INDENT_LEVELS} "
                                     "levels)", at, LimitError)
                self.indents.append(width)
                yield Token(INDENT, text, self.line, 1)
            elif not self.lenient:
                raise self.error("unexpected indent", at, python_type="IndentationError")
            return                          # grad programs: extra indentation is ignored
        dedented = False
        while len(self.indents) > 1 and width < self.indents[-1]:
            self.indents.pop()
            dedented = True
            yield Token(DEDENT, "", self.line, width + 1)
        if width != self.indents[-1] and (dedented or not self.lenient or
                                          len(self.indents) > 1):
            raise self.error("unindent does not match any outer indentation level", at, python_type="IndentationError")

    def _blank_line(self, pos: int) -> bool:
        """Nothing but blanks or a comment up to the end of the line at ``pos``."""
        return _BLANK_LINE.match(self.source, pos) is not None

    # -- the main loop ----------------------------------------------------------------
    def tokens(self) -> Iterator[Token]:
        source, pos, end = self.source, self.start, self.end
        while True:
            m = _TOKEN.match(source, pos, end)
            if self.at_line_start and not self.brackets and not self._blank_line(pos):
                yield from self.indentation(pos)
            kind = _KINDS[m.lastindex]
            start, pos = m.span(m.lastindex)
            if kind == "end":
                break
            tok = getattr(self, "on_" + kind)(start, pos)
            if kind == "string":
                tok, pos = tok
            if tok is not None:
                yield tok
        yield from self.finish()

    def on_op(self, start: int, end: int):
        text = self.source[start:end]
        if text in _OPEN:
            self.brackets.append(text)
        elif text in _CLOSE and self.brackets:
            self.brackets.pop()
        return self.token(text, text, start)

    def on_name(self, start: int, end: int):
        text = self.source[start:end]
        if text.startswith("__") and text != "__name__":     # (`if __name__ == ...`)
            raise self.error("names starting with '__' are not allowed", start)
        return self.token(text if text in KEYWORDS else NAME, text, start)

    def on_number(self, start: int, end: int):
        text = self.source[start:end]
        tail = _WORD_TAIL.match(self.source, end)
        if tail or text.endswith("_") or "__" in text:    # 2x, 1e, 2.T, 1__0
            rest = tail.group() if tail else ""
            hint = "" if not rest or rest[0] in "eE0123456789_" or text[-1] == "." \
                or not text[0].isdigit() or text[:2].lower() in ("0x", "0o", "0b") else \
                f" (write '{text}*{rest}' to multiply)"
            raise self.error(f"invalid number '{text}{rest}'{hint}", start)
        return self.token(NUMBER, text, start)

    def on_string(self, start: int, end: int):
        scanner = StringScanner(self.source, start, end, self)
        value, prefix, stop = scanner.scan()
        tok = self.token(STRING, self.source[start:stop], start, value=value, prefix=prefix)
        # a multi-line string moves the line counter along
        for nl in re.finditer(r"\n", self.source[start:stop]):
            self.newline(start + nl.end())
        return tok, stop

    def on_newline(self, start: int, end: int):
        tok = None
        if not self.brackets and self.last is not None and \
                self.last.kind not in (NEWLINE, INDENT, DEDENT):
            tok = self.token(NEWLINE, "\n", start)
        self.newline(end)
        self.at_line_start = not self.brackets
        return tok

    def on_continuation(self, start: int, end: int):
        self.newline(end)
        return None

    def on_comment(self, start: int, end: int):
        return None

    def on_error(self, start: int, end: int):
        ch = self.source[start]
        hint = LOOK_ALIKES.get(ch)
        if hint is not None:
            raise self.error(f"unexpected character {show_char(ch)} "
                             f"({unicodedata.name(ch, 'U+%04X' % ord(ch)).lower()}): "
                             f"{hint}", start)
        raise self.error(f"unexpected character {show_char(ch)}", start)

    def finish(self) -> Iterator[Token]:
        real = self.last_real
        end = Token(EOF, "", 1, 1) if real is None else \
            Token(EOF, "", real.line, real.col + len(real.text))
        if self.last is not None and self.last.kind != NEWLINE:
            yield Token(NEWLINE, "", end.line, end.col)     # "end of input"
        while len(self.indents) > 1:
            self.indents.pop()
            yield Token(DEDENT, "", end.line, end.col)
        while True:
            yield end


def tokenize(source: str, *, lenient_indent: bool = True, span=None) -> Iterator[Token]:
    """Yield the tokens of ``source``, then ``EOF`` forever; raise ParseError on bad text.

    ``lenient_indent`` (gradcli grad's programs): a margin common to the program's
    lines is ignored, as is the indentation of a line that continues a simple statement
    list; only the Python dialect insists on Python's "unexpected indent".  ``span``
    (start, end): tokenize only that part of ``source`` (an expression inside an
    f-string), with positions in the whole text."""
    return _Lexer(source, lenient_indent, span).tokens()
