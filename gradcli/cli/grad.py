"""`gradcli grad`: evaluate a program, run backward, show and check the gradients."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

from . import options
from .errors import EXIT_CHECK_FAILED, EXIT_OK, handle_errors, stdout_may_close

EXAMPLES = options.examples(
    'gradcli grad "(x1*x2+x3)**2" --x1 2 --x2 3 --x3 1',
    'gradcli grad "x**2" --x "[1, 2, 3]" --upstream ones',
    'gradcli grad "y = x**2; z = x; backward(y); backward(z)" --x 2',
    'gradcli grad "dy = grad(x**3, x, create_graph=True); grad(dy, x)" --x 2',
    'gradcli grad "sum(tanh(w @ x + b)**2)" --w @w.npy --x @x.npy --b @b.npy',
    'gradcli grad "x**2 + 3*x + 1" --x 2 --expect x=7 -q && echo ok',
    'gradcli grad "cross_entropy(z, [2, 0])" --z "[[1, 2, 3], [0, 1, 0]]"',
    'gradcli grad "sum(where(x > 0, gelu(x), leaky_relu(x)))" --x "[-1, 0.5, 2]"')

HELP = f"""Differentiate PROGRAM at a point and check the result against SymPy.

Bind each variable with [bold]--NAME VALUE[/]: a number (-1.5, nan, inf), a JSON array ("[[1, 2], [3, 4]]") or @FILE (.npy, .json, .csv). Bound variables require grad unless given with --const or left out of --wrt.

Exit code: 0 passed, 1 a check or --expect failed, 2 bad input.

{EXAMPLES}"""


def register(app: typer.Typer) -> None:
    options.program_command(app, "grad", grad, help=HELP)


@handle_errors
def grad(
    ctx: typer.Context,
    program: options.Program = None,
    file: options.File = None,
    var: options.Var = [],  # noqa: B006 - typer reads the default, never mutates it
    const: options.Const = [],  # noqa: B006
    wrt: options.Wrt = None,
    of: options.Of = None,
    upstream: options.Upstream = None,
    retain_grad: Annotated[bool, typer.Option("--retain-grad", help="Retain and show every "
                                              "intermediate gradient.")] = False,
    check: options.Check = True,
    rtol: options.Rtol = 1e-7,
    atol: options.Atol = 1e-9,
    check_timeout: options.CheckTimeout = 5.0,
    expect: Annotated[List[str], typer.Option("--expect", metavar="NAME=VALUE",
                                              help="Assert a gradient (repeatable).")] = [],  # noqa: B006
    output_format: options.Format = "table",
    explain: Annotated[bool, typer.Option("--explain", help="Show the chain rule node by "
                                          "node in backward order.")] = False,
    full_graph: options.FullGraph = False,
    precision: options.Precision = None,
    save_grads: Annotated[Optional[str], typer.Option(
        "--save-grads", metavar="DIR", help="Also write each gradient as DIR/NAME.npy "
        "(created if missing).")] = None,
    quiet: options.Quiet = False,
    dtype: options.Dtype = "float64",
    max_memory: options.MaxMemory = None,
) -> None:
    from ..check import check_expectations, run_check
    from .common import build_job, check_options, memory_budget
    from .values import parse_assignment

    check_options(rtol, atol, check_timeout, output_format)
    ctx.with_resource(memory_budget(max_memory))
    from .layout import set_precision
    set_precision(precision)
    job = build_job(program, ctx.args, file=file, var=var, const=const, wrt=wrt, of=of,
                    upstream=upstream, dtype=dtype)
    expectations = dict(parse_assignment(e, "--expect") for e in expect)
    explainer = None
    if explain:
        from .explain import Explainer
        explainer = Explainer()
    result = job.evaluate(retain_grad=retain_grad,     # (--explain computes with values)
                          on_node=explainer.on_node if explainer else None,
                          keep="all" if explain else "summary")
    job.warn(result, quiet)
    if expectations:
        from ..check.expect import require_known
        require_known(result.grads, expectations, "--expect")
    if check:
        report = run_check(result, rtol=rtol, atol=atol, timeout=check_timeout)
    else:
        report = {"status": "skipped", "method": "none", "max_abs_err": None,
                  "symbolic": {}, "failed": [], "variables": {}, "reason": "--no-check"}
    if expectations:
        from ..check.report import fold_expectations
        report = fold_expectations(report, check_expectations(result.grads, expectations,
                                                              rtol, atol))
    failed = report["status"] == "failed"
    if save_grads is not None:
        from .outputs import save_grads as save
        save(result.grads, save_grads)
    if not quiet:
        with stdout_may_close():
            _print(result, report, job.text, output_format, full_graph, explainer)
    raise typer.Exit(EXIT_CHECK_FAILED if failed else EXIT_OK)


def _print(result, report, text, output_format, full_graph, explainer=None) -> None:
    from .terminal import Terminal
    term = Terminal()
    limit = None if full_graph or output_format == "json" else 10
    steps = explainer.steps(result, limit) if explainer else None
    if output_format == "json":
        from .jsonout import check_object, result_object
        from .outputs import outputs_json
        extra = {"outputs": outputs_json(result), "printed": result.printed}
        if explainer:
            extra["explain"] = steps
        term.json(result_object(result, check=check_object(report), extra=extra))
        return
    if output_format == "plain":
        if result.printed:                  # stdout holds NAME VALUE lines only
            term.err(result.printed)
        from ..check import grad_results
        from .common import plain_value
        unused = set(result.unused or ())       # (warned about on stderr)
        term.out("".join(f"{name} {plain_value(g)}\n"
                         for name, g in result.grads.items() if name not in unused))
        term.out("".join(f"{name} {plain_value(v)}\n" for name, v in grad_results(result)))
        if explainer:
            term.out("".join(f"{line}\n" for line in explainer.plain_lines(steps, limit)))
        return
    from . import render
    from .common import upstream_text
    from .outputs import outputs_table, wanted
    con = term.console()
    if result.printed:
        term.out(result.printed)
        term.flush()
    for line in render.header_lines(text, result, upstream_text(result), width=con.width):
        con.print(line)
    con.print()
    if wanted(result):
        con.print(outputs_table(result))
        con.print()
    if result.grads:
        con.print(render.gradients_table(result, report, width=con.width))
        con.print()
    if report.get("values"):
        con.print(render.values_table(report, width=con.width))
        con.print()
    if explainer:
        explainer.render(con, steps, limit)
    con.print(render.graph_table(result.graph, full=full_graph, width=con.width), crop=False)
    con.print()
    con.print(render.leaves_table(result.leaves, full=full_graph, width=con.width),
              crop=False)
    if render.non_leaves_line(result.leaves):
        con.print(render.non_leaves_line(result.leaves))
    con.print()
    for line in render.check_lines(report):
        con.print(line)
