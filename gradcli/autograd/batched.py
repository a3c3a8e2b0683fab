"""Vector-Jacobian products for a batch of upstream gradients in one backward pass.

``vjp_batch(outputs, inputs, upstream)`` runs the recorded graph backward once with
gradients that carry a leading batch dimension: row b of ``upstream`` is one upstream
gradient (for the outputs' elements, concatenated), row b of each result the VJP it
gives.  With one-hot rows this is a block of Jacobian rows, as ``torch.func.vmap`` over
``vjp`` computes them (``jacrev``).

The op table's VJPs are written for one gradient.  Here a node's VJPs see the batch in
one of three ways:

* a rule of this module for the op (matrix products, full sums), written for the
  batch;
* an elementwise op (``ELEMENTWISE``): its VJPs only multiply ``g`` elementwise by
  arrays of the input's shape, which numpy broadcasts over the leading batch
  dimension; the broadcast reduction (``sum_to``) is done here, batch kept;
* any other op: its VJPs once per batch row (a loop; correct for every op).

No node is released (the graph stays usable), no ``.grad`` is touched.
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np

from .engine import _discover, _needed
from .function import ARRAY_OPS, edge_of
from .grad_mode import no_grad
from .node import AccumulateGrad

# ops whose VJPs are elementwise in g (numpy broadcasting carries a leading batch dim)
ELEMENTWISE = frozenset("""
AddBackward0 SubBackward0 RsubBackward1 MulBackward0 DivBackward0 NegBackward0
ReciprocalBackward0 PowBackward0 PowBackward1 PowBackward2 ExpBackward0 Exp2Backward0
LogBackward0 Log2Backward0 Log10Backward0 Log1PBackward0 Expm1Backward0 SqrtBackward0
RsqrtBackward0 SinBackward0 CosBackward0 TanBackward0 AsinBackward0 AcosBackward0
AtanBackward0 SinhBackward0 CoshBackward0 TanhBackward0 AsinhBackward0 AcoshBackward0
AtanhBackward0 SigmoidBackward0 AbsBackward0 SignBackward0 ErfBackward0
TanhBackwardBackward0 SigmoidBackwardBackward0
""".split())


def _sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Reduce a batched gradient (B, *broadcast shape) to (B, *shape)."""
    want = (g.shape[0],) + tuple(shape)
    if g.shape == want:
        return g
    extra = g.ndim - len(want)
    if extra > 0:
        g = g.sum(axis=tuple(range(1, 1 + extra)))
    axes = tuple(i for i in range(1, g.ndim) if want[i] == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(want)


def _elementwise(node, g, wants):
    """None when a VJP's result does not carry the batch as expected (then: loop)."""
    op = node.op
    inputs, out = node.unpack(False)
    grads = [None] * len(wants)
    for i in op.vjp_order or range(len(wants)):
        if wants[i]:
            gi = np.asarray(op.vjps[i](ARRAY_OPS, g, *inputs, out, **node.params))
            if gi.ndim != g.ndim or gi.shape[0] != g.shape[0]:
                return None
            gi = _sum_to(gi, node.shapes[i])
            if node.dtypes is not None:
                gi = gi.astype(node.dtypes[i], copy=False)
            grads[i] = gi
    return grads


def _loop(node, g, wants):
    """Any op: its VJPs once per batch row."""
    rows = [node.vjps(g[b], ARRAY_OPS, wants) for b in range(g.shape[0])]
    grads = []
    for i, want in enumerate(wants):
        if not want or rows[0][i] is None:
            grads.append(None)
            continue
        grads.append(np.stack([np.broadcast_to(np.asarray(r[i]), node.shapes[i])
                               for r in rows]))
    return grads


def _mv(node, g, wants):                    # W @ v: W (m, n), v (n,), g (B, m)
    (w, v), _ = node.unpack(False)
    return [g[:, :, None] * v[None, None, :] if wants[0] else None,
            g @ w if wants[1] else None]


def _mm(node, g, wants):                    # A @ B: A (m, k), B (k, n), g (B, m, n)
    (a, b), _ = node.unpack(False)
    return [g @ b.T if wants[0] else None, np.matmul(a.T, g) if wants[1] else None]


def _dot(node, g, wants):                   # a . b: g (B,)
    (a, b), _ = node.unpack(False)
    return [g[:, None] * b if wants[0] else None, g[:, None] * a if wants[1] else None]


def _sum(node, g, wants):                   # sum of every element: g (B,)
    shape = node.shapes[0]
    return [np.broadcast_to(g.reshape((-1,) + (1,) * len(shape)), g.shape[:1] + shape)]


RULES = {"MvBackward0": _mv, "MmBackward0": _mm, "DotBackward0": _dot,
         "SumBackward0": _sum}


# the input ranks a rule is written for (other ranks loop)
_RANKS = {"MvBackward0": (2, 1), "MmBackward0": (2, 2), "DotBackward0": (1, 1)}


def _node_grads(node, g, wants):
    name = node.name
    op = node.op
    if not op.variadic and op.joint is None and node.dtypes is None:
        rule = RULES.get(name)
        if rule is not None and (name not in _RANKS or tuple(
                -1 if s is None else len(s) for s in node.shapes) == _RANKS[name]):
            return rule(node, g, wants)
        if name in ELEMENTWISE and all(s is not None or not w
                                       for s, w in zip(node.shapes, wants)):
            grads = _elementwise(node, g, wants)
            if grads is not None:
                return grads
    return _loop(node, g, wants)


def vjp_batch(outputs: list, inputs: list, upstream: np.ndarray) -> list:
    """For each input, (B, *input.shape): the VJPs of the B upstream rows (each row the
    outputs' elements, flattened and concatenated); None where no path leads."""
    batch = upstream.shape[0]
    roots, offset = [], 0
    for out in outputs:
        size = out.data.size
        part = upstream[:, offset:offset + size].reshape((batch,) + out.shape)
        offset += size
        edge = edge_of(out)
        if edge is not None:
            roots.append((edge, part.astype(out.data.dtype, copy=False)))
    targets = {edge_of(t): k for k, t in enumerate(inputs)}
    root_nodes = [n for n, _ in roots]
    deps, seen = _discover(root_nodes)
    needed = _needed(seen, deps, set(targets))
    deps = {}
    for node in needed:
        for nxt in node.next_edges:
            if nxt in needed:
                deps[nxt] = deps.get(nxt, 0) + 1
    pending: dict = {}
    for node, g in roots:
        pending[node] = g if node not in pending else pending[node] + g
    results = [None] * len(inputs)
    tiebreak = itertools.count()
    ready = [(-n.seq, next(tiebreak), n) for n in dict.fromkeys(root_nodes)
             if n in needed and deps.get(n, 0) == 0]
    heapq.heapify(ready)
    with no_grad():
        while ready:
            node = heapq.heappop(ready)[2]
            g = pending.pop(node, None)
            if node in targets and g is not None:
                results[targets[node]] = g
            grads = None
            if g is not None and type(node) is not AccumulateGrad:
                wants = [e is not None and e in needed for e in node.next_edges]
                grads = _node_grads(node, g, wants)
            for i, nxt in enumerate(node.next_edges):
                if nxt is None or nxt not in needed:
                    continue
                if grads is not None and grads[i] is not None:
                    have = pending.get(nxt)
                    pending[nxt] = grads[i] if have is None else have + grads[i]
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    heapq.heappush(ready, (-nxt.seq, next(tiebreak), nxt))
    return results


def flowing_size(outputs: list, inputs: list) -> int:
    """The largest gradient one batch row carries through the graph (elements): what
    a chunk's memory grows with."""
    root_nodes = [e for e in (edge_of(o) for o in outputs) if e is not None]
    deps, seen = _discover(root_nodes)
    needed = _needed(seen, deps, {edge_of(t) for t in inputs})
    biggest = max([1] + [o.data.size for o in outputs])
    for node in needed:
        shapes = getattr(node, "shapes", None) or ()
        for e, s in zip(node.next_edges, shapes):
            if e in needed and s is not None:
                biggest = max(biggest, int(np.prod(s)))
    return biggest
