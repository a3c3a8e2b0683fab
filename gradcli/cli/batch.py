"""`gradcli batch`: JSON records in (JSON Lines or one array), JSON Lines out.

Streaming in chunks: a chunk closes when it is full or when no more input is waiting,
so output flows while input is still being read and memory stays flat.  Within a
chunk, records that share a program and have plain-number variables are evaluated
together as arrays (see :mod:`.vectorized`); every other record is answered alone.
Output keeps input order, one line per record, strict JSON.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from typing import Annotated, Optional

import typer

from . import options
from .errors import EXIT_CHECK_FAILED, EXIT_OK, handle_errors

HELP = """Differentiate many programs: JSON records in, one JSON line out per record, in order.

Input is JSON Lines (one object a line; blank lines are skipped) or one JSON array, from FILE or stdin. A record: {"id", "expr", "vars", "const", "wrt", "of", "upstream", "expect", "check", "mode", "graph", "dtype"}, at most 64 MiB. A bad record gives {"id", "ok": false, "error": {kind, message, line, column}} and the batch goes on. Each answer's check says "passed", "failed", "skipped" or "partial".

Exit code: 0 every record ok and checked, 1 some record failed its check or was in error, 2 bad usage or an output that cannot be written, 130/143 interrupted (after the last whole line).

""" + options.examples(
    """echo '{"expr": "x**2 + 3*x + 1", "vars": {"x": 2}}' | gradcli batch""",
    "gradcli batch jobs.jsonl > answers.jsonl",
    """gradcli batch jobs.jsonl | jq -c 'select(.check.status != "passed")'""")

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
    stopped = None
    try:
        with _terminate_as_interrupt():
            for chunk in read_records(stream, CHUNK):
                _write(answerer.answer(chunk, stats))      # JSON Lines bytes, whole
                if progress is not None:
                    progress.update(stats["records"])
    except KeyboardInterrupt as exc:
        stopped = exc
    finally:
        if progress is not None:
            progress.stop()
        if stream is not sys.stdin.buffer:
            stream.close()
    elapsed = time.perf_counter() - start
    if not quiet or stopped is not None:
        rate = stats["records"] / elapsed if elapsed > 0 else 0.0
        sys.stderr.write(("interrupted: " if stopped is not None else "") +
                         f"records {stats['records']}, ok {stats['ok']}, errors "
                         f"{stats['errors']}, check failures {stats['failed']}, "
                         f"{rate:,.0f} records/s\n")
    if stopped is not None:
        raise typer.Exit(128 + getattr(stopped, "signal", 2))
    bad = stats["errors"] or stats["failed"]
    raise typer.Exit(EXIT_CHECK_FAILED if bad else EXIT_OK)


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as an interrupt: the lines written so far stay whole."""

    signal = 15


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM raises Terminated (in the main thread), so it ends a batch as Ctrl-C
    does: with the summary, after the last whole line."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM while a chunk's lines are written: a signal that comes
    in between is raised once the last line is complete (a second one is obeyed at
    once: whoever sends it does not want to wait)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list = []
    previous = {}

    def hold(signum, frame):
        if caught:
            signal.signal(signum, previous[signum])
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        caught.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, hold)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if caught:
        raise Terminated if caught[0] == signal.SIGTERM else KeyboardInterrupt


def _write(lines: bytes) -> None:
    """Write and flush whole lines (held against interrupts); a full disk or an I/O
    error is a clear WriteError."""
    from .errors import WriteError
    from .terminal import silence_stdout
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    try:
        with _signals_held():
            if out is not None:
                # write() may return early when a signal interrupts it: loop to the end
                view = memoryview(lines)
                while view:
                    written = out.write(view)
                    if written is None:            # a non-blocking stdout that is full
                        import select
                        select.select([], [out], [], 1.0)
                    view = view[written or 0:]
                out.flush()
            else:                                  # a text-only stdout (tests, embedding)
                sys.stdout.write(lines.decode())
                sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        silence_stdout()
        raise WriteError(exc.strerror or str(exc)) from None


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
