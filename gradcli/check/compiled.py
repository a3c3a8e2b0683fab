"""A program's symbolic gradients compiled once to numpy, for checking many records.

Built from one run's SymPy replay (so, from gradcli's own graph, never from text) and
``sympy.lambdify`` with dummy argument names: the generated code holds only SymPy's
printing of op-table expressions.  Valid for every point with the same variable
names and shapes, unless the replay saw values that depend on the point (no_grad
parts, requires_grad_ on computed values, reading .grad): then it is not cacheable.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import FORMULA_LIMIT, _compare, _summary, _tolerances


class NotCacheable(Exception):
    pass


_ERF = np.frompyfunc(math.erf, 1, 1)


def _erf(x):
    return np.asarray(_ERF(x), dtype=float)


class CompiledCheck:
    """Expected gradients of one program shape, as a numpy function of the bindings."""

    def __init__(self, result, timeout: float = 5.0):
        import sympy as sp

        from .symbolic import Replay
        replay = Replay(result, time.monotonic() + timeout).run()
        if not replay.cacheable or replay.values:
            raise NotCacheable
        self.names = [n for n in result.grads if n in replay.expected]
        if len(self.names) != len(result.grads):
            raise NotCacheable
        self.bound = list(result.variables)          # argument order: binding order
        args = []
        for name in result.variables:
            args.extend(np.asarray(replay.symbols[name]).reshape(-1))
        self.shapes = {n: t.shape for n, t in result.variables.items()}
        outputs = []
        self.formulas = {}
        for name in self.names:
            exprs = replay.expected[name]
            outputs.extend(exprs.reshape(-1))
            if exprs.ndim == 0:
                text = str(exprs[()])
                self.formulas[name] = text if len(text) <= FORMULA_LIMIT else \
                    text[:FORMULA_LIMIT] + "…"
        self.sizes = [int(np.prod(result.variables[n].shape, dtype=int)) for n in self.names]
        self.fn = sp.lambdify(args, outputs, modules=[{"erf": _erf}, "numpy"], dummify=True)

    def expected(self, values: dict, batch: int | None = None) -> dict:
        """name -> expected gradient; with ``batch``, scalar variables hold B values.

        One point is evaluated as a batch of one, so that both go through the same
        numpy array loops (numpy's scalar and array paths may differ in the last ulp).
        """
        single = batch is None
        flat = []
        for name in self.bound:
            v = np.asarray(values[name], dtype=np.float64)
            if single:
                flat.extend(np.array([e]) for e in v.reshape(-1))
            else:
                flat.append(v)
        with np.errstate(all="ignore"):
            out = self.fn(*flat)
        size = 1 if single else batch
        result, i = {}, 0
        for name, n in zip(self.names, self.sizes):
            parts = [np.broadcast_to(np.asarray(p, dtype=np.float64), (size,))
                     for p in out[i:i + n]]
            i += n
            if single:
                result[name] = np.array([p[0] for p in parts]).reshape(self.shapes[name])
            else:
                result[name] = parts[0]
        return result

    def report(self, grads: dict, expected: dict, rtol: float, atol: float) -> dict:
        """The check report of one record, from its grads and expected values."""
        details = {name: _compare(grads.get(name), expected[name], rtol, atol)
                   for name in self.names}
        return _summary({"method": "symbolic", "variables": details,
                         "symbolic": self.formulas, "rtol": rtol, "atol": atol})


def tolerances(result, rtol, atol) -> tuple:
    return _tolerances(result, rtol, atol)
