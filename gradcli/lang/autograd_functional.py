"""``torch.autograd.functional`` for scripts: ``jacobian``, ``hessian``, ``vjp`` and
``jvp``.  The function is the script's own, called through the interpreter; Jacobians
are one reverse pass per output element, as PyTorch's default (non-vectorized) strategy
does; ``vjp`` is one reverse pass, ``jvp`` PyTorch's double-backward trick (a reverse
pass from zeros that require grad, differentiated again).

    J = torch.autograd.functional.jacobian(f, x)      # shape f(x).shape + x.shape
    H = torch.autograd.functional.hessian(g, x)       # g(x) a one-element tensor
    out, vj = torch.autograd.functional.vjp(f, x, v)  # v shaped as f(x)
    out, jv = torch.autograd.functional.jvp(f, x, v)  # v shaped as x
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
        "hessian": Builtin("hessian", hessian, needs_interpreter=True),
        "vjp": Builtin("vjp", vjp, needs_interpreter=True),
        "jvp": Builtin("jvp", jvp, needs_interpreter=True)})


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


def vjp(interp, func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J), each detached unless ``create_graph``."""
    single_input = isinstance(inputs, Tensor)
    xs = _prepared(inputs, "vjp", create_graph)
    outputs = interp.call_value(func, list(xs), {})
    ys = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
    vs = _vectors(v, ys, "vjp", not isinstance(outputs, Tensor))
    grads = _grads(ys, xs, vs, create_graph)
    result = tuple(g if g is not None else F.zeros_like(x) for g, x in zip(grads, xs))
    return (_finished(ys, isinstance(outputs, Tensor), create_graph),
            _finished(result, single_input, create_graph))


def jvp(interp, func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), each detached unless ``create_graph``: J v is the gradient,
    with respect to zeros u that require grad, of the reverse pass u^T J taken at v."""
    xs = _prepared(inputs, "jvp", create_graph)
    outputs = interp.call_value(func, list(xs), {})
    ys = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
    vs = _vectors(v, xs, "jvp", not isinstance(inputs, Tensor))
    us = tuple(F.zeros_like(y).requires_grad_(True) for y in ys)
    back = _grads(ys, xs, us, True)
    pairs = [(b, v) for b, v in zip(back, vs) if b is not None and b.requires_grad]
    res = engine.grad([b for b, _ in pairs], list(us), [v for _, v in pairs],
                      create_graph=create_graph, allow_unused=True) if pairs else \
        (None,) * len(us)
    result = tuple(g if g is not None else F.zeros_like(y) for g, y in zip(res, ys))
    return (_finished(ys, isinstance(outputs, Tensor), create_graph),
            _finished(result, isinstance(outputs, Tensor), create_graph))


def _grads(ys: tuple, xs: tuple, vs: tuple, create_graph: bool) -> tuple:
    """PyTorch's _autograd_grad: grad() of the outputs that require grad, or Nones."""
    pairs = [(y, v) for y, v in zip(ys, vs) if y.requires_grad]
    if not pairs:
        return (None,) * len(xs)
    return engine.grad([y for y, _ in pairs], list(xs), [v for _, v in pairs],
                       retain_graph=True, create_graph=create_graph, allow_unused=True)


def _vectors(v, refs: tuple, who: str, is_tuple: bool) -> tuple:
    """``v`` as a tuple shaped as ``refs`` (PyTorch's _validate_v; ``is_tuple``: the
    function gave or took a tuple); None only for a single one-element ``refs``."""
    if v is None:
        if len(refs) != 1 or refs[0].data.size != 1:
            what = "the user-provided function returns" if who == "vjp" else \
                "the input to the user-provided function is"
            raise ScriptError("RuntimeError", f"The vector v can only be None if {what} "
                              "a single Tensor with a single element.")
        return (F.ones_like(refs[0]),)
    vs = tuple(F.detach(t) for t in _as_tuple(v, "v", who))
    if len(vs) != len(refs):
        raise ScriptError("RuntimeError", f"v is a tuple of invalid length: should be "
                          f"{len(refs)} but got {len(vs)}." if is_tuple else
                          "The given v should contain a single Tensor.")
    for i, (t, ref) in enumerate(zip(vs, refs)):
        if t.shape != ref.shape:
            where = f"Entry {i} in " if is_tuple else ""
            raise ScriptError("RuntimeError", f"{where}v has invalid size: should be "
                              f"{_size(ref.shape)} but got {_size(t.shape)}.")
    return vs


def _size(shape) -> str:
    from .objects import Size
    return repr(Size(shape))


def _finished(values: tuple, single: bool, create_graph: bool):
    out = values if create_graph else tuple(F.detach(t) for t in values)
    return out[0] if single else out


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
