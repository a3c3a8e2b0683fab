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

def _reaches(op, args, params, a) -> bool:
    """Whether input ``a`` reaches the op's value: a branch of ``where`` that the
    condition never selects does not (logdet's NaN where no sign is -1)."""
    if op.name != "where":
        return True
    condition = np.asarray(params["condition"])
    return bool(np.any(condition)) if a is args[0] else not bool(np.all(condition))


def _per_element(op, params, out) -> bool:
    """Can this op's kinks be told element by element (elementwise, no array among its
    parameters to line up)?"""
    return op.elementwise and np.ndim(out) > 0 and not any(
        isinstance(v, np.ndarray) and v.ndim for v in params.values())


def _symbolic(e) -> bool:
    """An input that is an expression (not a plain number parameter)."""
    return hasattr(e, "free_symbols") or isinstance(e, (int, float))


class NonFinitePoint(ValueError):
    """A value that depends on an infinite or NaN coordinate: no exact value."""


LINEAR = frozenset(("add", "sub", "neg", "rsub", "sum", "mean"))
# (the ops whose real domain ends at 0, 1 or -1 say so in the op table: domain_edges)
EDGES = (0.0, 1.0, -1.0)
EXACT_BITS = 256


def edge_risk(computed, value, error) -> np.ndarray:
    """Per element: might the exact value (``value`` +- ``error``) be on another side
    of a domain edge (0, 1, -1) than float64's ``computed`` one: the bound reaches an
    edge, or float64's value is off the bound, or the bound is not finite?"""
    computed, value, error = (np.asarray(x, dtype=np.float64) for x in
                              (computed, value, error))
    with np.errstate(all="ignore"):
        risk = ~(np.isfinite(value) & np.isfinite(error))
        for edge in EDGES:
            risk |= np.abs(value - edge) <= error
        risk |= np.abs(computed - value) > error + 1e-9 * np.abs(value)
    return risk


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

    def data_of(self, a):
        """A tensor argument's data as the op saw it (a tensor updated in place later
        is taken as it was before that)."""
        if not isinstance(a, Tensor):
            return a
        if id(a) in self.replay.before_of:
            return a.data                              # a snapshot: its data then
        return self.replay.first_before.get(id(a), a).data

    def is_unreal(self, tensor) -> bool:
        """Outside the reals: computed from such a value, or holding a NaN or infinite
        constant (log(-1), exp(1000) in float64)."""
        replay = self.replay
        if id(replay._owner(tensor)) in self.unreal:
            return True
        if not replay.special:
            return False
        return any(not replay.special.keys().isdisjoint(getattr(e, "free_symbols", ()))
                   for e in np.asarray(replay.value_of(tensor)).reshape(-1))

    # -- one op ----------------------------------------------------------------------
    def visit(self, out, op, args, params, then, value=None) -> None:
        tensors = [a for a in args if isinstance(a, Tensor)]
        self.deps[id(out)] = frozenset().union(
            *(self.deps.get(id(self.replay._owner(a)), ()) for a in tensors))
        tainted = [a for a in tensors if self.is_unreal(a) and _reaches(op, args, params, a)]
        if tainted:
            # computed from a value outside the reals: so is this one; a product or a
            # max carries it into the derivatives by the other inputs too
            self.unreal.add(id(out))
            if op.name not in LINEAR:
                what = "a value that is not real" if any(
                    id(self.replay._owner(a)) in self.unreal for a in tainted) else \
                    "a NaN or infinite constant"
                self.mark(args, f"{op.name} of {what}", lost=True)
        inputs = [self.data_of(a) for a in args]
        kink = op.undefined(*inputs, then.data, **params) if op.undefined else None
        if kink:
            if _per_element(op, params, then.data):
                self.mark_elements(op, args, params, inputs, then.data, value)
            elif self.exactly_kinked(op, args, params, value):
                self.mark(args, kink)
            return
        if tainted:
            return
        reason = self.leaves_reals(op, args, inputs, then.data, params)
        kind = "outside" if reason else None
        if not reason:
            reason, kind = self.edge(op, args, then.data, params)
        if kind == "outside":
            self.unreal.add(id(out))
            self.mark(args, reason, lost=True)
        elif kind == "kink":
            self.mark(args, reason)

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

    def mark_elements(self, op, args, params, inputs, out, value) -> None:
        """An elementwise op's kinks, element by element: only the variables of the
        elements at a kink are skipped (relu(x) at x = [-1, 0, 2] checks x[0] and
        x[2]), and each only if the kink is there exactly."""
        replay = self.replay
        shape = np.shape(out)
        if value is None:
            value = replay._build(op, args, params)
        flat = [np.broadcast_to(x, shape) if isinstance(x, np.ndarray) else x
                for x in inputs]
        exprs = [np.broadcast_to(np.asarray(replay.value_of(a), dtype=object), shape)
                 if isinstance(a, Tensor) else a for a in args]
        value = np.broadcast_to(np.asarray(value, dtype=object), shape)
        for idx in np.ndindex(shape):
            one = [x[idx][()] if isinstance(x, np.ndarray) else x for x in flat]
            reason = op.undefined(*map(np.asarray, one), np.asarray(out[idx]), **params)
            if not reason:
                continue
            at = [e[idx] if isinstance(e, np.ndarray) else e for e in exprs]
            if not self.exactly_kinked_at(op, at, params, value[idx]):
                continue
            for e in at:
                for s in getattr(replay.expand(e), "free_symbols", ()):
                    replay.kinks.setdefault(s, reason)

    def exactly_kinked_at(self, op, exprs, params, value) -> bool:
        """exactly_kinked for one element: ``exprs`` the inputs' expressions there."""
        replay = self.replay
        try:
            if op.name in ("maximum", "minimum") and len(exprs) == 2 and \
                    replay.expand(exprs[0]) == replay.expand(exprs[1]):
                return False        # max(u, u) is u: a tie of a value with itself
            exact = [self.exact(np.asarray(e, dtype=object)) if _symbolic(e) else e
                     for e in exprs]
            return bool(op.undefined(*exact, self.exact(np.asarray(value, dtype=object)),
                                     **params))
        except Exception:  # noqa: BLE001 - cannot tell: keep the kink
            return True

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

    def edge(self, op, args, out, params) -> tuple:
        """(why, "outside" or "kink") for an op with a restricted domain (log, acos,
        sqrt, ...) near an edge of it, looked at exactly; (None, None) when it is inside.
        Outside: float64's rounded argument was inside, the exact one is not
        (acos((x + y) - x) at x = 1e136: float64 takes acos(0), the exact argument is y).
        A kink: exactly on the edge, where the slope is infinite (sqrt at 0; SymPy's
        sqrt(x)**2 = x would hide it).  Only arguments whose error bound reaches 0, 1 or
        -1, or whose float64 value is off it, are evaluated exactly."""
        if not op.domain_edges or not op.elementwise:
            return None, None
        finite = np.isfinite(out)
        if not finite.any() or not self.near_edge(args):
            return None, None
        if self.exactly_outside(op, args, params, finite):
            return f"{op.name} is not real at this point (float64 rounded its argument " \
                "into the domain)", "outside"
        if self.infinite_slope(op, args, params, finite):
            return f"the slope of {op.name} is undefined or infinite at this point", "kink"
        return None, None

    def infinite_slope(self, op, args, params, where) -> bool:
        """Is the op's own derivative, at its inputs' exact values, undefined or
        infinite for some element of ``where``?"""
        import sympy as sp

        from .exact import Undefined
        from .formula import to_tree
        try:
            exact = [self.exact(self.replay.value_of(a)) if isinstance(a, Tensor)
                     else np.asarray(a, dtype=object) for a in args]
            # numbers (x**2's 2) go in as numbers: SymPy's d/dx x**n is n*x**n/x
            inputs = [sp.Symbol(f"input{k}", real=True) if isinstance(a, Tensor)
                      else self.replay.constant(a) for k, a in enumerate(args)]
            expr = op.sympy(sp, *inputs, **params)
            index = {s: k for k, s in enumerate(inputs) if isinstance(s, sp.Symbol)}
            trees = [to_tree(sp.diff(expr, inputs[k]), index, opaque=True)
                     for k, a in enumerate(args) if isinstance(a, Tensor)]
        except Exception:  # noqa: BLE001 - cannot tell: no kink
            return False
        shape = np.shape(where)
        exact = [np.broadcast_to(np.asarray(e, dtype=object), shape) for e in exact]
        for idx in zip(*np.nonzero(where)) if shape else [()]:
            for tree in trees:
                try:
                    settled(tree, [e[idx] for e in exact])
                except Undefined:
                    return True
        return False

    def near_edge(self, args) -> bool:
        """Might an argument's exact value be on the other side of an edge than
        float64's: does its float64 value, with its error bound, reach 0, 1 or -1, or is
        float64's computed argument outside that bound (a cancellation SymPy simplified
        away: (x + y) - x is y)?"""
        from . import bounds
        from .formula import NotRepresentable, to_tree
        replay = self.replay
        for a in args:
            if not isinstance(a, Tensor):
                continue
            computed = np.asarray(self.data_of(a), dtype=np.float64).reshape(-1)
            for k, expr in enumerate(np.asarray(replay.value_of(a)).reshape(-1)):
                expr = replay.expand(expr)
                free = sorted(getattr(expr, "free_symbols", ()), key=str)
                if not free:
                    continue
                try:
                    tree = to_tree(expr, {s: i for i, s in enumerate(free)})
                    with np.errstate(all="ignore"):
                        v, e = bounds.evaluate(tree, [replay.point[s] for s in free])
                except (NotRepresentable, KeyError, TypeError, ValueError, ArithmeticError):
                    return True
                if edge_risk(computed[k % computed.size], v, e):
                    return True
        return False

    def exactly_outside(self, op, args, params, made) -> bool:
        """Is the op's exact value, at its inputs' exact values, outside the finite
        reals for some element float64 made non-finite?  (Evaluated by :mod:`.exact`,
        never by SymPy's evalf, which can spend minutes on sin of 1e300.)"""
        import sympy as sp

        from .exact import Undefined
        from .formula import to_tree
        try:
            exact = [self.exact(self.replay.value_of(a)) if isinstance(a, Tensor)
                     else np.asarray(a, dtype=object) for a in args]
        except NonFinitePoint:               # an infinite coordinate: no exact value, the
            return False                     # derivative says so itself
        except Exception:  # noqa: BLE001 - an input without a value: outside
            return True
        shape = np.shape(made)
        exact = [np.broadcast_to(np.asarray(e, dtype=object), shape) for e in exact]
        inputs = [sp.Symbol(f"input{k}", real=True) for k in range(len(exact))]
        try:
            tree = to_tree(op.sympy(sp, *inputs, **params),
                           {s: k for k, s in enumerate(inputs)}, opaque=True)
        except Exception:  # noqa: BLE001 - no formula to evaluate: outside
            return True
        for idx in zip(*np.nonzero(made)) if shape else [()]:
            try:
                settled(tree, [e[idx] for e in exact])
            except Undefined:
                return True
        return False

    def exact(self, values) -> np.ndarray:
        """The exact values (mpf) of an array of expressions; raises when one has
        none."""
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
            out[idx] = settled(tree, [replay.point[s] for s in free])
        return out


def settled(tree, args):
    """A tree's value at the first precision its large arguments allow (mpf)."""
    from .exact import Imprecise, Undefined, evaluate
    for bits in (EXACT_BITS, 1024, 4096):
        try:
            return evaluate(tree, args, bits)
        except Imprecise:
            continue
    raise Undefined("not precise enough")
