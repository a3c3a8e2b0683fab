"""`gradcli graph`: the autograd graph of a program as a tree, DOT, Mermaid or a picture."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import options
from .errors import handle_errors, stdout_may_close

EXAMPLES = options.examples(
    'gradcli graph "(x1*x2+x3)**2" --x1 2 --x2 3 --x3 1',
    'gradcli graph "(x1*x2+x3)**2" --x1 2 --x2 3 --x3 1 --no-backward',
    'gradcli graph "sum(tanh(w @ x + b)**2)" --w @w.npy --x @x.npy --b @b.npy',
    'gradcli graph "x*y + x" --x 2 --y 3 --dot | dot -Tpng -o graph.png',
    'gradcli graph "x*y + x" --x 2 --y 3 -o graph.svg',
    'gradcli graph "x*y + x" --x 2 --y 3 --mermaid >> README.md')

HELP = f"""Show the autograd graph of PROGRAM, from the output down to the leaves.

Each node shows its name (or %n), grad_fn, shape and value, and after backward its gradient. A leaf that requires grad feeds an AccumulateGrad sink: that is where backward adds into .grad. Bind variables as for [bold]gradcli grad[/] (--NAME VALUE).

[bold]--dot[/] prints Graphviz DOT in torchviz's style (grad_fn boxes, leaves light blue, the output light green, constants grey), [bold]--mermaid[/] a Mermaid flowchart for Markdown; [bold]-o FILE[/] renders .svg, .png or .pdf with Graphviz's dot (or writes .dot / .mmd text).

{EXAMPLES}"""

NO_DOT = ("Graphviz 'dot' was not found: install it (Debian/Ubuntu: apt install graphviz; "
          "macOS: brew install graphviz) or use --dot to print the DOT text")
RENDERED = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "ps")

Opt = typer.Option


def register(app: typer.Typer) -> None:
    options.program_command(app, "graph", graph, help=HELP)


@handle_errors
def graph(
    ctx: typer.Context,
    program: options.Program = None,
    file: options.File = None,
    var: options.Var = [],  # noqa: B006 - typer reads the default, never mutates it
    const: options.Const = [],  # noqa: B006
    wrt: options.Wrt = None,
    of: Annotated[Optional[str], Opt("--of", metavar="NAME", help="Show the graph of this "
                                     "variable instead of the last value.")] = None,
    upstream: options.Upstream = None,
    dtype: options.Dtype = "float64",
    dot: Annotated[bool, Opt("--dot", help="Print Graphviz DOT.")] = False,
    mermaid: Annotated[bool, Opt("--mermaid", help="Print a Mermaid flowchart.")] = False,
    output: Annotated[Optional[str], Opt("--output", "-o", metavar="FILE",
                                         help="Write the graph to FILE: .svg, .png, .pdf "
                                         "(rendered by Graphviz dot), .dot or .mmd.")] = None,
    no_backward: Annotated[bool, Opt("--no-backward", help="Show the graph as it is before "
                                     "backward: no gradients, and no --upstream needed "
                                     "for a non-scalar output.")] = False,
    retain_grad: Annotated[bool, Opt("--retain-grad", help="Also show every intermediate "
                                     "gradient.")] = False,
    full_graph: options.FullGraph = False,
) -> None:
    from ..errors import InputError
    from .common import build_job

    if dot and mermaid:
        raise InputError("give either --dot or --mermaid, not both")
    target = _output_kind(output) if output is not None else None
    job = build_job(program, ctx.args, file=file, var=var, const=const, wrt=wrt, of=of,
                    upstream=upstream, dtype=dtype)
    # --no-backward: the graph as the forward pass left it (a program's own backward()
    # calls still run: they are statements of the program)
    result = job.evaluate(retain_grad=retain_grad, implicit_backward=not no_backward)
    job.warn(result)

    from . import graphview
    from .terminal import Terminal
    term = Terminal()
    structure = graphview.Structure(result)
    show_grad = not no_backward
    if output is not None:
        text = graphview.mermaid(structure, show_grad=show_grad) if target == "mmd" else \
            graphview.dot(structure, show_grad=show_grad)
        _write(output, target, text)
        term.err(f"wrote {output}\n")
    with stdout_may_close():
        if dot:
            term.out(graphview.dot(structure, show_grad=show_grad))
        elif mermaid:
            term.out(graphview.mermaid(structure, show_grad=show_grad))
        elif output is None:
            _print_tree(structure, result, job, show_grad, full_graph)


def _output_kind(path: str) -> str:
    from ..errors import InputError
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix in RENDERED:
        return suffix
    if suffix in ("dot", "gv"):
        return "dot"
    if suffix in ("mmd", "mermaid"):
        return "mmd"
    raise InputError(f"-o {path}: cannot tell the format from the file name; use .svg, .png "
                     "or .pdf (rendered by Graphviz dot), .dot or .mmd")


def _write(path: str, kind: str, text: str) -> None:
    import shutil
    import subprocess

    from ..errors import InputError
    if kind in ("dot", "mmd"):
        try:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"-o: cannot write '{path}': {exc.strerror or exc}") from None
        return
    exe = shutil.which("dot")
    if exe is None:
        raise InputError(NO_DOT)
    try:
        done = subprocess.run([exe, f"-T{kind}", "-o", path], input=text.encode("utf-8"),
                              capture_output=True, check=False)
    except OSError as exc:
        raise InputError(f"{NO_DOT} ({exc.strerror or exc})") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise InputError(f"Graphviz 'dot' could not render {path}: {message}")


def _print_tree(structure, result, job, show_grad: bool, full: bool) -> None:
    from rich.text import Text

    from . import graphview, render
    from .common import upstream_text
    con = render.console()
    upstream = upstream_text(result) if show_grad else "not shown (--no-backward)"
    for line in render.header_lines(job.text, result, upstream):
        con.print(line)
    con.print()
    for item in graphview.tree(structure, show_grad=show_grad, full=full, width=con.width):
        con.print(item)
    con.print(Text("AccumulateGrad (leaf): backward adds the leaf's gradient into its .grad",
                   style="dim"))
