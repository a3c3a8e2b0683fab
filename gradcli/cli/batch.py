"""`gradcli batch`: JSON records in (JSON Lines or one array), JSON Lines out.

Streaming in chunks: a chunk closes when it is full or when no more input is waiting,
so output flows while input is still being read and memory stays flat.  Within a
chunk, records that share a program and have plain-number variables are evaluated
together as arrays (see :mod:`.vectorized`); every other record is answered alone.
Output keeps input order, one line per record, strict JSON.
"""

from __future__ import annotations

import sys
import time
from typing import Annotated, Optional

import typer

from . import options
from .errors import EXIT_CHECK_FAILED, EXIT_OK, handle_errors

HELP = """Differentiate many programs: JSON records in, one JSON line out per record, in order.

Input is JSON Lines (one object a line; blank lines are skipped) or one JSON array, from FILE or stdin. A record: {"id", "expr", "vars", "const", "wrt", "of", "upstream", "expect", "check", "mode", "graph"}. A bad record gives {"id", "ok": false, "error": {kind, message, line, column}} and the batch goes on.

Exit code: 0 every record ok and checked, 1 some record failed its check or was in error, 2 bad usage.

[bold]Examples[/]

  echo '{"expr": "x**2 + 3*x + 1", "vars": {"x": 2}}' | gradcli batch
  gradcli batch jobs.jsonl > answers.jsonl
  gradcli batch jobs.jsonl | jq -c 'select(.ok | not)'
"""

CHUNK = 8192          # records per chunk at most (SPEC: written before 10 000 more are read)


def register(app: typer.Typer) -> None:
    app.command("batch", help=HELP)(batch)


@handle_errors
def batch(
    file: Annotated[Optional[str], typer.Argument(help="JSON Lines or JSON array file "
                                                  "(default: stdin).", show_default=False)]
    = None,
    rtol: options.Rtol = 1e-7,
    atol: options.Atol = 1e-9,
    check_timeout: options.CheckTimeout = 5.0,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Cross-check against "
                                        "SymPy (records may say \"check\": "
                                        "false).")] = True,
    one_by_one: Annotated[bool, typer.Option("--one-by-one", help="Answer every record on "
                                             "its own (no array evaluation).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on "
                                        "stderr.")] = False,
) -> None:
    from ..errors import InputError
    from .common import check_options
    from .reader import read_records
    from .vectorized import Answerer

    check_options(rtol, atol, check_timeout)
    if file is None or file == "-":
        if sys.stdin is None:
            raise InputError("no input: standard input is closed (give a FILE, or pipe "
                             "records in)")
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(file, "rb")
        except OSError as exc:
            raise InputError(f"cannot read '{file}': {exc.strerror or exc}") from None
    answerer = Answerer(rtol=rtol, atol=atol, timeout=check_timeout, vectorize=not one_by_one,
                        check=check)
    stats = {"records": 0, "ok": 0, "errors": 0, "failed": 0}
    start = time.perf_counter()
    progress = _Progress() if sys.stderr.isatty() and not quiet else None
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    try:
        for chunk in read_records(stream, CHUNK):
            lines = answerer.answer(chunk, stats)       # JSON Lines bytes
            if out is not None:
                out.write(lines)
                out.flush()
            else:                                  # a text-only stdout (tests, embedding)
                sys.stdout.write(lines.decode())
                sys.stdout.flush()
            if progress is not None:
                progress.update(stats["records"])
    finally:
        if progress is not None:
            progress.stop()
        if stream is not sys.stdin.buffer:
            stream.close()
    elapsed = time.perf_counter() - start
    if not quiet:
        rate = stats["records"] / elapsed if elapsed > 0 else 0.0
        sys.stderr.write(f"records {stats['records']}, ok {stats['ok']}, errors "
                         f"{stats['errors']}, check failures {stats['failed']}, "
                         f"{rate:,.0f} records/s\n")
    bad = stats["errors"] or stats["failed"]
    raise typer.Exit(EXIT_CHECK_FAILED if bad else EXIT_OK)


class _Progress:
    """A rich progress display on stderr (only when stderr is a terminal)."""

    def __init__(self):
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from .render import console
        self._progress = Progress(SpinnerColumn(), TextColumn("{task.completed:,} records"),
                                  TimeElapsedColumn(), console=console(stderr=True),
                                  transient=True)
        self._task = self._progress.add_task("batch", total=None)
        self._progress.start()

    def update(self, done: int) -> None:
        self._progress.update(self._task, completed=done)

    def stop(self) -> None:
        self._progress.stop()
