"""Statements: compound ones (if/for/while/def/with/try) and simple ones (assignment,
import, return, ...), parsed for :class:`gradcli.lang.parser.Parser` (mixed in)."""

from __future__ import annotations

from gradcli.lang import ast
from gradcli.lang.tokenizer import NAME, NEWLINE, Token

ASSIGN_OPS = {"+=": "+", "-=": "-", "*=": "*", "/=": "/", "**=": "**", "//=": "//",
              "%=": "%", "@=": "@", "&=": "&", "|=": "|", "^=": "^"}
UNSUPPORTED = {
    "class": "class definitions are not supported (build models from nn.Sequential and "
             "the nn modules)",
    "yield": "'yield' is not supported", "async": "'async' is not supported",
    "await": "'await' is not supported", "nonlocal": "'nonlocal' is not supported",
}
# Functions people write without parentheses, as in maths ('sin x').
CALL_HINT_NAMES = frozenset("""sin cos tan asin acos atan sinh cosh tanh exp log log2
    log10 sqrt abs sigmoid relu softplus erf sum mean norm""".split())
COMPOUND = {"if": "compound_if", "while": "compound_while", "for": "compound_for",
            "def": "compound_def", "@": "compound_decorated", "with": "compound_with",
            "try": "compound_try"}
SIMPLE = {k: "simple_" + k for k in ("pass", "break", "continue", "return", "global",
                                     "del", "assert", "raise", "import", "from")}


class StatementParser:
    """The statement half of the parser."""

    # -- compound statements ----------------------------------------------------------
    def compound_if(self):
        tok = self.advance()
        test = self.test()
        body = self.block(tok)
        orelse: tuple = ()
        if self.tok.kind == "elif":
            orelse = (self.compound_if(),)
        elif self.tok.kind == "else":
            orelse = self.block(self.advance())
        return ast.If(test, body, orelse, tok.line, tok.col)

    def compound_while(self):
        tok = self.advance()
        test = self.test()
        return ast.While(test, *self.loop_body(tok), tok.line, tok.col)

    def compound_for(self):
        tok = self.advance()
        target = self.target_list()
        self.expect("in", "after the target of 'for'")
        iterable = self.testlist()
        return ast.For(target, iterable, *self.loop_body(tok), tok.line, tok.col)

    def loop_body(self, tok: Token) -> tuple:
        self.loops += 1
        body = self.block(tok)
        self.loops -= 1
        orelse = self.block(self.advance()) if self.tok.kind == "else" else ()
        return body, orelse

    def compound_def(self, decorators: tuple = ()):
        tok = self.advance()
        name = self.tok
        if name.kind != NAME:
            raise self.unexpected(name, "a function name after 'def'")
        self.advance()
        self.bound.add(name.text)
        opener = self.expect("(", f"after 'def {name.text}'")
        self.enter(opener)
        params = self.parameters(")")
        self.close(opener)
        if self.tok.kind == "->":
            self.advance()
            self.test()                              # a return annotation: ignored
        saved = self.loops, self.functions
        self.loops, self.functions = 0, self.functions + 1
        body = self.block(tok)
        self.loops, self.functions = saved
        return ast.FunctionDef(name.text, params, body, decorators, tok.line, tok.col)

    def compound_decorated(self):
        decorators = []
        while self.tok.kind == "@":
            self.advance()
            decorators.append(self.test())
            if self.tok.kind != NEWLINE:
                raise self.unexpected(self.tok, "a new line after the decorator")
            self.advance()
        if self.tok.kind != "def":
            raise self.unexpected(self.tok, "'def' after a decorator")
        return self.compound_def(tuple(decorators))

    def compound_with(self):
        tok = self.advance()
        items = []
        while True:
            start = self.tok
            context = self.test()
            target = None
            if self.tok.kind == "as":
                self.advance()
                target = self.check_target(self.binary(5))
            items.append(ast.WithItem(context, target, start.line, start.col))
            if self.tok.kind != ",":
                break
            self.advance()
        return ast.With(tuple(items), self.block(tok), tok.line, tok.col)

    def compound_try(self):
        tok = self.advance()
        body = self.block(tok)
        handlers = []
        while self.tok.kind == "except":
            handler = self.advance()
            kind = name = None
            if self.tok.kind != ":":
                kind = self.test()
                if self.tok.kind == "as":
                    self.advance()
                    if self.tok.kind != NAME:
                        raise self.unexpected(self.tok, "a name after 'as'")
                    name = self.advance().text
                    self.bound.add(name)
            handlers.append(ast.ExceptHandler(kind, name, self.block(handler), handler.line,
                                              handler.col))
        orelse = self.block(self.advance()) if handlers and self.tok.kind == "else" else ()
        final = self.block(self.advance()) if self.tok.kind == "finally" else ()
        if not handlers and not final:
            raise self.unexpected(self.tok, "'except' or 'finally' after the 'try' block")
        return ast.Try(body, tuple(handlers), orelse, final, tok.line, tok.col)

    def parameters(self, closer: str, lambda_: bool = False) -> tuple:
        params = []
        kind = ""
        while self.tok.kind != closer:
            tok = self.tok
            if tok.kind in ("*", "**"):
                self.advance()
                if tok.kind == "*" and self.tok.kind == ",":
                    kind = "kw"                      # bare *: keyword-only from here
                    self.advance()
                    continue
                kind = tok.kind
            name = self.tok
            if name.kind != NAME:
                raise self.unexpected(name, "a parameter name")
            self.advance()
            self.bound.add(name.text)
            if self.tok.kind == ":" and not lambda_:
                self.advance()
                self.test()                          # an annotation: ignored
            default = None
            if self.tok.kind == "=":
                self.advance()
                default = self.test()
            params.append(ast.Param(name.text, default, kind, name.line, name.col))
            if kind == "*":
                kind = "kw"
            if self.tok.kind != ",":
                break
            self.advance()
        return tuple(params)

    # -- simple statements ------------------------------------------------------------
    def simple_statement(self):
        tok = self.tok
        handler = SIMPLE.get(tok.kind)
        if handler is not None:
            return getattr(self, handler)()
        if tok.kind in UNSUPPORTED:
            raise self.error(UNSUPPORTED[tok.kind], tok)
        value = self.testlist()
        kind = self.tok.kind
        if kind == "=":
            if isinstance(value, ast.Starred):
                raise self.error("starred assignment target must be in a list or tuple",
                                 tok)
            target = self.check_target(value, as_text=True)
            self.advance()
            rhs = self.testlist()
            if self.tok.kind == "=":
                raise self.error("chained assignment is not supported", self.tok)
            return ast.Assign(target, rhs, tok.line, tok.col)
        if kind in ASSIGN_OPS:
            if not isinstance(value, (ast.Name, ast.Attr, ast.Index)):
                raise self.error("an augmented assignment needs a single target: a name, "
                                 "an attribute or an item", tok)
            target = self.check_target(value, as_text=True)
            self.advance()
            return ast.AugAssign(target, ASSIGN_OPS[kind], self.testlist(), tok.line,
                                 tok.col)
        if kind == ":" and isinstance(value, (ast.Name, ast.Attr, ast.Index)):
            self.advance()                           # x: float = 2.0 (annotation ignored)
            self.test()
            if self.tok.kind != "=":
                return ast.Pass(tok.line, tok.col)
            self.advance()
            return ast.Assign(self.check_target(value, as_text=True), self.testlist(),
                              tok.line, tok.col)
        return ast.ExprStmt(value, tok.line, tok.col)

    def simple_pass(self):
        tok = self.advance()
        return ast.Pass(tok.line, tok.col)

    def simple_break(self):
        tok = self.advance()
        if not self.loops:
            raise self.error("'break' outside loop", tok)
        return ast.Break(tok.line, tok.col)

    def simple_continue(self):
        tok = self.advance()
        if not self.loops:
            raise self.error("'continue' not properly in loop", tok)
        return ast.Continue(tok.line, tok.col)

    def simple_return(self):
        tok = self.advance()
        if not self.functions:
            raise self.error("'return' outside function", tok)
        value = self.testlist() if self.starts_expression() else None
        return ast.Return(value, tok.line, tok.col)

    def simple_global(self):
        tok = self.advance()
        names = [self.name_token("a name after 'global'").text]
        while self.tok.kind == ",":
            self.advance()
            names.append(self.name_token("a name").text)
        return ast.Global(tuple(names), tok.line, tok.col)

    def simple_del(self):
        tok = self.advance()
        return ast.Delete(self.check_target(self.testlist(), delete=True), tok.line, tok.col)

    def simple_assert(self):
        tok = self.advance()
        test = self.test()
        msg = None
        if self.tok.kind == ",":
            self.advance()
            msg = self.test()
        return ast.Assert(test, msg, tok.line, tok.col)

    def simple_raise(self):
        tok = self.advance()
        exc = self.test() if self.starts_expression() else None
        if self.tok.kind == "from":
            raise self.error("'raise ... from' is not supported", self.tok)
        return ast.Raise(exc, tok.line, tok.col)

    def simple_import(self):
        tok = self.advance()
        names = [self.alias(dotted=True)]
        while self.tok.kind == ",":
            self.advance()
            names.append(self.alias(dotted=True))
        return ast.Import(tuple(names), tok.line, tok.col)

    def simple_from(self):
        tok = self.advance()
        module = self.dotted_name()
        self.expect("import", f"after 'from {module}'")
        if self.tok.kind == "*":
            raise self.error(f"'from {module} import *' is not supported: import the names "
                             "you use", self.tok)
        opener = self.advance() if self.tok.kind == "(" else None
        names = [self.alias(dotted=False)]
        while self.tok.kind == ",":
            self.advance()
            if opener is not None and self.tok.kind == ")":
                break
            names.append(self.alias(dotted=False))
        if opener is not None:
            self.depth += 1
            self.close(opener)
        return ast.ImportFrom(module, tuple(names), tok.line, tok.col)

    def dotted_name(self) -> str:
        parts = [self.name_token("a module name").text]
        while self.tok.kind == ".":
            self.advance()
            parts.append(self.name_token("a module name after '.'").text)
        return ".".join(parts)

    def alias(self, dotted: bool):
        start = self.tok
        name = self.dotted_name() if dotted else self.name_token("a name to import").text
        asname = None
        if self.tok.kind == "as":
            self.advance()
            asname = self.name_token("a name after 'as'").text
        self.bound.add(asname or name.split(".")[0])
        return ast.Alias(name, asname, start.line, start.col)

    def name_token(self, wanted: str) -> Token:
        if self.tok.kind != NAME:
            raise self.unexpected(self.tok, wanted)
        return self.advance()
