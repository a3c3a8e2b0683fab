"""`gradcli run`: run a PyTorch autograd script as Python with PyTorch would (SPEC 7)."""

from __future__ import annotations

from typing import Annotated

import typer

from . import options
from .errors import EXIT_OK, EXIT_USAGE, handle_errors

EXAMPLES = options.examples("gradcli run tutorial.py", "cat snippet.py | gradcli run -",
                            "gradcli run examples/torch/01_accumulate.py --explain")

HELP = f"""Run SCRIPT, a PyTorch autograd script, without PyTorch: it prints what `python SCRIPT` prints with PyTorch 2.13.

The script may use the PyTorch subset of gradcli's SPEC 7: import torch (and torch.nn as nn, torch.optim as optim, torch.nn.functional as F, numpy as np), Python's statements, tensors and their autograd, nn and optim. Errors are PyTorch's, with the script's line and a caret (exit code 2).

{EXAMPLES}"""

MAX_SCRIPT_BYTES = 1_000_000


def register(app: typer.Typer) -> None:
    app.command("run", help=HELP, short_help="Run a PyTorch autograd script without "
                "PyTorch.")(run)


@handle_errors
def run(
    script: Annotated[str, typer.Argument(help="The script file ('-' for standard input).",
                                          show_default=False)],
    explain: Annotated[bool, typer.Option("--explain", help="After each backward(), show "
                                          "the chain rule node by node.")] = False,
) -> None:
    from ..lang.script import format_error, run_script
    from .common import read_program
    from .terminal import Terminal

    text = read_program(None, script)
    filename = "<stdin>" if script == "-" else script
    term = Terminal()
    tracer = _Tracer(term) if explain else None
    _, error = run_script(text, filename=filename, write=term.out, warn=term.err,
                          tracer=tracer)
    term.flush()
    if error is not None:
        term.err(format_error(error, filename))
        raise typer.Exit(EXIT_USAGE)
    raise typer.Exit(EXIT_OK)


class _Tracer:
    """--explain: after each backward() of the script, the chain rule of that call."""

    def __init__(self, term):
        from .explain import Explainer
        self.term = term
        self.explainer = Explainer()
        self.on_node = self.explainer.on_node
        self.calls = 0

    def after_backward(self, result) -> None:
        self.calls += 1
        steps = [s for s in self.explainer.steps(result) if s["call"] == self.calls]
        text = self.explainer._call_text.get(self.calls, "backward()")
        lines = [f"[chain rule of {text}]"] + self.explainer.plain_lines(steps, limit=None)
        self.term.out("\n".join(lines) + "\n")
