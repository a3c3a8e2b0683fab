"""`gradcli run --check` (SPEC 7): every backward() of a script against SymPy.

Each backward call is checked on its own, while the script runs:

* the program is the ops its graph holds: those the tape recorded whose result is on
  the graph the call runs over (reachable from its roots), in the order they ran, with
  the in-place updates of those tensors;
* the variables are the leaves it reaches, at their values then (an optimizer's step
  has already moved them: the point is where this call's forward ran);
* what is checked is what the call added to each leaf's ``.grad`` (not ``.grad``
  itself, which may hold the sums of earlier calls), against
  d(sum(root * gradient))/d(leaf) from SymPy (section 5).

A script cannot be re-run at a nudged point, so there is no finite-difference
fallback: a call whose graph holds more tensor elements than the symbolic route takes,
or that comes after the time budget ran out, is reported as not checked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..autograd.engine import reachable
from ..autograd.events import subject
from ..autograd.node import AccumulateGrad
from ..autograd.tensor import Tensor
from . import run_check

_STATE_EVENTS = ("inplace", "snapshot")     # replayed for tensors of the call's graph


@dataclass
class CallCheck:
    """The check of one backward call: where it is and the check object (SPEC 5)."""
    line: int
    code: str
    report: dict


class ScriptChecker:
    """A watcher of a script run (see lang.script.ScriptRun): checks each backward and
    grad() call."""

    def __init__(self, *, rtol: float = 1e-7, atol: float = 1e-9, timeout: float = 30.0,
                 budget: float = 60.0):
        self.rtol, self.atol, self.timeout = rtol, atol, timeout
        self.deadline = time.monotonic() + budget
        self.budget = budget
        self.calls: list[CallCheck] = []
        self.unchecked: dict = {}          # reason -> how many calls were not checked
        self._slow: set = set()            # lines whose check ran out of time
        self._nodes: set = set()
        self._added: dict = {}             # id(leaf) -> what this call added to .grad

    # -- watching ---------------------------------------------------------------------
    def before_call(self, run, kind: str, roots) -> None:
        self._added = {}
        self._nodes = reachable(roots)

    def on_node(self, node, grad, input_grads) -> None:
        if type(node) is AccumulateGrad:
            self._added[id(node.variable)] = grad

    def after_call(self, run, kind: str, first: int, line: int) -> None:
        reason = self._not_checked(run, first, line)
        earlier = [] if reason else _grad_calls_used(run.events, first, self._nodes)
        if not reason and not earlier and self._made_by_backward(run, first):
            reason = "its graph uses a .grad made by backward(create_graph=True), which " \
                "the check does not replay"
        if reason:
            self.unchecked[reason] = self.unchecked.get(reason, 0) + 1
            return
        code = run.code_at(line) or f"{kind}()"
        result = self._program(run, first, earlier)
        start = time.monotonic()
        left = min(self.timeout, self.deadline - start)
        report = run_check(result, rtol=self.rtol, atol=self.atol, timeout=max(left, 0.0),
                           numeric=False)
        if time.monotonic() - start >= left:
            self._slow.add(line)
        self.calls.append(CallCheck(line, code, report))

    def not_recorded(self, run, kind: str, line: int) -> None:
        """A call after the record of the script's graph stopped at its limit."""
        from ..autograd.budget import size_text
        reason = f"the record of the script's graph passed {size_text(run.tape.limit)} " \
            "and stopped"
        self.unchecked[reason] = self.unchecked.get(reason, 0) + 1

    def _not_checked(self, run, first: int, line: int):
        if first >= len(run.events):
            return "grad() of several outputs is not replayed"
        if time.monotonic() >= self.deadline:
            return f"the check's time budget of {self.budget:g} s ran out"
        if line in self._slow:
            return "an earlier call at the same line ran out of check time"
        if run.hook_replaced:
            return "a register_hook() replaced a gradient, so .grad is not the derivative"
        return None

    # -- the program of one call --------------------------------------------------------
    def _program(self, run, first: int, earlier_grads: list):
        """The Result the check replays: this call's events after the events of its
        graph (and of the grad() calls ``earlier_grads`` whose results it uses)."""
        from ..lang.result import Result
        events = run.events
        nodes = self._nodes
        had = _grad_fns_over_time(events, first)
        on_graph = [k for k, e in enumerate(events[:first])
                    if e.kind == "op" and not e.in_backward and
                    any(fn in nodes for fn in had.get(id(e.result), (e.result.grad_fn,)))]
        leaves = [n.variable for n in nodes if type(n) is AccumulateGrad]
        variables = {_leaf_name(run, t, k): t for k, t in enumerate(leaves)}
        ids = {id(t) for t in leaves}
        chosen = set(on_graph) | set(earlier_grads)
        start = min(chosen, default=first)
        replayed = [e for k, e in enumerate(events[start:first], start)
                    if k in chosen or (e.kind in _STATE_EVENTS and id(e.tensor) not in ids
                                       and any(fn in nodes for fn in
                                               had.get(id(e.tensor), ())))]
        replayed.extend(events[first:])
        grads = {name: _as_array(self._added.get(id(t))) for name, t in variables.items()
                 if events[first].kind == "backward"}
        dtype = "float32" if any(t.data.dtype == np.float32 for t in leaves) else "float64"
        return Result(grads=grads, graph=_named_rows(run, replayed, variables),
                      variables=variables, events=replayed, options={"dtype": dtype},
                      bound={name: (t.data.copy(), True) for name, t in variables.items()})

    def _made_by_backward(self, run, first: int) -> bool:
        """Whether the call's graph holds ops a backward pass built (with no grad() call
        to explain them: a .grad made with create_graph=True and used)."""
        nodes = self._nodes
        return any(e.kind == "op" and e.in_backward and e.result.grad_fn in nodes
                   for e in run.events[:first])

    # -- the summary --------------------------------------------------------------------
    def status(self) -> str:
        statuses = [c.report["status"] for c in self.calls]
        if "failed" in statuses:
            return "failed"
        if not statuses or all(s == "skipped" for s in statuses):
            return "skipped"
        if self.unchecked or any(s != "passed" for s in statuses):
            return "partial"
        return "passed"

    def summary_lines(self) -> list:
        """What --check prints on stderr: one line per call checked that did not pass,
        then the totals."""
        lines = []
        for call in self.calls:
            report = call.report
            if report["status"] == "passed":
                continue
            why = report.get("reason") or ", ".join(report.get("failed", ()))
            lines.append(f"check: line {call.line}: {call.code}: {report['status']}"
                         + (f" ({why})" if why else ""))
            for name in report.get("failed", ()):
                entry = report["variables"].get(name) or report.get("values", {})[name]
                lines.append(f"  {name}: expected {_short(entry.get('expected'))}, "
                             f"got {_short(entry.get('actual'))}")
        passed = sum(c.report["status"] == "passed" for c in self.calls)
        total = len(self.calls) + sum(self.unchecked.values())
        head = f"check: {self.status()}: {passed} of {total} backward/grad calls passed"
        errors = [c.report["max_abs_err"] for c in self.calls
                  if c.report.get("max_abs_err") is not None]
        if errors:
            head += f", max abs err {max(errors):.3g}"
        for reason, count in self.unchecked.items():
            head += f"; {count} not checked ({reason})"
        if not total:
            head = "check: skipped: the script ran no backward() or grad()"
        return lines + [head]


def _grad_fns_over_time(events, end: int) -> dict:
    """id(tensor) -> every grad_fn it had up to event ``end``: the ones before its
    in-place updates, and its current one."""
    had: dict = {}
    for e in events[:end]:
        if e.kind == "inplace":
            had.setdefault(id(e.tensor), [e.tensor.grad_fn]).append(e.before.grad_fn)
            had.setdefault(id(e.result), [e.result.grad_fn])
        elif e.kind == "snapshot":
            had.setdefault(id(e.tensor), [e.tensor.grad_fn]).append(e.state.grad_fn)
    return had


def _grad_calls_used(events, first: int, nodes: set) -> list:
    """Indices of the earlier grad() events whose results the graph of ``nodes`` uses;
    ``nodes`` grows by the graphs those calls differentiated."""
    used: list = []
    grown = True
    while grown:
        grown = False
        for k, e in enumerate(events[:first]):
            if e.kind == "grad" and k not in used and e.result is not None and \
                    e.result.grad_fn in nodes:
                used.append(k)
                roots = [e.output] + ([e.grad_outputs] if isinstance(e.grad_outputs, Tensor)
                                      else [])
                nodes |= reachable(roots)
                grown = True
    return sorted(used)


class _Row:
    """A name for a tensor of the replay (what the check's reports call it)."""
    __slots__ = ("tensor", "name")

    def __init__(self, tensor, name):
        self.tensor, self.name = tensor, name


def _named_rows(run, events, variables) -> list:
    rows = [_Row(t, name) for name, t in variables.items()]
    for e in events:
        for t in (e.output, e.input) if e.kind == "grad" else (subject(e),):
            if isinstance(t, Tensor) and id(t) in run.names:
                rows.append(_Row(t, run.names[id(t)]))
    return rows


def _leaf_name(run, tensor: Tensor, k: int) -> str:
    """The script's name of a leaf: its variable, or module.parameter, else leaf k."""
    name = run.names.get(id(tensor))
    if name:
        return name
    from ..autograd.nn_module import Module
    for var, value in run.globals.items():
        if isinstance(value, Module):
            for pname, p in value.named_parameters():
                if p is tensor:
                    return f"{var}.{pname}"
    return f"leaf{k}"


def _as_array(g):
    if g is None:
        return None
    return np.asarray(g.data if isinstance(g, Tensor) else g)


def _short(value) -> str:
    if value is None:
        return "None"
    a = np.asarray(value, dtype=np.float64)
    text = np.array2string(a, precision=8, threshold=6, separator=", ")
    return text if len(text) <= 120 else text[:119] + "…"

