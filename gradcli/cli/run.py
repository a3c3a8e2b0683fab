"""`gradcli run`: run a PyTorch autograd script as Python with PyTorch would (SPEC 7)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from . import options
from .errors import EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE, handle_errors
from .options import Atol, MaxMemory, Rtol

EXAMPLES = options.examples("gradcli run tutorial.py", "cat snippet.py | gradcli run -",
                            "gradcli run examples/torch/01_accumulate.py --explain",
                            "gradcli run examples/torch/01_accumulate.py --check")

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
    check: Annotated[bool, typer.Option("--check", help="Cross-check every backward()'s "
                                        "gradients against SymPy; summary on stderr, "
                                        "exit code 1 if one fails.")] = False,
    rtol: Rtol = 1e-7,
    atol: Atol = 1e-9,
    check_timeout: Annotated[float, typer.Option(
        "--check-timeout", metavar="SECONDS", help="Time for the check of one call; "
        "later calls at the same line are then not checked.")] = 30.0,
    check_budget: Annotated[float, typer.Option(
        "--check-budget", metavar="SECONDS", help="Time for all checks of the run; "
        "backward() calls after it are counted as not checked.")] = 60.0,
    max_memory: MaxMemory = None,
) -> None:
    from ..lang.script import format_error, run_script
    from .common import check_options, memory_budget, read_program
    from .terminal import Terminal

    check_options(rtol, atol, check_timeout)
    if not check_budget >= 0:
        from ..errors import InputError
        raise InputError(f"--check-budget must be a number >= 0, got {check_budget:g}")
    text = read_program(None, script)
    filename = "<stdin>" if script == "-" else os.path.abspath(script)   # as Python shows it
    term = Terminal()
    watchers = []
    if explain:
        watchers.append(_Tracer(term))
    if check:
        from ..check.script import ScriptChecker
        checker = ScriptChecker(rtol=rtol, atol=atol, timeout=check_timeout,
                                budget=check_budget)
        watchers.append(checker)
    with memory_budget(max_memory):
        _, error = run_script(text, filename=filename, write=term.out, warn=term.err,
                              watchers=watchers)
    term.flush()
    if error is not None:
        term.err(format_error(error, filename))
        raise typer.Exit(EXIT_USAGE)
    if check:
        term.err("".join(f"{line}\n" for line in checker.summary_lines()))
        if checker.status() == "failed":
            raise typer.Exit(EXIT_CHECK_FAILED)
    raise typer.Exit(EXIT_OK)


class _Tracer:
    """--explain: after each backward() or grad() call of the script, its chain rule."""

    def __init__(self, term):
        from .explain import Explainer
        self.term = term
        self.explainer = Explainer()
        self.on_node = self.explainer.on_node
        self.backward_calls = 0
        self.steps_before = 0           # steps the explainer recorded before this call
        self.stopped_said = False

    def before_call(self, run, kind: str, roots) -> None:
        self.steps_before = len(self.explainer._raw)

    def not_recorded(self, run, kind: str, line: int) -> None:
        from ..autograd.budget import size_text
        if not self.stopped_said:
            self.stopped_said = True
            self.term.out(f"[chain rule of line {line} and later calls: not shown (the "
                          f"record of the script's graph passed "
                          f"{size_text(run.tape.limit)})]\n")

    def after_call(self, run, kind: str, first: int, line: int) -> None:
        from ..lang.result import build_result
        result = build_result(run, None, None)
        steps = self.explainer.steps(result, first=self.steps_before)
        self.explainer.forget(len(self.explainer._raw))     # (printed: their arrays go)
        if kind == "backward":
            self.backward_calls += 1
            text = self.explainer._call_text.get(self.backward_calls, "backward()")
        else:
            text = f"line {line}: {run.code_at(line) or 'grad()'}"
        lines = [f"[chain rule of {text}]"] + self.explainer.plain_lines(steps, limit=None)
        self.term.out("\n".join(lines) + "\n")
