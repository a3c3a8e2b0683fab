"""The one place user errors and crashes become messages and exit codes (SPEC 4.4).

Every command is wrapped by :func:`handle_errors`: a :class:`GradcliError` prints one
clear message on stderr and exits 2; an unexpected exception prints a one-line
"internal error" with a hint to report it and exits 70 (the traceback only with
GRADCLI_DEBUG=1); a closed stdout ends quietly.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys

from .terminal import silence_stdout

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70
ISSUES_URL = "https://github.com/gradcli/gradcli/issues"


class WriteError(Exception):
    """The output could not be written (a full disk, an I/O error)."""


@contextlib.contextmanager
def stdout_may_close():
    """Printing a result: if the reader closed stdout (``| head``), stop printing quietly
    and let the command still exit with its own status (check passed or failed); if
    it cannot be written (a full disk), say so (WriteError)."""
    try:
        yield
        sys.stdout.flush()                  # now, not at exit, where no one would hear
    except BrokenPipeError:
        silence_stdout()
    except OSError as exc:
        silence_stdout()                    # (so that the exit's own flush is silent)
        raise WriteError(exc.strerror or str(exc)) from None


def handle_errors(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import typer

        from ..errors import GradcliError
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except GradcliError as exc:
            from .render import print_error
            print_error(exc)
            raise typer.Exit(EXIT_USAGE) from None
        except BrokenPipeError:
            silence_stdout()
            raise typer.Exit(EXIT_OK) from None
        except WriteError as exc:
            sys.stderr.write(f"error: cannot write the output: {exc}\n")
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(130) from None
        except RecursionError:
            sys.stderr.write("error: the program is nested too deeply to evaluate\n")
            raise typer.Exit(EXIT_USAGE) from None
        except MemoryError:
            sys.stderr.write("error: out of memory (are the tensors too large?)\n")
            raise typer.Exit(EXIT_USAGE) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("GRADCLI_DEBUG") == "1":
                import traceback
                traceback.print_exc()
            sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n"
                             f"This is a bug in gradcli; please report it at {ISSUES_URL} "
                             "(set GRADCLI_DEBUG=1 to see the traceback).\n")
            raise typer.Exit(EXIT_INTERNAL) from None
    return wrapper
