"""Hessians and Jacobians of a program's output, by repeated backward passes.

The Hessian is built by double backward (``create_graph``): the gradient of the output
is itself a graph, and each of its elements is differentiated again.  The Jacobian
takes one vector-Jacobian product per output element.  Variables are every leaf that
requires grad, in binding order, tensors flattened (``w[0,1]``).
"""

from __future__ import annotations

import numpy as np

from ..autograd import engine
from ..autograd import functional as F
from ..autograd.tensor import Tensor
from ..errors import AutogradError, LimitError

MAX_ENTRIES = 10 ** 7


def variables(result) -> list:
    """(name, tensor) of every leaf that requires grad: bound ones in binding order, then
    those made leaves by requires_grad_()."""
    made = {r.name: r.tensor for r in result.graph if r.is_leaf}
    return [(n, result.variables[n] if n in result.variables else made[n])
            for n in result.grads]


def labels(found) -> list:
    out = []
    for name, t in found:
        if t.ndim == 0:
            out.append(name)
        else:
            out.extend(f"{name}[{','.join(map(str, idx))}]" for idx in np.ndindex(t.shape))
    return out


def _flat(grads, found) -> np.ndarray:
    parts = [np.zeros(t.data.size) if g is None else np.asarray(g.data, float).reshape(-1)
             for g, (_, t) in zip(grads, found)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _output(result) -> Tensor:
    out = result.output
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise AutogradError("element 0 of tensors does not require grad and does not have a "
                            "grad_fn (the output does not depend on any variable that "
                            "requires grad)")
    return out


def hessian(result) -> tuple:
    """(H, labels): the Hessian of a scalar output over every grad-requiring variable."""
    out = _output(result)
    if out.data.size != 1:
        raise AutogradError(f"the Hessian needs a scalar output; this one has shape "
                            f"{list(out.shape)} (use jacobian, or sum() it)")
    found = variables(result)
    n = sum(t.data.size for _, t in found)
    if n * n > MAX_ENTRIES:
        raise LimitError(f"the Hessian would have {n}x{n} entries; the limit is {MAX_ENTRIES}")
    tensors = [t for _, t in found]
    first = engine.grad(out, tensors, create_graph=True, allow_unused=True)
    flat_first = [g.reshape(-1) if g is not None else None for g in first]
    rows = []
    for g, (_, t) in zip(flat_first, found):
        for j in range(t.data.size):
            if g is None or not g.requires_grad:
                rows.append(np.zeros(n))
                continue
            element = F.index(g, j)
            if not element.requires_grad:
                rows.append(np.zeros(n))
                continue
            second = engine.grad(element, tensors, retain_graph=True, allow_unused=True)
            rows.append(_flat(second, found))
    return (np.array(rows).reshape(n, n) if rows else np.zeros((0, 0))), labels(found)


def jacobian(result) -> tuple:
    """(J, output labels, variable labels): one VJP per output element."""
    out = _output(result)
    found = variables(result)
    n = sum(t.data.size for _, t in found)
    m = out.data.size
    if m * n > MAX_ENTRIES:
        raise LimitError(f"the Jacobian would have {m}x{n} entries; the limit is {MAX_ENTRIES}")
    tensors = [t for _, t in found]
    rows = []
    for i in range(m):
        basis = np.zeros(m, dtype=out.data.dtype)
        basis[i] = 1.0
        grads = engine.grad(out, tensors, grad_outputs=Tensor._make(basis.reshape(out.shape),
                                                                     None),
                            retain_graph=True, allow_unused=True)
        rows.append(_flat(grads, found))
    outputs = ["out"] if out.ndim == 0 else [
        f"out[{','.join(map(str, idx))}]" for idx in np.ndindex(out.shape)]
    return (np.array(rows).reshape(m, n) if rows else np.zeros((m, n))), outputs, labels(found)
