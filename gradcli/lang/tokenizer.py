"""Split gradcli source text into tokens, each with its 1-based line and column.

The tokenizer is a generator, so the first error in the text is the one reported.
Token kinds:

* ``NUMBER`` and ``NAME`` (the text is in ``Token.text``);
* an operator or punctuation mark, whose kind is its own text: ``+ - * / @ ^ ** ( ) [ ]
  , : . = ; += -= *= /=``;
* ``NEWLINE``, only outside brackets (inside ``()`` and ``[]`` lines join implicitly);
* ``EOF``, repeated forever at the end, positioned just after the last token.

Columns count characters (not bytes), starting at 1.  Comments (``#`` to the end of the
line) and blanks are skipped.  Everything else is a :class:`ParseError` at its position:
string literals, Python keywords, names starting with ``__``, numbers run into letters
(``2x``), non-ASCII characters and any character not listed above.
"""

from __future__ import annotations

import re
from typing import Iterator

from gradcli.errors import ParseError

NUMBER, NAME, NEWLINE, EOF = "NUMBER", "NAME", "NEWLINE", "EOF"

# Python keywords: rejected with "'lambda' is not supported".  True, False and None are
# ordinary names, resolved by the evaluator like pi and e.
KEYWORDS = frozenset("""
    lambda import def class for while if else elif return yield with as from global
    nonlocal del pass raise try except finally assert async await is in not and or
    break continue
""".split())

# One token, after any blanks.  The last two groups make finditer cover every character.
_TOKEN = re.compile(r"""[ \t\r\f\v]*(?:
    (?P<bad>\*\*=|//=?|==|@=|\^=)          # operators gradcli does not have
  | (?P<op>\*\*|[-+*/]=|[-+*/@^(),:;=\[\]]|\.(?![0-9]))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<newline>\n)
  | (?P<comment>\#[^\n]*)
  | (?P<end>\Z)
  | (?P<error>.)
)""", re.VERBOSE | re.DOTALL)
_KINDS = (None,) + tuple(sorted(_TOKEN.groupindex, key=_TOKEN.groupindex.get))

_WORD_TAIL = re.compile(r"[A-Za-z0-9_]+")


class Token:
    """One token: ``kind`` (see the module doc), ``text`` as written, ``line``, ``col``."""

    __slots__ = ("kind", "text", "line", "col")

    def __init__(self, kind: str, text: str, line: int, col: int) -> None:
        self.kind, self.text, self.line, self.col = kind, text, line, col

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.text!r}, {self.line}, {self.col})"

    def describe(self) -> str:
        """How an error message names this token: "'x'", "end of input"..."""
        if self.kind == EOF:
            return "end of input"
        if self.kind == NEWLINE:
            return "end of line"
        return f"'{self.text}'"


def show_char(ch: str) -> str:
    """A character as error messages quote it: "'$'", or "U+00A0" if unprintable."""
    return f"'{ch}'" if ch.isprintable() and ch != " " else f"U+{ord(ch):04X}"


def tokenize(source: str) -> Iterator[Token]:
    """Yield the tokens of ``source``, then ``EOF`` forever; raise ParseError on bad text."""
    line, line_start = 1, 0          # current line number, offset of its first character
    depth = 0                        # open brackets: newlines inside them are ignored
    last = None                      # the last token yielded, to place EOF after it

    def error(message: str, at: int) -> ParseError:
        return ParseError(message, line=line, column=at - line_start + 1, source=source)

    for m in _TOKEN.finditer(source):
        kind = _KINDS[m.lastindex]
        start, pos = m.span(m.lastindex)
        if kind == "op":
            text = source[start:pos]
            if text in "([":
                depth += 1
            elif text in ")]" and depth:
                depth -= 1
            last = Token(text, text, line, start - line_start + 1)
        elif kind == "name":
            text = source[start:pos]
            if text.startswith("__"):
                raise error("names starting with '__' are not allowed", start)
            if text in KEYWORDS:
                raise error(f"'{text}' is not supported", start)
            last = Token(NAME, text, line, start - line_start + 1)
        elif kind == "number":
            text = source[start:pos]
            tail = _WORD_TAIL.match(source, pos)
            if tail:  # 2x, 1e, 1_000, 2.T
                hint = "" if tail.group()[0] in "eE0123456789_" or text[-1] == "." else \
                    f" (write '{text}*{tail.group()}' to multiply)"
                raise error(f"invalid number '{text}{tail.group()}'{hint}", start)
            last = Token(NUMBER, text, line, start - line_start + 1)
        elif kind == "newline":
            if depth == 0:
                yield Token(NEWLINE, "\n", line, start - line_start + 1)
            line, line_start = line + 1, pos
            continue
        elif kind == "comment":
            continue
        elif kind == "bad":
            raise error(f"'{source[start:pos]}' is not supported", start)
        elif kind == "error":
            if source[start] in "'\"":
                raise error("string literals are not supported", start)
            raise error(f"unexpected character {show_char(source[start])}", start)
        else:  # end
            break
        yield last
    eof = Token(EOF, "", 1, 1) if last is None else \
        Token(EOF, "", last.line, last.col + len(last.text))
    while True:
        yield eof
