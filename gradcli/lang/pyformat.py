"""Turning values into text as Python does: str(), repr(), format specs, f-strings,
``str.format`` and ``%``.

Tensors, modules and gradcli's other objects print through their own ``__repr__``
(PyTorch's formats); builtin values through Python's.  ``str.format`` is gradcli's own
(Python's would let a format string read attributes: ``"{0.__class__}"``); format
specs go to Python's ``format()`` only for numbers and strings, with a bounded width.
"""

from __future__ import annotations

import re

from ..autograd.tensor import Tensor
from ..errors import LimitError
from .pyops import ScriptError, is_number, type_name

MAX_WIDTH = 10 ** 6
_SPEC_WIDTH = re.compile(r"(?:.?[<>=^])?[-+ ]?[#]?0?(\d*)[,_]?(?:\.(\d+))?[a-zA-Z%]?\Z")
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}!:]*)(?:!([^{}:]))?(?::((?:[^{}]|\{[^{}]*\})*))?\}|\{|\}")


def to_str(value) -> str:
    if isinstance(value, str):
        return value
    return _host_text(str, value)


def to_repr(value) -> str:
    return _host_text(repr, value)


def _host_text(fn, value) -> str:
    try:
        return fn(value)
    except RecursionError:
        raise ScriptError("RecursionError", "maximum recursion depth exceeded while "
                          "getting the repr of an object") from None
    except ValueError as exc:        # an int over Python's 4300-digit str limit
        raise ScriptError("ValueError", str(exc)) from None


def convert(value, conversion) -> object:
    if conversion == "r":
        return to_repr(value)
    if conversion == "s":
        return to_str(value)
    if conversion == "a":
        return to_repr(value).encode("ascii", "backslashreplace").decode("ascii")
    return value


def format_value(value, spec: str = "", conversion=None) -> str:
    """format(value, spec) after an optional !r/!s/!a conversion."""
    value = convert(value, conversion)
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.item()          # Tensor.__format__: a 0-d tensor formats its item
    if not spec:
        return to_str(value)
    _check_spec(spec)
    if isinstance(value, Tensor):
        raise ScriptError("TypeError", "unsupported format string passed to "
                          "Tensor.__format__")
    if isinstance(value, str) or is_number(value) or value is None:
        try:
            return format(value, spec)
        except (ValueError, TypeError) as exc:
            raise ScriptError(type(exc).__name__, str(exc)) from None
    raise ScriptError("TypeError", f"unsupported format string passed to "
                      f"{type_name(value)}.__format__")


def _check_spec(spec: str) -> None:
    m = _SPEC_WIDTH.match(spec)
    if m is None:
        return                          # format() itself says what is wrong
    for digits in m.groups():
        if digits and (len(digits) > 7 or int(digits) > MAX_WIDTH):
            raise LimitError(f"format width or precision {digits} is over the limit of "
                             f"{MAX_WIDTH}")


def format_method(template: str, args: tuple, kwargs: dict) -> str:
    """``template.format(*args, **kwargs)`` with plain fields only ({}, {0}, {name})."""
    out = []
    auto = 0
    numbering = None            # "automatic" or "manual": Python refuses a mix
    for m in _FIELD.finditer(template):
        text = m.group(0)
        if text in ("{{", "}}"):
            out.append(text[0])
            continue
        if text in ("{", "}"):
            raise ScriptError("ValueError", f"Single '{text}' encountered in format string")
        field, conversion, spec = m.group(1), m.group(2), m.group(3) or ""
        if field == "" or field.isdigit():
            style = "automatic" if field == "" else "manual"
            if numbering not in (None, style):
                raise ScriptError("ValueError", f"cannot switch from {numbering} field "
                                  f"numbering to {style} field specification")
            numbering = style
        if field == "":
            value = _positional(args, auto)
            auto += 1
        elif field.isdigit():
            value = _positional(args, int(field))
        elif field.isidentifier():
            if field not in kwargs:
                raise ScriptError("KeyError", repr(field))
            value = kwargs[field]
        else:
            raise ScriptError("ValueError", f"format field '{{{field}}}': only {{}}, "
                              "{0} and {name} fields are supported")
        if "{" in spec:
            spec = format_method(spec, args, kwargs)
        out.append(format_value(value, spec, conversion))
    # text between fields
    pieces, last = [], 0
    for m, rendered in zip(_FIELD.finditer(template), out):
        pieces.append(template[last:m.start()])
        pieces.append(rendered)
        last = m.end()
    pieces.append(template[last:])
    return "".join(pieces)


def _positional(args: tuple, i: int):
    if i >= len(args):
        raise ScriptError("IndexError", f"Replacement index {i} out of range for "
                          f"positional args tuple")
    return args[i]


def percent(template: str, args) -> str:
    """``template % args`` (printf style): Python's, on plain values."""
    if isinstance(args, tuple):
        values = tuple(_plain(a) for a in args)
    elif isinstance(args, dict):
        values = {k: _plain(v) for k, v in args.items()}
    else:
        values = _plain(args)
    for digits in re.findall(r"%[-+ #0]*(\d*)(?:\.(\d+))?", template):
        _check_spec("".join(digits[:1]) + (f".{digits[1]}" if digits[1] else ""))
    try:
        return template % values
    except (TypeError, ValueError, KeyError) as exc:
        raise ScriptError(type(exc).__name__, str(exc)) from None


def _plain(value):
    """What ``%`` may touch: numbers, strings, tensors; other objects as their text."""
    if isinstance(value, (str, int, float, Tensor)) or value is None:
        return value
    return to_str(value)
