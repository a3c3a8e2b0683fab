"""What evaluating a program produces: value, gradients, the graph and the leaves.

The graph is read off the run's tape: one row per tensor the engine made (with its
value at the time, so in-place updates show as new versions ``b@v1``), plus the
leaves, in creation order -- a topological order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..autograd.tensor import Tensor


@dataclass
class GraphRow:
    name: str
    grad_fn: Optional[str]
    inputs: list
    shape: tuple
    value: np.ndarray
    requires_grad: bool
    is_leaf: bool
    grad: Optional[np.ndarray]
    op: Optional[str] = None          # the op-table entry that made it
    no_grad: bool = False             # made from grad-requiring inputs with grad mode off
    tensor: Optional[Tensor] = field(default=None, repr=False)


@dataclass
class LeafRow:
    name: str
    requires_grad: bool
    is_leaf: bool
    grad_fn: Optional[str]
    grad: Optional[np.ndarray]
    note: str


@dataclass
class Result:
    value: Optional[np.ndarray]       # the output's value (0-d for a scalar; None if none)
    shape: Optional[tuple]
    grad_fn: Optional[str]
    grads: dict                       # name -> ndarray, or None where backward never reached
    graph: list
    leaves: list
    upstream: Optional[np.ndarray]    # the gradient of the implicit backward (None: 1)
    output: object = field(repr=False, default=None)
    variables: dict = field(repr=False, default_factory=dict)
    events: list = field(repr=False, default_factory=list)
    program: object = field(repr=False, default=None)
    const: set = field(repr=False, default_factory=set)
    options: dict = field(repr=False, default_factory=dict)   # of, wrt, upstream, dtype
    check: object = None


def _grad_of(t: Tensor):
    return None if t.grad is None else t.grad.data


class _GraphBuilder:
    def __init__(self, run):
        self.run = run
        self.rows: list = []
        self.row_of: dict = {}            # id(tensor) -> index of its current row
        self.counter = 0
        self.version_of: dict = {}        # id(in-place result) -> (tensor, version)
        self.before_of: dict = {}         # id(snapshot before an in-place op) -> tensor
        self.grad_names: dict = {}        # id(x.grad read in the program) -> "x.grad"
        self.detached: set = set()
        for event in run.events:
            if event[0] == "inplace":
                tensor, before, result = event[1:]
                self.before_of[id(before)] = tensor
                self.version_of[id(result)] = tensor
            elif event[0] == "read_grad" and event[2] is not None:
                owner = run.names.get(id(event[1]), "?")
                self.grad_names.setdefault(id(event[2]), f"{owner}.grad")

    def label(self, value) -> str:
        if isinstance(value, Tensor):
            source = self.before_of.get(id(value), value)
            index = self.row_of.get(id(source))
            if index is None:
                index = self.add_leaf(source)
            return self.rows[index].name
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.label(v) for v in value) + "]"
        if isinstance(value, np.ndarray):
            return "mask" if value.dtype == bool else "const"
        return repr(value) if not isinstance(value, float) else f"{value:g}"

    def fresh_name(self, t: Tensor) -> str:
        name = self.run.names.get(id(t)) or self.grad_names.get(id(t))
        if name is None:
            self.counter += 1
            name = f"%{self.counter}"
        return name

    def add_row(self, t: Tensor, name: str, inputs: list, op) -> int:
        self.rows.append(GraphRow(
            name=name, grad_fn=t.grad_fn.name if t.grad_fn is not None else None,
            inputs=inputs, shape=t.shape, value=t.data, requires_grad=t.requires_grad,
            is_leaf=t.grad_fn is None, grad=None, op=op, tensor=t))
        self.row_of[id(t)] = len(self.rows) - 1
        return len(self.rows) - 1

    def add_leaf(self, t: Tensor) -> int:
        return self.add_row(t, self.fresh_name(t), [], None)

    def build(self) -> list:
        run = self.run
        for t in run.leaves.values():
            self.add_leaf(t)
        for event in run.events:
            kind = event[0]
            if kind == "op":
                result, op, args, _params, _in_backward = event[1:]
                inputs = [self.label(a) for a in args]
                owner = self.version_of.get(id(result))
                if owner is not None:
                    name = f"{self.rows[self.row_of[id(owner)]].name.split('@')[0]}" \
                           f"@v{owner._version}"
                    index = self.add_row(result, name, inputs, op.name)
                    self.row_of[id(owner)] = index
                    self.rows[index].tensor = owner
                else:
                    index = self.add_row(result, self.fresh_name(result), inputs, op.name)
                    self.rows[index].no_grad = result.grad_fn is None and any(
                        isinstance(a, Tensor) and a.requires_grad for a in args)
            elif kind == "detach":
                self.detached.add(id(event[2]))
        for index, row in enumerate(self.rows):
            t = row.tensor
            current = self.row_of.get(id(t)) == index
            if current and (row.is_leaf or t.retains_grad):
                row.grad = _grad_of(t)
        return self.rows


def _note(row: GraphRow, run, detached: set) -> str:
    t = row.tensor
    if not row.is_leaf:
        if row.grad is not None:
            return "not a leaf: grad kept because retain_grad() was called"
        return "grad is None: not a leaf (call retain_grad() to keep its grad)"
    if row.requires_grad:
        if row.grad is None:
            return "grad is None: backward never reached it (the output does not use it)"
        return "leaf: backward accumulates into .grad"
    reason = "a constant"
    if row.name in run.leaves and t is run.leaves[row.name]:
        reason = "bound with --const" if row.name in run.const_names else "not in --wrt"
    elif id(t) in detached:
        reason = "detached"
    elif row.no_grad:
        reason = "computed under no_grad"
    return f"grad is None: requires_grad=False ({reason})"


def build_result(run, output, upstream) -> Result:
    builder = _GraphBuilder(run)
    rows = builder.build()
    named = set(run.names.values())
    leaves = [LeafRow(r.name, r.requires_grad, r.is_leaf, r.grad_fn, r.grad,
                      _note(r, run, builder.detached))
              for r in rows if r.is_leaf or (r.name in named and '@' not in r.name)]
    grads = {name: _grad_of(t) for name, t in run.leaves.items() if t.requires_grad}
    for name, t in run.made_leaves.items():
        grads.setdefault(name, _grad_of(t))
    if isinstance(output, Tensor):
        value = output.data
    else:
        value = None if output is None else np.asarray(output, dtype=float)
    return Result(
        value=value, shape=None if value is None else tuple(value.shape),
        grad_fn=output.grad_fn.name if isinstance(output, Tensor) and output.grad_fn else None,
        grads=grads, graph=rows, leaves=leaves,
        upstream=None if upstream is None else upstream.data,
        output=output, variables=dict(run.leaves), events=run.events, program=run.program,
        const=set(run.const_names))
