"""Reading values from the command line: ``2``, ``-1.5``, ``nan``, ``[1, 2]``, ``@w.npy``.

Also the ``--NAME VALUE`` bindings that typer passes through as extra arguments.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from ..errors import BindError, InputError

_NONFINITE = {"nan": math.nan, "+nan": math.nan, "-nan": math.nan, "inf": math.inf,
              "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
              "+infinity": math.inf, "-infinity": -math.inf}
_BARE_TOKEN = re.compile(r'(?<!["\w.])([+-]?(?:nan|inf(?:inity)?))(?![\w"])', re.IGNORECASE)
_BINDING = re.compile(r"--([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?\Z", re.DOTALL)
MAX_FILE_BYTES = 2 * 1024 ** 3


def _json_constant(text: str) -> float:
    return _NONFINITE[text.lower()]


def _strings_to_floats(value, what: str):
    """JSON strings "NaN", "Infinity", "-Infinity" (gradcli's own output) as floats."""
    stack = [value]
    if isinstance(value, str):
        return _from_string(value, what)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            for i, v in enumerate(item):
                if isinstance(v, str):
                    item[i] = _from_string(v, what)
                elif isinstance(v, list):
                    stack.append(v)
    return value


def _from_string(text: str, what: str) -> float:
    key = text.strip().lower()
    if key in _NONFINITE:
        return _NONFINITE[key]
    raise BindError(f"{what}: {text!r} is not a number")


def parse_value(text: str, what: str):
    """A number or (nested) list of numbers from its command-line spelling."""
    s = text.strip()
    if not s:
        raise BindError(f"{what}: empty value")
    if s.startswith("@"):
        if not s[1:].strip():
            raise BindError(f"{what}: '@' needs a file name, e.g. @w.npy (.npy, .json, .csv)")
        return load_file(s[1:], what)
    if s.lower() in _NONFINITE:
        return _NONFINITE[s.lower()]
    if s[0] in "[":
        try:
            value = json.loads(_BARE_TOKEN.sub(lambda m: f'"{m.group(1)}"', s),
                               parse_constant=_json_constant)
        except ValueError as exc:
            raise BindError(f"{what}: cannot read {text!r} as an array: {exc}") from None
        return _strings_to_floats(value, what)
    try:
        return float(s)
    except ValueError:
        raise BindError(f"{what}: {text!r} is not a number, an array like [1, 2], or "
                        "@file (.npy, .json, .csv)") from None


def load_file(path: str, what: str):
    import numpy as np

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".json", ".csv"):
        raise BindError(f"{what}: unsupported file type {suffix or '(none)'!r} for "
                        f"'{path}' (use .npy, .json or .csv)")
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise BindError(f"{what}: '{path}' is larger than 2 GiB")
        if suffix == ".npy":
            array = np.load(p, allow_pickle=False)
            if array.dtype.kind not in "biuf":
                raise BindError(f"{what}: '{path}' holds {array.dtype} data, not numbers")
            return array
        if suffix == ".csv":
            return np.loadtxt(p, delimiter=",", dtype=float, ndmin=0)
        with open(p, encoding="utf-8") as fh:
            value = json.load(fh, parse_constant=_json_constant)
        return _strings_to_floats(value, what)
    except BindError:
        raise
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BindError(f"{what}: cannot read '{path}': {reason}") from None


def parse_assignment(text: str, option: str) -> tuple:
    """``NAME=VALUE`` of --var, --const and --expect."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise InputError(f"{option} expects NAME=VALUE, got {text!r}")
    return name, parse_value(value, f"{option} {name}")


def split_bindings(program, extra: list) -> tuple:
    """Separate ``--NAME VALUE`` / ``--NAME=VALUE`` bindings from the program argument.

    typer hands over unknown options untouched; a program given after the bindings
    (``gradcli grad --x 2 "x**2"``) is found too.
    """
    tokens = list(extra)
    if program is not None and _BINDING.match(program):
        tokens.insert(0, program)
        program = None
    bindings: dict = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        match = _BINDING.match(token)
        if match is None:
            if program is None and not token.startswith("--"):
                program = token
                i += 1
                continue
            # protect_bindings moved single-dash tokens to the end: name one of them first
            dashed = next((t for t in tokens[i:] if t.startswith("-") and len(t) > 1
                           and not t.startswith("--")), None)
            if dashed is not None:
                raise InputError(f"unexpected argument {dashed!r}: bind variables with "
                                 "--NAME VALUE (a negative number needs its --NAME before it)")
            raise InputError(f"unexpected argument {token!r} (bind variables with --NAME VALUE)")
        name, value = match.group(1), match.group(2)
        if value is None:
            if i + 1 >= len(tokens):
                raise InputError(f"--{name}: missing value (e.g. --{name} 2)")
            value = tokens[i + 1]
            i += 1
        if name in bindings:
            raise InputError(f"--{name} is given twice")
        bindings[name] = parse_value(value, f"--{name}")
        i += 1
    return program, bindings


# -- keeping click's option parser away from values and programs -----------------------------

from typer.core import TyperCommand  # noqa: E402  (typer is loaded whenever the CLI runs)


def protect_bindings(args: list, options: dict) -> list:
    """Rewrite a command line so that click's parser leaves values and programs alone.

    click reads any token that starts with '-' as options: ``--x -inf`` would become the
    flags ``-i -n`` and ``-f`` (--file!), and the program ``"-sqrt(x)"`` would turn on
    ``-q``.  ``options`` maps every option string of the command to whether it takes a
    value.  A binding ``--NAME VALUE`` becomes ``--NAME=VALUE`` (one token, passed through
    untouched), a known option keeps its value, and any other token starting with '-'
    (a program like ``-x**2``) goes after ``--``, where click takes it as an argument.
    """
    out, loose = [], []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            out.extend(["--", *loose, *args[i + 1:]])
            return out
        name = token.split("=", 1)[0] if token.startswith("--") else token
        if name in options:
            out.append(token)
            if options[name] and "=" not in token and i + 1 < len(args):
                out.append(args[i + 1])
                i += 1
        elif _BINDING.match(token) and "=" not in token and i + 1 < len(args):
            out.append(f"{token}={args[i + 1]}")
            i += 1
        elif token.startswith("-") and not token.startswith("--") and len(token) > 1:
            loose.append(token)
        else:
            out.append(token)
        i += 1
    return out + (["--", *loose] if loose else [])


class BindingCommand(TyperCommand):
    """A command taking ``--NAME VALUE`` bindings (grad, hessian, jacobian, graph)."""

    def parse_args(self, ctx, args: list) -> list:
        options = {}
        for param in self.get_params(ctx):
            takes_value = not (getattr(param, "is_flag", False) or getattr(param, "count", False))
            for opt in [*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())]:
                if opt.startswith("-"):
                    options[opt] = takes_value
        return super().parse_args(ctx, protect_bindings(list(args), options))
