"""The `gradcli` command: a typer app with one small module per command.

Kept cheap to import: commands import what they need when they run, so
`gradcli --help` loads neither numpy-heavy code nor sympy.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from . import batch, grad, graph, matrix, ops, run

app = typer.Typer(
    name="gradcli",
    help="A gradient calculator with PyTorch's autograd semantics, checked against SymPy.\n\n"
         "[bold]Example[/]: gradcli grad \"(x1*x2+x3)**2\" --x1 2 --x2 3 --x3 1",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gradcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Show the version and exit.")] = False) -> None:
    """gradcli: gradients you can trust, and a look at how backward() really works."""


for _command in (grad, run, ops, matrix, batch, graph):
    _command.register(app)


def main() -> None:
    import os
    if os.environ.get("NO_COLOR"):        # typer's help too: no escape codes at all
        import typer.rich_utils
        typer.rich_utils.COLOR_SYSTEM = None
    app(prog_name="gradcli")
