"""`gradcli ops`: every function a program can use, its grad_fn and its derivative."""

from __future__ import annotations

from typing import Annotated

import typer

from .errors import handle_errors

HELP = """List every operation: how to write it, the grad_fn PyTorch records for it and its local derivative.

[bold]Examples[/]

  gradcli ops
  gradcli ops --format json | jq '.[] | select(.name == "tanh")'
"""


def register(app: typer.Typer) -> None:
    app.command("ops", help=HELP, short_help="Every operation: syntax, grad_fn and "
                "derivative.")(ops)


def rows() -> list:
    from ..autograd.ops import REGISTRY
    out = []
    for op in REGISTRY.values():
        if op.internal:
            continue
        out.append({"name": op.name, "syntax": op.syntax, "grad_fn": op.grad_fn,
                    "derivative": [d for d in op.derivative if d is not None]})
    return out


@handle_errors
def ops(output_format: Annotated[str, typer.Option("--format", metavar="table|json",
                                                   help="Output format.")] = "table") -> None:
    import sys
    if output_format not in ("table", "json"):
        from ..errors import InputError
        raise InputError(f"--format must be table or json, got {output_format!r}")
    data = rows()
    if output_format == "json":
        from .jsonout import dumps
        sys.stdout.write(dumps(data) + "\n")
        return
    from . import render
    table = render._table("Operations", "syntax", "grad_fn", "derivative")
    for r in data:
        table.add_row(render._escape(r["syntax"]), r["grad_fn"],
                      render._escape("; ".join(r["derivative"])))
    render.console().print(table)
