"""f-strings: split a formatted string's body into text and replacement fields.

``f"x = {x!r:>10.4f} and {y=}"`` becomes the parts ``"x = "``, a field (``x``,
conversion ``r``, spec ``>10.4f``), ``" and "``, a field for ``y`` with its ``y=`` text.
Each field's expression is parsed by gradcli's own parser from its place in the source
(so errors point into the string); a spec may hold nested fields (``{x:.{n}f}``).
"""

from __future__ import annotations

from gradcli.lang import ast
from gradcli.lang.strings import decode_escapes

_MAX_SPEC_NESTING = 2


def fstring_parts(parser, token) -> list:
    """The parts (str and FormatField) of one f-string token."""
    body, offset = token.value
    raw = "r" in token.prefix
    return _Splitter(parser, token, offset, raw).parts(body, 0, len(body), 0)


class _Splitter:
    def __init__(self, parser, token, offset: int, raw: bool):
        self.parser = parser
        self.token = token
        self.offset = offset            # where the body starts in the source
        self.raw = raw

    def error(self, message: str, at: int):
        from gradcli.lang.tokenizer import Token
        source = self.parser.source
        pos = self.offset + at
        line = source.count("\n", 0, pos) + 1
        col = pos - (source.rfind("\n", 0, pos) + 1) + 1
        return self.parser.error(message, Token("STRING", "", line, col))

    def text(self, chunk: str, at: int) -> str:
        if self.raw or "\\" not in chunk:
            return chunk
        start = at - len(chunk)
        return decode_escapes(chunk, lambda message, i: self.error(message, start + i))

    def parts(self, body: str, start: int, end: int, nesting: int) -> list:
        out: list = []
        literal: list = []
        i = start
        while i < end:
            ch = body[i]
            if ch == "{" and body.startswith("{", i + 1) and nesting == 0:
                literal.append("{")
                i += 2
            elif ch == "}" and body.startswith("}", i + 1) and nesting == 0:
                literal.append("}")
                i += 2
            elif ch == "{":
                if literal:
                    out.append(self.text("".join(literal), i))
                    literal = []
                field, i = self.field(body, i, end, nesting)
                out.append(field)
            elif ch == "}":
                raise self.error("f-string: single '}' is not allowed", i)
            else:
                literal.append(ch)
                i += 1
        if literal:
            out.append(self.text("".join(literal), end))
        return out

    def field(self, body: str, open_at: int, end: int, nesting: int):
        """The field starting at ``open_at`` ('{'); returns it and the index after '}'."""
        i, stop = self.expression_end(body, open_at + 1, end)
        expr_text = body[open_at + 1:i]
        if not expr_text.strip():
            raise self.error("f-string: empty expression not allowed", open_at)
        debug = None
        if stop == "=":
            i += 1
            while i < end and body[i] in " \t":
                i += 1
            debug = body[open_at + 1:i]
            stop = body[i] if i < end else ""
        value = self.parse_expression(open_at + 1, open_at + 1 + len(expr_text.rstrip()))
        conversion = None
        if stop == "!":
            conversion = body[i + 1:i + 2]
            if conversion not in ("r", "s", "a"):
                raise self.error("f-string: invalid conversion character: expected 's', "
                                 "'r', or 'a'", i + 1)
            i += 2
            stop = body[i] if i < end else ""
        spec = None
        if stop == ":":
            if nesting >= _MAX_SPEC_NESTING - 1 and "{" in body[i:self.close_of(body, i, end)]:
                raise self.error("f-string: expressions nested too deeply", i)
            close = self.close_of(body, i + 1, end)
            spec = ast.FString(tuple(self.parts(body, i + 1, close, nesting + 1)),
                               self.token.line, self.token.col)
            i = close
            stop = "}"
        if stop != "}":
            raise self.error("f-string: expecting '}'", i)
        if debug is not None and conversion is None and spec is None:
            conversion = "r"                  # f"{x=}" shows repr(x), as Python does
        line, col = self.position(open_at + 1)
        return ast.FormatField(value, conversion, spec, debug, line, col), i + 1

    def expression_end(self, body: str, i: int, end: int):
        """Index and character ('}', '!', ':', '=' or '') ending the expression at i."""
        depth = 0
        quote = None
        while i < end:
            ch = body[i]
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    return i, ch
                depth -= 1
            elif depth == 0 and ch == "!" and not body.startswith("=", i + 1):
                return i, ch
            elif depth == 0 and ch == ":":
                return i, ch
            elif depth == 0 and ch == "=" and body[i - 1] not in "=!<>" and \
                    not body.startswith("=", i + 1):
                return i, ch
            elif ch == "\\":
                raise self.error("f-string expression part cannot include a backslash", i)
            i += 1
        raise self.error("f-string: expecting '}'", i)

    def close_of(self, body: str, i: int, end: int) -> int:
        """The index of the '}' closing a format spec that starts at ``i``."""
        depth = 0
        while i < end:
            if body[i] == "{":
                depth += 1
            elif body[i] == "}":
                if depth == 0:
                    return i
                depth -= 1
            i += 1
        raise self.error("f-string: expecting '}'", i)

    def parse_expression(self, start: int, stop: int):
        from gradcli.lang.parser import Parser
        outer = self.parser
        sub = Parser(outer.source, outer.max_depth - outer.depth, outer.dialect,
                     span=(self.offset + start, self.offset + stop))
        sub.depth = 0
        value = sub.testlist()
        if sub.tok.kind not in ("NEWLINE", "EOF"):
            raise sub.error(f"f-string: expected '}}', found {sub.tok.describe()}", sub.tok)
        outer.calls.extend(sub.calls)
        outer.bound.update(sub.bound)
        return value

    def position(self, at: int) -> tuple:
        source = self.parser.source
        pos = self.offset + at
        return source.count("\n", 0, pos) + 1, pos - (source.rfind("\n", 0, pos) + 1) + 1
