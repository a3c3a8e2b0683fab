"""Tensor's operators and in-place methods, as a mixin of :class:`~.tensor.Tensor`.

``a + b``, ``a @ b``, ``a == b``, ``x[0]``, ``x.T`` call the functions of
:mod:`.functional`; ``t += e``, ``t.mul_(2)``, ``t.zero_()``, ``x[0] = v`` write into the
tensor through :mod:`.inplace` (SPEC 3.6, 3.8).  Both modules import Tensor, so they
are connected once it exists (:func:`connect`).
"""

from __future__ import annotations

_F = None           # gradcli.autograd.functional
_inplace = None     # gradcli.autograd.inplace


def connect(functional, inplace) -> None:
    global _F, _inplace
    _F, _inplace = functional, inplace


class Operators:
    __slots__ = ()

    # -- in-place updates -------------------------------------------------------------
    def _inplace(self, fn, other):
        """``fn(self, other)`` written into ``self`` (what ``t += e`` runs)."""
        return _inplace.apply_inplace(self, fn, other)

    def add_(self, other):
        return _inplace.apply_inplace(self, _F.add, other)

    def sub_(self, other):
        return _inplace.apply_inplace(self, _F.sub, other)

    def mul_(self, other):
        return _inplace.apply_inplace(self, _F.mul, other)

    def div_(self, other):
        return _inplace.apply_inplace(self, _F.div, other)

    def zero_(self):
        return _inplace.apply_inplace(self, _F.zero, idempotent=True)

    def fill_(self, value):
        return _inplace.apply_inplace(self, _F.fill, value, idempotent=True)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with U(a, b) from gradcli's generator (its numbers, not PyTorch's)."""
        from . import random
        return random.uniform_(self._random_target("uniform_"), a, b, generator)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        from . import random
        return random.normal_(self._random_target("normal_"), mean, std, generator)

    def _random_target(self, name: str):
        """PyTorch's check for a leaf; a non-leaf whose history would go on is not in
        gradcli (PyTorch records a node with a zero gradient)."""
        from .grad_mode import is_grad_enabled
        if is_grad_enabled() and self.requires_grad:
            _inplace.check_inplace(self)
            from ..errors import AutogradError
            raise AutogradError(f"{name}() on a tensor that requires grad (its history "
                                "would end in a node of zero gradient) is not in gradcli")
        return self

    def copy_(self, src):
        return _inplace.apply_inplace(self, _F.copy, src)

    def remainder_(self, other):
        return _inplace.apply_inplace(self, _F.remainder, other)

    def masked_fill_(self, mask, value):
        return _inplace.apply_inplace(self, lambda t, v: _F.masked_fill(t, mask, v), value)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __imod__ = remainder_

    def __setitem__(self, key, value) -> None:
        """``x[key] = value``: fill or copy into the view ``x[key]`` (CopySlices); through
        masks or index tensors, index_put_ (IndexPutBackward0)."""
        if _F.is_advanced_key(key):
            _inplace.apply_inplace(self, lambda t, v: _F.index_put(t, v, key), value)
            return
        view = _F.index(self, key, keep_full=True)
        if isinstance(value, Operators) and value.data.ndim:
            view.copy_(value)
        else:
            view.fill_(value)

    # -- operators --------------------------------------------------------------------
    def __add__(self, other):
        return _F.add(self, other)

    def __radd__(self, other):
        return _F.add(other, self)

    def __sub__(self, other):
        return _F.sub(self, other)

    def __rsub__(self, other):
        return _F.sub(other, self)

    def __mul__(self, other):
        return _F.mul(self, other)

    def __mod__(self, other):
        return _F.remainder(self, other)

    def __rmod__(self, other):
        return _F.remainder(other, self)

    def __rmul__(self, other):
        return _F.mul(other, self)

    def __truediv__(self, other):
        return _F.div(self, other)

    def __rtruediv__(self, other):
        return _F.div(other, self)

    def __pow__(self, other):
        return _F.pow(self, other)

    def __rpow__(self, other):
        return _F.pow(other, self)

    def __matmul__(self, other):
        return _F.matmul(self, other)

    def __rmatmul__(self, other):
        return _F.matmul(other, self)

    def __neg__(self):
        return _F.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _F.abs(self)

    def __getitem__(self, index):
        return _F.index(self, index)

    def __eq__(self, other):
        return _F.eq(self, other)

    def __ne__(self, other):
        return _F.ne(self, other)

    def __lt__(self, other):
        return _F.lt(self, other)

    def __le__(self, other):
        return _F.le(self, other)

    def __gt__(self, other):
        return _F.gt(self, other)

    def __ge__(self, other):
        return _F.ge(self, other)

    @property
    def T(self):
        return _F.transpose_all(self)

    __hash__ = object.__hash__      # (defining __eq__ would otherwise unset it)
