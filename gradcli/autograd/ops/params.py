"""Parameter lists of op-table entries, written once as text::

    "input, negative_slope: number = 0.01"
    "input, dim: dims = None, keepdim: bool = False"
    "input, target: index, weight: const? = None, reduction: str{none|mean|sum} = 'mean'"
    "input, *shape: ints"

A parameter without a kind is a tensor.  Kinds:

=========  =============================================================================
tensor     a tensor input (an edge of the node); numbers and lists become constants
tensor?    the same, or None
scalar     a tensor, or a Python number kept as a number (``xlogy(x, 2.0)``)
tensors    a list of tensors (``stack``, ``cat``)
number     a Python float (a one-element tensor is read with ``item()``); ``number?``
           may be None
int        a Python int
dim        one dimension of the first tensor (negative counts from the end)
dims       one dimension, or a list of them, or None (every dimension)
ints       integers: ``reshape(x, 2, 3)`` or ``reshape(x, [2, 3])`` (with ``*``)
bool       True or False
str{a|b}   one of the strings listed
index      integers as an int64 array: class indices, gather's index (never an edge)
mask       booleans as a bool array (``where``'s condition; never an edge)
const      a constant array PyTorch does not differentiate (a loss's class weights)
any        passed through unchanged (a dtype, ``p='fro'``, ...)
=========  =============================================================================

Defaults are Python literals: numbers, ``None``, ``True``/``False``, ``inf``, quoted
strings, ``()`` (amax's dim: every dimension).  A default is written here only;
forwards, VJPs and SymPy counterparts get every parameter filled in.
"""

from __future__ import annotations

import math

TENSOR_KINDS = frozenset(("tensor", "tensor?", "scalar", "tensors"))
KINDS = TENSOR_KINDS | frozenset(("number", "number?", "int", "int?", "dim", "dims", "ints",
                                  "bool", "str", "index", "mask", "const", "const?", "any"))
REQUIRED = object()      # the default of a parameter that has none


class Param:
    """One parameter: its name, kind, default (REQUIRED when it must be given), the
    strings a ``str`` parameter accepts, and whether it collects extra positionals."""

    __slots__ = ("name", "kind", "default", "choices", "varargs")

    def __init__(self, name, kind, default=REQUIRED, choices=(), varargs=False):
        self.name, self.kind, self.default = name, kind, default
        self.choices, self.varargs = choices, varargs

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def is_tensor(self) -> bool:
        """An input of the node (an edge), rather than a parameter of it."""
        return self.kind in TENSOR_KINDS

    def text(self) -> str:
        """As `gradcli ops` writes it: ``negative_slope=0.01``, ``*shape``."""
        if self.varargs:
            return "*" + self.name
        if self.required:
            return self.name
        default = self.default
        return f"{self.name}={default!r}" if isinstance(default, str) else \
            f"{self.name}={_number_text(default)}"

    def __repr__(self) -> str:
        return f"Param({self.name}: {self.kind})"


def _number_text(v) -> str:
    if isinstance(v, float) and math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


_LITERALS = {"None": None, "True": True, "False": False, "inf": math.inf,
             "-inf": -math.inf, "()": ()}


def _literal(text: str, where: str):
    if text in _LITERALS:
        return _LITERALS[text]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: default {text!r} is not a literal") from None


def parse(spec: str, op_name: str) -> tuple:
    """The Params of a spec (see the module docstring); ValueError says what is wrong."""
    out, seen, optional = [], set(), False
    for part in spec.split(","):
        part = part.strip()
        where = f"op {op_name!r}, parameter {part!r}"
        head, eq, default_text = part.partition("=")
        name, colon, kind = head.partition(":")
        name, kind = name.strip(), kind.strip() or "tensor"
        varargs = name.startswith("*")
        name = name.lstrip("*")
        choices = ()
        if kind.startswith("str{"):
            if not kind.endswith("}"):
                raise ValueError(f"{where}: write str{{a|b|c}}")
            choices, kind = tuple(kind[4:-1].split("|")), "str"
        if kind not in KINDS:
            raise ValueError(f"{where}: unknown kind {kind!r} (one of {sorted(KINDS)})")
        if not name.isidentifier() or name in seen:
            raise ValueError(f"{where}: bad or repeated name {name!r}")
        seen.add(name)
        default = _literal(default_text.strip(), where) if eq else REQUIRED
        if default is REQUIRED and optional and not varargs:
            raise ValueError(f"{where}: a required parameter after one with a default")
        if choices and default is not REQUIRED and default not in choices:
            raise ValueError(f"{where}: default {default!r} is not among {choices}")
        optional = optional or default is not REQUIRED
        out.append(Param(name, kind, default, choices, varargs))
    return tuple(out)


def signature_text(name: str, params) -> str:
    """``leaky_relu(input, negative_slope=0.01)``"""
    return f"{name}({', '.join(p.text() for p in params)})"
