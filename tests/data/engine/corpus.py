"""Random programs for the differential corpus (``corpus.json``): PyTorch runs them once
(``make_expected.py corpus``), ``tests/test_corpus.py`` runs them on gradcli.

Each program makes a few float64 leaves, then a random mix of elementwise ops,
broadcasting binary ops, numbers on either side, reductions, matrix products, views of
every kind (and views of views), ``detach``/``.data`` aliases, in-place updates through
tensors and views (some of which are PyTorch's errors), and ends with ``backward()`` or
``grad()`` -- sometimes with create_graph and a second derivative.  The generator keeps
track of shapes so that most programs are valid; the rest end in PyTorch's errors, which
gradcli must raise at the same statement with the same message.
"""

from __future__ import annotations

import random

N_PROGRAMS = 3000
SEED = 20260113

SHAPES = [(), (3,), (2, 3), (3, 3), (1, 3), (3, 1)]
SAFE_UNARY = ["sin", "cos", "tanh", "sigmoid", "atan", "asinh", "erf", "softplus", "silu",
              "abs", "relu", "square", "neg", "exp", "expm1", "sign"]
# functions of a positive argument: applied to t * t + 0.5
POSITIVE_UNARY = ["log", "sqrt", "rsqrt", "reciprocal", "log1p", "log2", "log10"]
BINARY = ["+", "-", "*", "/"]
FUNC_BINARY = ["maximum", "minimum", "atan2", "hypot"]


def _values(rng, shape):
    n = 1
    for s in shape:
        n *= s
    vals = [round(rng.uniform(-1.5, 1.5), 3) for _ in range(n)]
    return _nest(vals, shape)


def _nest(vals, shape):
    if not shape:
        return vals[0]
    step = len(vals) // shape[0]
    return [_nest(vals[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _broadcast(a, b):
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b):
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(out)


class Program:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.lines: list = []
        self.shapes: dict = {}        # name -> shape of every tensor made so far
        self.leaves: list = []
        self.leaf_views: set = set()  # views of leaves (in place on them is an error)
        self.count = 0

    def fresh(self) -> str:
        self.count += 1
        return f"t{self.count}"

    def emit(self, line: str, name: str | None = None, shape=None) -> None:
        self.lines.append(line)
        if name is not None:
            self.shapes[name] = tuple(shape)

    def pick(self, pred=lambda n, s: True):
        names = [n for n, s in self.shapes.items() if pred(n, s)]
        return self.rng.choice(names) if names else None

    # -- statements -----------------------------------------------------------------
    def leaf(self):
        shape = self.rng.choice(SHAPES)
        name = f"x{len(self.leaves)}"
        self.leaves.append(name)
        self.emit(f"{name} = leaf({_values(self.rng, shape)!r})", name, shape)

    def unary(self):
        src = self.pick()
        out = self.fresh()
        if self.rng.random() < 0.25:
            fn = self.rng.choice(POSITIVE_UNARY)
            self.emit(f"{out} = {fn}({src} * {src} + 0.5)", out, self.shapes[src])
        else:
            fn = self.rng.choice(SAFE_UNARY)
            expr = f"-{src}" if fn == "neg" else f"{fn}({src})"
            self.emit(f"{out} = {expr}", out, self.shapes[src])

    def binary(self):
        a = self.pick()
        out = self.fresh()
        r = self.rng.random()
        if r < 0.25:                               # with a number
            c = round(self.rng.uniform(0.5, 2.5), 2)
            op = self.rng.choice(BINARY + ["**"])
            if op == "**":
                expr = self.rng.choice([f"{a} ** 2", f"{a} ** 3", f"({a} * {a} + 0.5) ** 0.5",
                                        f"{c} ** {a}"])
            elif op == "/" and self.rng.random() < 0.5:
                expr = f"{c} / ({a} * {a} + 0.5)"
            else:
                expr = f"{a} {op} {c}" if self.rng.random() < 0.5 else f"{c} {op} {a}"
            self.emit(f"{out} = {expr}", out, self.shapes[a])
            return
        b = self.pick(lambda n, s: _broadcast(s, self.shapes[a]) is not None)
        shape = _broadcast(self.shapes[a], self.shapes[b])
        if r < 0.85:
            op = self.rng.choice(BINARY)
            rhs = f"({b} * {b} + 0.5)" if op == "/" else b
            self.emit(f"{out} = {a} {op} {rhs}", out, shape)
        else:
            fn = self.rng.choice(FUNC_BINARY)
            self.emit(f"{out} = {fn}({a}, {b})", out, shape)

    def reduce(self):
        a = self.pick(lambda n, s: len(s) >= 1)
        if a is None:
            return self.unary()
        shape = self.shapes[a]
        out = self.fresh()
        dim = self.rng.randrange(len(shape))
        rest = tuple(s for i, s in enumerate(shape) if i != dim)
        choice = self.rng.randrange(8)
        if choice == 0:
            self.emit(f"{out} = {a}.sum()", out, ())
        elif choice == 1:
            self.emit(f"{out} = {a}.sum({dim})", out, rest)
        elif choice == 2:
            self.emit(f"{out} = mean({a})", out, ())
        elif choice == 3:
            self.emit(f"{out} = softmax({a}, {dim})", out, shape)
        elif choice == 4:
            self.emit(f"{out} = logsumexp({a}, {dim})", out, rest)
        elif choice == 5:
            self.emit(f"{out} = prod({a})", out, ())
        elif choice == 6:
            self.emit(f"{out} = {self.rng.choice(['max', 'min'])}({a})", out, ())
        else:
            self.emit(f"{out} = log_softmax({a}, {dim})", out, shape)

    def matmul(self):
        a = self.pick(lambda n, s: len(s) == 2)
        if a is None:
            return self.binary()
        k = self.shapes[a][1]
        b = self.pick(lambda n, s: (len(s) == 2 and s[0] == k) or s == (k,))
        out = self.fresh()
        if b is None:
            self.emit(f"{out} = {a} @ {a}.T", out, (self.shapes[a][0], self.shapes[a][0]))
            return
        shape = (self.shapes[a][0],) + self.shapes[b][1:]
        self.emit(f"{out} = {a} @ {b}", out, shape)

    def view(self):
        a = self.pick()
        shape = self.shapes[a]
        out = self.fresh()
        options = ["detach", "data", "clone", "unsqueeze"]
        if shape:
            options += ["select", "slice", "narrow", "flatten", "reshape", "expand"]
        if len(shape) == 2:
            options += ["T", "t", "transpose", "permute", "diagonal", "select2", "slice2",
                        "view"]
        if 1 in shape:
            options += ["squeeze"]
        kind = self.rng.choice(options)
        n0 = shape[0] if shape else 1
        if kind not in ("detach", "data", "clone") and (a in self.leaves or a in self.leaf_views):
            self.leaf_views.add(out)
        if kind == "detach":
            self.emit(f"{out} = {a}.detach()", out, shape)
        elif kind == "data":
            self.emit(f"{out} = data({a})", out, shape)
        elif kind == "clone":
            self.emit(f"{out} = {a}.clone()", out, shape)
        elif kind == "unsqueeze":
            d = self.rng.randrange(len(shape) + 1)
            self.emit(f"{out} = {a}.unsqueeze({d})", out, shape[:d] + (1,) + shape[d:])
        elif kind == "select":
            i = self.rng.randrange(-n0, n0)
            self.emit(f"{out} = {a}[{i}]", out, shape[1:])
        elif kind == "slice":
            lo = self.rng.randrange(0, n0)
            self.emit(f"{out} = {a}[{lo}:]", out, (n0 - lo,) + shape[1:])
        elif kind == "narrow":
            lo = self.rng.randrange(0, n0)
            length = self.rng.randrange(1, n0 - lo + 1)
            self.emit(f"{out} = {a}.narrow(0, {lo}, {length})", out, (length,) + shape[1:])
        elif kind == "flatten":
            size = 1
            for s in shape:
                size *= s
            self.emit(f"{out} = flatten({a})", out, (size,))
        elif kind == "reshape":
            size = 1
            for s in shape:
                size *= s
            self.emit(f"{out} = {a}.reshape(-1, 1)", out, (size, 1))
        elif kind == "view":
            size = shape[0] * shape[1]
            self.emit(f"{out} = {a}.reshape({size})", out, (size,))
        elif kind == "expand":
            self.emit(f"{out} = {a}.expand(2, {', '.join(map(str, shape))})", out,
                      (2,) + shape)
        elif kind in ("T", "t", "transpose", "permute"):
            expr = {"T": f"{a}.T", "t": f"{a}.t()", "transpose": f"{a}.transpose(0, 1)",
                    "permute": f"{a}.permute(1, 0)"}[kind]
            self.emit(f"{out} = {expr}", out, shape[::-1])
        elif kind == "diagonal":
            self.emit(f"{out} = {a}.diagonal()", out, (min(shape),))
        elif kind == "select2":
            j = self.rng.randrange(shape[1])
            self.emit(f"{out} = {a}[:, {j}]", out, (shape[0],))
        elif kind == "slice2":
            lo = self.rng.choice([0, 1, -2, -1]) if shape[1] > 1 else 0
            start = lo % shape[1]
            self.emit(f"{out} = {a}[:, {lo}:]", out, (shape[0], shape[1] - start))
        elif kind == "squeeze":
            d = shape.index(1)
            self.emit(f"{out} = {a}.squeeze({d})", out, shape[:d] + shape[d + 1:])

    def inplace(self):
        # mostly non-leaves (the target of most tutorials); sometimes a leaf (an error)
        target = self.pick(lambda n, s: (n not in self.leaves and n not in self.leaf_views)
                           or self.rng.random() < 0.05)
        if target is None:
            return
        shape = self.shapes[target]
        src = self.pick(lambda n, s: _broadcast(s, shape) == tuple(shape))
        c = round(self.rng.uniform(0.5, 2.0), 2)
        choice = self.rng.randrange(9)
        if choice == 0:
            self.emit(f"{target} += {src}")
        elif choice == 1:
            self.emit(f"{target} *= {c}")
        elif choice == 2:
            self.emit(f"{target}.mul_({src})")
        elif choice == 3:
            self.emit(f"{target}.sub_({src} * {c})")
        elif choice == 4:
            self.emit(f"{target}.div_({src} * {src} + 1.0)")
        elif choice == 5:
            self.emit(f"{target}.zero_()")
        elif choice == 6:
            self.emit(f"{target}.fill_({c})")
        elif choice == 7 and shape:
            i = self.rng.randrange(shape[0])
            self.emit(f"{target}[{i}] = {c}")
        else:
            self.emit(f"{target} -= {c}")

    # -- the end ----------------------------------------------------------------------
    def finish(self):
        names = list(self.shapes)[-3:]
        terms = [f"({n} * {n}).sum()" if self.rng.random() < 0.5 else f"{n}.sum()"
                 for n in names]
        self.emit("L = " + " + ".join(terms), "L", ())
        r = self.rng.random()
        leaves = ", ".join(self.leaves)
        if r < 0.55:
            self.emit("L.backward()")
        elif r < 0.75:
            self.emit(f"g = grad(L, ({leaves},), allow_unused=True)")
        else:
            self.emit(f"g = grad(L, ({leaves},), create_graph=True, allow_unused=True)")
            self.emit("k = [t for t in g if t is not None and t.requires_grad]")
            self.emit("H = sum(stack([(t * t).sum() for t in k])) if k else None")
            self.emit("H.backward() if k else None")


def generate(rng: random.Random) -> str:
    p = Program(rng)
    for _ in range(rng.randrange(1, 4)):
        p.leaf()
    steps = [p.unary] * 4 + [p.binary] * 5 + [p.reduce] * 2 + [p.matmul] + [p.view] * 5 + \
        [p.inplace] * 4
    for _ in range(rng.randrange(3, 11)):
        rng.choice(steps)()
    p.finish()
    return "\n".join(p.lines)


def programs() -> dict:
    rng = random.Random(SEED)
    return {f"p{i:04d}": generate(rng) for i in range(N_PROGRAMS)}


CASES = programs()
