"""The names a ``gradcli grad`` program can reach: gradcli's functions (SPEC 3.2, 3.5),
a few of Python's builtins, ``pi``/``e``, and the torch modules (``torch``, ``F``,
``nn``, built on first use); and parsing a program with its calls checked against
them ("unknown function 'tahn' — did you mean 'tanh'?")."""

from __future__ import annotations

from ..errors import InputError
from . import ast
from .functions import CONSTANTS, FUNCTIONS
from .objects import ScriptCallable
from .parser import parse


def parse_program(text: str) -> ast.Program:
    """A grad-dialect program, its calls checked against the names it can reach."""
    names = known_names()
    return parse(text, functions=names, methods=_MethodNames(names))


def known_names() -> frozenset:
    return frozenset(_grad_builtins()) | frozenset(MODULE_NAMES)


class _MethodNames:
    """The names a program may call as methods (``x.sum()``, ``torch.tensor()``); the
    torch modules' members are listed only when a name is not found elsewhere."""

    def __init__(self, functions: frozenset):
        from .attributes import _DICT, _LIST, _STR, TENSOR_METHODS
        self.common = functions | TENSOR_METHODS | _LIST | _DICT | _STR | {"name", "numel"}
        self.all = None

    def __contains__(self, name) -> bool:
        return name in self.common or name in self._everything()

    def __iter__(self):
        return iter(self._everything())

    def _everything(self) -> frozenset:
        if self.all is None:
            out = set(self.common)
            for module in _modules().values():
                out.update(module.members)
            self.all = frozenset(out)
        return self.all


_MODULES: dict = {}


def _modules() -> dict:
    if not _MODULES:
        from . import torchns
        _MODULES.update(torchns.build({"grad": _no_hook("grad"),
                                       "backward": _no_hook("backward")}))
    return _MODULES


def _no_hook(name):
    def refuse(*args, **kwargs):
        raise InputError(f"torch.autograd.{name}() in a grad program: write {name}(...)")
    refuse.__name__ = name
    return refuse


MODULE_NAMES = {"torch": "torch", "F": "torch.nn.functional", "nn": "torch.nn"}
_BUILTINS: dict = {}


def _grad_builtins() -> dict:
    """The names every grad program can use (the torch modules come on first use)."""
    if not _BUILTINS:
        from .pybuiltins import python_builtins
        py = python_builtins()
        _BUILTINS.update({name: py[name] for name in (
            "print", "range", "len", "int", "float", "str", "bool", "list", "tuple",
            "enumerate", "zip", "isinstance", "round", "repr", "type")})
        _BUILTINS.update({name: GradFunction(name) for name in FUNCTIONS})
        _BUILTINS.update(CONSTANTS)
        _BUILTINS.update({"True": True, "False": False, "None": None})
    return _BUILTINS


class GradFunction(ScriptCallable):
    """One of gradcli's functions (SPEC 3.2, 3.5): called with the grad dialect's
    argument rules (see :mod:`gradcli.lang.calls`)."""

    __slots__ = ("name",)
    python_name = "builtin_function_or_method"

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<gradcli function {self.name}>"

    def call(self, interp, args: list, kwargs: dict):
        return interp.calls.call(interp.current_call, self.name, args, kwargs)
