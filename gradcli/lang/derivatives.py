"""Hessians and Jacobians of a program's output, by repeated backward passes.

The Hessian is built by double backward (``create_graph``): the gradient of the output
is itself a graph, whose Jacobian is then taken.  A Jacobian is one backward pass per
chunk of output elements, with a batch of one-hot upstream gradients (batched VJPs, as
``torch.func.jacrev`` does).  Variables are every leaf that
requires grad, in binding order, tensors flattened (``w[0,1]``).
"""

from __future__ import annotations

import numpy as np

from ..autograd import engine
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


CHUNK_ELEMENTS = 1 << 23      # a chunk's batched gradients: at most this many elements each


def _rows(outputs: list, tensors: list, found, row_sizes: list) -> np.ndarray:
    """The m x n matrix of d(outputs' elements)/d(tensors' elements): one backward per
    chunk of one-hot upstream rows (batched VJPs, :mod:`gradcli.autograd.batched`).
    ``row_sizes``: the rows of each output (an output that is None, or does not require
    grad, keeps zero rows)."""
    from ..autograd import batched
    n = sum(t.data.size for _, t in found)
    m = sum(row_sizes)
    matrix = np.zeros((m, n))
    live = [(k, o) for k, o in enumerate(outputs) if o is not None and o.requires_grad]
    if not live or n == 0:
        return matrix
    offsets = np.cumsum([0] + list(row_sizes))
    chunk = max(1, min(m, CHUNK_ELEMENTS // batched.flowing_size([o for _, o in live],
                                                                   tensors)))
    sizes = [o.data.size for _, o in live]
    total = sum(sizes)
    # rows of the live outputs, in the order vjp_batch reads its upstream columns
    row_of = np.concatenate([np.arange(offsets[k], offsets[k] + o.data.size)
                             for k, o in live])
    columns = np.cumsum([0] + [t.data.size for _, t in found])
    dtype = live[0][1].data.dtype
    for start in range(0, total, chunk):
        stop = min(total, start + chunk)
        upstream = np.zeros((stop - start, total), dtype=dtype)
        upstream[np.arange(stop - start), np.arange(start, stop)] = 1
        grads = batched.vjp_batch([o for _, o in live], tensors, upstream)
        rows = row_of[start:stop]
        if rows[-1] - rows[0] == stop - start - 1:        # consecutive: write in place
            rows = slice(rows[0], rows[-1] + 1)
        for j, g in enumerate(grads):
            if g is not None:
                matrix[rows, columns[j]:columns[j + 1]] = g.reshape(stop - start, -1)
    return matrix


def hessian(result) -> tuple:
    """(H, labels): the Hessian of a scalar output over every grad-requiring variable:
    the gradient by double backward (create_graph), then its Jacobian by batched VJPs."""
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
    return _rows(list(first), tensors, found, [t.data.size for t in tensors]), labels(found)


def jacobian(result) -> tuple:
    """(J, output labels, variable labels), by batched VJPs of one-hot upstreams."""
    out = _output(result)
    found = variables(result)
    n = sum(t.data.size for _, t in found)
    m = out.data.size
    if m * n > MAX_ENTRIES:
        raise LimitError(f"the Jacobian would have {m}x{n} entries; the limit is {MAX_ENTRIES}")
    tensors = [t for _, t in found]
    outputs = ["out"] if out.ndim == 0 else [
        f"out[{','.join(map(str, idx))}]" for idx in np.ndindex(out.shape)]
    return _rows([out], tensors, found, [m]), outputs, labels(found)
