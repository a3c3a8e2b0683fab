"""torch.optim's SGD and Adam, as PyTorch's single-tensor (for-loop) implementations
step on the CPU, float operation for float operation.

PyTorch's CPU kernels round every Python number to the parameter's dtype first and
compute ``p.add_(g, alpha=a)`` as one fused multiply-add, ``lerp_`` as
``fma(w, end - start, start)``; ``addcmul_`` and ``addcdiv_`` as ``self + v*t1*t2`` and
``self + v*t1/t2``.  The helpers below do the same on numpy arrays: a float32 fused
multiply-add is computed in float64 (the product of two float32 is exact there) and
rounded once.  Parameters are updated in place without recording anything, as under
torch.no_grad.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import InputError
from .grad_mode import enable_grad
from .tensor import Tensor

_REQUIRED = object()


# ---- PyTorch's CPU kernels on arrays ----------------------------------------------------

def _fma(a, b, c):
    """a * b + c rounded once (exact for float32 through float64; float64 rounds twice)."""
    if c.dtype == np.float32:
        return (a.astype(np.float64) * b + c).astype(np.float32)
    return a * b + c


def add(self, other, alpha: float = 1.0):
    """self.add(other, alpha=alpha): fmadd(other, alpha, self), alpha in self's dtype."""
    if alpha == 1:
        return self + other
    return _fma(other, self.dtype.type(alpha), self)


def lerp(self, end, weight: float):
    """self.lerp(end, weight) for a scalar weight, as PyTorch's vectorized kernel."""
    w = self.dtype.type(weight)
    if abs(w) < 0.5:
        return _fma(end - self, w, self)
    return _fma(end - self, w - self.dtype.type(1), end)


def addcmul(self, t1, t2, value: float):
    """self + value * t1 * t2: GCC fuses PyTorch's vector kernel into fma(value*t1, t2, self)
    (measured: bit-equal to PyTorch 2.13 on every element, tails included)."""
    return _fma(self.dtype.type(value) * t1, t2, self)


def addcdiv(self, t1, t2, value: float):
    return self + self.dtype.type(value) * t1 / t2


def write_(param: Tensor, array) -> None:
    """param's new value, in place (a version bump), nothing recorded."""
    from .inplace import overwrite
    overwrite(param, array)


def clear_grad(param: Tensor, set_to_none: bool) -> None:
    """zero_grad for one parameter: None (PyTorch 2.x's default) or zeros in place."""
    if param.grad is None:
        return
    if set_to_none:
        param.grad = None
    else:
        from .inplace import overwrite
        grad = param.grad if param.grad.grad_fn is None else param.grad.detach()
        grad.requires_grad = False
        param.grad = overwrite(grad, 0)


# ---- the optimizer base -------------------------------------------------------------------

def _type_name(value) -> str:
    return "torch.Tensor" if isinstance(value, Tensor) else type(value).__name__


class Optimizer:
    """Parameter groups (lists of leaf tensors with their hyperparameters) and state."""

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _type_name(params))
        self.state: dict = {}
        self.param_groups: list = []
        groups = list(params)
        if not groups:
            raise _value_error("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        param_group["params"] = params = list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _type_name(param))
            if not (param.is_leaf or param.retains_grad):
                raise _value_error("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see github.com/pytorch/pytorch/"
                          "issues/40967 for more information", UserWarning, stacklevel=3)
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if taken & set(ids):
            raise _value_error("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                clear_grad(param, set_to_none)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    grad = param.grad.data
                    self._update(param, -grad if group["maximize"] else grad,
                                 self.state.setdefault(param, {}), group)
        return loss

    def _update(self, param: Tensor, grad, state: dict, group: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"


def _value_error(message: str):
    error = InputError(message)
    error.python_type = "ValueError"
    return error


# ---- SGD -------------------------------------------------------------------------------------

class SGD(Optimizer):
    """p -= lr * g, with optional weight decay, momentum (dampening) and Nesterov."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        if lr < 0.0:
            raise _value_error(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise _value_error(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise _value_error(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise _value_error("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group) -> None:
        """torch.optim.sgd._single_tensor_sgd for one parameter."""
        if group["weight_decay"] != 0:
            grad = add(grad, param.data, alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = Tensor._make(np.array(grad, copy=True), None)
            else:
                buf.data = add(buf.data * buf.dtype.type(momentum), grad,
                               alpha=1 - group["dampening"])
            grad = add(grad, buf.data, alpha=momentum) if group["nesterov"] else buf.data
        write_(param, add(param.data, grad, alpha=-group["lr"]))


# ---- Adam ------------------------------------------------------------------------------------

class Adam(Optimizer):
    """Adam (with amsgrad, and AdamW's decoupled weight decay on request)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None,
                 decoupled_weight_decay: bool = False):
        if not 0.0 <= lr:
            raise _value_error(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise _value_error(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise _value_error(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise _value_error(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise _value_error(f"Invalid weight_decay value: {weight_decay}")
        if not (isinstance(betas[0], float) and isinstance(betas[1], float)):
            raise _value_error("betas must be either both floats or both Tensors")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    @staticmethod
    def _init_state(param, state: dict, amsgrad: bool) -> None:
        state["step"] = Tensor._make(np.asarray(0.0, dtype=np.float32), None)
        state["exp_avg"] = Tensor._make(np.zeros_like(param.data), None)
        state["exp_avg_sq"] = Tensor._make(np.zeros_like(param.data), None)
        if amsgrad:
            state["max_exp_avg_sq"] = Tensor._make(np.zeros_like(param.data), None)

    def _update(self, param, grad, state, group) -> None:
        """torch.optim.adam._single_tensor_adam (capturable=False) for one parameter."""
        if not state:
            self._init_state(param, state, group["amsgrad"])
        beta1, beta2 = group["betas"]
        lr, wd = group["lr"], group["weight_decay"]
        state["step"].data = np.asarray(state["step"].data + np.float32(1))
        p = param.data
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p = p * p.dtype.type(1 - lr * wd)
            else:
                grad = add(grad, p, alpha=wd)
        exp_avg = lerp(state["exp_avg"].data, grad, 1 - beta1)
        exp_avg_sq = addcmul(state["exp_avg_sq"].data * p.dtype.type(beta2), grad, grad,
                             1 - beta2)
        state["exp_avg"].data, state["exp_avg_sq"].data = exp_avg, exp_avg_sq
        step = float(state["step"].data)
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        second = exp_avg_sq
        if group["amsgrad"]:
            second = np.maximum(state["max_exp_avg_sq"].data, exp_avg_sq)
            state["max_exp_avg_sq"].data = second
        denom = np.sqrt(second) / p.dtype.type(bias_correction2_sqrt) + p.dtype.type(group["eps"])
        write_(param, addcdiv(p, exp_avg, denom, -step_size))
