"""einsum as PyTorch computes it (ATen's einsum and sumproduct_pair, without opt_einsum,
which PyTorch uses only when installed and for three or more operands): each operand's
repeated labels become diagonals, missing labels unsqueezed dims, and every operand is
permuted to one order (output labels, then the contracted ones); operands are then
contracted left to right, a pair at a time, by permute, reshape, bmm, view and permute
back.  What it records is therefore PyTorch's: PermuteBackward0, ViewBackward0,
BmmBackward0, UnsqueezeBackward0, DiagonalBackward0, SumBackward1, MulBackward0.
"""

from __future__ import annotations

from ...errors import InputError, ShapeError
import math

from .core import prose, register, shape_of

ELLIPSIS = "..."


def _ns():
    from ..functional import NAMESPACE
    return NAMESPACE


def _fail(message: str):
    raise InputError(f"einsum(): {message}")


def _labels(lhs: str, count: int) -> list:
    """Each operand's labels (letters, and ELLIPSIS), as ATen parses them."""
    out, i, ellipsis = [[]], 0, False
    while i < len(lhs):
        c = lhs[i]
        if c == " ":
            pass
        elif c == ".":
            if ellipsis:
                _fail(f"found '.' for operand {len(out) - 1} for which an ellipsis was "
                      "already found")
            if lhs[i:i + 3] != ELLIPSIS:
                _fail(f"found '.' for operand {len(out) - 1} that is not part of any "
                      "ellipsis")
            out[-1].append(ELLIPSIS)
            ellipsis, i = True, i + 2
        elif c == ",":
            out.append([])
            if len(out) > count:
                _fail("fewer operands were provided than specified in the equation")
            ellipsis = False
        elif c.isascii() and c.isalpha():
            out[-1].append(c)
        else:
            _fail(f"invalid subscript given at index {i} in the equation string, "
                  "subscripts must be in [a-zA-Z]")
        i += 1
    if len(out) != count:
        _fail("more operands were provided than specified in the equation")
    return out


def _order(label: str) -> int:
    """ATen's label order: A-Z, then a-z."""
    return ord(label) - ord("A") if label.isupper() else ord(label) - ord("a") + 26


def _output(equation, arrow, lhs, counts, ell_dims):
    """(position of each label in the aligned order, where the ellipsis dims start,
    number of output dims, whether the ellipsis is in the output)."""
    position, index = {}, 0
    if arrow < 0:
        index = ell_dims
        for label in sorted((k for k, n in counts.items() if n == 1), key=_order):
            position[label] = index
            index += 1
        return position, 0, index, True
    ell_index, ell_out, rhs = 0, False, equation[arrow + 2:]
    i = 0
    while i < len(rhs):
        c = rhs[i]
        if c == ".":
            if ell_out:
                _fail("found '.' for output but an ellipsis (...) was already found")
            if rhs[i:i + 3] != ELLIPSIS:
                _fail("found '.' for output that is not part of any ellipsis (...)")
            ell_index, ell_out, index, i = index, True, index + ell_dims, i + 2
        elif c != " ":
            if not (c.isascii() and c.isalpha()):
                _fail(f"invalid subscript given at index {len(lhs) + 2 + i} in the "
                      "equation string, subscripts must be in [a-zA-Z]")
            if c in position or c not in counts:
                _fail(f"output subscript {c}" + (" appears more than once in the output"
                                                  if c in position else
                                                  " does not appear in the equation for "
                                                  "any input operand"))
            position[c] = index
            index += 1
        i += 1
    return position, ell_index, index, ell_out


def einsum(equation, *operands):
    """torch.einsum(equation, *operands) (or a list of operands)."""
    from ..signatures import as_tensor
    if not isinstance(equation, str):
        raise InputError("einsum(): the equation must be a string", python_type="TypeError")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        _fail("must provide at least one operand")
    operands = [as_tensor(t) for t in operands]
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    labels = _labels(lhs, len(operands))
    counts, ell_dims = {}, 0
    for k, (t, ls) in enumerate(zip(operands, labels)):
        named = len([x for x in ls if x != ELLIPSIS])
        for x in ls:
            if x != ELLIPSIS:
                counts[x] = counts.get(x, 0) + 1
        has_ellipsis = ELLIPSIS in ls
        if has_ellipsis:
            ell_dims = max(ell_dims, t.ndim - named)
        if (named > t.ndim) if has_ellipsis else (named != t.ndim):
            raise ShapeError(
                f"einsum(): the number of subscripts in the equation ({named}) "
                + ("is more than the number of dimensions (" if has_ellipsis else
                   "does not match the number of dimensions (")
                + f"{t.ndim}) for operand {k}" + ("" if has_ellipsis else
                                                  " and no ellipsis was given"))
    position, ell_index, out_dims, ell_out = _output(equation, arrow, lhs, counts, ell_dims)
    total = out_dims
    if not ell_out:
        ell_index, total = total, total + ell_dims
    for label in sorted(counts, key=_order):
        if label not in position:
            position[label] = total
            total += 1
    ops, dim_counts = _aligned(operands, labels, position, ell_index, ell_dims, total)
    return _contract(ops, dim_counts, out_dims, total)


def _aligned(operands, labels, position, ell_index, ell_dims, total):
    """Every operand as a tensor of ``total`` dims in the common order (diagonals for
    repeated labels, unsqueezed dims for missing ones), and per dim how many operands
    have it larger than 1."""
    F = _ns()
    sizes, ell_sizes, dim_counts, ops = {}, [1] * ell_dims, [0] * total, []
    for k, (op, ls) in enumerate(zip(operands, labels)):
        perm, dim = [-1] * total, 0
        for s in ls:
            if s == ELLIPSIS:
                covered = op.ndim - (len(ls) - 1)
                for j in range(ell_dims - covered, ell_dims):
                    n = op.shape[dim]
                    if n != 1:
                        if ell_sizes[j] not in (1, n):
                            raise ShapeError(
                                f"einsum(): dimension {dim} covered by ellipsis in operand "
                                f"{k}has size {n} which does not broadcast with previously "
                                f"seen ellipsis with size {ell_sizes[j]} for the respective "
                                "dimension")
                        ell_sizes[j] = n
                        dim_counts[ell_index + j] += 1
                    perm[ell_index + j] = dim
                    dim += 1
            elif perm[position[s]] == -1:
                n = op.shape[dim]
                if n != 1:
                    if sizes.get(s, 1) not in (1, n):
                        raise ShapeError(
                            f"einsum(): subscript {s} has size {n} for operand {k} which "
                            f"does not broadcast with previously seen size {sizes[s]}")
                    sizes[s] = n
                    dim_counts[position[s]] += 1
                perm[position[s]] = dim
                dim += 1
            else:
                prev = perm[position[s]]
                if op.shape[dim] != op.shape[prev]:
                    raise ShapeError(
                        f"einsum(): subscript {s} is repeated for operand {k} but the sizes "
                        f"don't match, {op.shape[dim]} != {op.shape[prev]}")
                op = _movedim(F, F["diagonal"](op, 0, prev, dim), prev)
        for i, val in enumerate(perm):
            if val == -1:
                op = F["unsqueeze"](op, dim)
                perm[i] = dim
                dim += 1
        ops.append(F["permute"](op, perm))
    return ops, dim_counts


def _movedim(F, op, destination: int):
    """op.movedim(-1, destination): a permute (recorded even where it moves nothing)."""
    order = list(range(op.ndim - 1))
    order.insert(destination, op.ndim - 1)
    return F["permute"](op, order)


def _contract(ops, dim_counts, out_dims, total):
    """Left to right: the first two operands contracted into one, put first."""
    F = _ns()
    count = len(ops)
    while len(ops) > 1:
        a, b = ops.pop(0), ops.pop(0)
        sum_dims, a_sum, b_sum = [], [], []
        for dim in range(out_dims, total):
            if a.shape[dim] != 1 and b.shape[dim] != 1:
                dim_counts[dim] -= 1
                if dim_counts[dim] == 1:
                    sum_dims.append(dim)
                    dim_counts[dim] = 0
            elif dim_counts[dim] == 1:
                if a.shape[dim] != 1:
                    a_sum.append(dim)
                    dim_counts[dim] = 0
                elif b.shape[dim] != 1:
                    b_sum.append(dim)
                    dim_counts[dim] = 0
        if a_sum:
            a = F["sum"](a, a_sum, True)
        if b_sum:
            b = F["sum"](b, b_sum, True)
        ops.insert(0, sumproduct_pair(F, a, b, sum_dims))
    out = ops[0]
    if total > out_dims:
        if count > 1:
            return F["view"](out, list(out.shape[:out_dims]))
        return F["sum"](out, list(range(out_dims, total)))
    return out


def sumproduct_pair(F, left, right, sum_dims):
    """(left * right).sum(sum_dims, keepdim=True) by permute, reshape, bmm, view and
    permute, as ATen's sumproduct_pair."""
    if not sum_dims:
        return F["mul"](left, right)
    lro, lo, ro = [], [], []
    sizes = {"lro": 1, "lo": 1, "ro": 1, "sum": 1}
    for i in range(left.ndim):
        sl, sr = left.shape[i] != 1, right.shape[i] != 1
        if i in sum_dims:
            if sl and sr:
                if left.shape[i] != right.shape[i]:
                    raise ShapeError("non-broadcast dimensions must match")
                sizes["sum"] *= left.shape[i]
            elif sl:
                left = F["sum"](left, i, True)
            elif sr:
                right = F["sum"](right, i, True)
        elif sl and sr:
            if left.shape[i] != right.shape[i]:
                raise ShapeError("non-broadcast dimensions must match")
            lro.append(i)
            sizes["lro"] *= left.shape[i]
        elif sl:
            lo.append(i)
            sizes["lo"] *= left.shape[i]
        else:
            ro.append(i)
            sizes["ro"] *= right.shape[i]
    out_size = [left.shape[d] for d in lro] + [left.shape[d] for d in lo] + \
        [1] * len(sum_dims) + [right.shape[d] for d in ro]
    lperm = lro + lo + sum_dims + ro
    rperm = lro + sum_dims + ro + lo
    operm = [0] * len(out_size)
    for i, d in enumerate(lro + lo + sum_dims + ro):
        operm[d] = i
    left = F["reshape"](F["permute"](left, lperm), sizes["lro"], sizes["lo"], sizes["sum"])
    right = F["reshape"](F["permute"](right, rperm), sizes["lro"], sizes["sum"],
                         sizes["ro"])
    return F["permute"](F["view"](F["bmm"](left, right), out_size), operm)


def _einsum_elements(equation, operands=()) -> int:
    """A bound on the elements of einsum's largest intermediate: the product of every
    label's size (and of the ellipsis dims), 0 where the call is wrong (it says why)."""
    if not isinstance(equation, str):
        return 0
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    arrow = equation.find("->")
    try:
        labels = _labels(equation if arrow < 0 else equation[:arrow], len(operands))
    except InputError:
        return 0
    sizes, ellipsis = {}, 1
    for x, ls in zip(operands, labels):
        shape = shape_of(x)
        named = [s for s in ls if s != ELLIPSIS]
        if len(named) > len(shape):
            return 0
        covered = len(shape) - len(named)
        at = ls.index(ELLIPSIS) if ELLIPSIS in ls else len(ls)
        dims = list(shape[:at]) + list(shape[at + covered:])
        ellipsis = max(ellipsis, math.prod(shape[at:at + covered]))
        for s, n in zip(named, dims):
            sizes[s] = max(sizes.get(s, 1), n)
    return math.prod(sizes.values()) * ellipsis


register("einsum", function=einsum, params="equation: str, *operands: tensors",
         group="linear algebra", api="torch",
         records=("PermuteBackward0", "ViewBackward0", "BmmBackward0", "UnsqueezeBackward0",
                  "DiagonalBackward0", "SumBackward1", "MulBackward0",
                  "UnsafeViewBackward0", "CloneBackward0"),
         derivative=(prose("the other operands contracted with g"),),
         grows=_einsum_elements)
