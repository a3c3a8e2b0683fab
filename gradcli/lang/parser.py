"""Parse gradcli source text into a :class:`gradcli.lang.ast.Program` (SPEC 2 and 7).

    from gradcli.lang.parser import parse
    program = parse("y = x**2 + 1; y.sum()", functions={"sum", "exp"})
    script = parse(open("tutorial.py").read(), dialect="python")

One parser serves both dialects.  They differ in three places: in the ``grad`` dialect
``^`` is power, indentation that opens no block is ignored, and calls of unknown
functions are parse errors with a suggestion (``functions``/``methods``); in the
``python`` dialect ``^`` is exclusive or and indentation is Python's.  Expressions are
parsed by :mod:`gradcli.lang.exprparser`; statements here.  User text is only ever read
by the tokenizer: nothing here evaluates or compiles it.
"""

from __future__ import annotations

from typing import Collection, Optional

from gradcli.errors import LimitError, ParseError
from gradcli.lang import ast
from gradcli.lang.exprparser import ExprParser
from gradcli.lang.statements import (CALL_HINT_NAMES, COMPOUND, UNSUPPORTED,
                                     StatementParser)
from gradcli.lang.suggest import closest
from gradcli.lang.tokenizer import (DEDENT, EOF, INDENT, NAME, NEWLINE, NUMBER, Token,
                                    tokenize)

_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def parse(source: str, *, functions: Optional[Collection[str]] = None,
          methods: Optional[Collection[str]] = None, max_depth: int = 200,
          max_bytes: int = 1_000_000, dialect: str = "grad") -> ast.Program:
    """Parse a whole program.

    ``functions``: if given, calling a name that is neither one of these nor bound by
    the program is a ParseError with a suggestion; ``methods`` likewise for ``a.f()``
    (default: ``functions``).  Raises :class:`ParseError`, or :class:`LimitError` for a
    program over ``max_bytes`` (UTF-8) or nested over ``max_depth`` levels; both carry
    line, column and source.
    """
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise LimitError(f"program is {size} bytes; the limit is {max_bytes}",
                         line=1, column=1, source=source)
    parser = Parser(source, max_depth, dialect)
    try:
        program = parser.program()
    except RecursionError:  # only reachable with a max_depth far above the default
        tok = parser.tok
        raise LimitError("expression nested too deeply for the Python stack",
                         line=tok.line, column=tok.col, source=source) from None
    if functions is not None:
        functions = frozenset(functions)
        parser.check_calls(functions, functions if methods is None else methods)
    return program


class Parser(StatementParser, ExprParser):
    def __init__(self, source: str, max_depth: int, dialect: str, span=None):
        if dialect not in ("grad", "python"):
            raise ValueError(f"unknown dialect {dialect!r}")
        self.source = source
        self.dialect = dialect
        self.max_depth = max_depth
        self.depth = 0                      # current nesting level
        self.grouped: set = set()           # ids of nodes written in parentheses
        self.calls: list = []               # (name token, is a method call)
        self.bound: set = set()             # names the program binds (for check_calls)
        self.no_conditional = False         # inside a comprehension's `in` clause
        self.loops = 0                      # loops around the current statement
        self.functions = 0                  # function bodies around it
        self._tokens = tokenize(source, lenient_indent=dialect == "grad", span=span)
        self._peeked: Optional[Token] = None
        self.previous: Optional[Token] = None   # the last token consumed
        self.tok: Token = next(self._tokens)   # the current (next unconsumed) token

    # -- token helpers -------------------------------------------------------------
    def advance(self) -> Token:
        """Consume the current token and return it."""
        tok = self.previous = self.tok
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

    def unexpected(self, tok: Token, wanted: str) -> ParseError:
        if tok.kind in (")", "]", "}"):
            return self.error(f"expected {wanted}, found '{tok.kind}'", tok)
        if tok.kind in UNSUPPORTED:
            return self.error(UNSUPPORTED[tok.kind], tok)
        return self.error(f"expected {wanted}, found {tok.describe()}", tok)

    def expect(self, kind: str, context: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"expected '{kind}' {context}, found {self.tok.describe()}",
                             self.tok)
        return self.advance()

    def enter(self, tok: Token) -> None:
        """Open one level of nesting at ``tok``, enforcing max_depth."""
        self.depth += 1
        if self.depth > self.max_depth:
            raise LimitError(f"expression nested too deeply (over {self.max_depth} levels)",
                             line=tok.line, column=tok.col, source=self.source)

    def close(self, opener: Token) -> None:
        """Consume the bracket closing ``opener`` and leave its level of nesting."""
        closer = _CLOSERS[opener.kind]
        tok = self.tok
        if tok.kind != closer:
            where = f"column {opener.col}" if opener.line == tok.line else \
                f"line {opener.line}, column {opener.col}"
            raise self.error(f"expected '{closer}' to close '{opener.kind}' from {where}, "
                             f"found {tok.describe()}", tok)
        self.advance()
        self.depth -= 1

    # -- programs and blocks --------------------------------------------------------
    def program(self) -> ast.Program:
        statements = []
        while True:
            kind = self.tok.kind
            if kind in (";", NEWLINE):
                self.advance()
            elif kind == EOF:
                return ast.Program(statements=tuple(statements), source=self.source)
            elif kind == INDENT:
                error = self.error("unexpected indent", self.tok)
                error.python_type = "IndentationError"
                raise error
            else:
                statements.extend(self.statement())

    def statement(self) -> list:
        """One compound statement, or a line of simple statements separated by ';'."""
        kind = self.tok.kind
        compound = COMPOUND.get(kind)
        if compound is not None:
            return [getattr(self, compound)()]
        if kind in UNSUPPORTED:
            raise self.error(UNSUPPORTED[kind], self.tok)
        statements = [self.simple_statement()]
        while True:
            tok = self.tok
            if tok.kind == NEWLINE:
                self.advance()
                return statements
            if tok.kind == ";":
                while self.tok.kind == ";":         # empty statements: x;; y
                    self.advance()
                if self.tok.kind in (NEWLINE, EOF):
                    continue
                statements.append(self.simple_statement())
                continue
            if tok.kind == EOF:
                return statements
            if tok.kind in (")", "]", "}"):
                raise self.error(f"unexpected '{tok.kind}'", tok)
            raise self.error(f"expected ';' or a new line, found {tok.describe()}"
                             f"{self.call_hint(tok)}", tok)

    def call_hint(self, tok: Token) -> str:
        """'sin x': a function name followed by its argument without parentheses."""
        prev = self.previous
        if prev is not None and prev.kind == NAME and prev.text in CALL_HINT_NAMES and \
                tok.kind in (NAME, NUMBER):
            return f" (to call {prev.text}, write {prev.text}({tok.text}))"
        return ""

    def block(self, owner: Token) -> tuple:
        """The body after ``if ...:`` and friends: an indented block, or simple
        statements on the same line."""
        self.expect(":", f"after the '{owner.text}' line")
        if self.tok.kind != NEWLINE:
            return tuple(self.statement())
        self.advance()
        if self.tok.kind != INDENT:
            error = self.error(f"expected an indented block after the '{owner.text}' "
                               f"statement on line {owner.line}, found "
                               f"{self.tok.describe()}", self.tok)
            error.python_type = "IndentationError"          # Python's words for scripts
            error.python_message = (f"expected an indented block after '{owner.text}' "
                                    f"statement on line {owner.line}")
            raise error
        opener = self.advance()
        self.enter(opener)
        body = []
        while self.tok.kind != DEDENT:
            if self.tok.kind == EOF:
                break
            if self.tok.kind in (";", NEWLINE):
                self.advance()
                continue
            body.extend(self.statement())
        if self.tok.kind == DEDENT:
            self.advance()
        self.depth -= 1
        return tuple(body)

    # -- targets ------------------------------------------------------------------------
    def check_target(self, node, delete: bool = False, as_text: bool = False):
        """An assignment (or del/for) target: a name, a tuple or list of targets, an
        attribute or a subscript; anything else is an error.  ``as_text``: a plain name
        is returned as its text (what Assign and AugAssign hold)."""
        stack = [node]
        while stack:
            item = stack.pop()
            if isinstance(item, ast.Name):
                if item.id in ("True", "False", "None"):
                    raise self.error(f"cannot assign to {item.id}", self._token_at(item))
                self.bound.add(item.id)
            elif isinstance(item, (ast.Tuple, ast.ArrayLit)):
                stack.extend(item.items)
            elif isinstance(item, ast.Starred) and not delete:
                stack.append(item.value)
            elif not isinstance(item, (ast.Attr, ast.Index)):
                raise self.error(f"cannot {'delete' if delete else 'assign to'} "
                                 f"{_describe(item)}", self._token_at(item))
        return node.id if as_text and isinstance(node, ast.Name) else node

    def _token_at(self, node) -> Token:
        line, col = _start(node)
        return Token(NAME, "", line, col)

    # -- the unknown-function check (grad dialect) --------------------------------------
    def check_calls(self, functions: frozenset, methods) -> None:
        """``methods``: any container (read with ``in``; listed only for a suggestion)."""
        for tok, method in self.calls:
            name = tok.text
            if method:
                if name in methods:
                    continue
                known = methods
            elif name in functions or name in self.bound:
                continue
            else:
                known = functions
            close = closest(name, known)
            hint = f" — did you mean '{close}'?" if close else ""
            raise self.error(f"unknown function '{name}'{hint}", tok)


def _start(node) -> tuple:
    """Where ``node`` starts in the text (a binary operation's node sits at its operator)."""
    while isinstance(node, (ast.BinOp, ast.Compare, ast.BoolOp)):
        node = node.left if not isinstance(node, ast.BoolOp) else node.values[0]
    return node.line, node.col


def _describe(node) -> str:
    if isinstance(node, (ast.Call, ast.CallValue)):
        return "a function call"
    if isinstance(node, (ast.Num, ast.Str, ast.FString, ast.Const)):
        return "a literal"
    if isinstance(node, ast.Dict):
        return "a dict display"
    if isinstance(node, ast.Comprehension):
        return "a comprehension"
    return "an expression"
