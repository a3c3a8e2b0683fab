"""Parse gradcli source text into a :class:`gradcli.lang.ast.Program` (SPEC section 2).

    from gradcli.lang.parser import parse
    program = parse("y = x**2 + 1; y.sum()", functions={"sum", "exp"})

Binary and unary operators are parsed by operator precedence from the table below
(``BINARY``/``PREFIX``), Pratt style, but with an explicit operator stack instead of
one Python call per operator: a flat chain ``x+x+...+x`` of any length costs no stack
at all.  Python recursion happens only for brackets (parentheses, array literals,
indexing, call argument lists), at most three frames per level, and every level of
nesting -- brackets, unary operators and each ``**`` still open in a power chain --
counts against ``max_depth``, so the depth limit always fires long before Python's
recursion limit.  User text is only ever read by the tokenizer: nothing here evaluates
or compiles it.
"""

from __future__ import annotations

import math
from typing import Collection, Optional

from gradcli.errors import LimitError, ParseError
from gradcli.lang import ast
from gradcli.lang.suggest import closest
from gradcli.lang.tokenizer import EOF, NAME, NEWLINE, NUMBER, Token, tokenize

# Binary operators: token -> (precedence, right-associative, op stored in the AST).
# Loosest first; unary + and - sit between * and ** (so -x**2 is -(x**2)).
BINARY = {
    "+":  (1, False, "+"),
    "-":  (1, False, "-"),
    "*":  (2, False, "*"),
    "/":  (2, False, "/"),
    "@":  (2, False, "@"),
    "**": (4, True, "**"),
    "^":  (4, True, "**"),
}
PREFIX = {"-": 3, "+": 3}
# Postfix forms -- f(...), a.f(...), a.name, a[...] -- bind tighter than all of these.

ASSIGN_OPS = {"=": None, "+=": "+", "-=": "-", "*=": "*", "/=": "/"}
END_OF_STATEMENT = (";", NEWLINE, EOF)


def parse(source: str, *, functions: Optional[Collection[str]] = None,
          max_depth: int = 200, max_bytes: int = 1_000_000) -> ast.Program:
    """Parse a whole program.

    ``functions``: if given, calling any other name is a ParseError (with a suggestion).
    Raises :class:`ParseError`, or :class:`LimitError` for a program over ``max_bytes``
    (UTF-8) or nested over ``max_depth`` levels; both carry line, column and source.
    """
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise LimitError(f"program is {size} bytes; the limit is {max_bytes}",
                         line=1, column=1, source=source)
    parser = _Parser(source, functions, max_depth)
    try:
        return parser.program()
    except RecursionError:  # only reachable with a max_depth far above the default
        tok = parser.tok
        raise LimitError("expression nested too deeply for the Python stack",
                         line=tok.line, column=tok.col, source=source) from None


class _Parser:
    def __init__(self, source: str, functions: Optional[Collection[str]], max_depth: int):
        self.source = source
        self.functions = None if functions is None else frozenset(functions)
        self.max_depth = max_depth
        self.depth = 0                      # current nesting level
        self._tokens = tokenize(source)
        self._peeked: Optional[Token] = None
        self.tok: Token = next(self._tokens)   # the current (next unconsumed) token

    # -- token helpers -------------------------------------------------------------
    def advance(self) -> Token:
        """Consume the current token and return it."""
        tok = self.tok
        if self._peeked is not None:
            self.tok, self._peeked = self._peeked, None
        else:
            self.tok = next(self._tokens)
        return tok

    def peek(self) -> Token:
        """The token after the current one."""
        if self._peeked is None:
            self._peeked = next(self._tokens)
        return self._peeked

    def error(self, message: str, tok: Token) -> ParseError:
        return ParseError(message, line=tok.line, column=tok.col, source=self.source)

    def enter(self, tok: Token) -> None:
        """Open one level of nesting at ``tok``, enforcing max_depth."""
        self.depth += 1
        if self.depth > self.max_depth:
            raise LimitError(f"expression nested too deeply (over {self.max_depth} levels)",
                             line=tok.line, column=tok.col, source=self.source)

    def close(self, opener: Token) -> None:
        """Consume the bracket closing ``opener`` and leave its level of nesting."""
        closer = ")" if opener.kind == "(" else "]"
        tok = self.tok
        if tok.kind != closer:
            where = f"column {opener.col}" if opener.line == tok.line else \
                f"line {opener.line}, column {opener.col}"
            raise self.error(f"expected '{closer}' to close '{opener.kind}' from {where}, "
                             f"found {tok.describe()}", tok)
        self.advance()
        self.depth -= 1

    # -- statements ------------------------------------------------------------------
    def program(self) -> ast.Program:
        statements = []
        while True:
            kind = self.tok.kind
            if kind == ";" or kind == NEWLINE:
                self.advance()
                continue
            if kind == EOF:
                return ast.Program(statements=tuple(statements), source=self.source)
            statements.append(self.statement())
            tok = self.tok
            if tok.kind in END_OF_STATEMENT:
                continue
            if tok.kind in (")", "]"):
                raise self.error(f"unexpected '{tok.kind}'", tok)
            raise self.error(f"expected ';' or a new line, found {tok.describe()}", tok)

    def statement(self):
        start = self.tok
        if start.kind == NAME and self.peek().kind in ASSIGN_OPS:
            self.advance()
            op = ASSIGN_OPS[self.advance().kind]
            value = self.expr()
            if self.tok.kind in ASSIGN_OPS:
                raise self.error("chained assignment is not supported", self.tok)
            if op is None:
                return ast.Assign(start.text, value, start.line, start.col)
            return ast.AugAssign(start.text, op, value, start.line, start.col)
        value = self.expr()
        if self.tok.kind in ASSIGN_OPS:
            raise self.error("can only assign to a name", start)
        return ast.ExprStmt(value, start.line, start.col)

    # -- expressions -------------------------------------------------------------------
    def expr(self):
        """Operators by precedence, with explicit stacks (no recursion per operator)."""
        operands: list = []
        pending: list = []   # operators waiting for their right side: (prec, op, token, unary)
        while True:
            while self.tok.kind in PREFIX:          # unary signs, each one level deeper
                tok = self.advance()
                self.enter(tok)
                pending.append((PREFIX[tok.kind], tok.kind, tok, True))
            operands.append(self.operand())
            info = BINARY.get(self.tok.kind)
            if info is None:
                break
            prec, right_assoc, op = info
            # first finish the pending operators that bind tighter than this one (or as
            # tight, unless it is right-associative): a-b-c is (a-b)-c, a**b**c a**(b**c)
            floor = prec if right_assoc else prec - 1
            while pending and pending[-1][0] > floor:
                self.reduce(pending, operands)
            tok = self.advance()
            if right_assoc:                         # each open ** is one level deeper
                self.enter(tok)
            pending.append((prec, op, tok, False))
        while pending:
            self.reduce(pending, operands)
        return operands[0]

    def reduce(self, pending: list, operands: list) -> None:
        """Apply the innermost pending operator to its operand(s)."""
        _, op, tok, unary = pending.pop()
        if unary:
            operands[-1] = ast.UnaryOp(op, operands[-1], tok.line, tok.col)
            self.depth -= 1
        else:
            right = operands.pop()
            operands[-1] = ast.BinOp(op, operands[-1], right, tok.line, tok.col)
            if BINARY[tok.kind][1]:
                self.depth -= 1

    def operand(self):
        """An atom followed by any postfix forms: calls, .attr, .method(...), [index]."""
        tok = self.tok
        kind = tok.kind
        if kind == NUMBER:
            self.advance()
            value = float(tok.text)
            if math.isinf(value):
                raise self.error(f"number '{tok.text}' is too large", tok)
            node = ast.Num(value, tok.text, tok.text.isdigit(), tok.line, tok.col)
        elif kind == NAME:
            self.advance()
            if self.tok.kind == "(":
                node = self.call(tok, [], method=False)
            else:
                node = ast.Name(tok.text, tok.line, tok.col)
        elif kind == "(":                           # grouping only: no tuples
            self.advance()
            self.enter(tok)
            node = self.expr()
            self.close(tok)
        elif kind == "[":
            node = self.array()
        else:
            raise self.error(f"expected an expression, found {tok.describe()}", tok)

        while True:                                 # postfix forms, left to right
            kind = self.tok.kind
            if kind == ".":
                self.advance()
                name = self.tok
                if name.kind != NAME:
                    raise self.error(f"expected a name after '.', found {name.describe()}", name)
                self.advance()
                if self.tok.kind == "(":
                    node = self.call(name, [node], method=True)
                else:
                    node = ast.Attr(node, name.text, name.line, name.col)
            elif kind == "[":
                node = self.index(node)
            elif kind == "(":
                raise self.error("unexpected '(': only a function name can be called", self.tok)
            else:
                return node

    def call(self, name: Token, args: list, method: bool) -> ast.Call:
        """The argument list of ``name(...)``; ``args`` holds the receiver of a method."""
        if self.functions is not None and name.text not in self.functions:
            close = closest(name.text, self.functions)
            hint = f" — did you mean '{close}'?" if close else ""
            raise self.error(f"unknown function '{name.text}'{hint}", name)
        opener = self.advance()
        self.enter(opener)
        kwargs: list = []
        while self.tok.kind != ")":
            tok = self.tok
            if tok.kind == NAME and self.peek().kind == "=":
                if any(k.name == tok.text for k in kwargs):
                    raise self.error(f"duplicate keyword argument '{tok.text}'", tok)
                self.advance()
                self.advance()
                kwargs.append(ast.Keyword(tok.text, self.expr(), tok.line, tok.col))
            elif kwargs:
                raise self.error("positional argument follows keyword argument", tok)
            else:
                args.append(self.expr())
            if self.tok.kind != ",":
                break
            self.advance()
        self.close(opener)
        return ast.Call(name.text, tuple(args), tuple(kwargs), method, name.line, name.col)

    def array(self) -> ast.ArrayLit:
        opener = self.advance()
        self.enter(opener)
        items = []
        while self.tok.kind != "]":
            items.append(self.expr())
            if self.tok.kind != ",":
                break
            self.advance()
        self.close(opener)
        return ast.ArrayLit(tuple(items), opener.line, opener.col)

    def index(self, value) -> ast.Index:
        """``value[item, ...]``; an item is an expression or a slice start:stop:step."""
        opener = self.advance()
        self.enter(opener)
        items: list = []
        while True:
            first = self.tok
            start = None if first.kind == ":" else self.expr()
            if self.tok.kind != ":":
                items.append(start)
            else:
                self.advance()
                stop = step = None
                if self.tok.kind not in (":", ",", "]"):
                    stop = self.expr()
                if self.tok.kind == ":":
                    self.advance()
                    if self.tok.kind not in (",", "]"):
                        step = self.expr()
                items.append(ast.Slice(start, stop, step, first.line, first.col))
            if self.tok.kind != ",":
                break
            self.advance()
            if self.tok.kind == "]":                # trailing comma
                break
        self.close(opener)
        return ast.Index(value, tuple(items), opener.line, opener.col)
