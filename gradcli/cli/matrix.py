"""`gradcli hessian` and `gradcli jacobian`: second derivatives by double backward and
Jacobians by one VJP per output element, each checked against SymPy."""

from __future__ import annotations

import typer

from . import options
from .errors import EXIT_CHECK_FAILED, EXIT_OK, handle_errors, stdout_may_close

HESSIAN_HELP = """The Hessian of a scalar PROGRAM over every variable that requires grad (binding order, tensors flattened), by double backward (create_graph), checked against sympy.hessian. A variable the output does not use gives zero rows.

Exit code: 0 passed, 1 the check failed, 2 bad input.

""" + options.examples('gradcli hessian "x**2*y + sin(x*y)" --x 1 --y 2',
                       'gradcli hessian "sum(w**3)" --w "[1, 2]" --format json')

JACOBIAN_HELP = """The Jacobian of PROGRAM's output (any shape, flattened) over every variable that requires grad, one vector-Jacobian product per output element, checked against SymPy's Jacobian.

Exit code: 0 passed, 1 the check failed, 2 bad input.

""" + options.examples('gradcli jacobian "w @ v" --w "[[1, 2], [3, 4]]" --v "[5, 6]"',
                       'gradcli jacobian "stack([x*y, x + y])" --x 2 --y 3 --format plain')


def register(app: typer.Typer) -> None:
    options.program_command(app, "hessian", hessian, help=HESSIAN_HELP,
                            short_help="The Hessian of a scalar program, checked against SymPy.")
    options.program_command(app, "jacobian", jacobian, help=JACOBIAN_HELP,
                            short_help="The Jacobian of a program's output, checked against "
                            "SymPy.")


def compute(job, kind: str, *, check: bool, rtol: float, atol: float, timeout: float) -> dict:
    """Evaluate the job's program and its Hessian or Jacobian; the JSON-ready object."""
    from ..lang import derivatives
    from .jsonout import array, check_object
    result = job.evaluate(implicit_backward=False)
    constant = _constant_output(result, kind)
    if constant is not None:
        matrix, rows, labels = constant
    elif kind == "hessian":
        matrix, labels = derivatives.hessian(result)
        rows = labels
    else:
        matrix, rows, labels = derivatives.jacobian(result)
    if check:
        from ..check.matrices import check_matrix
        report = check_matrix(result, kind, matrix, rtol=rtol, atol=atol, timeout=timeout)
    else:
        report = {"status": "skipped", "method": "none", "max_abs_err": None, "symbolic": {},
                  "failed": [], "variables": {}, "reason": "--no-check"}
    obj = {"ok": True, "value": array(result.value), "shape": list(result.shape),
           "grad_fn": result.grad_fn, kind: array(matrix), "variables": labels,
           "check": check_object(report)}
    if kind == "jacobian":
        obj["outputs"] = rows
    return obj, matrix, rows, labels, report


def _constant_output(result, kind: str):
    """An output that uses no variable requiring grad has zero derivatives, as
    torch.autograd.functional.hessian/jacobian give (SPEC 4.3: zero rows); None when
    the output does use one."""
    import numpy as np

    from ..autograd.tensor import Tensor
    from ..errors import AutogradError
    from ..lang import derivatives
    out = result.output
    if isinstance(out, Tensor) and out.requires_grad:
        return None
    if result.value is None:
        why = getattr(result, "none_reason", None)          # e.g. x.grad read too early
        raise AutogradError("the program has no output to differentiate"
                            + (f": its value is None ({why})" if why else ""))
    found = derivatives.variables(result)
    labels = derivatives.labels(found)
    size = int(np.size(result.value))
    if kind == "hessian":
        if size != 1:
            raise AutogradError(f"the Hessian needs a scalar output; this one has shape "
                                f"{list(np.shape(result.value))} (use jacobian, or sum() it)")
        return np.zeros((len(labels), len(labels))), labels, labels
    outputs = ["out"] if np.ndim(result.value) == 0 else [
        f"out[{','.join(map(str, idx))}]" for idx in np.ndindex(np.shape(result.value))]
    return np.zeros((size, len(labels))), outputs, labels


def _run(ctx, kind, program, file, var, const, wrt, of, dtype, check, rtol, atol,
         check_timeout, output_format, quiet):
    from .common import build_job, check_options
    check_options(rtol, atol, check_timeout, output_format)
    job = build_job(program, ctx.args, file=file, var=var, const=const, wrt=wrt, of=of,
                    dtype=dtype)
    obj, matrix, rows, labels, report = compute(job, kind, check=check, rtol=rtol, atol=atol,
                                                timeout=check_timeout)
    job.warn(None, quiet)               # (an unused variable is a documented zero row)
    if not quiet:
        with stdout_may_close():
            _print(job.text, kind, output_format, obj, matrix, rows, labels, report)
    raise typer.Exit(EXIT_CHECK_FAILED if report["status"] == "failed" else EXIT_OK)


def _print(text, kind, output_format, obj, matrix, rows, labels, report) -> None:
    import sys
    if output_format == "json":
        from .jsonout import dumps
        sys.stdout.write(dumps(obj) + "\n")
    elif output_format == "plain":
        from .common import plain_value
        sys.stdout.write("".join(f"{r} " + " ".join(plain_value(v) for v in row) + "\n"
                                 for r, row in zip(rows, matrix)))
    else:
        _table(text, kind, obj, matrix, rows, labels, report)


def _table(text, kind, obj, matrix, rows, labels, report) -> None:
    import numpy as np

    from . import render
    con = render.console()
    value = np.asarray(obj["value"], dtype=float)   # JSON data ("NaN" strings read back)
    con.print(render.header([
        ("program", render.program_text(text)),
        ("output", f"{render._escape(render.fmt_value(value))}   "
                   f"shape {render.fmt_shape(obj['shape'])}   grad_fn {obj['grad_fn']}")]))
    con.print()
    limit = 12
    table = render._table(kind.capitalize(), "", *[render._escape(c) for c in labels[:limit]],
                          *(["…"] if len(labels) > limit else []))
    for name, row in list(zip(rows, matrix))[:limit]:
        cells = [render.fmt_number(v) for v in row[:limit]]
        table.add_row(render._escape(name), *cells, *(["…"] if len(labels) > limit else []))
    if len(rows) > limit:
        table.add_row(f"… {len(rows) - limit} more rows", *[""] * min(len(labels), limit))
    con.print(table)
    con.print()
    for line in render.check_lines(report):
        con.print(line)


def _command(kind: str):
    """The hessian or jacobian command: the same options, one differing line."""
    @handle_errors
    def command(ctx: typer.Context, program: options.Program = None,
                file: options.File = None,
                var: options.Var = [], const: options.Const = [],  # noqa: B006
                wrt: options.Wrt = None, of: options.Of = None,
                dtype: options.Dtype = "float64", check: options.Check = True,
                rtol: options.Rtol = 1e-7, atol: options.Atol = 1e-9,
                check_timeout: options.CheckTimeout = 5.0,
                output_format: options.Format = "table",
                quiet: options.Quiet = False) -> None:
        _run(ctx, kind, program, file, var, const, wrt, of, dtype, check, rtol, atol,
             check_timeout, output_format, quiet)
    command.__name__ = command.__qualname__ = kind
    return command


hessian = _command("hessian")
jacobian = _command("jacobian")
