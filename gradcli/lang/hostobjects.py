"""nn modules and optimizers as a program sees them: which of their attributes and
methods exist, calling a module (``model(x)``), indexing a Sequential (``model[0]``).

The engine's classes know nothing of programs; this is the table that exposes them
(only public names, never one starting with ``_``).
"""

from __future__ import annotations

from ..autograd.nn_module import Module
from ..autograd.optim import Optimizer
from .objects import BoundMethod, Builtin
from .pyops import ScriptError, type_name

MODULE_METHODS = frozenset("""parameters named_parameters modules named_modules children
    named_children buffers named_buffers zero_grad train eval requires_grad_ state_dict
    float double to cpu forward add_module register_parameter register_buffer
    extra_repr""".split())
OPTIMIZER_METHODS = frozenset("step zero_grad add_param_group".split())
OPTIMIZER_ATTRIBUTES = frozenset("param_groups state defaults".split())


def is_host_object(value) -> bool:
    return isinstance(value, (Module, Optimizer))


def host_attribute(value, name: str):
    if name.startswith("_"):
        raise _no_attribute(value, name)
    if isinstance(value, Module):
        if name in MODULE_METHODS:
            return _method(value, name)
        d = value.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if name in d.get(table, ()):
                return d[table][name]
        if name in d:
            return d[name]
    elif isinstance(value, Optimizer):
        if name in OPTIMIZER_METHODS:
            return _method(value, name)
        if name in OPTIMIZER_ATTRIBUTES:
            return getattr(value, name)
    raise _no_attribute(value, name)


def set_host_attribute(value, name: str, new) -> None:
    if not isinstance(value, Module) or name.startswith("_") or name in MODULE_METHODS:
        raise ScriptError("AttributeError", f"'{type_name(value)}' object attribute "
                          f"'{name}' cannot be set")
    try:
        setattr(value, name, new)
    except TypeError as exc:
        raise ScriptError("TypeError", str(exc)) from None


def call_module(interp, module: Module, args: list, kwargs: dict):
    return Builtin(f"{type(module).__name__}.forward", module).call(interp, args, kwargs)


def module_item(module: Module, key):
    if not hasattr(type(module), "__getitem__"):
        raise ScriptError("TypeError", f"'{type(module).__name__}' object is not "
                          "subscriptable")
    return Builtin("Sequential.__getitem__", type(module).__getitem__).call(
        None, [module, key], {})


def _method(value, name: str) -> BoundMethod:
    return BoundMethod(value, Builtin(f"{type(value).__name__}.{name}",
                                      getattr(type(value), name)))


def _no_attribute(value, name: str) -> ScriptError:
    return ScriptError("AttributeError", f"'{type(value).__name__}' object has no "
                       f"attribute '{name}'")
