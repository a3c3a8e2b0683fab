"""A program's symbolic gradients kept as formulas, for checking many records.

Built once per program shape from one run's SymPy replay (so from gradcli's own graph,
never from text): each expected gradient becomes a formula tree (:mod:`.formula`).
Valid for every point with the same variable names and shapes, unless the replay saw
values that depend on the point (no_grad parts, requires_grad_ on computed values,
reading .grad) or an upstream other than ones.

Checking a record is as exact as the full check: the trees are evaluated in float64
with an error bound (:mod:`.bounds`, whole batches at once), which settles almost
every record; where it cannot (cancellation, overflow, a point next to a jump), the
same trees are evaluated exactly (:mod:`.exact`).  Only a clean pass is answered here;
anything else is the full check's to report, so a record gets the same status
whichever way it is answered.  The trees are kept on disk (:mod:`.cache`).
"""

from __future__ import annotations

import time

import numpy as np

from ..autograd.events import BackwardEvent, forward_ops, of_kind
from . import FORMULA_LIMIT, _tolerances, time_limit
from . import bounds, cache, formula


class NotCacheable(Exception):
    pass


def cache_key(result) -> str:
    program = result.program.source if hasattr(result.program, "source") else \
        str(result.program)
    return cache.key([program, [[n, list(np.shape(d)), bool(rg)]
                                for n, (d, rg) in result.bound.items()],
                      result.options.get("of"), result.options.get("dtype")])


class CompiledCheck:
    """Expected gradients of one program shape, as formulas of the bindings."""

    def __init__(self, source, timeout: float = 5.0):
        """From a Result (a SymPy replay, not cached) or from cached formula data."""
        data = source if isinstance(source, dict) else _build(source, timeout)
        self.bound = data["bound"]                    # argument order: binding order
        self.shapes = {n: tuple(s) for n, s in data["shapes"].items()}
        self.names = data["names"]
        self.sizes = data["sizes"]
        self.formulas = data["formulas"]
        self.trees = data["trees"]
        self.guards = data.get("guards", [])
        self.offsets = dict(zip(self.names, np.cumsum([0] + self.sizes[:-1]).tolist()))

    @classmethod
    def for_result(cls, result, timeout: float = 5.0) -> "CompiledCheck":
        """From the disk cache when there, else from a SymPy replay (then cached)."""
        name = cache_key(result)
        loaded = cache.load(name)
        if loaded is not None and _fits(loaded, result):
            return cls(loaded)
        data = _build(result, timeout)
        cache.save(name, data)
        return cls(data)

    def _arguments(self, values: dict, single: bool) -> list:
        args = []
        for name in self.bound:
            v = np.asarray(values[name], dtype=np.float64)
            if single:
                args.extend(np.array([e]) for e in v.reshape(-1))
            else:
                args.append(v)
        return args

    def clean(self, result, values: dict, batch: int | None = None) -> np.ndarray:
        """Per record: may the formulas alone answer it?  Not where float64's forward
        made a value that is not finite, nor where an op with a restricted domain has an
        argument whose exact value (from the guard's tree, with its error bound) reaches
        an edge of the domain or is far from float64's (a cancellation the formulas
        cannot see: acos((x + y) - x)).  Those go to the full check."""
        from .domain import edge_risk
        size = 1 if batch is None else batch
        ok = np.ones(size, dtype=bool)
        ops = list(forward_ops(result.events))
        for event in ops:
            data = event.result.data
            ok &= np.broadcast_to(np.isfinite(np.asarray(data, dtype=np.float64))
                                  .reshape(-1) if np.size(data) == size
                                  else np.isfinite(data).all(), (size,))
        if not self.guards:
            return ok
        args = self._arguments(values, batch is None)
        for number, k, tree in self.guards:
            computed = np.broadcast_to(np.asarray(ops[number].args[k].data, dtype=np.float64)
                                       .reshape(-1), (size,))
            with np.errstate(all="ignore"):
                v, e = (np.broadcast_to(np.asarray(x, dtype=np.float64), (size,))
                        for x in bounds.evaluate(tree, args))
            ok &= ~edge_risk(computed, v, e)
        return ok

    def expected(self, values: dict, batch: int | None = None) -> dict:
        """name -> (expected gradient, error bound); with ``batch``, scalar variables
        hold B values.

        One point is evaluated as a batch of one, so that both go through the same
        numpy array loops (numpy's scalar and array paths may differ in the last ulp).
        """
        single = batch is None
        args = self._arguments(values, single)
        size = 1 if single else batch
        result, i = {}, 0
        for name, n in zip(self.names, self.sizes):
            parts = [tuple(np.broadcast_to(np.asarray(x, dtype=np.float64), (size,))
                           for x in bounds.evaluate(tree, args))
                     for tree in self.trees[i:i + n]]
            i += n
            if single:
                shape = self.shapes[name]
                result[name] = tuple(np.array([p[k][0] for p in parts]).reshape(shape)
                                     for k in (0, 1))
            else:
                result[name] = parts[0]
        return result

    def report(self, grads: dict, values: dict, rtol: float, atol: float, limit: float):
        """The check report of one record when it passes for certain (within the error
        bound, or else exactly), otherwise None (the full check reports it)."""
        from . import _summary
        expected = self.expected(values)
        details = {}
        for name in self.names:
            actual = grads.get(name)
            if actual is None:
                return None
            v, e = expected[name]
            passes, _ = bounds.decide(actual, v, e, rtol, atol, limit)
            if not passes.all():
                v = self._exact(name, actual, values, v, passes, rtol, atol, limit)
                if v is None:
                    return None
            details[name] = _passed_entry(actual, v)
        return _summary({"method": "symbolic", "variables": details,
                         "symbolic": self.formulas, "rtol": rtol, "atol": atol})

    def _exact(self, name, actual, values, v, passes, rtol, atol, limit):
        """The expected values with those the bound left open evaluated exactly, when
        they all pass; else None."""
        from .exact import judge
        args = [float(x) for n in self.bound
                for x in np.asarray(values[n], dtype=np.float64).reshape(-1)]
        flat = np.asarray(actual, dtype=np.float64).reshape(-1)
        out = np.array(v, dtype=np.float64).reshape(-1)
        for k in np.flatnonzero(~np.asarray(passes).reshape(-1)).tolist():
            verdict = judge(self.trees[self.offsets[name] + k], args, float(flat[k]), rtol,
                            atol, limit)
            if verdict.status != "passed":
                return None
            out[k] = verdict.expected()
        return out.reshape(np.shape(v))


def _passed_entry(actual, expected) -> dict:
    with np.errstate(all="ignore"):
        a = np.asarray(actual, dtype=np.float64)
        err = np.abs(a - expected)
        ulps = err / np.spacing(np.abs(expected))
    return {"status": "passed", "expected": expected, "actual": actual,
            "abs_err": float(np.max(err)), "ulp_err": float(np.max(ulps))}


def _fits(data, result) -> bool:
    """Does cached formula data describe this program's bindings, and is every tree
    made of known operations on arguments that exist?"""
    try:
        bound = list(result.variables)
        shapes = {n: list(t.shape) for n, t in result.variables.items()}
        names = [n for n in result.grads]
        n_args = sum(int(np.prod(s, dtype=int)) for s in shapes.values())
        sizes = [int(np.prod(shapes.get(n, [-1]), dtype=int)) for n in names]
        return (data["bound"] == bound and data["shapes"] == shapes and
                data["names"] == names and data["sizes"] == sizes and
                isinstance(data["formulas"], dict) and
                all(isinstance(k, str) and isinstance(v, str)
                    for k, v in data["formulas"].items()) and
                isinstance(data["trees"], list) and len(data["trees"]) == sum(sizes) and
                all(formula.valid(t, n_args) for t in data["trees"]) and
                isinstance(data.get("guards"), list) and
                all(isinstance(g, list) and len(g) == 3 and type(g[0]) is int and
                    type(g[1]) is int and formula.valid(g[2], n_args)
                    for g in data["guards"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


def _build(result, timeout: float) -> dict:
    from .symbolic import Replay
    deadline = time.monotonic() + timeout
    with time_limit(deadline):
        replay = Replay(result, deadline).run()
    if not replay.cacheable or replay.values or replay.special or _upstream(result):
        raise NotCacheable
    names = [n for n in result.grads if n in replay.expected]
    if len(names) != len(result.grads):
        raise NotCacheable
    index: dict = {}
    for name in result.variables:
        for s in np.asarray(replay.symbols[name]).reshape(-1):
            index[s] = len(index)
    trees, formulas = [], {}
    try:
        for name in names:
            exprs = replay.expected[name]
            trees.extend(formula.to_tree(e, index) for e in exprs.reshape(-1))
            if exprs.ndim == 0:
                text = str(exprs[()])
                formulas[name] = text if len(text) <= FORMULA_LIMIT else \
                    text[:FORMULA_LIMIT] + "…"
    except formula.NotRepresentable:
        raise NotCacheable from None
    return {"bound": list(result.variables),
            "shapes": {n: list(t.shape) for n, t in result.variables.items()},
            "names": names,
            "sizes": [int(np.prod(result.variables[n].shape, dtype=int)) for n in names],
            "formulas": formulas, "trees": trees, "guards": _guards(result, replay, index)}


def _guards(result, replay, index) -> list:
    """[op number, argument number, tree] for each argument of an op with a restricted
    domain (log, acos, ...): the exact value float64's must stay near, away from the
    domain's edges, for the formulas alone to answer (see :meth:`CompiledCheck.clean`)."""
    from ..autograd.tensor import Tensor
    guards = []
    try:
        for number, event in enumerate(forward_ops(result.events)):
            out, op, args = event.result, event.op, event.args
            if not op.domain_edges or not op.elementwise or not out.requires_grad:
                continue
            for k, a in enumerate(args):
                if isinstance(a, Tensor):
                    value = np.asarray(replay.value_of(a), dtype=object)
                    if value.size != 1:
                        raise NotCacheable          # (plain scalar programs only)
                    guards.append([number, k, formula.to_tree(
                        replay.expand(value.reshape(-1)[0]), index)])
    except formula.NotRepresentable:
        raise NotCacheable from None
    return guards


def _upstream(result) -> bool:
    """Does some backward use an upstream gradient other than ones (the formulas would
    hold its values)?"""
    return any(e.gradient is not None and not np.all(np.asarray(e.gradient.data) == 1)
               for e in of_kind(result.events, BackwardEvent))


def tolerances(result, rtol, atol) -> tuple:
    return _tolerances(result, rtol, atol)
