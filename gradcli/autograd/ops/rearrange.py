"""Ops that rearrange or pick elements: flip, roll, repeat/tile, gather, index_select,
movedim, split and chunk (SPEC 3.9's shape ops beyond the views of :mod:`.shape`).

Forwards work on object arrays too, so the symbolic check reuses them
(``sympy=STRUCTURAL``).  Arguments arrive validated, with dims in range, by the
functions of :mod:`gradcli.autograd.rearranging`.  Backward formulas are PyTorch's
(derivatives.yaml), so double backward records PyTorch's nodes: flip's gradient is a
flip, gather's a ``scatter_add`` into zeros (ScatterAddBackward0), index_select's an
``index_add`` (IndexAddBackward0), a split part's a ``cat`` with zeros for the other
parts (CatBackward0).

PyTorch's split returns its parts from one node; here each part is a node of its own
(same grad_fn name, same gradients); a gradient that reaches several parts is a sum of
their cats under create_graph, where PyTorch's one node makes one cat.
"""

from __future__ import annotations

import math

import numpy as np

from .core import STRUCTURAL, prose, register

SHAPE = "shape"
MOVED = prose("1 (elements moved)")


def _at_least_1d(a):
    """A 0-d array as a one-element vector (a view), as PyTorch indexes scalars."""
    return a.reshape(1) if np.ndim(a) == 0 else a


def _index_tuple(index, dim: int) -> tuple:
    """The numpy index that picks, at each position of ``index``, the element
    ``index[pos]`` along ``dim`` and ``pos`` along every other dim (gather's rule)."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


# ---- flip and roll ------------------------------------------------------------------

def _flip(x, dims):
    return np.array(np.flip(x, dims) if dims else x, copy=True)


def _roll(x, shifts, dims):
    if not dims:                       # PyTorch rolls the flattened tensor
        return np.roll(np.reshape(x, -1), shifts[0]).reshape(np.shape(x))
    return np.roll(x, shifts, dims)


register("flip", "FlipBackward0", _flip, (lambda F, g, x, out, dims: F.flip(g, dims),),
         params="input, *dims: ints", group=SHAPE, function="rearranging:flip",
         dtype_rule="keep", sympy=STRUCTURAL, derivative=(MOVED,))
register("roll", "RollBackward0", _roll,
         (lambda F, g, x, out, shifts, dims: F.roll(g, tuple(-s for s in shifts), dims),),
         params="input, shifts: any, dims: any = None", group=SHAPE,
         function="rearranging:roll", dtype_rule="keep", sympy=STRUCTURAL,
         derivative=(MOVED,))

# ---- repeat and tile ----------------------------------------------------------------


def _repeat_vjp(F, g, x, out, repeats):
    """PyTorch's repeat_backward: sum the new leading dims away, then view each
    repeated dim as (repeat, size) and sum the repeats (SumBackward1, ViewBackward0)."""
    shape = x.shape
    if 0 in repeats:
        return F.zeros(shape, dtype=g.dtype)
    lead = len(repeats) - len(shape)
    for _ in range(lead):
        g = F.sum_dim(g, (0,), False)
    sizes, summed = [], []
    for size, repeat in zip(shape, repeats[lead:]):
        if repeat != 1:
            sizes.append(repeat)
            summed.append(len(sizes) - 1)
        sizes.append(size)
    if summed:
        g = F.sum_dim(F.reshape(g, tuple(sizes)), tuple(summed), False)
    return g


def _repeated_size(input, **counts) -> int:
    """The element count of ``input`` repeated (for the language's size limit)."""
    (counts,) = counts.values()
    return math.prod(np.shape(getattr(input, "data", input))) * math.prod(counts)


register("repeat", "RepeatBackward0", lambda x, repeats: np.tile(x, repeats),
         (_repeat_vjp,), params="input, *repeats: ints", group=SHAPE, api="method",
         function="rearranging:repeat", dtype_rule="keep", sympy=STRUCTURAL,
         derivative=(prose("1, summed over the copies"),), grows=_repeated_size)
register("tile", function="rearranging:tile", params="input, *dims: ints", group=SHAPE,
         records=("RepeatBackward0",), derivative=(prose("1, summed over the copies"),),
         grows=_repeated_size)

# ---- gather and index_select, and the ops of their gradients -------------------------


def _gather(x, dim, index):
    return np.asarray(_at_least_1d(x)[_index_tuple(_at_least_1d(index), dim)]).reshape(
        index.shape)


def _scatter_add(x, src, dim, index):
    out = np.array(x, copy=True)
    np.add.at(_at_least_1d(out), _index_tuple(_at_least_1d(index), dim), _at_least_1d(src))
    return out


def _index_select(x, dim, index):
    picked = np.take(_at_least_1d(x), np.reshape(index, -1), axis=dim)
    return picked.reshape(()) if np.ndim(x) == 0 else picked


def _index_add(x, src, dim, index):
    out = np.array(x, copy=True)
    np.add.at(np.moveaxis(_at_least_1d(out), dim, 0), np.reshape(index, -1),
              np.moveaxis(_at_least_1d(src), dim, 0))
    return out


register("gather", "GatherBackward0", _gather,
         (lambda F, g, x, out, dim, index:
          F.scatter_add(F.zeros(x.shape, dtype=g.dtype), g, dim=dim, index=index),),
         params="input, dim: dim, index: index", group="indexing",
         function="rearranging:gather", dtype_rule="keep", sympy=STRUCTURAL,
         derivative=(prose("1 at each element the index picks (summed where it picks "
                           "one more than once)"),))
register("scatter_add", "ScatterAddBackward0", _scatter_add,
         (lambda F, g, x, src, out, dim, index: g,
          lambda F, g, x, src, out, dim, index: F.gather(g, dim=dim, index=index)),
         internal=True, dtype_rule="keep", sympy=STRUCTURAL,
         syntax="scatter_add(x, dim, index, src)")
register("index_select", "IndexSelectBackward0", _index_select,
         (lambda F, g, x, out, dim, index:
          F.index_add(F.zeros(x.shape, dtype=g.dtype), g, dim=dim, index=index),),
         params="input, dim: dim, index: index", group="indexing",
         function="rearranging:index_select", dtype_rule="keep", sympy=STRUCTURAL,
         derivative=(prose("1 at each element the index picks (summed where it picks "
                           "one more than once)"),))
register("index_add", "IndexAddBackward0", _index_add,
         (lambda F, g, x, src, out, dim, index: g,
          lambda F, g, x, src, out, dim, index: F.index_select(g, dim=dim, index=index)),
         internal=True, dtype_rule="keep", sympy=STRUCTURAL,
         syntax="index_add(x, dim, index, src)")

# ---- movedim (a permute), split and chunk (views, one node per part) -------------------

register("movedim", function="rearranging:movedim",
         params="input, source: any, destination: any", group=SHAPE,
         records=("PermuteBackward0", "AliasBackward0"), derivative=(MOVED,))


def _part(x, dim, sizes, part):
    start = sum(sizes[:part])
    return x[(slice(None),) * dim + (slice(start, start + sizes[part]), Ellipsis)]


def _part_vjp(F, g, x, out, dim, sizes, part):
    """PyTorch's split_backward: cat the parts' gradients, zeros for the others."""
    shape = x.shape
    pieces = [g if k == part else
              F.zeros(shape[:dim] + (size,) + shape[dim + 1:], dtype=g.dtype)
              for k, size in enumerate(sizes)]
    return F.cat(pieces, dim)


def _show_part(labels, params) -> str:
    """``split(x, [2, 1], 0)[1]``"""
    return (f"split({labels[0]}, {list(params.get('sizes', ()))}, {params.get('dim', 0)})"
            f"[{params.get('part', 0)}]")


for _name, _grad_fn in (("split_part", "SplitBackward0"),
                        ("split_with_sizes_part", "SplitWithSizesBackward0")):
    register(_name, _grad_fn, _part, (_part_vjp,), internal=True, view="parts",
             sympy=STRUCTURAL, shown_as="split", derivative=(prose("1 on the part"),),
             display=_show_part,
             syntax="split(x, size, dim)[k]")



def _unbound(x, dim, count, part):
    return x[(slice(None),) * dim + (slice(part, part + 1),)].squeeze(dim)  # (0-d: a view)


def _unbound_vjp(F, g, x, out, dim, count, part):
    """PyTorch's unbind_backward: stack the parts' gradients, zeros for the others."""
    return F.stack([g if k == part else F.zeros(g.shape, dtype=g.dtype)
                    for k in range(count)], dim)


register("unbind_part", "UnbindBackward0", _unbound, (_unbound_vjp,), internal=True,
         view="parts", sympy=STRUCTURAL, shown_as="unbind",
         derivative=(prose("1 on the part"),),
         display=lambda labels, params: f"unbind({labels[0]}, {params.get('dim', 0)})"
                                        f"[{params.get('part', 0)}]",
         syntax="unbind(x, dim)[k]")
register("unbind", function="rearranging:unbind", params="input, dim: int = 0",
         group=SHAPE, records=("UnbindBackward0",), derivative=(prose("1 on each part"),))
register("split", function="rearranging:split",
         params="tensor, split_size_or_sections: any, dim: int = 0", group=SHAPE,
         records=("SplitBackward0", "SplitWithSizesBackward0"),
         derivative=(prose("1 on each part"),))
register("chunk", function="rearranging:chunk", params="input, chunks: int, dim: int = 0",
         group=SHAPE, records=("SplitBackward0",), derivative=(prose("1 on each part"),))
