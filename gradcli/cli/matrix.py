"""`gradcli hessian` and `gradcli jacobian`: second derivatives by double backward and
Jacobians by batched VJPs (one backward per chunk of output elements), each checked
against SymPy."""

from __future__ import annotations

import typer

from . import options
from .errors import EXIT_CHECK_FAILED, EXIT_OK, handle_errors, stdout_may_close

HESSIAN_HELP = """The Hessian of a scalar PROGRAM over every variable that requires grad (binding order, tensors flattened), by double backward (create_graph), checked against sympy.hessian. A variable the output does not use gives zero rows.

Exit code: 0 passed, 1 the check failed, 2 bad input.

""" + options.examples('gradcli hessian "x**2*y + sin(x*y)" --x 1 --y 2',
                       'gradcli hessian "sum(w**3)" --w "[1, 2]" --format json')

JACOBIAN_HELP = """The Jacobian of PROGRAM's output (any shape, flattened) over every variable that requires grad, by vector-Jacobian products of one-hot upstreams batched into one backward pass (chunked), checked against SymPy's Jacobian.

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
    from .terminal import Terminal
    term = Terminal()
    if output_format == "json":
        term.json(obj)
    elif output_format == "plain":
        from .common import plain_value
        # a header line labels the columns; '#' in the row labels' column (a comment
        # line to awk, numpy.loadtxt and gnuplot)
        term.out("# " + " ".join(labels) + "\n" if labels else "#\n")
        term.out("".join(f"{r} " + " ".join(plain_value(v) for v in row) + "\n"
                         for r, row in zip(rows, matrix)))
    else:
        _table(text, kind, obj, matrix, rows, labels, report)


EDGE = 6        # a long side of the matrix shows its first and last EDGE entries


def _shown(n: int) -> list:
    """Indices shown along a side of length n (None: the gap)."""
    return list(range(n)) if n <= 2 * EDGE else \
        [*range(EDGE), None, *range(n - EDGE, n)]


def _table(text, kind, obj, matrix, rows, labels, report) -> None:
    import numpy as np

    from ..autograd.tensor_str import PrintOptions, format_elements
    from . import layout, render
    con = render.console()
    width = con.width
    value = np.asarray(obj["value"], dtype=float)   # JSON data ("NaN" strings read back)
    con.print(render.header([
        ("program", render.program_text(text)),
        ("output", render.output_text(value, obj["shape"], obj["grad_fn"], width))]))
    con.print()
    matrix = np.asarray(matrix)
    row_ids, col_ids = _shown(matrix.shape[0]), _shown(matrix.shape[1])
    shown = matrix[np.ix_([i for i in row_ids if i is not None],
                          [j for j in col_ids if j is not None])]
    texts = np.array(format_elements(shown, options=PrintOptions(
        precision=layout._precision[0])), dtype=object).reshape(shown.shape) \
        if shown.size else np.zeros(shown.shape, dtype=object)
    first = max([1] + [len(rows[i]) for i in row_ids if i is not None])
    widths = [1 if j is None else max(len(labels[j]), max(
        (len(t) for t in texts[:, _col_index(col_ids, j)]), default=1)) for j in col_ids]
    for chunk in _chunks(widths, width - first):
        cols = [col_ids[k] for k in chunk]
        title = kind.capitalize()
        if len(chunk) < len(col_ids):
            named = [labels[j] for j in cols if j is not None]
            title += f" (columns {named[0]} to {named[-1]})" if named else ""
        table = render._table(title, ("", {"no_wrap": True}),
                              *[("…" if j is None else render._escape(labels[j]),
                                 {"justify": "right", "no_wrap": True}) for j in cols])
        r = 0
        for i in row_ids:
            if i is None:
                table.add_row("⋮", *["⋮"] * len(cols))
                continue
            table.add_row(render._escape(rows[i]),
                          *["…" if j is None else texts[r, _col_index(col_ids, j)]
                            for j in cols])
            r += 1
        con.print(table, crop=False)
        con.print()
    if None in row_ids or None in col_ids:
        con.print(f"[dim]{matrix.shape[0]}x{matrix.shape[1]}: the first and last {EDGE} rows "
                  f"and columns shown; --format json has every entry[/]")
        con.print()
    for line in render.check_lines(report):
        con.print(line)


def _col_index(ids: list, j: int) -> int:
    """Position of column j among the shown ones (the gap not counted)."""
    return [i for i in ids if i is not None].index(j)


def layout_gap() -> int:
    from .layout import GAP
    return GAP


def _chunks(widths: list, room: int) -> list:
    """Consecutive column positions, as many to a chunk as fit ``room`` (at least one)."""
    chunks, current, used = [], [], 0
    for k, w in enumerate(widths):
        need = w + layout_gap()
        if current and used + need > room:
            chunks.append(current)
            current, used = [], 0
        current.append(k)
        used += need
    if current:
        chunks.append(current)
    return chunks


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
                precision: options.Precision = None,
                quiet: options.Quiet = False,
                max_memory: options.MaxMemory = None) -> None:
        from .common import memory_budget
        from .layout import set_precision
        set_precision(precision)
        ctx.with_resource(memory_budget(max_memory))
        _run(ctx, kind, program, file, var, const, wrt, of, dtype, check, rtol, atol,
             check_timeout, output_format, quiet)
    command.__name__ = command.__qualname__ = kind
    return command


hessian = _command("hessian")
jacobian = _command("jacobian")
