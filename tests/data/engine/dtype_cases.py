"""Programs about dtypes, PyTorch's type promotion and the Tensor methods ``gradcli run``
relies on; run on PyTorch once (``make_expected.py``) and on gradcli by
``tests/test_dtypes.py``.  Each promotion program runs under both default float dtypes.
"""

OPERANDS = {
    "f32": "tensor([1.5, -2.0], dtype='float32')",
    "f64": "tensor([1.5, -2.0], dtype='float64')",
    "i64": "tensor([3, -2])",
    "b": "tensor([True, False])",
    "f32-0d": "tensor(2.5, dtype='float32')",
    "f64-0d": "tensor(2.5, dtype='float64')",
    "i64-0d": "tensor(3)",
    "b-0d": "tensor(True)",
    "int": "2",
    "float": "2.5",
    "true": "True",
}
BINARY = ["a + b", "a * b", "a / b", "a - b", "a ** b", "a == b", "a < b", "a >= b"]


def promotion():
    cases = {}
    names = list(OPERANDS)
    for default in ("float32", "float64"):
        for i, an in enumerate(names[:8]):
            for bn in names[i:]:
                for expr in BINARY:
                    source = "\n".join([f"set_default_dtype('{default}')",
                                        f"a = {OPERANDS[an]}", f"b = {OPERANDS[bn]}",
                                        f"r = {expr}"])
                    cases[f"{default}/{an} {expr.split()[1]} {bn}"] = source
    return cases


UNARY = ["exp", "sigmoid", "tanh", "neg", "abs", "sign", "relu", "sum", "mean", "prod",
         "max", "sqrt", "square", "norm"]


def unary():
    cases = {}
    for default in ("float32", "float64"):
        for an in ("i64", "b", "f32"):
            for fn in UNARY:
                cases[f"{default}/{fn}({an})"] = "\n".join([
                    f"set_default_dtype('{default}')", f"a = {OPERANDS[an]}", f"r = {fn}(a)"])
    return cases


CASES = {
    # creation
    "tensor/int": "a = tensor([1, 2, 3])",
    "tensor/float": "a = tensor([1.0, 2.0])",
    "tensor/mixed": "a = tensor([1, 2.5])",
    "tensor/bool": "a = tensor([True, False])",
    "tensor/scalar-float-default32": "set_default_dtype('float32')\na = tensor(2.0)",
    "tensor/ones-default32": "set_default_dtype('float32')\na = ones(2, 3)\nb = zeros(2)",
    "tensor/ones-default64": "a = ones(2, 3)\nb = zeros(2)",
    "tensor/int-requires-grad": "a = tensor([1, 2], requires_grad=True)",
    "tensor/int-requires-grad_": "a = tensor([1, 2])\na.requires_grad_()",
    "tensor/int-requires-grad-attr": "a = tensor([1, 2])\na.requires_grad = True",
    # conversions
    "to/float": "x = leaf([1.5, -2.25])\ny = x.float()\nz = y.double()\nL = (z * z).sum()\n"
                "L.backward()",
    "to/same-is-self": "x = leaf([1.5, -2.25])\ny = x.double()\nsame = y is x",
    "to/long": "x = leaf([1.5, -2.25])\ny = x.long()\nz = y.float()",
    "to/method": "x = leaf([1.5, -2.25])\ny = to(x, 'float32')\nL = y.sum()\nL.backward()",
    "to/bool": "x = tensor([0.0, 2.0])\ny = to(x, 'bool')",
    "mixed/f32-leaf-f64-leaf": "a = leaf([1.5, 2.0], dtype='float32')\nb = leaf([3.0, 0.5])\n"
                               "c = a * b\nL = c.sum()\nL.backward()",
    "mixed/f32-leaf-f64-0d": "a = leaf([1.5, 2.0], dtype='float32')\nb = leaf(3.0)\n"
                             "c = a * b\nL = c.sum()\nL.backward()",
    "mixed/f32-inplace-f64": "a = leaf([1.5, 2.0], dtype='float32')\nb = leaf([3.0, 0.5])\n"
                             "c = a * 1\nc.mul_(b)\nL = c.sum()\nL.backward()",
    "mixed/f32-exp-chain": "a = leaf([0.1, 0.7, -1.3], dtype='float32')\n"
                           "b = sigmoid(a) * tanh(a) / 3 + exp(a * 0.5) ** 2\n"
                           "L = b.sum()\nL.backward()",
    # methods
    "item/float": "a = tensor(2.5)\nv = a.item()",
    "item/int": "a = tensor(3)\nv = a.item()",
    "item/bool": "a = tensor(True)\nv = a.item()",
    "item/error": "a = tensor([1.0, 2.0])\nv = a.item()",
    "tolist": "a = tensor([[1.0, 2.0], [3.0, 4.0]])\nv = a.tolist()\nw = tensor(3).tolist()",
    "compare/eq": "a = leaf([1.0, 2.0, 3.0])\nm = a.eq(2.0)\nn = a == tensor([1.0, 0.0, 3.0])",
    "compare/all-any": "a = tensor([0.0, 1.0])\np = a.all()\nq = a.any()\nr = (a >= 0).all()",
    "compare/sum-bool": "a = tensor([0.5, 1.5, 2.5])\nk = (a > 1).sum()\nv = k.item()",
    "clone": "x = leaf([1.0, 2.0])\ny = x.clone()\nz = (x * 2).clone()\nL = (z * y).sum()\n"
             "L.backward()",
    "zero_": "x = leaf([1.0, 2.0])\ny = x * 2\ny.zero_()\nL = (y + x).sum()\nL.backward()",
    "fill_": "x = leaf([1.0, 2.0])\ny = x * 2\ny.fill_(3)\nL = (y * x).sum()\nL.backward()",
    "grad/zero_": "x = leaf([1.0, 2.0])\n(x * x).sum().backward()\nx.grad.zero_()\n"
                  "(x * 3).sum().backward()",
    "grad/set-none": "x = leaf([1.0, 2.0])\n(x * x).sum().backward()\nx.grad = None\n"
                     "(x * 3).sum().backward()",
    "grad/set-wrong-shape": "x = leaf([1.0, 2.0])\nx.grad = tensor([1.0, 2.0, 3.0])",
    "grad/set-wrong-dtype": "x = leaf([1.0, 2.0])\nx.grad = tensor([1.0, 2.0], dtype='float32')",
    "requires_grad/non-leaf-True": "x = leaf([1.0])\ny = x * 2\ny.requires_grad_()",
    "requires_grad/non-leaf-False": "x = leaf([1.0])\ny = x * 2\ny.requires_grad_(False)",
    "requires_grad/attr-non-leaf-True": "x = leaf([1.0])\ny = x * 2\ny.requires_grad = True",
    "requires_grad/attr-non-leaf-False": "x = leaf([1.0])\ny = x * 2\ny.requires_grad = False",
    "requires_grad/attr-leaf": "x = tensor([1.0])\nx.requires_grad = True\nL = (x * x).sum()\n"
                               "L.backward()",
    "errors/int-pow-negative": "a = tensor([1, 2])\nr = a ** -1",
    "errors/neg-bool": "a = tensor([True])\nr = -a",
    "errors/sub-bool": "a = tensor([True])\nr = a - tensor([False])",
    "errors/dot-dtypes": "a = tensor([1, 2])\nr = dot(a, tensor([1.0, 2.0]))",
    "errors/mm-dtypes": "a = tensor([[1, 2]])\nr = mm(a, tensor([[1.0], [2.0]]))",
    "errors/mean-int": "a = tensor([1, 2])\nr = mean(a)",
    "errors/bool-ambiguous": "a = tensor([1.0, 2.0])\nr = bool(a)",
    "int/matmul": "a = tensor([[1, 2], [3, 4]])\nr = matmul(a, a)\ns = dot(a[0], a[1])",
    "int/sum-prod": "a = tensor([[1, 2], [3, 4]])\nr = sum(a)\ns = prod(a)\nt = a.sum(0)",
    "int/views": "a = tensor([[1, 2], [3, 4]])\nr = a.T\ns = a[0]\ns += 10\nt = a.reshape(4)",
    "int/stack-cat": "a = tensor([1, 2])\nb = tensor([0.5, 1.5])\nr = stack([a, b])\n"
                     "s = cat([a, b])",
}
CASES.update(promotion())
CASES.update(unary())
