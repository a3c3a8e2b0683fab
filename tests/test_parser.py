"""Tests of gradcli's tokenizer and parser (SPEC section 2).

Big trees are only ever walked with ast.postorder / ast.to_sexpr (both iterative).
"""

from __future__ import annotations

import pathlib
import re
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli.errors import GradcliError, LimitError, ParseError
from gradcli.lang import ast
from gradcli.lang.parser import parse
from gradcli.lang.tokenizer import EOF, NAME, NEWLINE, NUMBER, tokenize


def sexpr(source: str, **kw) -> str:
    return ast.to_sexpr(parse(source, **kw))


def expr_of(source: str):
    """The expression of a one-statement program."""
    (stmt,) = parse(source).statements
    return stmt.value


def parse_error(source: str, **kw) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(source, **kw)
    assert info.type is ParseError
    return info.value


@pytest.fixture
def default_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(old)


# -- golden S-expressions -------------------------------------------------------------

GOLDEN = [
    ("2**3**2", "(** 2 (** 3 2))"),
    ("-x**2", "(neg (** x 2))"),
    ("x^2+1", "(+ (** x 2) 1)"),
    ("x^y^z", "(** x (** y z))"),
    ("a@b*c", "(* (@ a b) c)"),
    ("a*b@c", "(@ (* a b) c)"),
    ("a-b-c", "(- (- a b) c)"),
    ("a/b/c", "(/ (/ a b) c)"),
    ("a+b*c-d", "(- (+ a (* b c)) d)"),
    ("(a+b)*c", "(* (+ a b) c)"),
    ("2**-1", "(** 2 (neg 1))"),
    ("2**-1*3", "(* (** 2 (neg 1)) 3)"),
    ("2**-x**2", "(** 2 (neg (** x 2)))"),
    ("-2**2", "(neg (** 2 2))"),
    ("(-2)**2", "(** (neg 2) 2)"),
    ("-x*y", "(* (neg x) y)"),
    ("a*-b", "(* a (neg b))"),
    ("a - -b", "(- a (neg b))"),
    ("--x", "(neg (neg x))"),
    ("+x", "(pos x)"),
    ("-+-x", "(neg (pos (neg x)))"),
    ("a.f(b).g()", "(g (f a b))"),
    ("x.T", "(.T x)"),
    ("x.T.T", "(.T (.T x))"),
    ("-x.T**2", "(neg (** (.T x) 2))"),
    ("(x+y).sum(1)", "(sum (+ x y) 1)"),
    ("x.sum(dim=0)", "(sum x dim=0)"),
    ("x[1:]", "(index x 1:)"),
    ("x[:2]", "(index x :2)"),
    ("x[:]", "(index x :)"),
    ("x[1:5:2]", "(index x 1:5:2)"),
    ("x[:, 0]", "(index x : 0)"),
    ("x[::2]", "(index x ::2)"),
    ("x[::-1]", "(index x ::(neg 1))"),
    ("x[-1]", "(index x (neg 1))"),
    ("x[1,2]", "(index x 1 2)"),
    ("x[1,]", "(index x 1)"),
    ("x[i+1]", "(index x (+ i 1))"),
    ("x[0][1]", "(index (index x 0) 1)"),
    ("f(x)[0].T", "(.T (index (f x) 0))"),
    ("f()", "(f)"),
    ("f(x,)", "(f x)"),
    ("f(x, dim=1, keepdim=True)", "(f x dim=1 keepdim=True)"),
    ("f(g(x), h(y, z))", "(f (g x) (h y z))"),
    ("[[1,2],[3,4]]", "[[1 2] [3 4]]"),
    ("[x, 2*y]", "[x (* 2 y)]"),
    ("[1, 2, 3,]", "[1 2 3]"),
    ("[]", "[]"),
    ("2 + .5 * 2. - 1e-3 / 1.5E+2", "(- (+ 2 (* .5 2.)) (/ 1e-3 1.5E+2))"),
    ("True + None + pi + e", "(+ (+ (+ True None) pi) e)"),
    ("_a1 + b_2", "(+ _a1 b_2)"),
    ("x = 1", "(= x 1)"),
    ("y += x*2", "(+= y (* x 2))"),
    ("y -= 1; y *= 2; y /= 3", "(-= y 1)\n(*= y 2)\n(/= y 3)"),
    ("x = 1; y = x + 1\nz = y**2  # square\n\n# only a comment\nz",
     "(= x 1)\n(= y (+ x 1))\n(= z (** y 2))\nz"),
    (";;x;;\n\n;y;", "x\ny"),
    ("x = [1,\n     2,\n]\nf(x,\n  dim=0)\n(x\n +\n 1)", "(= x [1 2])\n(f x dim=0)\n(+ x 1)"),
    ("x[1,\n  2]", "(index x 1 2)"),
    ("f(x,  # first\n  y)  # call\ny", "(f x y)\ny"),
    ("x = f(\n\n  a\n\n)", "(= x (f a))"),
    ("x = 1 # c; y = 2", "(= x 1)"),
    ("\r\nx\r\n", "x"),
    ("\tx\f+ y ", "(+ x y)"),
]


@pytest.mark.parametrize("source,expected", GOLDEN)
def test_golden(source, expected):
    assert sexpr(source) == expected


def test_empty_programs():
    for source in ("", "   ", "\n\n", "# nothing\n", ";", " ; ;\n;"):
        assert parse(source) == ast.Program(statements=(), source=source)


def test_nodes():
    assert expr_of("2") == ast.Num(2.0, "2", True, 1, 1)
    assert expr_of(" 2.5") == ast.Num(2.5, "2.5", False, 1, 2)
    assert expr_of("1e3") == ast.Num(1000.0, "1e3", False, 1, 1)
    assert expr_of("2.") == ast.Num(2.0, "2.", False, 1, 1)
    assert expr_of(".5") == ast.Num(0.5, ".5", False, 1, 1)
    assert expr_of("1.5E+2").value == 150.0
    assert expr_of("007") == ast.Num(7.0, "007", True, 1, 1)
    assert expr_of("a.f(b)") == ast.Call(
        "f", (ast.Name("a", 1, 1), ast.Name("b", 1, 5)), (), True, 1, 3)
    assert expr_of("f(a, k=2)") == ast.Call(
        "f", (ast.Name("a", 1, 3),), (ast.Keyword("k", ast.Num(2.0, "2", True, 1, 8), 1, 6),),
        False, 1, 1)
    assert expr_of("x[1:2]") == ast.Index(
        ast.Name("x", 1, 1),
        (ast.Slice(ast.Num(1.0, "1", True, 1, 3), ast.Num(2.0, "2", True, 1, 5), None, 1, 3),),
        1, 2)
    assert expr_of("x[::]").items == (ast.Slice(None, None, None, 1, 3),)
    assert expr_of("y ^ 2").op == "**"
    prog = parse("a = 1\nb += a")
    assert prog.statements == (ast.Assign("a", ast.Num(1.0, "1", True, 1, 5), 1, 1),
                               ast.AugAssign("b", "+", ast.Name("a", 2, 6), 2, 1))
    assert prog.source == "a = 1\nb += a"


# -- positions ------------------------------------------------------------------------

def positions(source: str) -> list[tuple[str, int, int]]:
    return [(type(n).__name__, n.line, n.col) for n in ast.postorder(parse(source))
            if not isinstance(n, ast.Program)]


def test_positions_single_line():
    assert positions("y = -a.f(b)[1:] + x.T") == [
        ("Name", 1, 6), ("Name", 1, 10), ("Call", 1, 8), ("Num", 1, 13), ("Slice", 1, 13),
        ("Index", 1, 12), ("UnaryOp", 1, 5), ("Name", 1, 19), ("Attr", 1, 21),
        ("BinOp", 1, 17), ("Assign", 1, 1)]


def test_positions_multi_line():
    source = "x = 1\n  # comment\n\n  f(x,\n    k=[2, 3]) * 2 ; -x**2\n"
    assert positions(source) == [
        ("Num", 1, 5), ("Assign", 1, 1),
        ("Name", 4, 5), ("Num", 5, 8), ("Num", 5, 11), ("ArrayLit", 5, 7), ("Call", 4, 3),
        ("Num", 5, 17), ("BinOp", 5, 15), ("ExprStmt", 4, 3),
        ("Name", 5, 22), ("Num", 5, 25), ("BinOp", 5, 23), ("UnaryOp", 5, 21),
        ("ExprStmt", 5, 21)]


def test_expr_stmt_is_at_statement_start():
    (stmt,) = parse("  (a + b) * c").statements
    assert (stmt.line, stmt.col) == (1, 3)
    assert (stmt.value.line, stmt.value.col) == (1, 11)


def test_columns_count_characters_not_bytes():
    err = parse_error("x = 1 # é\ny = é")
    assert (err.message, err.line, err.column) == ("unexpected character 'é'", 2, 5)


def test_tokens():
    toks = []
    for tok in tokenize("a = 2.5e1 ** (b\n)\n# c\nf(x)"):
        if tok.kind == EOF:
            toks.append((tok.kind, tok.line, tok.col))
            break
        toks.append((tok.kind, tok.text, tok.line, tok.col))
    assert toks == [
        (NAME, "a", 1, 1), ("=", "=", 1, 3), (NUMBER, "2.5e1", 1, 5), ("**", "**", 1, 11),
        ("(", "(", 1, 14), (NAME, "b", 1, 15), (")", ")", 2, 1), (NEWLINE, "\n", 2, 2),
        (NAME, "f", 4, 1), ("(", "(", 4, 2), (NAME, "x", 4, 3), (")", ")", 4, 4),
        (NEWLINE, "", 4, 5), (EOF, 4, 5)]


# -- errors ---------------------------------------------------------------------------

ERRORS = [
    # source, message, line, column
    ("(1 + 2", "expected ')' to close '(' from column 1, found end of input", 1, 7),
    ("f(1 + (2", "expected ')' to close '(' from column 7, found end of input", 1, 9),
    ("x = (1 +\n 2", "expected ')' to close '(' from line 1, column 5, found end of input", 2, 3),
    ("f(x\ny = 2", "expected ')' to close '(' from line 1, column 2, found 'y'", 2, 1),
    ("[1, 2", "expected ']' to close '[' from column 1, found end of input", 1, 6),
    ("[1, 2)", "expected ']' to close '[' from column 1, found ')'", 1, 6),
    ("x[1", "expected ']' to close '[' from column 2, found end of input", 1, 4),
    ("(a b)", "expected ')' to close '(' from column 1, found 'b'", 1, 4),
    ("f(a b)", "expected ')' to close '(' from column 2, found 'b'", 1, 5),
    ("(1 + 2))", "unexpected ')'", 1, 8),
    ("x]", "unexpected ']'", 1, 2),
    (")", "expected an expression, found ')'", 1, 1),
    ("x = [1, ]]", "unexpected ']'", 1, 10),
    ("1 +", "expected an expression, found end of input", 1, 4),
    ("1 + * 2", "expected an expression, found '*'", 1, 5),
    ("x = \ny", "expected an expression, found end of line", 1, 5),
    ("x[]", "expected an expression, found ']'", 1, 3),
    ("f(,)", "expected an expression, found ','", 1, 3),
    ("[,]", "expected an expression, found ','", 1, 2),
    ("x y", "expected ';' or a new line, found 'y'", 1, 3),
    ("x = 1 2", "expected ';' or a new line, found '2'", 1, 7),
    ("a\nb c", "expected ';' or a new line, found 'c'", 2, 3),
    ("a ~ b", "expected ';' or a new line, found '~'", 1, 3),
    ("x.", "expected a name after '.', found end of input", 1, 3),
    ("x.1", "expected ';' or a new line, found '.1'", 1, 2),
    ("x.(y)", "expected a name after '.', found '('", 1, 3),
    ("x = y = 1", "chained assignment is not supported", 1, 7),
    ("f(a=1, b)", "positional argument follows keyword argument", 1, 8),
    ("f(a=1, a=2)", "duplicate keyword argument 'a'", 1, 8),
    ("2x", "invalid number '2x' (write '2*x' to multiply)", 1, 1),
    ("y = 3x2", "invalid number '3x2' (write '3*x2' to multiply)", 1, 5),
    ("1e", "invalid number '1e'", 1, 1),
    ("1e+", "invalid number '1e'", 1, 1),
    ("1__000", "invalid number '1__000'", 1, 1),
    ("1_", "invalid number '1_'", 1, 1),
    ("2.T", "invalid number '2.T'", 1, 1),
    ("1e999", "number '1e999' is too large", 1, 1),
    ("__x", "names starting with '__' are not allowed", 1, 1),
    ("x.__dict__", "names starting with '__' are not allowed", 1, 3),
    ("x.__f(1)", "names starting with '__' are not allowed", 1, 3),
    ("f(__k=1)", "names starting with '__' are not allowed", 1, 3),
    ("__y = 1", "names starting with '__' are not allowed", 1, 1),
    ("x\u00a0+ 1", "unexpected character U+00A0 (no-break space): write a plain space", 1, 2),
    ("x\x00", "unexpected character U+0000", 1, 2),
    # assignment targets
    ("f(x) = 2", "cannot assign to a function call", 1, 1),
    ("1 = x", "cannot assign to a literal", 1, 1),
    ("x + 1 = 2", "cannot assign to an expression", 1, 1),
    ("True = 1", "cannot assign to True", 1, 1),
    ("a, b += 1", "an augmented assignment needs a single target: a name, an attribute or "
                  "an item", 1, 1),
    ("*x = 1", "starred assignment target must be in a list or tuple", 1, 1),
    # blocks
    ("if x\n  y", "expected ':' after the 'if' line, found end of line", 1, 5),
    ("if x:\ny", "expected an indented block after the 'if' statement on line 1, found 'y'",
     2, 1),
    ("for i in x:\n    y\n  z", "unindent does not match any outer indentation level", 3, 3),
    ("break", "'break' outside loop", 1, 1),
    ("continue", "'continue' not properly in loop", 1, 1),
    ("return 1", "'return' outside function", 1, 1),
    ("def f(x):\n  return x\nreturn 1", "'return' outside function", 3, 1),
    ("class A: pass", "class definitions are not supported (build models from "
                      "nn.Sequential and the nn modules)", 1, 1),
    ("yield x", "'yield' is not supported", 1, 1),
    ("x = await y", "'await' is not supported", 1, 5),
    ("from torch import *", "'from torch import *' is not supported: import the names you "
                            "use", 1, 19),
    ("try:\n  x\ny", "expected 'except' or 'finally' after the 'try' block, found 'y'", 3, 1),
    # strings
    ("x = 'abc", "unterminated string literal (it starts here; close it on the same line "
                 "or use triple quotes)", 1, 5),
    ("'" * 3 + "abc", "unterminated triple-quoted string literal (it starts here)", 1, 1),
    ("b'x'", "bytes literals are not supported", 1, 1),
    ("'\\x4'", "truncated \\x escape in a string", 1, 2),
    ("f'{}'", "f-string: empty expression not allowed", 1, 3),
    ("f'{x'", "f-string: expecting '}'", 1, 5),
    ("f'}'", "f-string: single '}' is not allowed", 1, 3),
    ("f'{x!z}'", "f-string: invalid conversion character: expected 's', 'r', or 'a'", 1, 6),
    ("f'{x +}'", "expected an expression, found end of input", 1, 7),
    ("f'{__x}'", "names starting with '__' are not allowed", 1, 4),
    # displays and calls
    ("{1, 2}", "set literals are not supported (a dict needs 'key: value' pairs)", 1, 3),
    ("f(**k)", "'**' unpacking in a call is not supported", 1, 3),
] + [(f"a {c} b", f"unexpected character '{c}'", 1, 3) for c in "$!`?"]


@pytest.mark.parametrize("source,message,line,column", ERRORS)
def test_errors(source, message, line, column):
    err = parse_error(source)
    assert (err.message, err.line, err.column) == (message, line, column)
    assert err.source == source
    assert err.kind == "parse"


def test_error_context_shows_caret():
    err = parse_error("x = 1\ny = (x + 2))\nz")
    assert (err.message, err.line, err.column) == ("unexpected ')'", 2, 12)
    assert err.context() == "  y = (x + 2))\n  " + " " * 11 + "^"
    assert err.where() == "line 2, column 12"
    err = parse_error("a = b $ c")
    assert err.context() == "  a = b $ c\n        ^"
    assert err.where() == "column 7"


def test_unknown_function():
    functions = {"tanh", "exp", "sum", "sin"}
    err = parse_error("y = x + tahn(x)", functions=functions)
    assert (err.message, err.line, err.column) == (
        "unknown function 'tahn' — did you mean 'tanh'?", 1, 9)
    err = parse_error("x.smu()", functions=functions)
    assert (err.message, err.column) == ("unknown function 'smu' — did you mean 'sum'?", 3)
    err = parse_error("\n  frobnicate(1)", functions=functions)
    assert (err.message, err.line, err.column) == ("unknown function 'frobnicate'", 2, 3)
    assert sexpr("tanh(x).sum() + exp(sin(x))", functions=functions) == \
        "(+ (sum (tanh x)) (exp (sin x)))"
    assert sexpr("tahn + 1", functions=functions) == "(+ tahn 1)"  # names aren't calls
    assert parse_error("f(x)", functions=()).message == "unknown function 'f'"


# -- security -------------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "__import__('os').system('echo hi')",
    "x.__class__",
    "().__class__.__bases__",
    "x.__class__.__mro__[1].__subclasses__()",
    "f'{x.__class__}'",
    "getattr(x, '__class__').__class__",
    "b'abc'",
])
def test_dangerous_input_is_a_parse_error(source):
    parse_error(source)


def test_a_dunder_reached_through_getattr_is_refused_when_run():
    """``.__name__`` parses (a type's name: ``type(e).__name__``), so this source does;
    getattr refuses every name with a leading underscore when it runs."""
    from gradcli.lang.script import run_script
    out, error = run_script("x = 1.5\nprint(getattr(x, '__class__').__name__)\n")
    assert out == "" and error.python_name == "AttributeError"
    assert "refuses names starting with '_'" in error.message


def test_unlisted_functions_are_rejected():
    err = parse_error("exec(1)", functions={"exp", "sum"})
    assert err.message.startswith("unknown function 'exec'")
    err = parse_error("x.system(1)", functions={"exp", "sum"})
    assert err.message.startswith("unknown function 'system'")


def test_no_code_execution_in_the_sources():
    package = pathlib.Path(__file__).resolve().parent.parent / "gradcli" / "lang"
    for name in ("tokenizer.py", "parser.py"):
        text = (package / name).read_text()
        assert not re.search(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(", text), name
        assert "sympify" not in text and "parse_expr" not in text, name


# -- limits ---------------------------------------------------------------------------

NESTING = {
    "parentheses": lambda n: "(" * n + "x" + ")" * n,
    "arrays": lambda n: "[" * n + "x" + "]" * n,
    "indexing": lambda n: "x[" * n + "0" + "]" * n,
    "slices": lambda n: "x[1:" * n + "0" + "]" * n,
    "calls": lambda n: "f(" * n + "x" + ")" * n,
    "keyword calls": lambda n: "f(k=" * n + "x" + ")" * n,
    "method calls": lambda n: "x.f(" * n + "x" + ")" * n,
    "unary minus": lambda n: "-" * n + "x",
    "unary signs": lambda n: "-+" * (n // 2) + "-" * (n % 2) + "x",
    "powers": lambda n: "x**" * n + "x",
    "carets": lambda n: "x^" * n + "x",
    "signed powers": lambda n: "2**-" * (n // 2) + "2**" * (n % 2) + "x",
    "binary ops in brackets": lambda n: "f(a+b*" * n + "x" + ")" * n,
}


def mixed(n: int) -> str:
    """n levels cycling through every kind of nesting, with operators in between."""
    opens = ["f(a+b*", "[x, ", "y[1:1+2*", "-", "z.g(k=", "a**", "(c-d/"]
    closes = [")", "]", "]", "", ")", "", ")"]
    stack = [i % len(opens) for i in range(n)]
    return "".join(opens[i] for i in stack) + "x" + "".join(closes[i] for i in reversed(stack))


@pytest.mark.parametrize("kind", list(NESTING) + ["mixed"])
def test_depth_limit(kind, default_recursion_limit):
    make = NESTING.get(kind, mixed)
    assert isinstance(parse(make(200)), ast.Program)
    with pytest.raises(LimitError) as info:
        parse(make(201))
    err = info.value
    assert err.message == "expression nested too deeply (over 200 levels)"
    assert (err.kind, err.line) == ("limit", 1) and err.column > 1
    assert err.source is not None
    # the limit is configurable
    assert isinstance(parse(make(10), max_depth=10), ast.Program)
    with pytest.raises(LimitError):
        parse(make(11), max_depth=10)


def test_depth_limit_positions():
    err = pytest.raises(LimitError, parse, "(" * 201 + "x" + ")" * 201).value
    assert (err.line, err.column) == (1, 201)
    err = pytest.raises(LimitError, parse, "y = 1\n" + "x**" * 201 + "x").value
    assert (err.line, err.column) == (2, 3 * 200 + 2)
    err = pytest.raises(LimitError, parse, "-" * 250 + "x").value
    assert (err.line, err.column) == (1, 201)


def test_depth_is_nesting_not_length(default_recursion_limit):
    # sequences of nested constructs that close again never accumulate depth
    assert parse("(" * 150 + "x" + ")" * 150 + "+" + "(" * 150 + "x" + ")" * 150)
    assert parse("+".join(["-x**2**3"] * 5000))
    assert parse("x" + "[0]" * 5000 + ".T" * 5000)
    assert parse("x" + ".f(1)" * 5000)
    assert parse("[" + ", ".join(["[1, 2]"] * 5000) + "]")
    assert parse("f(" + ", ".join(f"k{i}=-1" for i in range(5000)) + ")")


def test_huge_depth_setting_still_fails_cleanly(default_recursion_limit):
    err = pytest.raises(LimitError, parse, "f(" * 5000 + "x" + ")" * 5000,
                        max_depth=10**9).value
    assert "nested too deeply" in err.message


def test_byte_limit():
    err = pytest.raises(LimitError, parse, "x+" * 600_000 + "x").value
    assert err.message == "program is 1200001 bytes; the limit is 1000000"
    assert (err.line, err.column, err.kind) == (1, 1, "limit")
    source = "x = 1 # " + "é" * 40  # 8 + 80 bytes
    assert parse(source, max_bytes=88)
    err = pytest.raises(LimitError, parse, source, max_bytes=87).value
    assert err.message == "program is 88 bytes; the limit is 87"


@pytest.mark.parametrize("op", ["+", "*", "/"])
def test_flat_chain_of_100000_terms(op, default_recursion_limit):
    source = op.join(["x"] * 100_000)          # (its speed: benchmarks, not a timed test)
    program = parse(source)
    nodes = list(ast.postorder(program))
    assert sum(isinstance(n, ast.BinOp) for n in nodes) == 99_999
    assert sum(isinstance(n, ast.Name) for n in nodes) == 100_000
    top = program.statements[0].value
    assert (top.op, top.col) == (op, 2 * 100_000 - 2)   # left-assoc: last operator on top


def test_100000_statements(default_recursion_limit):
    source = ("\n".join(f"x{i % 10} = x + {i}" for i in range(50_000))
              + ";" + ";".join(["y"] * 50_000))
    program = parse(source)
    assert len(program.statements) == 100_000
    assert program.statements[0] == ast.Assign(
        "x0", ast.BinOp("+", ast.Name("x", 1, 6), ast.Num(0.0, "0", True, 1, 10), 1, 8), 1, 1)
    last_col = len(source.split("\n")[-1])
    assert program.statements[-1] == ast.ExprStmt(ast.Name("y", 50_000, last_col),
                                                  50_000, last_col)


# -- properties -----------------------------------------------------------------------

PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "neg": 3, "pos": 3, "**": 4, "atom": 5}


@st.composite
def trees(draw, depth=0):
    """A random expression as (precedence, source, S-expression), minimally parenthesized."""
    kind = draw(st.sampled_from(["atom"] * 3 + ["bin"] * 3 + ["unary", "post"])
                if depth < 6 else st.just("atom"))
    space = draw(st.sampled_from(["", " "]))
    if kind == "atom":
        text = draw(st.sampled_from(["x", "y", "a1", "_b", "2", "2.5", ".5", "1e-3", "3E+2"]))
        return 5, text, text
    if kind == "unary":
        op = draw(st.sampled_from(["-", "+"]))
        p, src, sx = draw(trees(depth + 1))
        if p < 3:
            src = f"({src})"
        return 3, f"{op}{space}{src}", f"({'neg' if op == '-' else 'pos'} {sx})"
    if kind == "post":
        p, src, sx = draw(trees(depth + 1))
        if p < 5 or src[0] in "0123456789.":  # 2.T would be the number '2.' and T
            src = f"({src})"
        form = draw(st.sampled_from(["attr", "method", "index", "call"]))
        if form == "attr":
            return 5, f"{src}.T", f"(.T {sx})"
        if form == "method":
            return 5, f"{src}.sum(1)", f"(sum {sx} 1)"
        if form == "index":
            return 5, f"{src}[0, 1:]", f"(index {sx} 0 1:)"
        return 5, f"f({src})", f"(f {sx})"
    op = draw(st.sampled_from(["+", "-", "*", "/", "@", "**", "^"]))
    prec = PREC["**" if op == "^" else op]
    lp, lsrc, lsx = draw(trees(depth + 1))
    rp, rsrc, rsx = draw(trees(depth + 1))
    if prec == 4:   # right-assoc; the base must be an atom, the exponent may be signed
        left_parens, right_parens = lp < 5, rp < 3
    else:           # left-assoc
        left_parens, right_parens = lp < prec, rp <= prec
    if left_parens or draw(st.booleans()) and draw(st.booleans()):
        lsrc = f"({lsrc})"
    if right_parens:
        rsrc = f"({rsrc})"
    ast_op = "**" if op == "^" else op
    return prec, f"{lsrc}{space}{op}{space}{rsrc}", f"({ast_op} {lsx} {rsx})"


@settings(max_examples=400, deadline=None)
@given(trees())
def test_precedence_round_trip(tree):
    _, source, expected = tree
    assert sexpr(source) == expected


VALID = [
    "y = x**2 + 3*x - 1; y.sum()",
    "w = [[1, 2], [3, 4]]\nz = w @ x[:, 0] / 2.5e-1\nbackward(z.sum(), inputs=[w])",
    "a = -x^2\n# c\nb += f(a, dim=1, keepdim=True)[0, ::2].T\n",
    "(x + y).mean(0)[1:3] * (2 ** -1)",
    "f(\n  x,\n  [1,\n   2],\n)\n",
]

ALPHABET = st.sampled_from(list("xyzfe_0123456789.+-*/@^()[],:;=#'\"\n \t$!{}é\\_Tabs") +
                           ["**", "__", "1e", "f(", "x.", "[", "]", ")", "("])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(ALPHABET, max_size=40).map("".join)))
def test_fuzz_arbitrary_text(source):
    check_total(source)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(VALID),
       st.lists(st.tuples(st.sampled_from(["insert", "delete", "replace"]),
                          st.integers(min_value=0, max_value=200), ALPHABET),
                min_size=1, max_size=6))
def test_fuzz_mutations(source, edits):
    for action, where, text in edits:
        i = where % (len(source) + 1)
        if action == "insert":
            source = source[:i] + text + source[i:]
        elif action == "delete":
            source = source[:i] + source[i + len(text):]
        else:
            source = source[:i] + text + source[i + 1:]
    check_total(source)


def check_total(source: str) -> None:
    """parse() either returns a Program or raises a positioned GradcliError."""
    for functions in (None, {"f", "sum", "mean", "backward"}):
        try:
            program = parse(source, functions=functions, max_depth=8)
        except GradcliError as err:
            assert isinstance(err, (ParseError, LimitError))
            assert err.message and err.source == source
            lines = source.split("\n")
            assert 1 <= err.line <= len(lines)
            assert 1 <= err.column <= len(lines[err.line - 1]) + 1
            assert err.context().endswith("^")
        else:
            assert isinstance(program, ast.Program)
            ast.to_sexpr(program)
