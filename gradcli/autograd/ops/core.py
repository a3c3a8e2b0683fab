"""The op table: one :class:`Op` entry per operation, the one place that knows it.

An entry holds everything about an op, side by side: its parameters (names, kinds,
defaults: :mod:`.params`), its forward (on numpy arrays), one VJP per input, its
PyTorch ``grad_fn`` name, its SymPy counterpart (and the numpy functions of the SymPy
functions it introduces, for the batch formula compiler), how a node of it reads
(``{0} * {1}``) and its local derivative as text.  The Python API
(:mod:`..functional`), the language's function and method tables, ``gradcli ops``, the
graph views, ``--explain`` and the formula compiler are generated from it: adding an
op is one ``register(...)`` call and a test.

What a node saves is not declared: :mod:`.reads` finds what the VJPs read.

VJPs are written once for two modes.  They receive ``F``, a namespace of the ops
themselves: in the normal mode ``F.exp`` is ``numpy.exp`` and values are arrays; under
``create_graph`` ``F.exp`` records a graph node and values are tensors, so gradients
are themselves differentiable, to any order.  Arithmetic operators work in both modes.

An entry with a ``function`` and no ``forward`` is a composite: what it records is
what its function calls (``records`` names it, for ``gradcli ops``).
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np

from ...errors import InputError, ShapeError
from . import params as _params

STRUCTURAL = "structural"
GROUPS = ("arithmetic", "exponentials and logarithms", "trigonometric", "activations",
          "elementwise", "comparisons", "reductions", "linear algebra", "shape",
          "indexing", "losses", "layers", "copies and constants")
API = frozenset(("torch", "F", "method", "linalg"))


class Prose(str):
    """A derivative written in words (``prose("1 on the diagonal")``): shown as written,
    never evaluated."""

    __slots__ = ()


prose = Prose


class Op:
    """One op-table entry (a plain slotted class: cheaper to import than a dataclass).

    The attributes ``saves``, ``save_all``, ``save_mask``, ``save_out`` and ``needs`` are
    filled in from the VJPs' bytecode (:mod:`.reads`) by :meth:`analysed`, when the first
    node is recorded; until then ``saves`` is None.  (No ``__getattr__`` here: defining
    one slows every attribute read of the class, and apply reads many.)"""

    __slots__ = ("name", "grad_fn", "forward", "vjps", "sympy", "elementwise", "derivative",
                 "broadcasts", "variadic", "syntax", "internal", "undefined", "view",
                 "dtype_rule", "float_only", "scalar_args", "geometry", "vjp_order", "joint",
                 "keeps_layout", "forward_f32", "same_float", "params", "group", "api",
                 "function", "method", "records", "display", "shown_as", "numeric",
                 "returns", "arity", "grows", "domain_edges",
                 "saves", "save_all", "save_mask", "save_out", "needs")

    def __init__(self, name: str, grad_fn: str = "", forward: Optional[Callable] = None,
                 vjps: tuple = (), *, params: Optional[str] = None, group: str = "",
                 api: str = "torch method", function=None, method=None,
                 records: tuple = (), sympy: object = None, numeric: Optional[dict] = None,
                 elementwise: bool = False, derivative: tuple = (),
                 display: Optional[str] = None, shown_as: Optional[str] = None,
                 broadcasts: bool = False, variadic: bool = False, syntax: str = "",
                 internal: bool = False, undefined: Optional[Callable] = None,
                 view: bool = False, dtype_rule: str = "promote", float_only: str = "",
                 scalar_args: tuple = (), geometry: bool = False,
                 vjp_order: Optional[tuple] = None, joint: Optional[Callable] = None,
                 keeps_layout: Optional[bool] = None, returns: Optional[tuple] = None,
                 grows=None, domain_edges: bool = False,
                 forward_f32: Optional[Callable] = None):
        self.name = name              # the function name in programs and the Python API
        self.grad_fn = grad_fn        # the node name PyTorch reports ("MulBackward0")
        self.forward = forward        # (*arrays_or_numbers, **params) -> ndarray
        self.vjps = vjps              # per input: (F, g, *inputs, out, **params) -> grad
        self.params = None if params is None else _params.parse(params, name)
        self.group = group            # its heading in `gradcli ops`
        self.api = frozenset(api.split())   # torch.f, F.f, x.f(), torch.linalg.f
        self.function = function      # the Python API function: None (generated from
        #                               params), a callable, or "module:name" (lazy)
        self.method = method          # the Tensor method, where it is not function(self, ...)
        self.records = records        # grad_fn names a composite function records
        self.sympy = sympy            # (sp, *args, **params) -> SymPy value; elementwise:
        self.elementwise = elementwise  # on scalars, applied per element (broadcasting);
        #                               STRUCTURAL: the forward works on object arrays too
        self.numeric = numeric or {}  # SymPy function name -> numpy function (formula.py)
        self.derivative = derivative  # local derivative per input, ("b", "a") for a*b
        self.display = display        # how a node reads: "{0} * {1}" (else a call)
        self.shown_as = shown_as or name   # the name of that call (sum_dim: "sum")
        self.broadcasts = broadcasts  # inputs broadcast: reduce their grads to their shapes
        self.variadic = variadic      # takes one list of tensors (stack, cat)
        self.internal = internal      # a node kind only: no function of that name
        self.undefined = undefined    # (*inputs, out, **params) -> reason where the
        #                               derivative is undefined (kinks, ties), else None
        self.view = view              # the result shares the first input's storage;
        #                               "parts": it is one of several views a function
        #                               returns (split), which may not change in place
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
        self.forward_f32 = forward_f32  # the forward for float32, where numpy's float32
        #                                 rounds otherwise than PyTorch's (see .float32)
        self.geometry = geometry      # its nodes record the inputs' strides (VJPs read them)
        self.returns = returns        # a named tuple's fields ("values", "indices"), if so
        # how the result can outgrow every input, for the language's size limit:
        # "broadcast", "matmul" (a product's rows by columns), "join" (stack, cat), or a
        # function of the call's arguments (by parameter name) giving the element count
        # of the result or of its largest intermediate (kron, diag, einsum)
        self.grows = grows or ("broadcast" if broadcasts and not internal else None)
        # its real domain ends, or it goes infinite, at 0, 1 or -1 (log, sqrt, asin, 1/x):
        # the check evaluates exactly the arguments that float64 puts near those edges
        self.domain_edges = domain_edges
        self.arity = len(vjps)        # inputs of a node (one list for a variadic op)
        # floating inputs of one dtype give that dtype (apply's fast path)
        self.same_float = self.dtype_rule in ("promote", "float", "float_only")
        self.saves = self.save_all = self.save_mask = self.save_out = self.needs = None
        self.syntax = syntax or (_params.signature_text(name, self.params)
                                 if self.params is not None else "")
        if not syntax and isinstance(display, str) and self.params is not None:
            self.syntax += ", " + display.format(*"abcdefgh")   # "mul(input, other), a*b"

    def analysed(self) -> "Op":
        """The entry with what its nodes save filled in (done once, when its first node
        is recorded: see :func:`..function._record`)."""
        if self.saves is None:
            self._analyse()
        return self

    def _analyse(self) -> None:
        """What a node keeps, from what the VJPs read (see :mod:`.reads`)."""
        from .reads import analyse
        needs, reads_out = analyse(self) if self.vjps else ((), False)
        if self.variadic:
            self.save_all = bool(needs and needs[0][0])
            self.needs, self.save_mask = None, ()
        else:
            self.save_all = False
            self.save_mask = tuple(any(n[i] for n in needs) for i in range(len(needs)))
            # per input only where the VJPs differ in what they read (mul: b for a, a
            # for b); else the one mask serves every node (no per-node merging)
            self.needs = needs if len(set(needs)) > 1 else None
        self.save_out = reads_out
        self.saves = self.save_all or reads_out or any(self.save_mask)

    @property
    def tensor_params(self) -> tuple:
        return tuple(p for p in self.params or () if p.is_tensor)

    @property
    def node_params(self) -> tuple:
        return tuple(p for p in self.params or () if not p.is_tensor)

    @property
    def grad_fns(self) -> tuple:
        """Every grad_fn name its function may record (its own first)."""
        differentiable = any(v is not None for v in self.vjps) or self.joint is not None
        own = (self.grad_fn,) if self.forward is not None and self.grad_fn and \
            differentiable else ()
        return own + tuple(r for r in self.records if r != self.grad_fn)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.grad_fn})"


REGISTRY: dict[str, Op] = {}
NUMERIC: dict[str, Callable] = {}     # SymPy function name -> numpy function (all entries)


def register(name: str, grad_fn: str = "", forward=None, vjps: tuple = (), **fields) -> Op:
    """Add an entry to the table; a ValueError says what is inconsistent about it."""
    from .checks import check_entry
    op = Op(name, grad_fn, forward, vjps, **fields)
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name!r} registered twice")
    check_entry(op)
    for key, fn in op.numeric.items():
        if NUMERIC.setdefault(key, fn) is not fn:
            raise ValueError(f"op {op.name!r}: numeric counterpart of {key!r} declared "
                             "differently by another entry")
    REGISTRY[op.name] = op
    return op


def public_ops():
    """The entries that are functions of programs and of the Python API."""
    return (op for op in REGISTRY.values() if not op.internal)


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


def shape_of(x) -> tuple:
    """The shape of a call's argument (a tensor, a nested list, a number), () if it has
    none (a ragged list, a string): for ``grows`` functions, before any checks."""
    data = getattr(x, "data", x)
    if isinstance(data, np.ndarray):
        return data.shape
    if isinstance(x, str) or x is None:
        return ()
    try:
        return np.shape(x)
    except ValueError:
        return ()


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
                         f"but got {dim})", python_type="IndexError")
    return dim % ndim if ndim else 0


def exact(sp, v):
    """A constant as the symbolic check reads literals: integers exactly, others as the
    decimal Python prints."""
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        return sp.nan if math.isnan(v) else (sp.oo if v > 0 else -sp.oo)
    return sp.Integer(int(v)) if v.is_integer() else sp.Rational(repr(v))


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
