"""Fuzzing the evaluator: whatever the text, evaluate() returns a Result or raises a
GradcliError with a kind and a message -- never another exception, a RecursionError, or a
numpy warning (warnings are errors here)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli.errors import KINDS, GradcliError
from gradcli.lang.evaluator import evaluate
from gradcli.lang.functions import FUNCTIONS
from gradcli.lang.result import Result

BINDINGS = {"x": 2.0, "v": [1.0, -2.0, 3.0], "m": [[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]]}

CORPUS = [
    "(x*v+1)**2",
    "y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)",
    "y = x**2; z = x; backward(y); backward(z)",
    "t = v + v; loss = dot(t, v); backward(loss, retain_graph=True); backward(t, v)",
    "x1 = 2*c; requires_grad_(x1); w1 = 5*c; requires_grad_(w1); y = x1*w1; "
    "L = 10*c - y; backward(L, ones_like(L))",
    "y1 = x**2; y2 = no_grad(x**3); y3 = y1 + y2",
    "b = exp(v); b += 1; backward(sum(b))",
    "y = m @ v; y.sum()",
    "m[0, 1:] * v[:2] + m[-1, ::2].sum()",
    "sum(stack([v, v*2], dim=1), 0)",
    "s = softmax(m, 1); log_softmax(m, -1) + s",
    "y = (m*m).sum(0); retain_grad(y); backward(y.sum()); y.grad",
    "m.T @ m[:, 0:2]",
    "reshape(m, 3, 2).sum(1, keepdim=True)",
    "clamp(v, min=0, max=2) + maximum(v, x) * hypot(v, 1)",
    "y = x*v\ny += 1  # in place\nzero_grad(x)\nbackward(y.sum(), retain_graph=True)\nx.grad",
    "logsumexp(m, 1) + norm(v) + prod(v) + max(v) + mean(m, 1)",
    "c += 1; c * x",
    "[1, 2, 3] * v + pi - e",
    "cat([v, v]).mean() + trace(m @ m.T)",
    "unsqueeze(v, 0) * squeeze(unsqueeze(v, 1)) + flatten(m)[1:4]",
    "detach(v) * v + x.data",
    "y = x ** 2 ^ 2; g = grad(y, x, create_graph=True, retain_graph=True); backward(g)",
    "mse_loss(v, ones(3)) + zeros(2, 3).sum() + sigmoid(x) + relu(v).sum() + tanh(x)",
    "permute(m, 1, 0).t() / (1 + abs(m))",
    "a = 2; a *= x; a = a - v; a /= 3; a",
]

TOKENS = ["x", "v", "m", "c", "y", "(", ")", "[", "]", ",", ":", ";", "=", "+", "-", "*",
          "/", "@", "^", "**", ".", "#", "\n", " ", "0", "1", "-1", "2.5", "1e9", "10**20",
          "0/0", "1/0", "True", "None", "pi", "e", "x.grad", ".T", ".data", "sum(",
          "grad(", "backward(", "retain_grad(", "requires_grad_(", "zero_grad(",
          "no_grad(", "detach(", "stack([", "cat([", "ones(", "zeros(", "reshape(",
          "+=", "create_graph=True", "retain_graph=True", "allow_unused=True", "dim=",
          "keepdim=True", ".sum()", ".backward()", "[::", "[:, ", "exp(", "log(", "[]",
          "é", "\t", "'", "__", "\\"]

OPTIONS = st.sampled_from([
    {}, {"upstream": "ones"}, {"retain_grad": True}, {"of": "y"},
    {"upstream": [1.0, 1.0, 1.0]}, {"wrt": ["x"]}, {"dtype": "float32"},
    {"max_elements": 5, "upstream": "ones"},
])

SETTINGS = settings(deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def run(program: str, options: dict) -> None:
    """evaluate() must return a Result or raise a well-formed GradcliError."""
    try:
        result = evaluate(program, BINDINGS, const={"c": [1.0, 2.0, 3.0]}, **options)
    except GradcliError as exc:
        assert exc.kind in KINDS
        assert isinstance(exc.message, str) and exc.message
        assert (exc.line is None) == (exc.column is None)
        if exc.line is not None:
            assert exc.line >= 1 and exc.column >= 1
            exc.context()
        exc.to_dict()
        return
    assert isinstance(result, Result)
    assert len(result.graph) >= len(BINDINGS)


@pytest.fixture(autouse=True)
def default_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(old)


# -- arbitrary text ----------------------------------------------------------------------------

@pytest.mark.filterwarnings("error")
@settings(SETTINGS, max_examples=500)
@given(st.one_of(st.text(max_size=60),
                 st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)),
       OPTIONS)
def test_arbitrary_text(program, options):
    run(program, options)


# -- mutations of valid programs --------------------------------------------------------------

@st.composite
def mutated(draw):
    program = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(program)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        if kind == "insert":
            program = program[:i] + draw(st.sampled_from(TOKENS)) + program[i:]
        elif kind == "delete":
            program = program[:i] + program[i + draw(st.integers(1, 5)):]
        else:
            program = program[:i] + draw(st.sampled_from(TOKENS)) + program[i + 1:]
    return program


def test_the_corpus_is_valid():
    for program in CORPUS:
        explicit = "backward" in program or "grad(" in program
        if program.startswith("b = exp(v); b += 1"):            # SPEC 3.7 case 10
            with pytest.raises(GradcliError, match="modified by an inplace operation"):
                evaluate(program, BINDINGS)
            continue
        result = evaluate(program, BINDINGS, const={"c": [1.0, 2.0, 3.0]},
                          upstream=None if explicit else "ones")
        assert isinstance(result, Result), program


@pytest.mark.filterwarnings("error")
@settings(SETTINGS, max_examples=1200)
@given(mutated(), OPTIONS)
def test_mutated_programs(program, options):
    run(program, options)


# -- generated calls with odd arguments -------------------------------------------------------

NAMES = sorted(FUNCTIONS)
KEYWORDS = ["dim", "keepdim", "min", "max", "other", "gradient", "retain_graph",
            "create_graph", "allow_unused", "grad_outputs", "requires_grad", "x", "tensors",
            "shape", "dims", "expr", "inputs", "outputs", "tensor", "a", "b"]
ATOMS = ["x", "v", "m", "c", "y", "x.grad", "v.T", "m.data", "0", "1", "-1", "2", "0.5",
         "-2", "1e9", "10**20", "1e-300", "0/0", "1/0", "True", "False", "None", "pi",
         "[1, 2, 3]", "[[1, 2], [3, 4]]", "[]", "[[1], [2, 3]]", "[[[1]]]", "[x]", "[None]"]


def expression(rng, depth=0) -> str:
    """A random expression: calls of every function with odd arguments and keywords,
    operators, indexing, attributes and array literals (hand-rolled: much faster to draw
    than a recursive strategy, and still replayed from hypothesis' seed)."""
    k = rng.random()
    if depth > 3 or k < 0.25:
        return rng.choice(ATOMS)
    inner = lambda: expression(rng, depth + 1)     # noqa: E731
    if k < 0.6:
        args = [inner() for _ in range(rng.randint(0, 3))]
        names = rng.sample(KEYWORDS, rng.choice([0, 0, 1, 2]))
        args_kw = args[1:] + [f"{n}={inner()}" for n in names]
        name = rng.choice(NAMES)
        if args and rng.random() < 0.3:
            return f"({args[0]}).{name}(" + ", ".join(args_kw) + ")"
        return f"{name}(" + ", ".join(args[:1] + args_kw) + ")"
    if k < 0.75:
        return f"({inner()} {rng.choice(['+', '-', '*', '/', '**', '@', '^'])} {inner()})"
    if k < 0.85:
        index = rng.choice(["0", "-1", "1:", ":, 0", "::2", "0, 0", "x", "5", "0:1:0", ":-1",
                            "None", "1.5"])
        return f"({inner()})[{index}]"
    if k < 0.9:
        return f"({inner()}).{rng.choice(['T', 'grad', 'data'])}"
    if k < 0.95:
        return "[" + ", ".join(inner() for _ in range(rng.randint(0, 3))) + "]"
    return f"-{inner()}"


@st.composite
def generated(draw):
    rng = draw(st.randoms(use_true_random=False))
    statements = []
    for _ in range(rng.randint(1, 4)):
        expr = expression(rng)
        form = rng.choice(["y = {}", "y {}= {}", "c {}= {}", "{}", "{}"])
        if "{}=" in form:
            statements.append(form.format(rng.choice("+-*/"), expr))
        else:
            statements.append(form.format(expr))
    return "; ".join(statements)


@pytest.mark.filterwarnings("error")
@settings(SETTINGS, max_examples=1500)
@given(generated(), OPTIONS)
def test_generated_programs(program, options):
    run(program, options)


ODD = ["x", "v", "m", "c", "x.grad", "None", "True", "0", "-1", "2", "0.5", "-2", "10**20",
       "1e-300", "0/0", "[]", "[1, 2]", "[[1], [2, 3]]", "[[[1]]]", "[x]", "[None]", "v[3:]",
       "reshape(v, 3, 1)", "ones(0, 2)"]


@st.composite
def single_calls(draw):
    """One call of any function with odd arguments: shallow, so every draw reaches the
    function itself."""
    name = draw(st.sampled_from(NAMES))
    args = draw(st.lists(st.sampled_from(ODD), max_size=3))
    names = draw(st.lists(st.sampled_from(KEYWORDS), max_size=2, unique=True))
    kwargs = [f"{n}={draw(st.sampled_from(ODD))}" for n in names]
    if args and draw(st.booleans()):
        call = f"({args[0]}).{name}(" + ", ".join(args[1:] + kwargs) + ")"
    else:
        call = f"{name}(" + ", ".join(args + kwargs) + ")"
    return draw(st.sampled_from(["{}", "y = {}; y * x", "sum({}) * x", "y = x*2; {}"])) \
        .format(call)


@pytest.mark.filterwarnings("error")
@settings(SETTINGS, max_examples=1500)
@given(single_calls(), OPTIONS)
def test_single_calls_with_odd_arguments(program, options):
    run(program, options)


# -- regressions found by fuzzing -----------------------------------------------------------

@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("program", [
    "unsqueeze(v, x.grad)",                        # dim None: int(None)
    "stack([v, v], None)", "softmax(v, None)", "cat([v], None)", "logsumexp(m, None)",
    "zeros(-2, 3).sum() * x", "ones(10**20) * x", "ones(2**40) * x", "ones(0, 10**20) * x",
    "dot(2, 0)", "matmul(0/0, 1e9)", "mm(1, [1, 2, 3])", "mm(v, 0.5)",
    "mean([]) * x", "mse_loss(v[3:], v[3:])", "mean(reshape(v[3:], 0, 3), 0) * x",
    "[backward(x)]", "[1, x.grad]", "[None]", "zeros(shape=2) * x", "reshape(v, shape=3)",
    "permute(m, dims=1)", "y = x.grad; y += 1", "c += [[1, 2], [3]]",
    "sum(" + "[" * 40 + "1" + "]" * 40 + ")",
    "addmm(x, 0, x)", "celu(x, 0)", "where([[1], [2, 3]], x, x)",  # after the op table
    "nll_loss(x, [[1], [2, 3]])",
    "binary_cross_entropy(0, x, 0/0)", "binary_cross_entropy(0, x, 10**20)",  # int weight
    "binary_cross_entropy_with_logits(0, x, 10**20)", "nll_loss(ones(0, 2), x)",
    "cross_entropy(ones(0, 2), x)", "diagonal(m, 10**20)",
    "norm(x, [])", "(2).norm([None], keepdim=True)", "sum(repeat(v[3:], -1)) * x",
    "sum(tile(v[3:], -1)) * x",
])
def test_fuzz_regressions(program):
    run(program, {"upstream": "ones"})
    run(program, {})
