"""Programs about grad_fn names: the gradient graphs create_graph records (each op's
backward formula, as PyTorch's double-backward nodes name it), to the third order, and
the names that depend on a tensor's layout or on literal slice bounds.  ``graph(t)``
writes the whole graph behind ``t`` as text, so the structure is compared too.
"""

X1 = "x = leaf([0.5, -0.3, 1.2])"
V1 = "v = leaf([0.7, 1.1, -0.4])"
W1 = "w = const([0.2, -0.6, 0.9])"
POS = "x = leaf([0.5, 0.3, 1.2])"
UNIT = "x = leaf([0.5, -0.3, 0.8])"

UNARY = {
    "exp": ("exp(x)", X1), "exp2": ("exp2(x)", X1), "expm1": ("expm1(x)", X1),
    "log": ("log(x)", POS), "log2": ("log2(x)", POS), "log10": ("log10(x)", POS),
    "log1p": ("log1p(x)", POS), "sqrt": ("sqrt(x)", POS), "rsqrt": ("rsqrt(x)", POS),
    "reciprocal": ("reciprocal(x)", POS), "sin": ("sin(x)", X1), "cos": ("cos(x)", X1),
    "tan": ("tan(x)", X1), "asin": ("asin(x)", UNIT), "acos": ("acos(x)", UNIT),
    "atan": ("atan(x)", X1), "sinh": ("sinh(x)", X1), "cosh": ("cosh(x)", X1),
    "tanh": ("tanh(x)", X1), "asinh": ("asinh(x)", X1), "abs": ("abs(x)", X1),
    "sign": ("sign(x)", X1), "erf": ("erf(x)", X1), "sigmoid": ("sigmoid(x)", X1),
    "relu": ("relu(x)", X1), "softplus": ("softplus(x)", X1), "silu": ("silu(x)", X1),
    "square": ("square(x)", X1), "neg": ("-x", X1), "pow3": ("x ** 3", X1),
    "pow2": ("x ** 2", X1), "pow1": ("x ** 1", X1), "pow0": ("x ** 0", X1),
    "pow-half": ("x ** 0.5", POS), "pow-base": ("2.0 ** x", X1), "rsub": ("2 - x", X1),
    "rdiv": ("2 / x", POS), "clamp": ("clamp(x, -0.4, 0.6)", X1),
    "add-number": ("x + 2", X1), "mul-number": ("x * 2", X1), "div-number": ("x / 2", X1),
    "sum": ("sum(x)", X1), "mean": ("mean(x)", X1), "prod": ("prod(x)", X1),
    "max": ("max(x)", X1), "min": ("min(x)", X1), "norm": ("norm(x)", X1),
    "logsumexp": ("logsumexp(x, 0)", X1), "softmax": ("softmax(x, 0)", X1),
    "log_softmax": ("log_softmax(x, 0)", X1),
}
BINARY = {
    "add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "pow": "a ** b",
    "maximum": "maximum(a, b)", "minimum": "minimum(a, b)", "atan2": "atan2(a, b)",
    "hypot": "hypot(a, b)", "mse_loss": "mse_loss(a, b)", "dot": "dot(a, b)",
}
AB = "a = leaf([0.5, 0.3, 1.2])\nb = leaf([0.7, 1.1, 0.4])"
MATRIX = "m = leaf([[0.5, -0.3], [1.2, 0.4]])\nn = leaf([[0.7, 0.2], [-0.1, 0.9]])\n" \
         "p = leaf([0.3, -0.8])"
SHAPED = {
    "mm": "mm(m, n)", "mv": "mv(m, p)", "vm": "matmul(p, m)", "trace": "trace(m)",
    "sum-dim": "m.sum(0)", "sum-keepdim": "m.sum(1, keepdim=True)", "mean-dim": "m.mean(1)",
    "logsumexp-dim": "logsumexp(m, 1)", "softmax-dim": "softmax(m, 1)",
    "log_softmax-dim": "log_softmax(m, 1)", "T": "m.T", "t": "m.t()",
    "transpose": "m.transpose(0, 1)", "permute": "m.permute(1, 0)", "reshape": "m.reshape(4)",
    "view": "m.view(4)", "flatten": "flatten(m)", "unsqueeze": "m.unsqueeze(1)",
    "squeeze": "m.unsqueeze(0).squeeze(0)", "squeeze-all": "m.unsqueeze(0).squeeze()",
    "select": "m[1]", "slice": "m[1:]", "slice-neg": "m[:, -1:]", "alias": "m[:, :]",
    "expand": "m[0:1].expand(3, 2)", "diagonal": "m.diagonal()", "narrow": "m.narrow(0, 1, 1)",
    "stack": "stack([m, n])", "cat": "cat([m, n])", "clone": "m.clone()",
    "to-float": "m.float()", "reshape-T": "m.T.reshape(4)", "flatten-t": "flatten(m.t())",
    "reshape-permute": "m.permute(1, 0).reshape(1, -1, 2)",
}


def _orders(expr: str, setup: str, inputs: str) -> str:
    """First-order gradient with an upstream that requires grad, then the derivative of
    that, both under create_graph; the graphs of both as text."""
    return "\n".join([
        setup, "y = " + expr, "u = y * 1.0 + 0.0",
        "up = leaf([0.9] * u.numel()).reshape(u.shape)",
        f"g = grad(y, ({inputs},), grad_outputs=up, create_graph=True, allow_unused=True)",
        "s1 = graph(g[0]) if g[0] is not None else 'None'",
        "k = [t for t in g if t is not None and t.requires_grad]",
        "z = sum(stack([(t * t).sum() for t in k])) if k else None",
        f"h = grad(z, ({inputs},), create_graph=True, allow_unused=True) if k else ()",
        "s2 = graph(h[0]) if h and h[0] is not None else 'None'",
        "s3 = graph(h[-1]) if h and h[-1] is not None else 'None'"])


def cases():
    out = {}
    for name, (expr, setup) in UNARY.items():
        out[f"unary/{name}"] = _orders(expr, setup, "x")
    for name, expr in BINARY.items():
        out[f"binary/{name}"] = _orders(expr, AB, "a, b")
    for name, expr in SHAPED.items():
        out[f"shaped/{name}"] = _orders(expr, MATRIX, "m, n, p")
    return out


CASES = cases()
CASES.update({
    "issue/relu-second-derivative": "x = leaf(0.5)\ny = relu(x)\n"
                                    "g = grad(y, x, create_graph=True)\nh = grad(g, x)",
    "issue/square-third-derivative": "x = leaf(0.5)\ny = square(x)\n"
                                     "g = grad(y, x, create_graph=True)\n"
                                     "h = grad(g, x, create_graph=True)\nk = grad(h, x)",
    "issue/tanh-double-backward": "x = leaf(0.5)\ng = grad(tanh(x), x, create_graph=True)",
    "issue/sigmoid-double-backward": "x = leaf(0.5)\ng = grad(sigmoid(x), x, create_graph=True)",
    "backward-create-graph-accumulates": "x = leaf(2.0)\ny = x ** 3\n"
                                         "y.backward(create_graph=True)\ng1 = x.grad\n"
                                         "s1 = graph(g1)\ny2 = x ** 3\n"
                                         "y2.backward(create_graph=True)\ns2 = graph(x.grad)",
})
