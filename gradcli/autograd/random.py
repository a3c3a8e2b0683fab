"""gradcli's random numbers: one process-global generator, like torch's default one.

It is numpy's PCG64 (``np.random.Generator``).  ``manual_seed(n)`` makes every later
draw repeat exactly from run to run; without it the seed comes from the OS, as in
PyTorch.  The values are gradcli's own: they do not equal PyTorch's for the same seed.
New tensors (and nn's parameters) are float32, PyTorch's default, unless a ``dtype`` is
given or ``torch.set_default_dtype`` chose another (:func:`.dtypes.default_if_set`).
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import InputError, ShapeError
from .dtypes import default_if_set
from .tensor import Tensor

_SEED_MASK = (1 << 64) - 1


class Generator:
    """A seeded PCG64 stream (PyTorch's torch.Generator, as far as scripts use it)."""

    def __init__(self, seed: int | None = None):
        self._rng = None                  # made on first use: numpy.random costs ~20 ms
        self._seed = None                 # of start-up, which most scripts never need
        if seed is not None:
            self.manual_seed(seed)

    @property
    def rng(self):
        if self._rng is None:
            self.manual_seed(self._fresh_seed() if self._seed is None else self._seed)
        return self._rng

    @staticmethod
    def _fresh_seed() -> int:
        return int(np.random.SeedSequence().entropy) & _SEED_MASK

    def manual_seed(self, seed) -> "Generator":
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            if not (isinstance(seed, float) and seed.is_integer()):
                raise InputError(f"manual_seed expected an int, got {seed!r}")
        seed = int(seed) & _SEED_MASK           # negative seeds wrap, as in PyTorch
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        """Reseed from the OS and return the new seed."""
        seed = self._fresh_seed()
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        self.rng                                  # (a fresh seed, if none was set yet)
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        self.rng.bit_generator.state = state
        return self

    def snapshot(self) -> tuple:
        """Where the stream is now, to draw the same numbers again (:meth:`restore`):
        before the first draw, the seed it will start from (chosen now, from the OS,
        without the cost of numpy.random)."""
        if self._rng is None:
            if self._seed is None:
                self._seed = int.from_bytes(os.urandom(8), "little")
            return ("seed", self._seed)
        return ("state", self._rng.bit_generator.state)

    def restore(self, snapshot: tuple) -> None:
        kind, value = snapshot
        if kind == "seed":
            self._seed, self._rng = value, None
        else:
            self.rng.bit_generator.state = value

    def __repr__(self) -> str:
        return f"<torch._C.Generator object at {hex(id(self))}>"


default_generator = Generator()


def manual_seed(seed) -> Generator:
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def _rng(generator: Generator | None):
    return (generator or default_generator).rng


# ---- arguments ----------------------------------------------------------------------

def size_of(size) -> tuple:
    """rand(2, 3), rand((2, 3)) and rand([2, 3]) alike; PyTorch's error for negatives."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = []
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise InputError(f"size must be a tuple of ints, but got {type(n).__name__}")
        shape.append(int(n))
    if any(n < 0 for n in shape):
        raise ShapeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                         f"{shape}")
    return tuple(shape)


def default_float() -> np.dtype:
    """The dtype of new random tensors and parameters now: float32 unless set."""
    return np.dtype(default_if_set() or np.float32)


def float_dtype(dtype, what: str) -> np.dtype:
    dtype = default_float() if dtype is None else np.dtype(dtype)
    if dtype.kind != "f" or dtype.itemsize < 4:
        raise InputError(f'"{what}" not implemented for \'{dtype}\'')
    return dtype


def _new(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(data, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---- new tensors ---------------------------------------------------------------------

def rand(*size, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    dtype = float_dtype(dtype, "check_uniform_bounds")
    return _new(_rng(generator).random(size_of(size), dtype=dtype), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    dtype = float_dtype(dtype, "normal_kernel_cpu")
    return _new(_rng(generator).standard_normal(size_of(size), dtype=dtype), requires_grad)


def rand_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint(*args, size=None, generator=None, dtype=None, requires_grad: bool = False):
    """randint(high, size) or randint(low, high, size): integers in [low, high), int64."""
    if size is None:
        if not args:
            raise InputError("randint() missing required argument 'size'")
        *args, size = args
    if len(args) not in (1, 2):
        raise InputError("randint() takes (high, size) or (low, high, size)")
    low, high = (0, args[0]) if len(args) == 1 else args
    if not low < high:
        raise InputError(f"random_ expects 'from' to be less than 'to', but got "
                         f"from={low} >= to={high}")
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    values = _rng(generator).integers(low, high, size=size_of((size,)), dtype=np.int64)
    return _new(values.astype(dtype), requires_grad)


def randperm(n: int, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64), held to the memory budget first."""
    from .budget import new_tensor
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InputError(f"randperm(): argument 'n' must be int, not {type(n).__name__}",
                         python_type="TypeError")
    if n < 0:
        raise ShapeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    new_tensor((int(n),))
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    return _new(_rng(generator).permutation(int(n)).astype(dtype), requires_grad)


# ---- in-place fills (nn.init) -----------------------------------------------------------

def fill_(tensor: Tensor, values) -> Tensor:
    """Overwrite a tensor's values without recording anything (under no_grad, as nn.init
    does): the data is replaced and the version counter bumped."""
    from .inplace import overwrite
    return overwrite(tensor, np.asarray(values, dtype=tensor.dtype).reshape(tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with U(a, b): a + (b - a) * u, computed in double and rounded once."""
    if not a <= b:
        raise InputError(f"uniform_ expects to return a [from, to) range, but found "
                         f"from={a} > to={b}")
    u = _rng(generator).random(tensor.shape)
    return fill_(tensor, u * (b - a) + a)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    if std < 0 or math.isnan(std):
        raise InputError(f"normal expects std >= 0.0, but found std {std}")
    return fill_(tensor, _rng(generator).standard_normal(tensor.shape) * std + mean)
