"""What an op's VJPs read, found in their bytecode: what its nodes must save.

A VJP is ``(F, g, *inputs, out, **params)``.  An input it only asks for metadata --
``x.shape``, ``x.dtype``, ``x.ndim``, ``len(xs)``, ``F.layout(x)``, ``F.shapes(xs)`` --
need not be saved (the node passes a :class:`~gradcli.autograd.node.Meta` for it);
any other use of it reads its value, and so does any use of ``out``.  From that, per
input, the inputs its VJP reads (``mul``: ``b`` for ``a``, ``a`` for ``b``), as PyTorch's
generated code saves only what the formulas of the inputs that require grad use.

The analysis runs the first time a node of the op is recorded (it costs ~0.1 ms per
op, too much for all of them at import); ``tests/test_op_table.py`` runs it for every
entry.
"""

from __future__ import annotations

import dis

METADATA_ATTRS = frozenset(("shape", "dtype", "ndim"))
METADATA_CALLS = frozenset(("layout", "shapes", "len"))
_LOADS = frozenset(("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR",
                    "LOAD_FAST_LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE"))
_CALLS = frozenset(("PRECALL", "CALL", "CALL_FUNCTION", "CALL_METHOD"))


def value_reads(fn, names: tuple) -> set:
    """The names among ``names`` (parameters of ``fn``) whose values ``fn`` reads."""
    code = fn.__code__
    wanted = set(names)
    captured = wanted & set(code.co_cellvars)     # used by a nested function: a read
    reads = set(captured)
    instructions = [i for i in dis.get_instructions(fn) if i.opname != "CACHE"]
    for k, ins in enumerate(instructions):
        if ins.opname not in _LOADS:
            continue
        loaded = ins.argval if isinstance(ins.argval, tuple) else (ins.argval,)
        for j, name in enumerate(loaded):
            if name not in wanted or name in reads:
                continue
            last = j == len(loaded) - 1
            if not (last and _metadata_use(instructions, k)):
                reads.add(name)
    return reads


def _metadata_use(instructions, k: int) -> bool:
    """Whether the load at ``k`` is followed by ``.shape``-like access, or is the one
    argument of ``len(...)``/``F.layout(...)``/``F.shapes(...)``."""
    nxt = instructions[k + 1] if k + 1 < len(instructions) else None
    if nxt is not None and nxt.opname in ("LOAD_ATTR", "LOAD_METHOD") and \
            nxt.argval in METADATA_ATTRS:
        return True
    prev = instructions[k - 1] if k else None
    if prev is None or nxt is None or nxt.opname not in _CALLS:
        return False
    return prev.opname in ("LOAD_ATTR", "LOAD_METHOD", "LOAD_GLOBAL") and \
        prev.argval in METADATA_CALLS


def vjp_inputs(fn, arity: int) -> tuple:
    """The names a VJP gives its inputs and its output: ``(F, g, a, b, out)`` ->
    ``(("a", "b"), "out")``."""
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    return tuple(names[2:2 + arity]), names[2 + arity] if len(names) > 2 + arity else None


def analyse(op) -> tuple:
    """(needs, reads_out): per input, which inputs its VJP reads (a tuple of bools per
    input position), and whether any VJP reads the output."""
    arity = len(op.vjps)
    funcs = [op.joint] * arity if op.joint is not None else list(op.vjps)
    needs, reads_out = [], False
    for fn in funcs:
        if fn is None:
            needs.append((False,) * arity)
            continue
        inputs, out = vjp_inputs(fn, arity)
        reads = value_reads(fn, inputs + ((out,) if out else ()))
        reads_out = reads_out or out in reads
        needs.append(tuple(name in reads for name in inputs))
    return tuple(needs), reads_out
