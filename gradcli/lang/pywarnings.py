"""A script's ``warnings`` module: ``warn`` and the filters scripts set, mostly to
silence warnings (``warnings.filterwarnings("ignore")`` at the top of a tutorial).

Every warning a script shows, its own and PyTorch's, asks :meth:`ScriptWarnings.action`
first.  The filters are Python's: the first whose category covers the warning's and
whose message matches its start decides; "ignore" silences, "error" raises the warning
as an exception, "always" shows it every time, "once" once per message, and the rest
("default", "module") once per place, as Python's default does.  A message filter is
matched as text (case-insensitive, ``.*`` standing for anything), not compiled as a
regular expression.  ``catch_warnings()`` restores the filters it found.
"""

from __future__ import annotations

from .objects import EXCEPTIONS, Builtin, ExceptionType, ExceptionValue, Namespace
from .pyops import ScriptError

ACTIONS = ("default", "error", "ignore", "always", "all", "module", "once")


class ScriptWarnings:
    """The filters of one script run."""

    def __init__(self):
        self.filters: list = []            # (action, message pieces or None, category)

    def action(self, message: str, category: str) -> str:
        for action, pieces, kind in self.filters:
            if kind.covers(category) and (pieces is None or _matches(pieces, message)):
                return action
        return "default"

    def add(self, action, message, category, append) -> None:
        if action not in ACTIONS:
            raise ScriptError("AssertionError", f"invalid action: {action!r}")
        if not _is_warning(category):
            raise ScriptError("AssertionError", "category must be a Warning subclass")
        if not isinstance(message, str):
            raise ScriptError("AssertionError", "message must be a string")
        entry = (action, message.lower().split(".*") if message else None, category)
        if entry in self.filters:
            self.filters.remove(entry)
        if append:
            self.filters.append(entry)
        else:
            self.filters.insert(0, entry)

    def namespace(self, show) -> Namespace:
        """The module; ``show(message, category_name)`` shows a script's own warning."""
        warning = EXCEPTIONS["Warning"]

        def filterwarnings(action, message="", category=warning, module="", lineno=0,
                           append=False):
            self.add(action, message, category, append)

        def simplefilter(action, category=warning, lineno=0, append=False):
            self.add(action, "", category, append)

        def resetwarnings():
            self.filters.clear()

        def warn(message, category=None, stacklevel=1, source=None):
            if isinstance(message, ExceptionValue):        # warn(UserWarning("..."))
                category, message = EXCEPTIONS.get(message.type_name), message.message
            category = category or EXCEPTIONS["UserWarning"]
            if not _is_warning(category):
                raise ScriptError("TypeError", "category must be a Warning subclass, not "
                                  f"'{type(category).__name__}'")
            show(str(message), category.name)

        return Namespace("warnings", {
            "filterwarnings": Builtin("filterwarnings", filterwarnings),
            "simplefilter": Builtin("simplefilter", simplefilter),
            "resetwarnings": Builtin("resetwarnings", resetwarnings),
            "warn": Builtin("warn", warn),
            "catch_warnings": Builtin("catch_warnings", lambda record=False: _Saved(self)),
            **{name: EXCEPTIONS[name] for name in EXCEPTIONS if name.endswith("Warning")}})


class _Saved:
    """``with warnings.catch_warnings():``: the filters as they were come back."""

    script_context = True

    def __init__(self, owner: ScriptWarnings):
        self.owner = owner

    def __enter__(self):
        self.saved = list(self.owner.filters)

    def __exit__(self, *exc) -> bool:
        self.owner.filters[:] = self.saved
        return False


def _matches(pieces: list, message: str) -> bool:
    """Whether ``message`` starts with the first piece, the others following in order."""
    text = message.lower()
    if not text.startswith(pieces[0]):
        return False
    at = len(pieces[0])
    for piece in pieces[1:]:
        at = text.find(piece, at)
        if at < 0:
            return False
        at += len(piece)
    return True


def _is_warning(category) -> bool:
    return isinstance(category, ExceptionType) and EXCEPTIONS["Warning"].covers(category.name)
