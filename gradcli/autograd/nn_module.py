"""torch.nn's Module and Parameter on gradcli's engine (the layers are in :mod:`.nn`).

A Module registers the Parameters and Modules assigned to its attributes, in the order
they are assigned, as PyTorch's does; ``parameters()`` walks them depth first (each
parameter once), ``zero_grad()`` sets grads to None (PyTorch 2.x), and ``repr`` prints
the module tree exactly as PyTorch does.  Walks over the tree are iterative, so a
deeply nested model cannot exhaust Python's stack.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..errors import InputError
from .grad_mode import no_grad
from .optim import clear_grad
from .random import default_float
from .tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that a Module registers (requires_grad=True by default); it shares
    the data of the tensor it is made from."""

    __slots__ = ()

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=default_float())
        array = data.data if isinstance(data, Tensor) else np.asarray(data)
        param = cls._make(array, None)
        if requires_grad:
            param.requires_grad_(True)
        return param

    def __init__(self, data=None, requires_grad: bool = True):
        pass                     # everything is done in __new__

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)


class Module:
    """Base class of every layer and model."""

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise InputError(f"{type(self).__name__}.__init__() got unexpected arguments")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})

    # -- registration by attribute assignment ---------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError("cannot assign parameters or modules before "
                                 "Module.__init__() call")
        if isinstance(value, Parameter):
            self.__dict__.pop(name, None)
            modules.pop(name, None)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (torch.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self.__dict__.pop(name, None)
            params.pop(name, None)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (torch.nn.Module or None expected)")
            modules[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(torch.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(table, ()):
                del self.__dict__[table][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (torch.nn.Parameter or None required)")
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor) -> None:
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor

    def add_module(self, name: str, module) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self.__dict__.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    # -- calling --------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- walking the tree -------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Every module, depth first in registration order (each once), with its name."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(f"{name}.{key}" if name else key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        seen = set()
        owners = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for owner, module in owners:
            for key, param in module._parameters.items():
                if param is None or (remove_duplicate and id(param) in seen):
                    continue
                seen.add(id(param))
                yield (f"{owner}.{key}" if owner else key), param

    def parameters(self, recurse: bool = True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        owners = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for owner, module in owners:
            for key, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{owner}.{key}" if owner else key), buf

    def buffers(self, recurse: bool = True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn):
        """fn on every submodule, children before their parent (PyTorch's order)."""
        order = list(self.modules())
        for module in reversed(order):
            fn(module)
        return self

    # -- state --------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            clear_grad(param, set_to_none)

    def train(self, mode: bool = True):
        if not isinstance(mode, bool):
            raise InputError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def state_dict(self) -> OrderedDict:
        out = OrderedDict()
        for name, param in self.named_parameters():
            out[name] = param.detach()
        for name, buf in self.named_buffers():
            out[name] = buf.detach() if isinstance(buf, Tensor) else buf
        return out

    def _cast(self, dtype):
        with no_grad():
            for param in self.parameters():
                param.data = param.data.astype(dtype)
                if param.grad is not None:
                    param.grad = Tensor._make(param.grad.data.astype(dtype), None)
        return self

    def float(self):
        return self._cast(np.float32)

    def double(self):
        return self._cast(np.float64)

    def to(self, *args, **kwargs):
        """Devices are ignored (gradcli runs on the CPU); a dtype converts the parameters."""
        dtype = kwargs.get("dtype")
        for arg in args:
            if not isinstance(arg, str):
                try:
                    dtype = np.dtype(arg)
                except TypeError:
                    pass                    # a device object
        return self if dtype is None else self._cast(np.dtype(dtype))

    def cpu(self):
        return self

    # -- printing ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        """PyTorch's module tree, written line by line (no recursion, and linear in the
        output: PyTorch re-indents each child's text once per level above it)."""
        out: list = []
        open_: set = set()
        stack: list = [("module", self, "", "")]
        while stack:
            item = stack.pop()
            if item[0] == "line":
                out.append(item[1])
            elif item[0] == "close":
                open_.discard(item[1])
                out.append(item[2])
            else:
                self._open(item[1], item[2], item[3], out, open_, stack)
        return "\n".join(out)

    @staticmethod
    def _open(module, lead: str, indent: str, out: list, open_: set, stack: list) -> None:
        """Write ``module``'s first line after ``lead``; queue its body and closing line."""
        if not isinstance(module, Module) or type(module).__repr__ is not Module.__repr__:
            first, *rest = repr(module).split("\n")       # None, or a custom __repr__
            out.append(lead + first)
            out.extend(indent + line for line in rest)
            return
        if id(module) in open_:
            raise InputError(f"{module._get_name()} contains itself")
        extra = module.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        children = list(module._modules.items())
        name = module._get_name()
        if not children and len(extra_lines) <= 1:
            out.append(f"{lead}{name}({''.join(extra_lines)})")
            return
        out.append(lead + name + "(")
        open_.add(id(module))
        body = indent + "  "
        stack.append(("close", id(module), indent + ")"))
        stack.extend(("module", child, f"{body}({key}): ", body)
                     for key, child in reversed(children))
        stack.extend(("line", body + line) for line in reversed(extra_lines))
