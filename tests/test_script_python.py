"""The script dialect is Python: the same snippets printed by `gradcli run` and by
CPython itself (in a subprocess; the snippets are this file's, never user text) must
agree byte for byte, errors included (the exception's type and message)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradcli.lang.script import run_script

SNIPPETS = [
    "print(1, 2.5, 'a', None, True, [1, 2], (1,), {'a': 1}, (), [])",
    "print(7 // 2, 7 % 3, -7 // 2, -7 % 3, 2 ** 10, 2 ** -1, 1 / 4, 7.5 % 2)",
    "x = [1, 2, 3]\nx.append(4)\nprint(x, len(x), x[-1], x[1:3], x[::-1], x[::2])",
    "for i, v in enumerate('abc'):\n    print(i, v)",
    "def f(a, b=2, *args, c=3, **kw):\n    return a + b + sum(args) + c + len(kw)\n"
    "print(f(1), f(1, 2, 3, 4, c=5, d=6))",
    "print(f'{3.14159:.2f} {42:5d} {\"s\"!r} {1e-5:.3e} {10:>4}|{\"x\":<3}|{7:03d}')",
    "print('%.3f %d %s %5.1f%%' % (1.23456, 42, 'x', 99.5))",
    "print('{} {:.2f} {name}'.format(1, 2.345, name='n'), '{1}{0}'.format('a', 'b'))",
    "x = 0\nwhile x < 10:\n    x += 3\n    if x == 6:\n        continue\n    print(x)\n"
    "else:\n    print('done')",
    "print([i * i for i in range(5) if i % 2], {k: v for k, v in zip('ab', [1, 2])})",
    "print([(i, j) for i in range(3) for j in range(i)])",
    "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    print('caught', e)\n"
    "finally:\n    print('finally')",
    "try:\n    [][1]\nexcept (KeyError, IndexError) as e:\n    print(type(e), e)\n"
    "else:\n    print('no')",
    "print(max([3, 1, 2]), min(3, 1, 2), sorted([3, 1, 2], reverse=True), sum([1, 2, 3]))",
    "print(max(['aa', 'b'], key=len), sorted(['bb', 'a', 'ccc'], key=len), min([], default=0))",
    "a, b = 1, 2\na, b = b, a\nprint(a, b)\nx, *y = [1, 2, 3]\nprint(x, y)\n"
    "(p, q), r = (1, 2), 3\nprint(p, q, r)",
    "print(1 < 2 < 3, 1 < 3 < 2, not 0, 0 or 'x', 1 and [], None is None, 1 is not None)",
    "f = lambda x, y=1: x * y\nprint(f(3), f(3, 4), (lambda: 5)())",
    "def g():\n    global counter\n    counter += 1\ncounter = 0\ng(); g()\nprint(counter)",
    "def outer():\n    n = 3\n    def inner(k):\n        return n * k\n    return inner\n"
    "print(outer()(4))",
    "print(round(2.675, 2), round(3.5), round(4.5), abs(-3), int('7'), float('2.5'), "
    "str(3), bool(0), int(-2.7))",
    "print(isinstance(1, int), isinstance(1.0, int), isinstance(True, int), type(1), "
    "type('a'), type([]), isinstance(2, (str, float)))",
    "print('a,b,c'.split(','), '-'.join(['x', 'y']), 'Hi'.upper(), ' s '.strip(), "
    "'abc'.replace('b', 'XY'), 'x'.center(5, '*'), 'ab'.startswith('a'))",
    "d = {'a': 1}\nd['b'] = 2\nprint(d, list(d.keys()), d.get('c', 0), 'a' in d, "
    "list(d.items()))\ndel d['a']\nprint(d, len(d))",
    "print(1e16, 1e-5, 0.1 + 0.2, 1/3, float('inf'), -0.0, 2.0 ** 0.5, 1e300 * 10, "
    "float('nan'))",
    "print(*[1, 2, 3], sep='-', end='!\\n')\nprint()\nprint('a', end='')\nprint('b')",
    "x = [[1, 2], [3, 4]]\nprint([row[::-1] for row in x], list(map(lambda r: sum(r), x)))",
    "def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nprint(fact(20), fact(30))",
    "print(divmod(17, 5), pow(2, 8), list(reversed([1, 2, 3])), any([0, 1]), all([]))",
    "s = 0\nfor i in range(10):\n    if i == 7:\n        break\n    s += i\nelse:\n"
    "    s = -1\nprint(s)",
    "x = 5\nprint(f'{x=}', f'{x + 1 = }', f'{[1, 2]!r:>10}', f'{x:{x}d}|')",
    "x = (1, 2, 3)\nprint(x.index(2), x.count(1), x + (4,), x * 2, x[1:], 2 in x)",
    "print(10 ** 20, 2 ** 100, -2 ** 2, (-2) ** 2, 7 / 2, 7.0 // 2, 3 * 'ab', [0] * 3)",
    "print(list(range(3)), list(range(1, 10, 3)), range(5), len(range(0, 10, 2)))",
    "l = [3, 1, 2]\nl.sort()\nl.insert(0, 9)\nl.extend([7, 7])\nprint(l, l.pop(), l.count(7), "
    "l.index(2))",
    "x = 1\nif x > 2:\n    print('big')\nelif x > 0:\n    print('small')\nelse:\n"
    "    print('neg')",
    "print('\\t|\\x41\\u00e9\\N{GREEK SMALL LETTER ALPHA}|', r'\\n', '''a\nb''')",
    "print(repr('it\\'s'), repr(\"q\\\"\"), str(1.0), repr(1.5e-07), 1_000)",
    "print(0x1F, 0o17, 0b101, 1.5e3, .5, 5., 3 // 2.0, -3 % 5)",
    "print(True + True, 3 & 5, 3 | 5, 3 ^ 5, ~3, 1 << 4, 256 >> 2)",
    "x = [1, 2]\ny = x\ny += [3]\nprint(x, x is y, x == [1, 2, 3], [1] != [1])",
    "print(str([1.5, 'a', None]), str((1, 'b')), {'k': [1, {'n': None}]})",
    "print(bool([]), bool(''), bool('0'), bool(0.0), len('héllo'))",
    "def f(*args, **kwargs):\n    print(args, kwargs)\nf(1, *[2, 3], a=1)",
    "print(any(x > 2 for x in [1, 3]), sum(x * x for x in range(4)), "
    "list(filter(None, [0, 1, 2])))",
    "n = 0\nwhile True:\n    n += 1\n    if n >= 5:\n        break\nprint(n)",
    "x = [1, 2, 3]\nx[1] = 20\nx[-1] += 5\nprint(x)\nd = {}\nd.setdefault('a', []).append(1)\n"
    "print(d)",
    "assert 1 + 1 == 2, 'math'\nprint('ok')",
    "print(f'{1234567.891:,.2f} {0.5:%} {255:x} {255:#o} {3:+d} {\"abc\":.2} {12:_}')",
]

ERRORS = [
    "[1][5]", "{}['a']", "1 + 'a'", "undefined_name", "int('x')", "None.foo",
    "assert False, 'msg'", "raise ValueError('bad')", "1 / 0", "1 % 0", "[1, 2].index(5)",
    "def f(a):\n    return a\nf()", "def f(a):\n    return a\nf(1, 2)",
    "def f(a):\n    return a\nf(b=1)", "a, b = [1, 2, 3]", "a, b, c = [1, 2]",
    "x = 5\nx()", "'a' < 1", "[1, 2][1.5]", "len(5)", "for x in 5:\n    pass",
    "raise RuntimeError('custom message')", "try:\n    1/0\nexcept ValueError:\n    pass",
    "float('x')", "'{}'.format()", "'{} {0}'.format(1)", "print(sep=5)", "-'a'", "x = [1]\nx.nope()",
    "2.0 ** 10000",
]


def cpython(code: str):
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60)
    last = p.stderr.strip().splitlines()[-1] if p.returncode else None
    return p.stdout, last


def gradcli(code: str):
    out, error = run_script(code)
    last = None if error is None else f"{error.python_name}: {error.message}"
    return out, last


@pytest.mark.parametrize("code", SNIPPETS)
def test_snippets_print_what_python_prints(code):
    assert gradcli(code) == cpython(code)


@pytest.mark.parametrize("code", ERRORS)
def test_errors_are_pythons(code):
    out, error = gradcli(code)
    expected_out, expected_error = cpython(code)
    assert out == expected_out
    assert error == expected_error


# -- random arithmetic, both ways ---------------------------------------------------------

NUMBERS = st.one_of(st.integers(-50, 50), st.sampled_from([0.5, -2.25, 1e-3, 3.0, 1e10]))
OPS = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "<", "==", ">=", "and", "or"])


@st.composite
def expressions(draw):
    terms = [repr(draw(NUMBERS))]
    for _ in range(draw(st.integers(1, 4))):
        op = draw(OPS)
        number = draw(NUMBERS)
        if op == "**":
            number = draw(st.integers(-3, 3))
        terms.append(f"{op} ({number!r})")
    return " ".join(terms)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(expressions(), min_size=10, max_size=10))
def test_random_arithmetic_agrees_with_python(exprs):
    lines = []
    for e in exprs:
        lines += ["try:", f"    print(repr({e}))", "except Exception as err:",
                  "    print(type(err), err)"]
    code = "\n".join(lines) + "\n"
    assert gradcli(code) == cpython(code)
