"""Options shared by the commands that run a program (grad, hessian, jacobian, graph),
declared once as typed aliases: ``def cmd(file: options.File = None, ...)``."""

from __future__ import annotations

import re
from typing import Annotated, List, Optional

import typer

Opt = typer.Option
FORMATS = ["table", "json", "plain"]        # (completion offers these, not file names)
DTYPES = ["float64", "float32"]

Program = Annotated[Optional[str], typer.Argument(
    help="The program, e.g. \"(x1*x2+x3)**2\"; bindings --NAME VALUE follow.",
    show_default=False)]
File = Annotated[Optional[str], Opt("--file", "-f", help="Read the program from a file "
                                    "('-' for stdin).")]
Var = Annotated[List[str], Opt("--var", metavar="NAME=VALUE", help="Bind a variable whose "
                               "name clashes with an option.")]
Const = Annotated[List[str], Opt("--const", metavar="NAME=VALUE", help="Bind a constant "
                                 "(requires_grad=False).")]
Wrt = Annotated[Optional[str], Opt("--wrt", metavar="A,B", help="Only these variables "
                                   "require grad.")]
Of = Annotated[Optional[str], Opt("--of", metavar="NAME", help="Differentiate this variable "
                                  "instead of the last value.")]
Upstream = Annotated[Optional[str], Opt("--upstream", "--gradient", metavar="VALUE",
                                        help="Gradient of a non-scalar output, or 'ones'.")]
Dtype = Annotated[str, Opt("--dtype", metavar="DTYPE", autocompletion=lambda: DTYPES,
                           help="Floating-point type of tensors: float64 or float32.")]
Check = Annotated[bool, Opt("--check/--no-check", help="Cross-check against SymPy.")]
Rtol = Annotated[float, Opt("--rtol", help="Relative tolerance of checks.")]
Atol = Annotated[float, Opt("--atol", help="Absolute tolerance of checks.")]
CheckTimeout = Annotated[float, Opt("--check-timeout", metavar="SECONDS",
                                    help="Time budget of the symbolic check before falling "
                                    "back to finite differences.")]
Format = Annotated[str, Opt("--format", metavar="FORMAT", autocompletion=lambda: FORMATS,
                            help="Output format: table, json or plain.")]
Quiet = Annotated[bool, Opt("--quiet", "-q", help="Print nothing; only the exit code.")]
Precision = Annotated[Optional[int], Opt("--precision", metavar="N",
                                         help="Decimals of the numbers in tables, 0 to 30 "
                                         "(PyTorch's print precision; default 4).")]
FullGraph = Annotated[bool, Opt("--full-graph", help="Show every node of a long graph.")]
MaxMemory = Annotated[Optional[str], Opt(
    "--max-memory", metavar="SIZE", help="Stop with a clear error, before allocating, when "
    "a step would take the process past SIZE (500M, 2G; 'none': no limit). Default: half "
    "the machine's memory.")]

_MARKUP = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")     # what rich would read as a tag


def examples(*commands: str) -> str:
    """The Examples block of a command's help: each command shown as typed (rich would
    otherwise eat ``[x*y, x + y]`` as markup); each must fit 80 columns."""
    lines = "\n".join("  " + _MARKUP.sub(lambda m: m.group(1) * 2 + "\\" + m.group(2), c)
                      for c in commands)
    return f"[bold]Examples[/]\n\n{lines}\n"


EXTRA_ARGS = {"allow_extra_args": True, "ignore_unknown_options": True}


def program_command(app: typer.Typer, name: str, function, **kw) -> None:
    """Register a command that runs a program: its --NAME VALUE bindings arrive as
    extra arguments, read by values.BindingCommand."""
    from .values import BindingCommand
    app.command(name, context_settings=EXTRA_ARGS, cls=BindingCommand, **kw)(function)
