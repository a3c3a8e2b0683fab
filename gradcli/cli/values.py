"""Reading values from the command line: ``2``, ``-1.5``, ``nan``, ``[1, 2]``, ``@w.npy``.

Also the ``--NAME VALUE`` bindings that typer passes through as extra arguments.
"""

from __future__ import annotations

import io
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
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".json", ".csv"):
        raise BindError(f"{what}: unsupported file type {suffix or '(none)'!r} for "
                        f"'{path}' (use .npy, .json or .csv)")
    try:
        with open(p, "rb") as fh:
            data = _read_limited(fh, path, what, suffix)
            if suffix == ".npy":
                return _npy(data, path, what)
            text = data.read().decode("utf-8")
        if suffix == ".csv":
            import numpy as np
            return np.loadtxt(io.StringIO(text), delimiter=",", dtype=float, ndmin=0)
        value = json.loads(text, parse_constant=_json_constant)
        return _strings_to_floats(value, what)
    except BindError:
        raise
    except UnicodeDecodeError:
        raise BindError(f"{what}: '{path}' is not UTF-8 text") from None
    except (OSError, ValueError, RecursionError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, RecursionError):
            reason = "nested too deeply"
        raise BindError(f"{what}: cannot read '{path}': {reason}") from None


def _read_limited(fh, path: str, what: str, suffix: str):
    """The open file itself when it is a regular file within MAX_FILE_BYTES; else (a
    FIFO, a device) its bytes, at most MAX_FILE_BYTES of them: a text file with a NUL
    byte, or a .npy file whose header does not parse, is refused at its first block,
    not after reading gigabytes."""
    import os
    import stat
    info = os.fstat(fh.fileno())
    if stat.S_ISDIR(info.st_mode):
        raise BindError(f"{what}: '{path}' is a directory")
    if stat.S_ISREG(info.st_mode):
        if info.st_size > MAX_FILE_BYTES:
            raise BindError(f"{what}: '{path}' is larger than {_size(MAX_FILE_BYTES)}")
        from ..autograd.budget import current
        budget = current()
        if budget is not None:          # (an array takes about its file's size)
            budget.need(info.st_size, f"{what}: loading '{path}'")
        return fh
    out = io.BytesIO()
    need = None                        # a .npy file's whole length, once its header is read
    while True:
        block = fh.read(1 << 20)
        if not block:
            break
        if out.tell() == 0 and suffix != ".npy" and b"\0" in block:
            raise BindError(f"{what}: '{path}' is not a text file (it holds NUL bytes)")
        out.write(block)
        if suffix == ".npy" and need is None and out.tell() >= 16:
            need = _npy_length(out, path, what)
        if out.tell() > MAX_FILE_BYTES or (need is not None and out.tell() >= need):
            break
    if out.tell() > MAX_FILE_BYTES:
        raise BindError(f"{what}: '{path}' is larger than {_size(MAX_FILE_BYTES)}")
    out.seek(0)
    return out


def _size(n: int) -> str:
    return f"{n / 1024 ** 3:g} GiB" if n >= 1024 ** 3 else f"{n / 1024 ** 2:g} MiB"


def _npy_length(buffer: io.BytesIO, path: str, what: str):
    """The length a .npy file must have, from its header (None: header not complete
    yet); raises BindError for a header that is not one."""
    from .npyfile import NpyError, parse_header
    try:
        header = parse_header(buffer.getvalue())
        if header is None:
            return None                              # the header goes on: read more
        itemsize = header.dtype().itemsize
    except NpyError as exc:
        raise BindError(f"{what}: cannot read '{path}': {exc}") from None
    return header.offset + header.count * itemsize if itemsize else None


def _npy(data, path: str, what: str):
    from .npyfile import NpyError, read_array
    try:
        array = read_array(data)
    except NpyError as exc:
        raise BindError(f"{what}: cannot read '{path}': {exc}") from None
    if array.dtype.kind not in "biuf":
        raise BindError(f"{what}: '{path}' holds {array.dtype} data, not numbers")
    return array


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
            if bindings and _PIECE.match(token):   # --x 1 2: an array split or globbed
                last = list(bindings)[-1]
                raise InputError(f"unexpected argument {token!r} after --{last}: to bind an "
                                 f"array, quote it: --{last} \"[1, 2, 3]\"")
            raise InputError(f"unexpected argument {token!r} (bind variables with --NAME VALUE)")
        name, value = match.group(1), match.group(2)
        if value is None:
            if i + 1 >= len(tokens):
                raise InputError(f"--{name}: missing value (e.g. --{name} 2)")
            value = tokens[i + 1]
            i += 1
        if name in bindings:
            raise InputError(f"--{name} is given twice")
        if SPLIT in value or _open_array(value):
            raise BindError(_split_array(name, value.split(SPLIT)))
        bindings[name] = parse_value(value, f"--{name}")
        i += 1
    return program, bindings


SPLIT = "\0"                # joins the pieces of an array the shell split (no argv has NUL)
# what is left of an array split at spaces: numbers (nan, inf too), commas, brackets
_PIECE = re.compile(r"(?:[-+0-9.eE,\[\]\s]|nan|inf(?:inity)?)+\Z", re.IGNORECASE)


def _open_array(value: str) -> bool:
    return value.lstrip().startswith("[") and value.count("[") > value.count("]")


def _split_array(name: str, pieces: list) -> str:
    """The message for an array the shell split at its spaces: ``--x [1, 2, 3]``
    unquoted reaches gradcli as ``[1,`` ``2,`` ``3]`` (protect_bindings joined them)."""
    whole = " ".join(pieces)
    if len(pieces) > 1 and not _open_array(whole):
        return (f"--{name}: the array {whole} reached gradcli split at its spaces "
                f"({', '.join(repr(p) for p in pieces)}); quote it: --{name} \"{whole}\"")
    return (f"--{name}: cannot read {whole!r} as an array: its '[' is never closed (if the "
            f"shell split it at spaces, quote it: --{name} \"[1, 2, 3]\")")


def glob_warnings(extra: list) -> list:
    """Warnings for bindings the shell may have rewritten: bash expands an unquoted
    ``--x [1,2,3]`` to ``--x 1`` when a file named 1 is in the current directory (a
    bracket pattern matches one character's file name)."""
    import os
    out = []
    tokens = list(extra)
    for i, token in enumerate(tokens):
        match = _BINDING.match(token)
        if match is None:
            continue
        value = match.group(2) if match.group(2) is not None else \
            (tokens[i + 1] if i + 1 < len(tokens) else None)
        if value is not None and len(value) == 1 and os.path.exists(value):
            out.append(f"--{match.group(1)} {value}: a file named '{value}' is in this "
                       f"directory; if you typed an array unquoted (--{match.group(1)} "
                       f"[1,2,3]), the shell replaced it by that file's name: quote arrays, "
                       f"--{match.group(1)} \"[1, 2, 3]\"")
    return out


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
        elif _BINDING.match(token) and ("=" in token or i + 1 < len(args)):
            token, eq, value = token.partition("=")
            if not eq:
                value = args[i + 1]
                i += 1
            while _open_array(value) and i + 1 < len(args) and _PIECE.match(args[i + 1]):
                value += SPLIT + args[i + 1]        # --x [1, 2, 3] unquoted: its pieces,
                i += 1                              # kept together for split_bindings
            out.append(f"{token}={value}")
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
