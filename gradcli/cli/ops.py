"""`gradcli ops`: every function a program can use, grouped, with the grad_fn names it
records and its local derivative -- all read from the op table."""

from __future__ import annotations

from typing import Annotated

import typer

from .errors import handle_errors

HELP = """List every operation, grouped: how to call it, the grad_fn PyTorch records for it and its local derivative.

[bold]Examples[/]

  gradcli ops
  gradcli ops --group losses
  gradcli ops --format json | jq '.[] | select(.name == "gelu")'
"""


def register(app: typer.Typer) -> None:
    app.command("ops", help=HELP, short_help="Every operation: syntax, grad_fn and "
                "derivative.")(ops)


def rows() -> list:
    """One row per function of programs, in the table's group order."""
    from ..autograd.ops import REGISTRY
    from ..autograd.ops.checks import symbols_of
    from ..autograd.ops.core import GROUPS, Prose
    order = {g: i for i, g in enumerate(GROUPS)}
    public = [op for op in REGISTRY.values() if not op.internal]
    public.sort(key=lambda op: order[op.group])          # stable: table order within
    return [{"name": op.name, "group": op.group, "syntax": op.syntax,
             "grad_fn": op.grad_fns[0] if op.grad_fns else "",
             "grad_fns": list(op.grad_fns),
             "derivative": [str(d) for d in op.derivative if d is not None],
             "prose": [isinstance(d, Prose) for d in op.derivative if d is not None],
             "inputs": list(symbols_of(op)),
             "tensor_params": [p.name for p in op.tensor_params],
             "torch": sorted(op.api)} for op in public] + _statements()


STATEMENTS_GROUP = "autograd statements and constructors"


def _statements() -> list:
    """The evaluator's own functions (SPEC 3.5): no graph node, a sentence each."""
    from ..autograd.ops.params import signature_text
    from ..lang.functions import FUNCTIONS, STATEMENT_SYNTAX, STATEMENT_TEXT
    out = []
    for name, text in STATEMENT_TEXT.items():
        sig = FUNCTIONS[name]
        syntax = STATEMENT_SYNTAX.get(name) or signature_text(
            name, tuple(sig.kinds[p] for p in sig.params))
        out.append({"name": name, "group": STATEMENTS_GROUP, "syntax": syntax,
                    "grad_fn": "", "grad_fns": [], "derivative": [text], "prose": [True],
                    "inputs": [], "tensor_params": [], "torch": []})
    return out


@handle_errors
def ops(output_format: Annotated[str, typer.Option("--format", metavar="table|json",
                                                   help="Output format.")] = "table",
        group: Annotated[str, typer.Option("--group", metavar="NAME",
                                           help="Only this group (e.g. losses).")] = "") -> None:
    if output_format not in ("table", "json"):
        from ..errors import InputError
        raise InputError(f"--format must be table or json, got {output_format!r}")
    data = rows()
    if group:
        data = [r for r in data if r["group"].startswith(group)]
        if not data:
            from ..autograd.ops.core import GROUPS
            from ..errors import InputError
            raise InputError(f"no group {group!r}: the groups are "
                             f"{', '.join(GROUPS + (STATEMENTS_GROUP,))}")
    if output_format == "json":
        from .terminal import Terminal
        Terminal().json(data)
        return
    from .opslist import render
    render(data)
