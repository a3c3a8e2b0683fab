"""Expressions: operators by precedence, operands, calls, subscripts, displays.

Binary and unary operators are parsed by operator precedence from ``BINARY`` and
``PREFIX``, Pratt style, with an explicit operator stack instead of one Python call per
operator: a flat chain ``x+x+...+x`` of any length costs no stack at all; so do chains
of ``and``/``or`` (one BoolOp) and comparisons (one Compare).  Python recursion happens
only for brackets, conditional expressions and lambdas, and every such level -- and
each ``**``, unary sign or ``not`` still open -- counts against ``max_depth``, so the
depth limit fires long before Python's recursion limit.
"""

from __future__ import annotations

import math

from gradcli.lang import ast
from gradcli.lang.tokenizer import NAME, NUMBER, STRING, Token

# token -> (precedence, right-associative); loosest first.  Comparisons sit between
# `not` and `|`; unary + - ~ between `*` and `**` (so -x**2 is -(x**2)).
BINARY = {
    "or": (1, False), "and": (2, False),
    "<": (4, False), ">": (4, False), "==": (4, False), ">=": (4, False), "<=": (4, False),
    "!=": (4, False), "in": (4, False), "not in": (4, False), "is": (4, False),
    "is not": (4, False),
    "|": (5, False), "^": (6, False), "&": (7, False), "<<": (8, False), ">>": (8, False),
    "+": (9, False), "-": (9, False),
    "*": (10, False), "/": (10, False), "//": (10, False), "%": (10, False), "@": (10, False),
    "**": (12, True),
}
GRAD_CARET = (12, True)         # the grad dialect: `^` is power, as in maths
PREFIX = {"-": 11, "+": 11, "~": 11, "not": 3}
COMPARISONS = frozenset(op for op, (prec, _) in BINARY.items() if prec == 4)
TARGET_PRECEDENCE = 5           # for-loop targets stop before `in`
MAX_INT_DIGITS = 4300           # Python's own limit on int <-> str conversion
_STARTERS = frozenset(("(", "[", "{", "-", "+", "~", "not", "lambda", "...", "*"))


class ExprParser:
    """The expression half of the parser (mixed into :class:`parser.Parser`)."""

    # -- the conditional-expression level ---------------------------------------------
    def test(self):
        """``a if c else b`` and ``lambda``, or an operator expression."""
        if self.tok.kind == "lambda":
            return self.lambda_expr()
        node = self.binary(1)
        if self.tok.kind == "if" and not self.no_conditional:
            tok = self.advance()
            self.enter(tok)
            test = self.binary(1)
            self.expect("else", "in a conditional expression 'a if c else b'")
            orelse = self.test()
            self.depth -= 1
            node = ast.IfExp(test, node, orelse, tok.line, tok.col)
        return node

    def expr(self):
        return self.test()

    def lambda_expr(self):
        tok = self.advance()
        self.enter(tok)
        params = self.parameters(":", lambda_=True)
        self.expect(":", "after the parameters of 'lambda'")
        body = self.test()
        self.depth -= 1
        return ast.Lambda(params, body, tok.line, tok.col)

    # -- operators ------------------------------------------------------------------
    def binary_op(self):
        """The binary operator at the current token, or None (two-word ops included)."""
        kind = self.tok.kind
        if kind == "not":
            return "not in" if self.peek().kind == "in" else None
        if kind == "is":
            return "is not" if self.peek().kind == "not" else "is"
        return kind if kind in BINARY else None

    def precedence(self, op: str):
        if op == "^" and self.dialect == "grad":
            return GRAD_CARET
        return BINARY[op]

    def binary(self, min_prec: int):
        """Operators binding at least as tight as ``min_prec``, with explicit stacks."""
        operands: list = []
        pending: list = []   # operators waiting for their right side: (prec, op, token, unary)
        while True:
            while self.tok.kind in PREFIX:          # unary signs and `not`, one level each
                tok = self.advance()
                self.enter(tok)
                pending.append((PREFIX[tok.kind], tok.kind, tok, True))
            operands.append(self.operand())
            op = self.binary_op()
            if op is None:
                break
            prec, right_assoc = self.precedence(op)
            if prec < min_prec:
                break
            floor = prec if right_assoc else prec - 1
            while pending and pending[-1][0] > floor:
                self.reduce(pending, operands)
            tok = self.advance()
            if op in ("not in", "is not"):
                self.advance()
            if right_assoc:                         # each open ** is one level deeper
                self.enter(tok)
            pending.append((prec, op, tok, False))
        while pending:
            self.reduce(pending, operands)
        return operands[0]

    def reduce(self, pending: list, operands: list) -> None:
        """Apply the innermost pending operator to its operand(s)."""
        prec, op, tok, unary = pending.pop()
        if unary:
            operands[-1] = ast.UnaryOp(op, operands[-1], tok.line, tok.col)
            self.depth -= 1
            return
        right = operands.pop()
        left = operands[-1]
        grouped = self.grouped
        if op in ("and", "or"):
            if type(left) is ast.BoolOp and left.op == op and id(left) not in grouped:
                node = ast.BoolOp(op, left.values + (right,), left.line, left.col)
            else:
                node = ast.BoolOp(op, (left, right), tok.line, tok.col)
        elif op in COMPARISONS:
            if type(left) is ast.Compare and id(left) not in grouped:
                node = ast.Compare(left.left, left.ops + (op,), left.comparators + (right,),
                                   left.line, left.col)
            else:
                node = ast.Compare(left, (op,), (right,), tok.line, tok.col)
        else:
            node = ast.BinOp("**" if prec == 12 else op, left, right, tok.line, tok.col)
            if prec == 12:
                self.depth -= 1
        operands[-1] = node

    # -- operands -----------------------------------------------------------------------
    def operand(self):
        """An atom followed by any postfix forms: calls, .attr, .method(...), [index].
        (Every bracket level costs four Python frames: operand, the bracket's method,
        test and binary; the depth limit keeps that far from the recursion limit.)"""
        tok = self.tok
        kind = tok.kind
        if kind == NAME:
            self.advance()
            if self.tok.kind == "(":
                self.calls.append((tok, False))
                args, kwargs = self.arguments()
                node = ast.Call(tok.text, args, kwargs, False, tok.line, tok.col)
            else:
                node = ast.Name(tok.text, tok.line, tok.col)
        elif kind == NUMBER:
            node = self.number(self.advance())
        elif kind == STRING:
            node = self.strings()
        elif kind == "(":
            node = self.parenthesized()
        elif kind == "[":
            node = self.list_display()
        elif kind == "{":
            node = self.dict_display()
        elif kind == "...":
            self.advance()
            node = ast.Const(Ellipsis, tok.line, tok.col)
        else:
            raise self.unexpected(tok, "an expression")
        while True:                                 # postfix forms, left to right
            kind = self.tok.kind
            if kind == ".":
                self.advance()
                name = self.tok
                if name.kind != NAME:
                    raise self.error(f"expected a name after '.', found {name.describe()}",
                                     name)
                # (a bare __name__ is a name; .__name__ is a type's name: type(e).__name__)
                if name.text.startswith("__") and name.text != "__name__":
                    raise self.error("names starting with '__' are not allowed", name)
                self.advance()
                if self.tok.kind == "(":
                    self.calls.append((name, True))
                    args, kwargs = self.arguments()
                    node = ast.Call(name.text, (node,) + args, kwargs, True, name.line,
                                    name.col)
                else:
                    node = ast.Attr(node, name.text, name.line, name.col)
            elif kind == "[":
                node = self.index(node)
            elif kind == "(":
                opener = self.tok
                args, kwargs = self.arguments()
                node = ast.CallValue(node, args, kwargs, opener.line, opener.col)
            else:
                return node

    def number(self, tok: Token):
        text = tok.text.replace("_", "")
        lowered = text[:2].lower()
        if lowered in ("0x", "0o", "0b"):
            value = int(text[2:], {"0x": 16, "0o": 8, "0b": 2}[lowered])
            return ast.Num(value, tok.text, True, tok.line, tok.col)
        if text.isdigit():
            if len(text) > MAX_INT_DIGITS:
                raise self.error(f"integer literal has {len(text)} digits; the limit is "
                                 f"{MAX_INT_DIGITS}", tok)
            if len(text) > 1 and text[0] == "0" and text.strip("0") and \
                    self.dialect == "python":
                raise self.error("leading zeros in decimal integer literals are not "
                                 "permitted; use an 0o prefix for octal integers", tok)
            return ast.Num(int(text), tok.text, True, tok.line, tok.col)
        value = float(text)
        if math.isinf(value):
            raise self.error(f"number '{tok.text}' is too large", tok)
        return ast.Num(value, tok.text, False, tok.line, tok.col)

    def strings(self):
        """One or more adjacent string literals (plain and formatted) as one value."""
        first = self.tok
        pieces = []
        while self.tok.kind == STRING:
            pieces.append(self.advance())
        if not any("f" in p.prefix for p in pieces):
            return ast.Str("".join(p.value for p in pieces), first.line, first.col)
        from gradcli.lang.fstrings import fstring_parts
        parts: list = []
        for piece in pieces:
            if "f" in piece.prefix:
                parts.extend(fstring_parts(self, piece))
            else:
                parts.append(piece.value)
        return ast.FString(tuple(parts), first.line, first.col)

    # -- brackets ---------------------------------------------------------------------
    def parenthesized(self):
        """``(expr)``, a tuple ``()``/``(a,)``/``(a, b)`` or a generator expression."""
        opener = self.advance()
        self.enter(opener)
        if self.tok.kind == ")":
            self.close(opener)
            return ast.Tuple((), opener.line, opener.col)
        first = self.test() if self.tok.kind != "*" else self.star_or_test()
        if self.tok.kind == "for":
            node = self.comprehension("gen", None, first, opener)
        elif self.tok.kind == ",":
            items = [first]
            while self.tok.kind == ",":
                self.advance()
                if self.tok.kind == ")":
                    break
                items.append(self.star_or_test())
            node = ast.Tuple(tuple(items), opener.line, opener.col)
        else:
            node = first
            self.grouped.add(id(node))
        self.close(opener)
        return node

    def list_display(self):
        opener = self.advance()
        self.enter(opener)
        items = []
        if self.tok.kind != "]":
            first = self.test() if self.tok.kind != "*" else self.star_or_test()
            if self.tok.kind == "for":
                node = self.comprehension("list", None, first, opener)
                self.close(opener)
                return node
            items.append(first)
            while self.tok.kind == ",":
                self.advance()
                if self.tok.kind == "]":
                    break
                items.append(self.star_or_test())
        self.close(opener)
        return ast.ArrayLit(tuple(items), opener.line, opener.col)

    def dict_display(self):
        opener = self.advance()
        self.enter(opener)
        keys, values = [], []
        while self.tok.kind != "}":
            if self.tok.kind == "**":
                raise self.error("'**' unpacking in a dict display is not supported",
                                 self.tok)
            key = self.test()
            if self.tok.kind != ":":
                raise self.error("set literals are not supported (a dict needs "
                                 "'key: value' pairs)", self.tok)
            self.advance()
            value = self.test()
            if self.tok.kind == "for" and not keys:
                node = self.comprehension("dict", key, value, opener)
                self.close(opener)
                return node
            keys.append(key)
            values.append(value)
            if self.tok.kind != ",":
                break
            self.advance()
        self.close(opener)
        return ast.Dict(tuple(keys), tuple(values), opener.line, opener.col)

    def comprehension(self, kind: str, key, elt, opener: Token):
        generators = []
        while self.tok.kind == "for":
            tok = self.advance()
            target = self.target_list()
            self.expect("in", "in a comprehension 'for x in ...'")
            saved, self.no_conditional = self.no_conditional, True
            iterable = self.binary(1)
            ifs = []
            while self.tok.kind == "if":
                self.advance()
                ifs.append(self.binary(1))
            self.no_conditional = saved
            generators.append(ast.CompFor(target, iterable, tuple(ifs), tok.line, tok.col))
        return ast.Comprehension(kind, key, elt, tuple(generators), opener.line, opener.col)

    def star_or_test(self):
        if self.tok.kind == "*":
            tok = self.advance()
            return ast.Starred(self.binary(5), tok.line, tok.col)
        return self.test()

    # -- calls and subscripts --------------------------------------------------------
    def arguments(self) -> tuple:
        opener = self.advance()
        self.enter(opener)
        args: list = []
        kwargs: list = []
        while self.tok.kind != ")":
            tok = self.tok
            if tok.kind == NAME and self.peek().kind == "=":
                if any(k.name == tok.text for k in kwargs):
                    raise self.error(f"duplicate keyword argument '{tok.text}'", tok)
                self.advance()
                self.advance()
                kwargs.append(ast.Keyword(tok.text, self.test(), tok.line, tok.col))
            elif tok.kind == "**":
                raise self.error("'**' unpacking in a call is not supported", tok)
            elif kwargs and tok.kind != "*":
                raise self.error("positional argument follows keyword argument", tok)
            else:
                value = self.test() if tok.kind != "*" else self.star_or_test()
                if self.tok.kind == "for":
                    value = self.comprehension("gen", None, value, tok)
                args.append(value)
            if self.tok.kind != ",":
                break
            self.advance()
        self.close(opener)
        return tuple(args), tuple(kwargs)

    def index(self, value) -> ast.Index:
        """``value[item, ...]``; an item is an expression or a slice start:stop:step."""
        opener = self.advance()
        self.enter(opener)
        items: list = []
        while True:
            first = self.tok
            start = None if first.kind == ":" else self.test()
            if self.tok.kind != ":":
                items.append(start)
            else:
                self.advance()
                stop = step = None
                if self.tok.kind not in (":", ",", "]"):
                    stop = self.test()
                if self.tok.kind == ":":
                    self.advance()
                    if self.tok.kind not in (",", "]"):
                        step = self.test()
                items.append(ast.Slice(start, stop, step, first.line, first.col))
            if self.tok.kind != ",":
                break
            self.advance()
            if self.tok.kind == "]":                # trailing comma
                break
        self.close(opener)
        return ast.Index(value, tuple(items), opener.line, opener.col)

    # -- lists of expressions --------------------------------------------------------
    def starts_expression(self) -> bool:
        kind = self.tok.kind
        return kind in (NAME, NUMBER, STRING) or kind in _STARTERS

    def testlist(self):
        """``a`` or a tuple without brackets ``a, b`` (statements, return, for ... in)."""
        first = self.star_or_test()
        if self.tok.kind != ",":
            if isinstance(first, ast.Starred) and self.tok.kind != "=":
                raise self.error("can't use starred expression here", first)
            return first
        items = [first]
        while self.tok.kind == ",":
            self.advance()
            if not self.starts_expression():
                break
            items.append(self.star_or_test())
        return ast.Tuple(tuple(items), first.line, first.col)

    def target_list(self):
        """The target of ``for`` (``i``, ``i, x``, ``(a, b)``): stops before ``in``."""
        first = self.binary(TARGET_PRECEDENCE)
        if self.tok.kind != ",":
            return self.check_target(first)
        items = [first]
        while self.tok.kind == ",":
            self.advance()
            if self.tok.kind == "in":
                break
            items.append(self.binary(TARGET_PRECEDENCE))
        return self.check_target(ast.Tuple(tuple(items), first.line, first.col))
