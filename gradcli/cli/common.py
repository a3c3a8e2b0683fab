"""What every program-running command shares: reading the program, the bindings and
the options that shape evaluation, and printing results in the chosen format."""

from __future__ import annotations

import sys
from typing import Optional

from ..errors import InputError
from .values import parse_assignment, parse_value, split_bindings

FORMATS = ("table", "json", "plain")
PROGRAM_HELP = "The program, e.g. \"(x1*x2+x3)**2\" or \"y = x**2; backward(y)\"."


class Job:
    """A program with its bindings and options, ready for gradcli.lang.evaluate."""

    __slots__ = ("text", "bindings", "const", "wrt", "of", "upstream", "dtype", "warnings")

    def __init__(self, text, bindings: dict, const: Optional[dict] = None,
                 wrt: Optional[list] = None, of: Optional[str] = None, upstream=None,
                 dtype: str = "float64"):
        self.text = text                  # program text (or an already parsed Program)
        self.bindings = bindings
        self.const = {} if const is None else const
        self.wrt = wrt
        self.of = of
        self.upstream = upstream
        self.dtype = dtype
        self.warnings: list = []          # for stderr: bindings the shell may have mangled

    def warn(self, result, quiet: bool = False) -> None:
        """The warnings of this run on stderr (none with -q): mangled-looking bindings,
        and bound names the program never uses (a typo, --X for x, or a leftover)."""
        texts = list(self.warnings)
        for name in getattr(result, "unused", None) or ():
            texts.append(f"--{name} is bound but the program never uses {name}")
        if texts and not quiet:
            from .terminal import Terminal
            Terminal().err("".join(f"warning: {t}\n" for t in texts))

    def evaluate(self, **kw):
        from ..lang.evaluator import evaluate
        # (the arrays were parsed or loaded for this run: no copy of them)
        return evaluate(self.text, self.bindings, const=self.const, wrt=self.wrt, of=self.of,
                        upstream=self.upstream, dtype=self.dtype, copy=False, **kw)


def memory_budget(max_memory: Optional[str]):
    """The memory budget of a command (a context manager): --max-memory SIZE, 'none' for
    no limit, else half the machine's memory."""
    import contextlib

    from ..autograd.budget import MemoryBudget, default_limit, parse_size
    if max_memory is not None and max_memory.strip().lower() == "none":
        return contextlib.nullcontext()
    try:
        limit = default_limit() if max_memory is None else parse_size(max_memory)
    except ValueError as exc:
        raise InputError(f"--max-memory: {exc}") from None
    return contextlib.nullcontext() if limit is None else MemoryBudget(limit)


PROGRAM_LIMIT = 1_000_000          # bytes of a program (the parser's limit, SPEC 2)


def read_bounded(stream, where: str) -> str:
    """A program from a text stream, reading at most a little past the limit: the
    rest of a huge (or endless) input is never read."""
    text = stream.read(PROGRAM_LIMIT + 1)
    if len(text) > PROGRAM_LIMIT:
        raise InputError(f"{where}: the program is longer than 1 MB, the limit of a "
                         "program")
    return text


def read_program(program: Optional[str], file: Optional[str]) -> str:
    if file is None:
        if program is None:
            raise InputError("no program given: gradcli grad \"x**2 + 1\" --x 2 "
                             "(or -f FILE)")
        return program
    if program is not None:
        raise InputError(f"give the program either as an argument or with -f, not both "
                         f"(got {program!r} and -f {file})")
    if file == "-":
        if sys.stdin is None:
            raise InputError("-f -: standard input is closed")
        try:
            return read_bounded(sys.stdin, "-f -")
        except UnicodeDecodeError:
            raise InputError("-f -: standard input is not UTF-8 text") from None
    try:
        with open(file, encoding="utf-8") as fh:
            return read_bounded(fh, f"-f {file}")
    except OSError as exc:
        raise InputError(f"-f: cannot read '{file}': {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"-f: '{file}' is not UTF-8 text") from None


def check_options(rtol: float, atol: float, timeout: float, output_format=None) -> None:
    """Refuse option values that would make every check fail or never run."""
    if output_format is not None and output_format not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got {output_format!r}")
    for option, value in (("--rtol", rtol), ("--atol", atol), ("--check-timeout", timeout)):
        if not value >= 0:          # negative or NaN: every check would fail (or not run)
            raise InputError(f"{option} must be a number >= 0, got {value:g}")


def build_job(program, extra_args, *, file=None, var=(), const=(), wrt=None, of=None,
              upstream=None, dtype="float64") -> Job:
    program, bindings = split_bindings(program, extra_args)
    text = read_program(program, file)
    for item in var:
        name, value = parse_assignment(item, "--var")
        if name in bindings:
            raise InputError(f"--var {name}: '{name}' is already bound")
        bindings[name] = value
    consts = {}
    for item in const:
        name, value = parse_assignment(item, "--const")
        consts[name] = value
    wrt_list = None
    if wrt is not None:
        wrt_list = [w.strip() for w in wrt.split(",") if w.strip()]
    up = None
    if upstream is not None:
        up = "ones" if upstream.strip().lower() == "ones" else parse_value(upstream, "--upstream")
    if dtype not in ("float64", "float32"):
        raise InputError(f"--dtype must be float64 or float32, got {dtype!r}")
    job = Job(text, bindings, consts, wrt_list, of, up, dtype)
    from .values import glob_warnings
    job.warnings = glob_warnings(extra_args)
    return job


UPSTREAM_LINES = 8          # the header lists this many backward()/grad() calls at most


def upstream_text(result) -> str:
    """The gradient each backward()/grad() call of the run started from, a line each."""
    from .render import fmt_value
    if result.upstream is not None:
        return fmt_value(result.upstream)
    from ..autograd.events import BackwardEvent, GradEvent, has, of_kind
    calls = [e for e in of_kind(result.events, BackwardEvent, GradEvent)
             if not (e.kind == "backward" and e.implicit)]
    if not calls:
        if not has(result.events, BackwardEvent):
            return "none: no backward() ran"
        return "1 (implicit: scalar output)"
    names = {}
    for row in result.graph:
        names.setdefault(id(row.tensor), row.name.split("@")[0])

    def gradient(tensor) -> str:
        if tensor is None:
            return "1 (scalar output)"
        name = names.get(id(tensor))
        value = fmt_value(tensor.data)
        return value if name is None or name.startswith("%") else f"{name} = {value}"

    lines = []
    for e in calls[:UPSTREAM_LINES]:
        if e.kind == "backward":
            what, start = f"backward from {names.get(id(e.root), '?')}", e.gradient
        else:
            what = f"grad({names.get(id(e.output), '?')}, {names.get(id(e.input), '?')})"
            start = e.grad_outputs
        lines.append(f"{what}: {gradient(start)}")
    if len(calls) > UPSTREAM_LINES:
        lines.append(f"… ({len(calls) - UPSTREAM_LINES:,} more backward()/grad() calls)")
    return "\n".join(lines)


def plain_value(value) -> str:
    from .jsonout import array, dumps
    from .render import fmt_number
    if value is None:
        return "null"
    if getattr(value, "ndim", 0) == 0:
        return fmt_number(value)
    return dumps(array(value))
