"""torch.nn.utils' gradient clipping, computed as PyTorch 2.13 computes it.

``clip_grad_norm_``: the norm of the per-parameter gradient norms, and every gradient
scaled in place by ``clamp(max_norm / (total + 1e-6), max=1)``; ``clip_grad_value_``:
every gradient clamped in place.  Nothing is recorded (PyTorch runs both under no_grad).
"""

from __future__ import annotations

import math

from ..errors import AutogradError
from . import functional as F
from .grad_mode import no_grad
from .shaping import stack
from .tensor import Tensor, tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]

NONFINITE = ("The total norm of order {p} for gradients from `parameters` is non-finite, "
             "so it cannot be clipped. To disable this error and scale the gradients by "
             "the non-finite norm anyway, set `error_if_nonfinite=False`")


def _grads(parameters) -> list:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None) -> Tensor:
    """Scale the gradients so that their total ``norm_type``-norm is at most
    ``max_norm``; returns the total norm before scaling."""
    grads = _grads(parameters)
    if not grads:
        return tensor(0.0)
    p = float(norm_type)
    with no_grad():
        total = F.vector_norm(stack([F.vector_norm(g, p) for g in grads]), p)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise AutogradError(NONFINITE.format(p=p))
        coef = F.clamp(float(max_norm) / (total + 1e-6), max=1.0)
        for g in grads:
            g.mul_(coef)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None) -> None:
    """Clamp every gradient to [-clip_value, clip_value] in place."""
    value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(min=-value, max=value)
