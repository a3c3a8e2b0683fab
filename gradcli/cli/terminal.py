"""The one place commands write to the terminal: standard output, standard error,
quiet mode, and a reader that closes the pipe early (``| head``).

Commands hold a :class:`Terminal` and never write to ``sys.stdout`` themselves (the
pattern of hatch's Terminal).  rich is imported only for table output.
"""

from __future__ import annotations

import os
import sys


class Terminal:
    """Where a command's output goes.  ``quiet``: standard output is dropped (errors
    still reach standard error)."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.closed = False             # the reader went away: stop writing quietly

    def out(self, text: str) -> None:
        """Write ``text`` (with its own newlines) to standard output."""
        if self.quiet or self.closed:
            return
        try:
            sys.stdout.write(text)
        except BrokenPipeError:
            self.stdout_closed()

    def err(self, text: str) -> None:
        """Write ``text`` to standard error, after whatever standard output holds."""
        self.flush()
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (BrokenPipeError, OSError):
            pass

    def flush(self) -> None:
        if self.closed:
            return
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            self.stdout_closed()

    def json(self, obj) -> None:
        """One JSON line of ``obj`` (large arrays streamed: :func:`.jsonout.write`)."""
        if self.quiet or self.closed:
            return
        from .jsonout import write
        try:
            write(obj, sys.stdout)
        except BrokenPipeError:
            self.stdout_closed()

    def console(self):
        """A rich console on standard output, for tables."""
        from .render import console
        return console()

    def stdout_closed(self) -> None:
        """The reader closed standard output: send the rest nowhere, quietly."""
        self.closed = True
        silence_stdout()


def silence_stdout() -> None:
    """Point standard output at /dev/null (its reader went away: the exit's own flush
    must not fail)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
