"""The `gradcli` command: a typer app with one small module per command.

Kept cheap to import: commands import what they need when they run, so
`gradcli --help` loads neither numpy-heavy code nor sympy.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from .. import __version__

_SETTINGS = dict(
    name="gradcli",
    help="A gradient calculator with PyTorch's autograd semantics, checked against SymPy.\n\n"
         "[bold]Example[/]: gradcli grad \"(x1*x2+x3)**2\" --x1 2 --x2 3 --x3 1",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
# command name -> the module (gradcli.cli.NAME) that registers it, imported when needed
COMMANDS = {"grad": "grad", "run": "run", "ops": "ops", "hessian": "matrix",
            "jacobian": "matrix", "batch": "batch", "graph": "graph"}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcli {__version__}")
        raise typer.Exit()


def root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Show the version and exit.")] = False) -> None:
    """gradcli: gradients you can trust, and a look at how backward() really works."""


def make_app(command: str | None = None) -> typer.Typer:
    """The app with every command, or with only ``command``'s module: a process runs
    one command, and needs neither the other modules (imported here, on demand) nor
    their options (typer builds a command's options from its signature when the app
    runs, ~3 ms a command)."""
    built = typer.Typer(**_SETTINGS)
    built.callback()(root)
    for name in dict.fromkeys(COMMANDS.values() if command is None
                              else (COMMANDS[command],)):
        importlib.import_module(f"{__package__}.{name}").register(built)
    return built


def __getattr__(name: str):
    """``app``, the app with every command, made on first use (tests, ``--help``)."""
    if name == "app":
        globals()["app"] = made = make_app()
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    import os
    import sys
    if os.environ.get("NO_COLOR"):        # typer's help too: no escape codes at all
        import typer.rich_utils
        typer.rich_utils.COLOR_SYSTEM = None
    command = sys.argv[1] if len(sys.argv) > 1 else None
    make_app(command if command in COMMANDS else None)(prog_name="gradcli")
