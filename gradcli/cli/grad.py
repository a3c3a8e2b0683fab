"""`gradcli grad`: evaluate a program, run backward, show and check the gradients."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer


from .errors import EXIT_CHECK_FAILED, EXIT_OK, handle_errors

EXAMPLES = """
[bold]Examples[/]

  gradcli grad "(x1*x2+x3)**2" --x1 2 --x2 3 --x3 1
  gradcli grad "x**2" --x "[1, 2, 3]" --upstream ones
  gradcli grad "y = x**2; z = x; backward(y); backward(z)" --x 2      [dim]# accumulation[/]
  gradcli grad "y = x**3; dy = grad(y, x, create_graph=True); grad(dy, x)" --x 2
  gradcli grad "sum(tanh(w @ x + b)**2)" --w @w.npy --x @x.npy --b @b.npy --format json
  gradcli grad "x**2 + 3*x + 1" --x 2 --expect x=7 -q && echo ok
"""

HELP = f"""Differentiate PROGRAM at a point and check the result against SymPy.

Bind each variable with [bold]--NAME VALUE[/]: a number (-1.5, nan, inf), a JSON array
("[[1, 2], [3, 4]]") or @FILE (.npy, .json, .csv). Bound variables require grad unless
given with --const or left out of --wrt. Exit code: 0 passed, 1 a check or --expect
failed, 2 bad input.
{EXAMPLES}"""

Opt = typer.Option


def register(app: typer.Typer) -> None:
    app.command("grad", help=HELP, context_settings={
        "allow_extra_args": True, "ignore_unknown_options": True})(grad)


@handle_errors
def grad(
    ctx: typer.Context,
    program: Annotated[Optional[str], typer.Argument(
        help="The program, e.g. \"(x1*x2+x3)**2\"; bindings --NAME VALUE follow.",
        show_default=False)] = None,
    file: Annotated[Optional[str], Opt("--file", "-f", help="Read the program from a file "
                                       "('-' for stdin).")] = None,
    var: Annotated[List[str], Opt("--var", metavar="NAME=VALUE", help="Bind a variable whose "
                                  "name clashes with an option.")] = [],  # noqa: B006
    const: Annotated[List[str], Opt("--const", metavar="NAME=VALUE", help="Bind a constant "
                                    "(requires_grad=False).")] = [],  # noqa: B006
    wrt: Annotated[Optional[str], Opt("--wrt", metavar="A,B", help="Only these variables "
                                      "require grad.")] = None,
    of: Annotated[Optional[str], Opt("--of", metavar="NAME", help="Differentiate this "
                                     "variable instead of the last value.")] = None,
    upstream: Annotated[Optional[str], Opt("--upstream", "--gradient", metavar="VALUE",
                                           help="Gradient of a non-scalar output, or "
                                           "'ones'.")] = None,
    retain_grad: Annotated[bool, Opt("--retain-grad", help="Retain and show every "
                                     "intermediate gradient.")] = False,
    check: Annotated[bool, Opt("--check/--no-check", help="Cross-check against "
                               "SymPy.")] = True,
    rtol: Annotated[float, Opt("--rtol", help="Relative tolerance of checks.")] = 1e-7,
    atol: Annotated[float, Opt("--atol", help="Absolute tolerance of checks.")] = 1e-9,
    check_timeout: Annotated[float, Opt("--check-timeout", metavar="SECONDS",
                                        help="Time budget of the symbolic check before "
                                        "falling back to finite differences.")] = 5.0,
    expect: Annotated[List[str], Opt("--expect", metavar="NAME=VALUE", help="Assert a "
                                     "gradient (repeatable).")] = [],  # noqa: B006
    output_format: Annotated[str, Opt("--format", metavar="table|json|plain",
                                      help="Output format.")] = "table",
    explain: Annotated[bool, Opt("--explain", help="Show the chain rule node by node in "
                                 "backward order.")] = False,
    full_graph: Annotated[bool, Opt("--full-graph", help="Show every node of a long "
                                    "graph.")] = False,
    quiet: Annotated[bool, Opt("--quiet", "-q", help="Print nothing; only the exit "
                               "code.")] = False,
    dtype: Annotated[str, Opt("--dtype", metavar="float64|float32",
                              help="Floating-point type of tensors.")] = "float64",
) -> None:
    from ..check import check_expectations, run_check
    from ..errors import InputError
    from .common import FORMATS, build_job
    from .values import parse_assignment

    if output_format not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got {output_format!r}")
    job = build_job(program, ctx.args, file=file, var=var, const=const, wrt=wrt, of=of,
                    upstream=upstream, dtype=dtype)
    expectations = dict(parse_assignment(e, "--expect") for e in expect)
    result = job.evaluate(retain_grad=retain_grad)
    if check:
        report = run_check(result, rtol=rtol, atol=atol, timeout=check_timeout)
    else:
        report = {"status": "skipped", "method": "none", "max_abs_err": None,
                  "symbolic": {}, "failed": [], "variables": {}, "reason": "--no-check"}
    if expectations:
        report["expect"] = check_expectations(result.grads, expectations, rtol, atol)
        report["failed"] = report["failed"] + [
            n for n, e in report["expect"].items() if e["status"] == "failed"
            and n not in report["failed"]]
    failed = report["status"] == "failed" or any(
        e["status"] == "failed" for e in report.get("expect", {}).values())
    if not quiet:
        _print(result, report, job.text, output_format, full_graph)
    raise typer.Exit(EXIT_CHECK_FAILED if failed else EXIT_OK)


def _print(result, report, text, output_format, full_graph) -> None:
    import sys
    if output_format == "json":
        from .jsonout import check_object, dumps, result_object
        sys.stdout.write(dumps(result_object(result, check=check_object(report))) + "\n")
        return
    if output_format == "plain":
        from .common import plain_value
        sys.stdout.write("".join(f"{name} {plain_value(g)}\n"
                                 for name, g in result.grads.items()))
        return
    from . import render
    from .common import upstream_text
    con = render.console()
    for line in render.header_lines(text, result, upstream_text(result)):
        con.print(line)
    con.print()
    if result.grads:
        con.print(render.gradients_table(result, report))
    con.print(render.graph_table(result.graph, full=full_graph))
    con.print(render.leaves_table(result.leaves, full=full_graph))
    for line in render.check_lines(report):
        con.print(line)
