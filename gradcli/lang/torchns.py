"""The modules a program may import: ``torch``, ``torch.nn``, ``torch.nn.functional``,
``torch.optim``, ``torch.autograd`` and ``numpy`` (SPEC 7), as namespaces over
gradcli's engine.

Most members are the engine's own functions (``gradcli.autograd.functional`` and its
neighbours), listed by name; the constructors (``torch.tensor``, ``ones``, ``arange``,
...) are written here because they speak torch's dtypes and check sizes.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.budget import new_tensor
from ..autograd import functional as F
from ..autograd import dtypes, grad_mode
from ..autograd.copies import Device
from ..autograd.tensor import Tensor
from ..errors import LimitError, ShapeError
from . import autograd_functional
from .dtypes import ALIASES, DTYPES, DType, to_numpy_dtype
from .objects import Builtin, Namespace, ScriptCallable, Size
from .pyops import ScriptError

MAX_ELEMENTS = 10 ** 8


# -- dtypes and sizes -------------------------------------------------------------------

def default_dtype() -> np.dtype:
    return np.dtype(dtypes.get_default_dtype())


def _engine_dtype(dtype, fallback=None):
    return to_numpy_dtype(dtype) if dtype is not None else fallback


def _shape(args) -> tuple:
    """``ones(2, 3)``, ``ones((2, 3))`` and ``ones([2, 3])`` alike, checked."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    shape = []
    for n in args:
        if isinstance(n, Tensor) and n.data.size == 1 and n.data.dtype.kind in "iu":
            n = int(n.data.reshape(()))
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise ScriptError("TypeError", "size must be a sequence of ints, got "
                              f"{type(n).__name__}")
        if n < 0:
            raise ShapeError(f"Trying to create tensor with negative dimension {n}: "
                             f"{list(args)}")
        shape.append(int(n))
    _check_elements(math.prod(shape), shape)
    new_tensor(shape, np.dtype(dtypes.get_default_dtype()).itemsize)
    return tuple(shape)


def _check_elements(size: int, shape) -> None:
    if size > MAX_ELEMENTS:
        raise LimitError(f"a tensor of shape {list(shape)} has {size} elements; the "
                         f"limit is {MAX_ELEMENTS}")


def _leaf(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(array, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


# -- constructors ----------------------------------------------------------------------

def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """torch.tensor: a new leaf holding a copy of ``data``."""
    array = _array_of(data)
    if dtype is not None:
        target = to_numpy_dtype(dtype)
    elif array.dtype.kind == "f":
        target = default_dtype()
    elif array.dtype.kind == "b":
        target = np.dtype(np.bool_)
    else:
        target = np.dtype(np.int64)
    return _leaf(np.array(array, dtype=target), bool(requires_grad))


def _array_of(data) -> np.ndarray:
    """Nested lists/tuples of numbers (or one-element tensors) as an array; float
    when any element is, as torch infers."""
    if isinstance(data, Tensor):
        return data.data
    stack, count, kinds = [data], 0, set()
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        if isinstance(item, Tensor):
            if item.data.size != 1:
                raise ScriptError("ValueError", "only one element tensors can be "
                                  "converted to Python scalars")
            item = item.data.reshape(()).item()
        if isinstance(item, (bool, np.bool_)):
            kinds.add("b")
        elif isinstance(item, (int, np.integer)):
            kinds.add("i")
        elif isinstance(item, (float, np.floating)):
            kinds.add("f")
        else:
            raise ScriptError("TypeError", f"new(): invalid data type "
                              f"'{type(item).__name__}'")
        count += 1
        if count > MAX_ELEMENTS:
            raise LimitError(f"tensor data has over {MAX_ELEMENTS} elements")
    kind = "f" if "f" in kinds else "i" if "i" in kinds else "b" if kinds else "f"
    plain = _plain(data)
    try:
        return np.array(plain, dtype={"f": np.float64, "i": np.int64, "b": np.bool_}[kind])
    except ValueError:
        raise _ragged(plain) from None
    except OverflowError:
        raise ScriptError("RuntimeError", "Overflow when unpacking long") from None


def _ragged(data) -> ScriptError:
    """PyTorch's error for nested lists that are not a rectangle: the first place, in
    order, where a sequence's length differs from the first one's at its depth."""
    shape, probe = [], data
    while isinstance(probe, (list, tuple)):
        shape.append(len(probe))
        probe = probe[0] if probe else None
    stack = [(data, 0)]
    while stack:
        item, dim = stack.pop()
        if dim >= len(shape):
            if isinstance(item, (list, tuple)):       # a sequence where a number was
                kind = type(item).__name__
                return ScriptError("TypeError", f"must be real number, not {kind}"
                                   if isinstance(probe, float) else
                                   f"'{kind}' object cannot be interpreted as an integer")
            continue
        if not isinstance(item, (list, tuple)):
            return ScriptError("TypeError", "not a sequence")
        if len(item) != shape[dim]:
            return ScriptError("ValueError", f"expected sequence of length {shape[dim]} "
                               f"at dim {dim} (got {len(item)})")
        stack.extend((x, dim + 1) for x in reversed(item))
    return ScriptError("ValueError", "expected a sequence of equal-length rows")


def _plain(data):
    if isinstance(data, Tensor):
        return data.data.reshape(()).item()
    if isinstance(data, (list, tuple)):
        return [_plain(d) for d in data]
    return data


def _filled(fill, shape, dtype, requires_grad) -> Tensor:
    target = _engine_dtype(dtype, default_dtype())
    return _leaf(np.full(_shape(shape), fill, dtype=target), bool(requires_grad))


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(1, size, dtype, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(0, size, dtype, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None and isinstance(fill_value, bool):
        dtype = DTYPES["bool"]
    elif dtype is None and isinstance(fill_value, int):
        dtype = DTYPES["int64"]
    return _filled(fill_value, (size,), dtype, requires_grad)


def _like(x: Tensor, fill, dtype, requires_grad) -> Tensor:
    target = _engine_dtype(dtype, x.data.dtype)
    return _leaf(np.full(x.shape, fill, dtype=target), bool(requires_grad))


def ones_like(x, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(x, 1, dtype, requires_grad)


def zeros_like(x, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(x, 0, dtype, requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(x, fill_value, dtype, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    shape = _shape((n, n if m is None else m))
    return _leaf(np.eye(*shape, dtype=_engine_dtype(dtype, default_dtype())),
                 bool(requires_grad))


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise ScriptError("RuntimeError", "step must be nonzero")
    count = max(0, math.ceil((values[1] - values[0]) / values[2]))
    _check_elements(count, [count])
    integral = all(isinstance(v, (int, np.integer)) for v in values)
    target = _engine_dtype(dtype, np.dtype(np.int64) if integral else default_dtype())
    array = values[0] + np.arange(count, dtype=np.float64 if not integral else np.int64) \
        * values[2]
    return _leaf(array.astype(target), bool(requires_grad))


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    _shape((steps,))
    target = np.dtype(_engine_dtype(dtype, default_dtype()))
    return _leaf(_linspace(start, end, int(steps), target), bool(requires_grad))


def _linspace(start, end, steps: int, dtype: np.dtype) -> np.ndarray:
    """PyTorch's CPU linspace kernel, in the tensor's own type: one rounded step; the
    first half is start + step*k, the second end - step*(steps-1-k), each a fused
    multiply-add (rounded once: exact arithmetic here, up to 20 000 steps; above that
    float64 arithmetic, which can differ in the last bit)."""
    work = dtype if dtype.kind == "f" else np.dtype(np.float64)
    first, last = work.type(start), work.type(end)
    if steps == 1:
        return np.array([first], dtype=work).astype(dtype)
    with np.errstate(all="ignore"):
        step = (last - first) / work.type(steps - 1)
        k = np.arange(steps)
        if steps <= 20_000 and np.isfinite(step) and np.isfinite([first, last]).all():
            values = _fused(first, last, step, steps, work)
        else:
            wide = np.float64
            values = np.where(k < steps // 2, wide(first) + wide(step) * k,
                              wide(last) - wide(step) * (steps - 1 - k)).astype(work)
    if dtype.kind != "f":
        values = np.trunc(values)
    return values.astype(dtype)


def _fused(first, last, step, steps: int, work: np.dtype) -> np.ndarray:
    from fractions import Fraction
    a, b, d = Fraction(float(first)), Fraction(float(last)), Fraction(float(step))
    half = steps // 2
    exact = [a + d * k if k < half else b - d * (steps - 1 - k) for k in range(steps)]
    if work == np.float64:
        return np.array([float(x) for x in exact], dtype=np.float64)
    return np.array([_nearest_float32(x) for x in exact], dtype=np.float32)


def _nearest_float32(x) -> np.float32:
    """The float32 nearest the exact rational x (ties to even), without the double
    rounding of going through float64."""
    from fractions import Fraction
    guess = np.float32(float(x))
    best = guess
    for other in (np.nextafter(guess, np.float32(np.inf)),
                  np.nextafter(guess, np.float32(-np.inf))):
        if not np.isfinite(other):
            continue
        gap_best, gap_other = abs(Fraction(float(best)) - x), abs(Fraction(float(other)) - x)
        if gap_other < gap_best or (gap_other == gap_best and
                                    int(other.view(np.uint32)) % 2 == 0):
            best = other
    return best


def from_numpy(array) -> Tensor:
    if not isinstance(array, np.ndarray):
        raise ScriptError("TypeError", f"expected np.ndarray (got {type(array).__name__})")
    return Tensor._make(array, None)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def numel(x) -> int:
    return int(x.data.size)


def get_default_dtype() -> DType:
    return DTYPES[default_dtype().name]


def set_default_dtype(dtype) -> None:
    if not isinstance(dtype, DType) or dtype.name not in ("float32", "float64"):
        raise ScriptError("TypeError", "only floating-point types are supported as the "
                          "default type")
    dtypes.set_default_dtype(dtype.numpy)


class set_grad_enabled:
    """torch.set_grad_enabled(mode): sets grad mode now; as a with-block, restores it."""

    grad_mode_context = True
    python_name = "set_grad_enabled"

    def __init__(self, mode: bool):
        self.previous = grad_mode.is_grad_enabled()
        grad_mode.set_grad_enabled(bool(mode))

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        grad_mode.set_grad_enabled(self.previous)
        return False


COPY_CONSTRUCT = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach()"
    ".clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
    "torch.tensor(sourceTensor).")


def _script_tensor(interp, data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """torch.tensor as a script calls it: PyTorch warns when ``data`` is a tensor."""
    warn = getattr(interp, "warn", None)
    if isinstance(data, Tensor) and warn is not None:
        warn(COPY_CONSTRUCT, interp.stmt)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


# -- the namespaces ----------------------------------------------------------------------

_CONSTRUCTORS = {f.__name__: f for f in (
    tensor, ones, zeros, full, ones_like, zeros_like, full_like, eye, arange, linspace,
    from_numpy, is_tensor, numel, get_default_dtype, set_default_dtype)}
_CONSTRUCTORS.update(as_tensor=tensor, empty=zeros, empty_like=zeros_like)


def _table_functions(where: str) -> dict:
    """The op table's functions PyTorch has in ``where`` ("torch", "F", "linalg"); an
    entry ``linalg_NAME`` is torch.linalg.NAME (where it differs from torch.NAME)."""
    from ..autograd.ops import REGISTRY
    prefix = "linalg_" if where == "linalg" else None
    return {(op.name[len(prefix):] if prefix and op.name.startswith(prefix) else op.name):
            F.NAMESPACE[op.name] for op in REGISTRY.values()
            if not op.internal and where in op.api}


def _dtypes() -> dict:
    out = dict(DTYPES)
    out.update({alias: DTYPES[name] for alias, name in ALIASES.items()})
    return out


def build(interpreter_hooks: dict) -> dict:
    """Every importable module by dotted name.  ``interpreter_hooks``: the functions
    that must go through the interpreter (backward, grad: the run observes them)."""
    ops = {**_table_functions("torch"), "detach": F.detach}
    functional = _load_functional(_table_functions("F"))
    autograd = Namespace("torch.autograd", _wrap({
        "grad": interpreter_hooks["grad"], "backward": interpreter_hooks["backward"],
        "Variable": variable, "functional": autograd_functional.namespace()}))
    # every module class nn defines (its __all__), so a new one needs no line here
    nn_members = {name: member for name, member in _load("gradcli.autograd.nn", None).items()
                  if name not in ("functional", "init")}
    init = Namespace("torch.nn.init", _wrap(_load("gradcli.autograd.nn_init", None)))
    utils = Namespace("torch.nn.utils", _wrap(_load("gradcli.autograd.nn_utils", None)))
    nn = Namespace("torch.nn", {**_wrap(nn_members), "functional": functional,
                                "init": init, "utils": utils})
    optim = Namespace("torch.optim", _wrap(_load("gradcli.autograd.optim", ("SGD", "Adam"))))
    random = _load("gradcli.autograd.random", ("manual_seed rand randn rand_like "
                                               "randn_like randint randperm seed").split())
    linalg = Namespace("torch.linalg", _wrap(_table_functions("linalg")))
    members = {**_wrap(ops), **_wrap(_CONSTRUCTORS), **_wrap(random), **_dtypes(),
               "tensor": Builtin("tensor", _script_tensor, needs_interpreter=True),
               "Size": Builtin("Size", _size),
               "device": Builtin("device", Device),
               "cuda": Namespace("torch.cuda", {
                   "is_available": Builtin("is_available", lambda: False),
                   "device_count": Builtin("device_count", lambda: 0)}),
               "all": Builtin("all", F.all_), "any": Builtin("any", F.any_),
               "inference_mode": Builtin("inference_mode", _inference_mode),
               "no_grad": Builtin("no_grad", grad_mode.no_grad),
               "enable_grad": Builtin("enable_grad", grad_mode.enable_grad),
               "set_grad_enabled": Builtin("set_grad_enabled", set_grad_enabled),
               "is_grad_enabled": Builtin("is_grad_enabled", grad_mode.is_grad_enabled),
               "autograd": autograd, "nn": nn, "optim": optim, "linalg": linalg,
               "Tensor": TENSOR_TYPE, **LEGACY_TYPES,
               "pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}
    torch = Namespace("torch", members)
    return {"torch": torch, "torch.nn": nn, "torch.nn.functional": functional,
            "torch.nn.init": init, "torch.nn.utils": utils, "torch.linalg": linalg,
            "torch.optim": optim, "torch.autograd": autograd, "numpy": _numpy(),
            "torch.autograd.functional": autograd.members["functional"],
            "math": _math()}


class _Functional(Namespace):
    __slots__ = ()

    def members_of(self, *names) -> dict:
        return {n: self.members[n] for n in names if n in self.members}


def _load_functional(table: dict) -> _Functional:
    """torch.nn.functional: the table's functions PyTorch has there, in nn_functional's
    form where theirs differ from torch's (``inplace=``, ``softmax``'s implicit dim)."""
    members = {**table, **_load("gradcli.autograd.nn_functional", None)}
    return _Functional("torch.nn.functional", _wrap(members))


def _load(module_name: str, names) -> dict:
    """The named functions/classes of an engine module (all public ones for None)."""
    import importlib
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return {}
    if names is None:
        names = getattr(module, "__all__", ())
    return {n: getattr(module, n) for n in names if hasattr(module, n)}


def _wrap(functions: dict) -> dict:
    return {name: fn if isinstance(fn, (Builtin, Namespace)) else Builtin(name, fn)
            for name, fn in functions.items()}


class _TensorType(ScriptCallable):
    """``torch.Tensor``: for isinstance(x, torch.Tensor), and the legacy constructor
    ``torch.Tensor(data)`` (a tensor of the default float type) or ``torch.Tensor(2, 3)``
    (PyTorch leaves its memory uninitialised; here it is zeros).  With ``legacy_dtype``
    it is one of the typed legacy classes (``torch.FloatTensor``, ``LongTensor``, ...):
    its constructor makes that dtype, and isinstance asks for it."""

    __slots__ = ("legacy_dtype", "label")
    python_name = "type"

    def __init__(self, legacy_dtype=None, label: str = "torch.Tensor"):
        self.legacy_dtype, self.label = legacy_dtype, label

    def __repr__(self) -> str:
        return f"<class '{self.label}'>"

    def covers(self, value) -> bool:
        return isinstance(value, Tensor) and (self.legacy_dtype is None or
                                              value.data.dtype == self.legacy_dtype)

    def call(self, interp, args: list, kwargs: dict):
        name = self.label.rsplit(".", 1)[-1]
        if kwargs:
            raise ScriptError("TypeError", f"{name}(): unexpected keyword argument "
                              f"'{next(iter(kwargs))}'")
        dtype = DTYPES[(self.legacy_dtype or default_dtype()).name]
        if not args:
            return tensor([], dtype=dtype)
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return zeros(*args, dtype=dtype)
        if len(args) == 1:
            return tensor(args[0], dtype=dtype)
        raise ScriptError("TypeError", f"{name}(): expected a sequence of numbers or "
                          "sizes (ints)")


def _inference_mode(mode: bool = True):
    """torch.inference_mode(): as no_grad here (what a script can see of it)."""
    return grad_mode.no_grad() if mode else grad_mode.enable_grad()


def _size(sizes=()) -> Size:
    """torch.Size(sequence of ints)."""
    out = []
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise ScriptError("TypeError", f"torch.Size() takes an iterable of 'int' "
                              f"(item {len(out)} is '{type(n).__name__}')")
        out.append(int(n))
    return Size(out)


def variable(data, requires_grad=False, volatile=False) -> Tensor:
    """torch.autograd.Variable (legacy): the tensor, detached, sharing its storage."""
    if not isinstance(data, Tensor):
        raise ScriptError("TypeError", f"Variable data has to be a tensor, but got "
                          f"{type(data).__name__}")
    out = F.detach(data)
    if requires_grad:
        out.requires_grad_(True)
    return out


TENSOR_TYPE = _TensorType()
LEGACY_TYPES = {label.rsplit(".", 1)[-1]: _TensorType(dtype, label)
                for dtype, label in dtypes.TENSOR_TYPE.items()}


def _math() -> Namespace:
    """Python's math module: its numeric functions and constants (nothing else)."""
    names = ("sqrt exp log log2 log10 log1p expm1 sin cos tan asin acos atan atan2 sinh "
             "cosh tanh asinh acosh atanh floor ceil trunc fabs pow hypot isclose isnan "
             "isinf isfinite erf erfc gamma lgamma degrees radians copysign fmod "
             "gcd fsum").split()       # (no factorial, comb, prod: unbounded integers)
    members = {n: Builtin(n, getattr(math, n)) for n in names}
    members.update(pi=math.pi, e=math.e, tau=math.tau, inf=math.inf, nan=math.nan)
    return Namespace("math", members)


def _numpy() -> Namespace:
    def array(data, dtype=None):
        return np.array(_plain(data), dtype=dtype)
    members = {"array": array, "asarray": array}
    # elementwise functions and reductions only: nothing that makes an array bigger than
    # its input (np.zeros(10**12) would exhaust memory before any check)
    for name in ("exp log sqrt sin cos tan tanh abs mean sum max min allclose isclose "
                 "square float32 float64 int64 zeros_like ones_like").split():
        members[name] = getattr(np, name)
    out = _wrap(members)
    out.update(pi=math.pi, e=math.e, inf=math.inf, nan=math.nan)
    return Namespace("numpy", out)
