"""``torch.autograd.functional.jacobian`` and ``hessian`` for scripts: the function is
the script's own, called through the interpreter; the derivatives are one reverse pass
per output element, as PyTorch's default (non-vectorized) strategy does.

    J = torch.autograd.functional.jacobian(f, x)      # shape f(x).shape + x.shape
    H = torch.autograd.functional.hessian(g, x)       # g(x) a one-element tensor
"""

from __future__ import annotations

import numpy as np

from ..autograd import engine
from ..autograd import functional as F
from ..autograd.tensor import Tensor
from .objects import Builtin, Namespace
from .pyops import ScriptError

MAX_ELEMENTS = 10 ** 6         # of a Jacobian (its rows are backward passes)


def namespace() -> Namespace:
    return Namespace("torch.autograd.functional", {
        "jacobian": Builtin("jacobian", jacobian, needs_interpreter=True),
        "hessian": Builtin("hessian", hessian, needs_interpreter=True)})


def jacobian(interp, func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    single_input = isinstance(inputs, Tensor)
    xs = _prepared(inputs, "jacobian", create_graph)
    outputs = interp.call_value(func, list(xs), {})
    single_output = isinstance(outputs, Tensor)
    ys = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
    rows = [[_block(y, x, xs, k, create_graph) for k, x in enumerate(xs)] for y in ys]
    if single_output and single_input:
        return rows[0][0]
    if single_output:
        return tuple(rows[0])
    if single_input:
        return tuple(r[0] for r in rows)
    return tuple(tuple(r) for r in rows)


def hessian(interp, func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    single_input = isinstance(inputs, Tensor)
    xs = _prepared(inputs, "hessian", create_graph)

    def gradient(*args):
        out = interp.call_value(func, list(args), {})
        if not isinstance(out, Tensor) or out.data.size != 1:
            raise ScriptError("RuntimeError", "The function given to hessian should "
                              "return a single Tensor with a single element")
        grads = engine.grad(out.reshape(()), list(args), create_graph=True,
                            allow_unused=True)
        return tuple(g if g is not None else F.zeros_like(a) for g, a in zip(grads, args))

    rows = [[_block(g, x, xs, k, create_graph) for k, x in enumerate(xs)]
            for g in gradient(*xs)]
    if single_input:
        return rows[0][0]
    return tuple(tuple(r) for r in rows)


def _prepared(inputs, who: str, create_graph: bool) -> tuple:
    xs = _as_tuple(inputs, "inputs", who)
    return tuple(x if create_graph and x.requires_grad else      # (PyTorch: a view)
                 F.detach(x).requires_grad_(True) for x in xs)


def _as_tuple(value, what: str, who: str) -> tuple:
    if isinstance(value, Tensor):
        return (value,)
    if isinstance(value, (tuple, list)) and value and \
            all(isinstance(v, Tensor) for v in value):
        return tuple(value)
    raise ScriptError("TypeError", f"The {what} given to {who} must be either a Tensor "
                      f"or a tuple of Tensors but the given argument at index 0 has type "
                      f"{type(value).__name__ if not isinstance(value, (tuple, list)) else 'tuple'}.")


def _block(y: Tensor, x: Tensor, xs: tuple, k: int, create_graph: bool) -> Tensor:
    """d y / d x as a tensor of shape y.shape + x.shape: one backward per element of y."""
    if y.data.size * x.data.size > MAX_ELEMENTS:
        raise ScriptError("RuntimeError", f"a Jacobian block of {y.data.size} x "
                          f"{x.data.size} elements is over gradcli's limit of "
                          f"{MAX_ELEMENTS}")
    flat = y.reshape(-1)
    rows = []
    for j in range(flat.data.size):
        if not flat.requires_grad:
            rows.append(None)
            continue
        grads = engine.grad(flat[j], [x], retain_graph=True, create_graph=create_graph,
                            allow_unused=True)
        rows.append(grads[0])
    if create_graph:
        parts = [g if g is not None else F.zeros_like(x) for g in rows]
        return F.stack(parts).reshape(tuple(y.shape) + tuple(x.shape)) if parts else \
            F.zeros(tuple(y.shape) + tuple(x.shape))
    out = np.zeros((len(rows),) + tuple(x.shape), dtype=x.data.dtype)
    for j, g in enumerate(rows):
        if g is not None:
            out[j] = g.data
    return Tensor._make(out.reshape(tuple(y.shape) + tuple(x.shape)), None)
