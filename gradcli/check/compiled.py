"""A program's symbolic gradients kept as formulas, for checking many records.

Built once per program shape from one run's SymPy replay (so from gradcli's own graph,
never from text): each expected gradient becomes a formula tree (:mod:`.formula`)
evaluated with numpy over whole batches, with no generated code.  Valid for every
point with the same variable names and shapes, unless the replay saw values that
depend on the point (no_grad parts, requires_grad_ on computed values, reading .grad).

The trees are also kept on disk (``~/.cache/gradcli``, or ``$GRADCLI_CACHE_DIR``;
``GRADCLI_NO_CACHE=1`` turns it off), keyed by the program, its bindings' names,
shapes and flags, and the gradcli and SymPy versions: a later batch over the same
programs checks against the same SymPy derivatives without importing SymPy.  A cache
file is plain JSON and is used only if every tree names known operations.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

import numpy as np

from . import FORMULA_LIMIT, _compare, _summary, _tolerances, time_limit
from . import formula


class NotCacheable(Exception):
    pass


def _cache_dir():
    if os.environ.get("GRADCLI_NO_CACHE") == "1":
        return None
    root = os.environ.get("GRADCLI_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "gradcli")
    return os.path.join(root, "derivatives")


def _sympy_release() -> str:
    """SymPy's release file, as text, found without importing SymPy (importlib.metadata
    would cost 13 ms of a 250 ms batch)."""
    from importlib.util import find_spec
    try:
        spec = find_spec("sympy")
        with open(os.path.join(os.path.dirname(spec.origin), "release.py")) as fh:
            return fh.read()
    except (AttributeError, OSError, TypeError, ValueError):  # pragma: no cover
        return "?"


def cache_key(result) -> str:
    from .. import __version__
    sympy_version = _sympy_release()
    program = result.program.source if hasattr(result.program, "source") else \
        str(result.program)
    parts = [__version__, sympy_version, program,
             [[n, list(np.shape(d)), bool(rg)] for n, (d, rg) in result.bound.items()],
             result.options.get("of"), result.options.get("dtype")]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


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

    @classmethod
    def for_result(cls, result, timeout: float = 5.0) -> "CompiledCheck":
        """From the disk cache when there, else from a SymPy replay (then cached)."""
        key = cache_key(result)
        directory = _cache_dir()
        path = None if directory is None else os.path.join(directory, key + ".json")
        if path is not None:
            loaded = _load(path)
            if loaded is not None:
                return cls(loaded)
        data = _build(result, timeout)
        if path is not None:
            _save(path, data)
        return cls(data)

    def expected(self, values: dict, batch: int | None = None) -> dict:
        """name -> expected gradient; with ``batch``, scalar variables hold B values.

        One point is evaluated as a batch of one, so that both go through the same
        numpy array loops (numpy's scalar and array paths may differ in the last ulp).
        """
        single = batch is None
        args = []
        for name in self.bound:
            v = np.asarray(values[name], dtype=np.float64)
            if single:
                args.extend(np.array([e]) for e in v.reshape(-1))
            else:
                args.append(v)
        size = 1 if single else batch
        result, i = {}, 0
        with np.errstate(all="ignore"):
            for name, n in zip(self.names, self.sizes):
                parts = [np.broadcast_to(np.asarray(formula.evaluate(tree, args),
                                                    dtype=np.float64), (size,))
                         for tree in self.trees[i:i + n]]
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


def _build(result, timeout: float) -> dict:
    from .symbolic import Replay
    deadline = time.monotonic() + timeout
    with time_limit(deadline):
        replay = Replay(result, deadline).run()
    if not replay.cacheable or replay.values:
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
            "formulas": formulas, "trees": trees}


def _load(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if all(formula.valid(t) for t in data["trees"]) and \
                sum(data["sizes"]) == len(data["trees"]):
            return data
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        pass
    return None


def _save(path: str, data: dict) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, path)                 # atomic: readers see all or nothing
    except (OSError, RecursionError):
        pass                                  # a cache that cannot be written is no cache


def tolerances(result, rtol, atol) -> tuple:
    return _tolerances(result, rtol, atol)
