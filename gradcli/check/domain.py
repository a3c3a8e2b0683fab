"""Where a program's derivative does not exist at the point, seen at the exact values.

float64 sees kinks and leaves the reals where exact arithmetic may not: a tie of y and
tan(y) at y = 5e-14 is rounding (tan wins exactly), and so is inf - inf after exp(1000)
overflowed.  It also misses what SymPy's simplifications hide: y/y is 1 to SymPy, but
at y = 0 the program divides by zero, and 0*inf, log(0) or x**-2 at 0 leave the reals.
So each op of the replay is looked at with its inputs' exact values:

* a kink float64 reports (op.undefined: a tie, a 0 of abs/relu/sign, a clamp bound)
  counts only if it is there exactly (then the variables it touches are skipped);
* an elementwise op whose output is NaN or infinite from finite inputs leaves the
  reals if its exact value there is not a finite real number (0/0, log(0), asin(2));
  then it is "unreal", and so is everything computed from it;
* an op that is not linear in an unreal input (a product, a max) carries it into the
  derivatives by its other inputs too: their variables are skipped as well.

The variables marked are the free symbols of the inputs and, where SymPy simplified
some away (y/y), those the inputs were built from.
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor

class NonFinitePoint(ValueError):
    """A value that depends on an infinite or NaN coordinate: no exact value."""


LINEAR = frozenset(("add", "sub", "neg", "rsub", "sum", "mean"))
EXACT_BITS = 256


class Domain:
    """The kink and domain marks of one replay (see the module docstring)."""

    def __init__(self, replay):
        self.replay = replay
        self.unreal: set = set()          # id(tensor) whose value left the reals
        self.deps: dict = {}              # id(tensor) -> symbols it is built from

    def bound(self, tensor, syms) -> None:
        self.deps[id(tensor)] = frozenset(np.asarray(syms).reshape(-1))

    def updated(self, tensor, new) -> None:
        """An in-place update: the tensor is now what ``new`` is."""
        if id(new) in self.unreal:
            self.unreal.add(id(tensor))
        self.deps[id(tensor)] = self.deps.get(id(new), frozenset())

    def is_unreal(self, tensor) -> bool:
        return id(self.replay._owner(tensor)) in self.unreal

    # -- one op ----------------------------------------------------------------------
    def visit(self, out, op, args, params, then, value=None) -> None:
        tensors = [a for a in args if isinstance(a, Tensor)]
        self.deps[id(out)] = frozenset().union(
            *(self.deps.get(id(self.replay._owner(a)), ()) for a in tensors))
        if any(self.is_unreal(a) for a in tensors):
            # computed from a value outside the reals: so is this one; a product or a
            # max carries it into the derivatives by the other inputs too
            self.unreal.add(id(out))
            if op.name not in LINEAR:
                self.mark(args, f"{op.name} of a value that is not real", lost=True)
        inputs = [a.data if isinstance(a, Tensor) else a for a in args]
        kink = op.undefined(*inputs, then.data, **params) if op.undefined else None
        if kink:
            if self.exactly_kinked(op, args, params, value):
                self.mark(args, kink)
            return
        if any(self.is_unreal(a) for a in tensors):
            return
        reason = self.leaves_reals(op, args, inputs, then.data, params)
        if reason:
            self.unreal.add(id(out))
            self.mark(args, reason, lost=True)

    def mark(self, args, reason: str, lost: bool = False) -> None:
        replay = self.replay
        for a in args:
            if not isinstance(a, Tensor):
                continue
            found = set()
            for e in np.asarray(replay.value_of(a)).reshape(-1):
                found.update(getattr(replay.expand(e), "free_symbols", ()))
            if lost:
                found.update(self.deps.get(id(replay._owner(a)), ()))
            for s in found:
                replay.kinks.setdefault(s, reason)

    # -- exact looks -----------------------------------------------------------------
    def exactly_kinked(self, op, args, params, value) -> bool:
        """Is the kink (a tie, a 0) that float64 saw there at the exact values too?
        When unsure, it is a kink."""
        replay = self.replay
        try:
            values = [replay.value_of(a) for a in args if isinstance(a, Tensor)]
            if op.name in ("maximum", "minimum") and len(values) == 2 and all(
                    replay.expand(p) == replay.expand(q) for p, q in
                    zip(*(np.broadcast_arrays(*values)[k].reshape(-1) for k in (0, 1)))):
                return False        # max(u, u) is u: a tie of a value with itself
            exact = [self.exact(replay.value_of(a)) if isinstance(a, Tensor) else a
                     for a in args]
            if value is None:
                value = replay._build(op, args, params)
            return bool(op.undefined(*exact, self.exact(value), **params))
        except Exception:  # noqa: BLE001 - cannot tell: keep the kink
            return True

    def leaves_reals(self, op, args, inputs, out, params):
        """Why an elementwise op leaves the reals here (its output NaN or infinite, not
        from a NaN input, and not a finite real number exactly either: an input that
        overflowed to inf is taken at its exact value), or None."""
        if not op.elementwise or np.asarray(out).dtype.kind != "f":
            return None
        made = ~np.isfinite(out)
        if not made.any():
            return None
        for x in inputs:
            if isinstance(x, np.ndarray) and x.dtype.kind == "f":
                made = made & ~np.isnan(x)
            elif isinstance(x, float) and np.isnan(x):
                return None
        if not np.any(made):
            return None                      # NaN came in: not made here
        if not self.exactly_outside(op, args, params, made):
            return None                      # float64's own: an overflow, inf - inf
        if np.isnan(np.asarray(out)[made]).all():
            return f"{op.name} is not real at this point (PyTorch gives NaN)"
        return f"{op.name} is undefined or infinite at this point (PyTorch gives inf)"

    def exactly_outside(self, op, args, params, made) -> bool:
        """Is the op's exact value, at its inputs' exact values, outside the finite
        reals for some element float64 made non-finite?"""
        import sympy as sp
        try:
            exact = [self.exact(self.replay.value_of(a)) if isinstance(a, Tensor)
                     else np.asarray(a, dtype=object) for a in args]
        except NonFinitePoint:               # an infinite coordinate: no exact value, the
            return False                     # derivative says so itself
        except Exception:  # noqa: BLE001 - an input without a value: outside
            return True
        shape = np.shape(made)
        exact = [np.broadcast_to(np.asarray(e, dtype=object), shape) for e in exact]
        for idx in zip(*np.nonzero(made)) if shape else [()]:
            try:
                numbers = [sp.Float(e[idx], 60) for e in exact]
                result = op.sympy(sp, *numbers, **params).evalf(60)
                if not (result.is_real and result.is_finite):
                    return True
            except Exception:  # noqa: BLE001 - SymPy has no number there: outside
                return True
        return False

    def exact(self, values) -> np.ndarray:
        """The exact values (mpf) of an array of expressions; raises when one has
        none."""
        from .exact import evaluate
        from .formula import to_tree
        replay = self.replay
        values = np.asarray(values, dtype=object)
        out = np.empty(values.shape, dtype=object)
        for idx in np.ndindex(values.shape):
            expr = replay.expand(values[idx])
            free = sorted(getattr(expr, "free_symbols", ()), key=str)
            if any(s in replay.special or not np.isfinite(replay.point.get(s, np.nan))
                   for s in free):
                raise NonFinitePoint("not a finite point")
            tree = to_tree(expr, {s: i for i, s in enumerate(free)}, opaque=True)
            out[idx] = evaluate(tree, [replay.point[s] for s in free], EXACT_BITS)
        return out
