"""The op table: one :class:`Op` entry per operation.

An entry holds everything about an op, side by side: its forward (on numpy arrays),
one VJP per input, what the VJPs need saved, its PyTorch ``grad_fn`` name, its SymPy
counterpart and a human-readable local derivative.  Adding an op means adding one
``register(...)`` call in one of the modules of this package.

VJPs are written once for two modes.  They receive ``F``, a namespace of the ops
themselves: in the normal mode ``F.exp`` is ``numpy.exp`` and values are arrays; under
``create_graph`` ``F.exp`` records a graph node and values are tensors, so gradients
are themselves differentiable, to any order.  Arithmetic operators work in both modes.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from ...errors import InputError, ShapeError


class Op:
    """One op-table entry (plain slotted class: cheaper to import than a dataclass)."""

    __slots__ = ("name", "grad_fn", "forward", "vjps", "saves", "sympy", "elementwise",
                 "derivative", "broadcasts", "variadic", "syntax", "internal", "undefined",
                 "needs", "save_all", "save_mask", "save_out", "view", "dtype_rule",
                 "float_only", "same_float", "scalar_args", "geometry", "vjp_order",
                 "joint", "keeps_layout", "forward_f32")

    def __init__(self, name: str, grad_fn: str, forward: Callable, vjps: tuple, *,
                 saves: str = "", sympy: object = None, elementwise: bool = False,
                 derivative: tuple = (), broadcasts: bool = False, variadic: bool = False,
                 syntax: str = "", internal: bool = False,
                 undefined: Optional[Callable] = None, needs: Optional[tuple] = None,
                 view: bool = False, dtype_rule: str = "promote", float_only: str = "",
                 scalar_args: tuple = (), geometry: bool = False,
                 vjp_order: Optional[tuple] = None, joint: Optional[Callable] = None,
                 keeps_layout: Optional[bool] = None):
        self.name = name              # the function name in programs and the Python API
        self.grad_fn = grad_fn        # the node name PyTorch reports ("MulBackward0")
        self.forward = forward        # (*arrays_or_numbers, **params) -> ndarray
        self.vjps = vjps              # per input: (F, g, *inputs, out, **params) -> grad
        self.saves = saves            # inputs the VJPs read ('a', 'b', ..., 'x' = all), 'o'
        self.sympy = sympy            # (sp, *args, **params) -> SymPy value; elementwise:
        self.elementwise = elementwise  # on scalars, applied per element (broadcasting);
        #                               STRUCTURAL: the forward works on object arrays too
        self.derivative = derivative  # local derivative per input, ("b", "a") for a*b
        self.broadcasts = broadcasts  # inputs broadcast: reduce their grads to their shapes
        self.variadic = variadic      # takes one list of tensors (stack, cat)
        self.syntax = syntax          # how it is written, for `gradcli ops`
        self.internal = internal      # used by VJPs only, not callable from programs
        self.undefined = undefined    # (*inputs, out, **params) -> reason where the
        #                               derivative is undefined (kinks, ties), else None
        # Optional, per input: the inputs its VJP reads ("b" for a*b's first input). A node
        # then keeps only what the VJPs of its grad-requiring inputs read, as PyTorch
        # does (y * c with a constant c does not save y, so y += 1 afterwards is fine).
        self.needs = None if needs is None else tuple(
            tuple(c in n for c in "abcdefgh") for n in needs)
        self.view = view              # the result shares the first input's storage
        # how the result dtype follows the inputs' (PyTorch's promotion, see dtypes.py):
        # "promote" (result_type), "float" (integers and bools give the default float
        # dtype), "float_only" (integers are an error: ``float_only`` says it with
        # {dtype}), "compare" (promote, then a bool result), "keep" (the forward's own)
        self.dtype_rule = "keep" if view else dtype_rule
        self.float_only = float_only
        self.scalar_args = scalar_args  # positions of numbers PyTorch takes as Scalars
        # The order the inputs' VJPs run in: PyTorch's (its generated code takes the
        # inputs sorted by name -- "other" before "self"), so nodes recorded under
        # create_graph get PyTorch's sequence numbers.  ``joint``: one function giving
        # every input's gradient at once (a formula that shares a value between them).
        self.vjp_order = vjp_order
        self.joint = joint
        # PyTorch's elementwise kernels give the result its input's memory layout (a
        # transposed input, a transposed result); other ops give a contiguous one.  It
        # decides whether a later reshape is a view.
        self.keeps_layout = (elementwise or view) if keeps_layout is None else keeps_layout
        self.forward_f32 = None       # the forward for float32, where it rounds otherwise
        #                               (installed by .float32)
        self.geometry = geometry      # its nodes record the inputs' strides (VJPs read them)
        # floating inputs of one dtype give that dtype (apply's fast path)
        self.same_float = self.dtype_rule in ("promote", "float", "float_only")
        # what a node keeps, precomputed for the hot path of apply()
        self.save_all = "x" in saves
        self.save_mask = tuple(c in saves for c in "abcdefgh")
        self.save_out = "o" in saves

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.grad_fn})"


REGISTRY: dict[str, Op] = {}
STRUCTURAL = "structural"


def register(**fields) -> Op:
    op = Op(**fields)
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name!r} registered twice")
    REGISTRY[op.name] = op
    return op


# -- helpers shared by forwards and VJPs (numpy side) ------------------------------------

def sum_to(g, shape: tuple):
    """Reduce an array that was broadcast from ``shape`` back to ``shape`` (unbroadcast)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g.reshape(shape)


def as_array(x):
    """numpy returns scalars for 0-d results; keep every value an ndarray."""
    return x if type(x) is np.ndarray else np.asarray(x)


def norm_dim(dim, ndim: int, what: str = "dim") -> int:
    """A dimension index in range, negatives counted from the end (PyTorch's wording)."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, float, np.integer,
                                                                  np.floating)) or \
            not float(dim).is_integer():
        raise InputError(f"{what} must be an integer, got {dim!r}")
    dim = int(dim)
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not lo <= dim <= hi:
        raise ShapeError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                         f"but got {dim})")
    return dim % ndim if ndim else 0


def emap(fn, *arrays):
    """Apply a scalar function element by element (broadcasting) to object arrays."""
    return np.frompyfunc(fn, len(arrays), 1)(*arrays)


def where_any(mask, reason: str):
    """``reason`` if any element of ``mask`` is set, else None (for ``undefined``)."""
    return reason if np.any(mask) else None


def undefined_at(op: Op, inputs: list, out, params: dict):
    """Why ``op``'s derivative is undefined at these inputs, or None: its own kinks and
    ties, or (elementwise ops) a NaN it made from numbers, where it leaves the reals
    (sqrt(-1), log(-1), 0*inf).  There PyTorch's gradient is NaN or what NaN times zero
    gives, while SymPy's may be a finite limit (y/(2*sqrt(x)) at y = 0)."""
    if op.undefined is not None:
        reason = op.undefined(*inputs, out, **params)
        if reason:
            return reason
    if op.elementwise and out.dtype.kind == "f":
        made = np.isnan(out)
        if made.any():
            for x in inputs:
                if isinstance(x, float) or (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
                    made = made & ~np.isnan(x)
            if made.any():
                return f"{op.name} is not real at this point (PyTorch gives NaN)"
    return None


def reduce_objects(fn, x, dim, keepdim: bool = False):
    """Apply ``fn(*elements)`` over the axes ``dim`` of an object array (for SymPy)."""
    x = np.asarray(x, dtype=object)
    dim = tuple(range(x.ndim)) if dim is None else tuple(dim)
    rest = [i for i in range(x.ndim) if i not in dim]
    moved = np.transpose(x, rest + list(dim))
    flat = moved.reshape(moved.shape[:len(rest)] + (-1,))
    out = np.empty(flat.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = fn(*flat[idx])
    if keepdim:
        out = out.reshape([1 if i in dim else n for i, n in enumerate(x.shape)])
    return out
