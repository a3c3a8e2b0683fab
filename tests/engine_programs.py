"""Run a small PyTorch-style program on PyTorch or on gradcli's engine, and describe
everything it made, so the two can be compared.

A program is Python source over a few names -- ``leaf(values, dtype=...)`` for a leaf
that requires grad, ``const(values)`` for one that does not, the functions in ``FUNCS``
(``exp(t)``, ``sum(t)``, ...), ``data(t)`` for ``t.data``, ``grad(y, x, ...)`` -- and
tensor methods and operators both libraries share (``t[0]``, ``t.T``, ``t += 1``,
``t.mul_(2)``, ``t.backward()``).  The programs are the test suite's own (written by
hand or by ``tests/data/engine/programs.py``), never user input.

``describe(source, backend)`` runs the statements one by one; the first error ends the
run and is recorded as (statement index, message).  The description lists every tensor
bound to a name at the end: value, dtype, grad_fn name (as PyTorch's ``name()``),
requires_grad, is_leaf, grad and version.  PyTorch writes the expected descriptions
once (``tests/data/engine/make_expected.py``); the tests never import torch.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

FUNCS = ["exp", "log", "sin", "cos", "tanh", "sigmoid", "relu", "sqrt", "abs", "square",
         "sum", "mean", "prod", "matmul", "maximum", "minimum", "clamp", "softmax",
         "log_softmax", "logsumexp", "stack", "cat", "reshape", "flatten", "transpose",
         "permute", "squeeze", "unsqueeze", "diagonal", "narrow", "t", "erf", "atan2",
         "hypot", "reciprocal", "rsqrt", "expm1", "log1p", "sinh", "cosh", "asinh", "atan",
         "tan", "softplus", "silu", "exp2", "log2", "log10", "sign", "neg", "trace", "norm",
         "dot", "mv", "mm", "max", "min", "asin", "acos", "mse_loss"]


def torch_namespace():
    import torch
    import torch.nn.functional as nnf

    def tensor(values, dtype=None, requires_grad=False):
        return torch.tensor(values, dtype=None if dtype is None else getattr(torch, dtype),
                            requires_grad=requires_grad)

    def leaf(values, dtype="float64"):
        return torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)

    def const(values, dtype="float64"):
        return torch.tensor(values, dtype=getattr(torch, dtype))

    ns = {name: getattr(torch, name) for name in FUNCS if hasattr(torch, name)}
    ns.update(softplus=nnf.softplus, silu=nnf.silu, mse_loss=nnf.mse_loss,
              norm=torch.linalg.vector_norm, leaf=leaf, const=const, tensor=tensor,
              ones=lambda *s: torch.ones(*s), zeros=lambda *s: torch.zeros(*s),
              bool_=torch.bool, to=lambda t, d: t.to(getattr(torch, d)),
              data=lambda t: t.data, set_data=lambda t, v: setattr(t, "data", v),
              graph=graph, grad=torch.autograd.grad,
              in_no_grad=_in_no_grad(torch.no_grad), float32=torch.float32,
              float64=torch.float64, int64=torch.int64,
              set_default_dtype=lambda d: torch.set_default_dtype(getattr(torch, d)))
    return ns


def gradcli_namespace():
    import gradcli.autograd as ag
    from gradcli.autograd import functional as F

    def leaf(values, dtype="float64"):
        return ag.tensor(values, dtype=dtype, requires_grad=True)

    def const(values, dtype="float64"):
        return ag.tensor(values, dtype=dtype)

    ns = {name: getattr(F, name) for name in FUNCS if hasattr(F, name)}
    ns.update(leaf=leaf, const=const, tensor=ag.tensor, ones=F.ones, zeros=F.zeros,
              bool_="bool", to=lambda t, d: t.to(d), data=lambda t: t.torch_data,
              set_data=lambda t, v: setattr(t, "torch_data", v), graph=graph, grad=ag.grad,
              in_no_grad=_in_no_grad(ag.no_grad), float32="float32", float64="float64",
              int64="int64", set_default_dtype=ag.set_default_dtype)
    return ns


def graph(t, limit: int = 400) -> str:
    """The graph behind ``t`` as nested text: each node's name (PyTorch's ``name()``) with
    its next functions in order; a node met before is ``@k`` (k: its visit number)."""
    root = t.grad_fn
    if root is None:
        return "None"
    seen: dict = {}
    out: list = []
    stack = [root]
    while stack and len(seen) < limit:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        if node is None:
            out.append("None")
            continue
        if id(node) in seen:
            out.append(f"@{seen[id(node)]}")
            continue
        seen[id(node)] = len(seen)
        name = node.name() if callable(getattr(node, "name", None)) else node.qualified_name
        children = [f for f, _ in node.next_functions]
        if not children:
            out.append(name)
            continue
        out.append(name + "(")
        items = []
        for k, child in enumerate(children):
            if k:
                items.append(", ")
            items.append(child)
        stack.append(")")
        stack.extend(reversed(items))
    return "".join(out)


def _plain(x):
    if x is None:
        return None
    a = x.data if hasattr(x, "storage_key") else x.detach().numpy(force=True)
    a = np.asarray(a, dtype=np.float64)
    return [float(v) if math.isfinite(v) else repr(float(v)) for v in a.reshape(-1)]


def _plain_list(items) -> bool:
    """Nested lists of Python numbers only (what tolist() gives)."""
    stack = [items]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif not isinstance(item, (bool, int, float)):
            return False
    return True


def _in_no_grad(no_grad):
    def run(fn):
        with no_grad():
            return fn()
    return run


def _is_tensor(value) -> bool:
    return type(value).__name__ in ("Tensor", "Parameter")


def describe_tensor(t) -> dict:
    try:
        fn = t.grad_fn
    except Exception as exc:             # noqa: BLE001 - PyTorch raises for some views
        fn, name = None, "error: " + str(exc).split("\n")[0]
    else:
        name = None
    if fn is not None:
        name = fn.name() if callable(getattr(fn, "name", None)) else fn.qualified_name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grad = t.grad
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
            "value": _plain(t), "grad_fn": name, "requires_grad": bool(t.requires_grad),
            "is_leaf": None if name and name.startswith("error") else bool(t.is_leaf),
            "grad": _plain(grad), "version": int(t._version)}


def describe(source: str, backend: str) -> dict:
    """Run ``source`` on ``backend`` ("torch" or "gradcli") and describe the outcome."""
    ns = torch_namespace() if backend == "torch" else gradcli_namespace()
    ns["set_default_dtype"]("float64")       # programs start with gradcli's default
    env = dict(ns)
    error = None
    statements = [s for s in source.split("\n") if s.strip()]
    with np.errstate(all="ignore"):
        for i, statement in enumerate(statements):
            try:
                exec(statement, env)     # noqa: S102 - the test suite's own programs
            except Exception as exc:     # noqa: BLE001 - any error is part of the outcome
                error = {"statement": i, "message": str(exc).split("\n")[0]}
                break
    tensors = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grads = {id(v.grad) for v in env.values() if _is_tensor(v) and v.grad is not None}
    for name, value in env.items():
        if name in ns or name.startswith("__"):
            continue
        if isinstance(value, (bool, int, float, str)):
            tensors[name] = {"python": type(value).__name__, "value": value}
        elif isinstance(value, list) and _plain_list(value):
            tensors[name] = {"python": "list", "value": value}
        elif _is_tensor(value):
            tensors[name] = describe_tensor(value)
            if id(value) in grads:
                # a .grad: PyTorch's version of it counts the in-place sums its engine
                # chose to make while accumulating, an implementation detail
                tensors[name]["version"] = None
        elif isinstance(value, tuple) and value and all(_is_tensor(v) or v is None
                                                        for v in value):
            for k, v in enumerate(value):       # what grad() returned
                if v is not None:
                    tensors[f"{name}[{k}]"] = describe_tensor(v)
                    tensors[f"{name}[{k}]"]["version"] = None     # (as for .grad below)
    if backend == "gradcli":        # as it found it: unset (nn and rand follow a setting)
        from gradcli.autograd.dtypes import restore_default
        restore_default(None)
    else:
        ns["set_default_dtype"]("float64")
    return {"error": error, "tensors": tensors}


def differences(expected: dict, got: dict, rtol: float = 1e-12, atol: float = 1e-12,
                f32_rtol: float = 0.0) -> list:
    """What differs between two descriptions (empty when they agree): the error (its
    statement and exact message), and per tensor every field, values within rtol/atol
    (float32 ones within ``f32_rtol``: the math libraries round differently)."""
    out = []
    if expected["error"] != got["error"]:
        out.append(f"error: expected {expected['error']}, got {got['error']}")
    names = set(expected["tensors"]) | set(got["tensors"])
    for name in sorted(names):
        e, g = expected["tensors"].get(name), got["tensors"].get(name)
        if e is None or g is None:
            out.append(f"{name}: {'missing' if g is None else 'unexpected'}")
            continue
        if "python" in e or "python" in g:
            if e != g:
                out.append(f"{name}: expected {e}, got {g}")
            continue
        for field in ("shape", "dtype", "grad_fn", "requires_grad", "is_leaf", "version"):
            if e[field] != g[field]:
                out.append(f"{name}.{field}: expected {e[field]!r}, got {g[field]!r}")
        r = max(rtol, f32_rtol) if e["dtype"] == "float32" else rtol
        for field in ("value", "grad"):
            if not _close(e[field], g[field], r, atol):
                out.append(f"{name}.{field}: expected {e[field]}, got {g[field]}")
    return out


def _close(a, b, rtol, atol) -> bool:
    if a is None or b is None:
        return a is b
    if len(a) != len(b):
        return False
    fa = np.array([float(v) for v in a])
    fb = np.array([float(v) for v in b])
    return bool(np.allclose(fa, fb, rtol=rtol, atol=atol, equal_nan=True))
