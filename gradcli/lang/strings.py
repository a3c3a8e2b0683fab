"""String literals: finding where one ends and decoding its escapes (no eval, ever).

Python's forms: '...', "...", '''...''', \"\"\"...\"\"\", with the prefixes r (raw), u
and f (formatted: the body is kept as written and split by the parser).  Bytes
literals are not part of the language.
"""

from __future__ import annotations

import unicodedata

from gradcli.errors import ParseError

_SIMPLE = {"\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n",
           "r": "\r", "t": "\t", "v": "\v", "\n": "", "\r": ""}
_HEX = {"x": 2, "u": 4, "U": 8}


class StringScanner:
    """Scan one string literal starting at ``start`` (its prefix) in ``source``;
    ``quote_end`` is the index just past its opening quote character."""

    def __init__(self, source: str, start: int, quote_end: int, lexer):
        self.source = source
        self.start = start
        self.prefix = source[start:quote_end - 1].lower()
        self.quote = source[quote_end - 1]
        self.body_start = quote_end
        self.lexer = lexer

    def error(self, message: str, at: int) -> ParseError:
        return self.lexer.error(message, at)

    def scan(self):
        """(value, prefix, index just past the closing quote).  For an f-string the
        value is ``(body as written, offset of the body in the source)``."""
        if "b" in self.prefix:
            raise self.error("bytes literals are not supported", self.start)
        source, quote = self.source, self.quote
        triple = source.startswith(quote * 3, self.body_start - 1)
        if triple:
            self.body_start += 2
        closer = quote * 3 if triple else quote
        i = self.body_start
        n = len(source)
        while True:
            if i >= n and triple:
                raise self.error("unterminated triple-quoted string literal (it starts "
                                 "here)", self.start)
            ch = source[i] if i < n else "\n"
            if ch == "\\":
                i += 2
                continue
            if not triple and ch == "\n":
                raise self.error("unterminated string literal (it starts here; close it on "
                                 "the same line or use triple quotes)", self.start)
            if source.startswith(closer, i):
                break
            i += 1
        body = source[self.body_start:i]
        stop = i + len(closer)
        if "f" in self.prefix:
            return (body, self.body_start), self.prefix, stop
        if "r" in self.prefix:
            return body, self.prefix, stop
        return self.decode(body, self.body_start), self.prefix, stop

    def decode(self, body: str, offset: int) -> str:
        return decode_escapes(body, lambda message, i: self.error(message, offset + i))


def decode_escapes(body: str, error) -> str:
    """Python's backslash escapes (an unknown escape keeps its backslash); ``error``
    (message, index in body) makes the exception for a malformed one."""
    if "\\" not in body:
        return body
    out = []
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch != "\\" or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _SIMPLE:
            out.append(_SIMPLE[nxt])
            i += 2
            if nxt == "\r" and body.startswith("\n", i):
                i += 1
        elif nxt in _HEX:
            i = _hex(body, i, _HEX[nxt], out, error)
        elif nxt in "01234567":
            j = i + 1
            while j < min(i + 4, n) and body[j] in "01234567":
                j += 1
            out.append(chr(int(body[i + 1:j], 8)))
            i = j
        elif nxt == "N":
            i = _named(body, i, out, error)
        else:
            out.append("\\")
            i += 1
    return "".join(out)


def _hex(body, i, digits, out, error) -> int:
    text = body[i + 2:i + 2 + digits]
    if len(text) != digits or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise error(f"truncated \\{body[i + 1]} escape in a string", i)
    code = int(text, 16)
    if code > 0x10FFFF:
        raise error(f"illegal Unicode character \\{body[i + 1]}{text}", i)
    out.append(chr(code))
    return i + 2 + digits


def _named(body, i, out, error) -> int:
    end = body.find("}", i)
    if not body.startswith("{", i + 2) or end < 0:
        raise error("malformed \\N character escape in a string", i)
    try:
        out.append(unicodedata.lookup(body[i + 3:end]))
    except KeyError:
        raise error(f"unknown Unicode character name '{body[i + 3:end]}'", i) from None
    return end + 1
