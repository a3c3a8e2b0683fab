"""What evaluating a program produces: value, gradients, the graph and the leaves.

The graph is read off the run's tape: one row per tensor the engine made (with its
value at the time, so in-place updates show as new versions ``b@v1``), plus the
leaves, in creation order -- a topological order.
"""

from __future__ import annotations


import numpy as np

from ..autograd.events import (BackwardEvent, CopySlicesEvent, DetachEvent, GradEvent,
                               InplaceEvent, OpEvent, ReadGradEvent, SnapshotEvent, has,
                               of_kind)
from ..autograd.tensor import Tensor


class _Record:
    """Plain slotted records (dataclasses cost ~1 ms each at import; start-up matters)."""

    __slots__ = ()

    def __init__(self, *values, **fields):
        if len(values) > len(self.__slots__):
            raise TypeError(f"{type(self).__name__} takes {len(self.__slots__)} fields")
        fields.update(zip(self.__slots__, values))
        for name in self.__slots__:
            setattr(self, name, fields.pop(name, self._defaults.get(name)))
        if fields:
            raise TypeError(f"unknown fields {sorted(fields)}")

    def __repr__(self) -> str:
        shown = (f for f in self.__slots__ if f not in self._hidden)
        return f"{type(self).__name__}(" + ", ".join(
            f"{f}={getattr(self, f)!r}" for f in shown) + ")"

    _defaults: dict = {}
    _hidden: tuple = ()


class GraphRow(_Record):
    """One tensor of the graph: name, grad_fn, inputs (names), shape, value (when made),
    requires_grad, is_leaf, grad; op (the op-table entry that made it), no_grad (made
    from grad-requiring inputs with grad mode off), tensor (the Tensor itself); for the
    graph views: node (the autograd node made with it), sources (per op argument: the
    row index of a tensor, or the literal's text), args and params (as the op got them).
    """

    __slots__ = ("name", "grad_fn", "inputs", "shape", "value", "requires_grad", "is_leaf",
                 "grad", "op", "no_grad", "tensor", "node", "sources", "args", "params")
    _defaults = {"no_grad": False}
    _hidden = ("tensor", "node", "sources", "args", "params")


class LeafRow(_Record):
    """The leaf status of one tensor, with a one-line note on its grad."""

    __slots__ = ("name", "requires_grad", "is_leaf", "grad_fn", "grad", "note")


class Result(_Record):
    """What evaluating a program produces (SPEC 6).

    value: the output's value (0-d for a scalar; None without one); shape; grad_fn;
    grads: name -> gradient (None where backward never reached); graph (GraphRow list);
    leaves (LeafRow list); upstream: the implicit backward's gradient (None: 1); and,
    for the check: output, variables, events, program, const, options, bound (name ->
    (value, requires_grad) as bound, before any in-place update), row_of (id of a tensor ->
    the graph row of its current version), random_state (the generator's, before the run:
    the numeric check redraws dropout's masks from it); summarised (how many large
    tensors the result keeps a summary of, not the values: :mod:`.keep`); check.
    """

    __slots__ = ("value", "shape", "grad_fn", "grads", "graph", "leaves", "upstream",
                 "output", "variables", "events", "program", "const", "options", "bound",
                 "row_of", "check", "outputs", "printed", "unused", "warnings", "none_reason",
                 "random_state", "summarised")
    _hidden = ("output", "variables", "events", "program", "const", "options", "bound",
               "row_of", "outputs", "printed", "unused", "warnings", "none_reason",
               "random_state", "summarised")

    def __init__(self, *values, **fields):
        super().__init__(*values, **fields)
        for name, empty in (("variables", dict), ("events", list), ("const", set),
                            ("options", dict), ("bound", dict), ("row_of", dict)):
            if getattr(self, name) is None:
                setattr(self, name, empty())


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
        # A tensor updated in place has new data (and maybe a new grad_fn) by now: its
        # first row shows it as it was before its first in-place update.
        self.first_before: dict = {}      # id(tensor updated in place) -> that snapshot
        self.versions: dict = {}          # id(tensor) -> in-place updates listed so far
        for event in of_kind(run.events, InplaceEvent, SnapshotEvent, ReadGradEvent):
            if event.kind == "inplace":
                self.before_of[id(event.before)] = event.tensor
                self.version_of[id(event.result)] = event.tensor
                self.first_before.setdefault(id(event.tensor), event.before)
            elif event.kind == "snapshot":        # changed later through a view or alias
                self.first_before.setdefault(id(event.tensor), event.state)
            elif event.grad is not None:
                owner = run.names.get(id(event.tensor), "?")
                self.grad_names.setdefault(id(event.grad), f"{owner}.grad")
                self.first_before.setdefault(id(event.grad), event.snapshot)  # when read

    def source(self, value):
        """The row index of a tensor argument (its version at that point), else its text."""
        if isinstance(value, Tensor):
            source = self.before_of.get(id(value), value)
            index = self.row_of.get(id(source))
            return self.add_leaf(source) if index is None else index
        return self.label(value)

    def label(self, value) -> str:
        if isinstance(value, Tensor):
            return self.rows[self.source(value)].name
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

    def add_row(self, t: Tensor, name: str, inputs: list, op, state=None) -> int:
        """A row for ``t``, showing ``state`` (default: ``t`` as it is now)."""
        s = t if state is None else state
        self.rows.append(GraphRow(
            name=name, grad_fn=s.grad_fn.name if s.grad_fn is not None else None,
            inputs=inputs, shape=s.shape, value=s.data, requires_grad=s.requires_grad,
            is_leaf=s.grad_fn is None, grad=None, op=op, tensor=t, node=s.grad_fn,
            sources=[], args=(), params={}))
        self.row_of[id(t)] = len(self.rows) - 1
        return len(self.rows) - 1

    def add_leaf(self, t: Tensor) -> int:
        return self.add_row(t, self.fresh_name(t), [], None, self.first_before.get(id(t)))

    def build(self) -> list:
        run = self.run
        for t in run.leaves.values():
            self.add_leaf(t)
        for event in of_kind(run.events, OpEvent, CopySlicesEvent, DetachEvent):
            if event.kind == "op":
                result, op, args, params = event.result, event.op, event.args, event.params
                sources = [self.source(a) for a in args]
                inputs = [self.rows[s].name if isinstance(s, int) else s for s in sources]
                owner = self.version_of.get(id(result))
                if owner is not None:
                    version = self.versions[id(owner)] = self.versions.get(id(owner), 0) + 1
                    name = f"{self.rows[self.row_of[id(owner)]].name.split('@')[0]}" \
                           f"@v{version}"
                    index = self.add_row(result, name, inputs, op.name)
                    self.row_of[id(owner)] = index
                    self.rows[index].tensor = owner
                    self.rows[index].node = result.grad_fn
                else:
                    index = self.add_row(result, self.fresh_name(result), inputs, op.name,
                                         self.first_before.get(id(result)))
                    self.rows[index].no_grad = result.grad_fn is None and any(
                        isinstance(a, Tensor) and a.requires_grad for a in args)
                row = self.rows[index]
                row.sources, row.args, row.params = sources, tuple(args), dict(params)
            elif event.kind == "copy_slices":
                self.copy_slices(event.base, event.view, event.state)
            else:
                self.detached.add(id(event.result))
        for index, row in enumerate(self.rows):
            t = row.tensor
            current = self.row_of.get(id(t)) == index
            if current and (row.is_leaf or t.retains_grad):
                row.grad = _grad_of(t)
        return self.rows


    def copy_slices(self, base, view, state) -> None:
        """An in-place op on ``view`` changed its base: a new version row of the base
        (grad_fn CopySlices) made from its previous version and the view's new one."""
        sources = [self.source(base), self.source(view)]
        inputs = [self.rows[i].name for i in sources]
        version = self.versions[id(base)] = self.versions.get(id(base), 0) + 1
        name = f"{inputs[0].split('@')[0]}@v{version}"
        index = self.add_row(base, name, inputs, "copy_slices", state)
        row = self.rows[index]
        row.sources, row.args, row.params = sources, (base, view), {}


def _note(row: GraphRow, run, detached: set, reach: dict) -> str:
    t = row.tensor
    if not row.is_leaf:
        if row.grad is not None:
            return "not a leaf: grad kept because retain_grad() was called"
        return "grad is None: not a leaf (call retain_grad() to keep its grad)"
    if row.requires_grad:
        if row.grad is None:
            return "grad is None: " + _unreached(row, run, reach)
        return "leaf: grads accumulate in .grad"
    reason = "a constant"
    base = row.name.split("@")[0]                   # w@v1: w after an in-place update
    if base in run.leaves and t is run.leaves[base]:
        reason = "bound with --const" if base in run.const_names else "not in --wrt"
    elif id(t) in detached:
        reason = "detached"
    elif row.no_grad:
        reason = "computed under no_grad"
    return f"grad is None: requires_grad=False ({reason})"


def _unreached(row: GraphRow, run, reach: dict) -> str:
    """Why a leaf that requires grad has no .grad: what a learner should hear; ``reach``
    caches the leaves each backward root reaches (one walk of its graph per root)."""
    t, name = row.tensor, row.name
    if name in run.leaves and t is run.leaves[name] and name not in run.used:
        return f"the program never uses {name}"
    backwards = list(of_kind(run.events, BackwardEvent))
    if not backwards:
        if has(run.events, GradEvent):
            return "only grad() ran, which returns its result and leaves .grad untouched"
        return "no backward() ran"
    roots, names = [], run.names
    for e in backwards:
        if id(e.root) not in reach:
            reach[id(e.root)] = reached_leaves(e.root)
        if id(t) in reach[id(e.root)]:
            return "no backward() reached it"   # (it joined that graph after the backward)
        root = names.get(id(e.root)) or ("the output" if e.implicit else "an unnamed tensor")
        if root not in roots:
            roots.append(root)
    graphs = "graph does" if len(roots) == 1 else "graphs do"
    return (f"backward() started from {' and '.join(roots)}, whose {graphs} not contain "
            f"{name}")


def reached_leaves(root: Tensor) -> set:
    """ids of the leaves a backward from ``root`` reaches (the AccumulateGrad sinks of its
    graph), iteratively."""
    if root.grad_fn is None:
        return {id(root)}
    found, seen, stack = set(), set(), [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.add(id(variable))
        else:
            stack.extend(node.next_edges)
    return found


def build_result(run, output, upstream) -> Result:
    builder = _GraphBuilder(run)
    rows = builder.build()
    named = set(run.names.values())
    reach: dict = {}
    leaves = [LeafRow(r.name, r.requires_grad, r.is_leaf, r.grad_fn, r.grad,
                      _note(r, run, builder.detached, reach))
              for r in rows if r.is_leaf or (r.name in named and '@' not in r.name)]
    grads = {name: _grad_of(t) for name, t in run.leaves.items()
             if t.requires_grad and t.is_leaf}        # (an in-place update can end that)
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
        const=set(run.const_names), row_of=builder.row_of)
