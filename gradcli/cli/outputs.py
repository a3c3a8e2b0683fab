"""What a program showed along the way: the value of each expression statement (so
``y.backward(); x.grad; z.backward(); x.grad`` shows 4, then 5) and what it printed.

Tables show values as PyTorch prints them; JSON carries them as data under
``"outputs"`` (one object per expression statement, in the order they ran) and
``"printed"`` (the text print() wrote).
"""

from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ..lang.ast import statement_text

MAX_STATEMENT = 60          # characters of a statement shown in the table


def shown(value) -> str:
    """A value as print() would show it (tensors as PyTorch prints them)."""
    if isinstance(value, str):
        return value
    return repr(value)


def wanted(result) -> bool:
    """Whether the outputs are worth a section: more than one value, or a print."""
    return len(result.outputs or ()) > 1 or bool(result.printed)


def outputs_json(result) -> list:
    from .jsonout import array, complete
    out = []
    for stmt, value in result.outputs or ():
        entry = {"line": stmt.line, "column": stmt.col,
                 "statement": statement_text(result.program.source, stmt)}
        if isinstance(value, Tensor):
            entry.update(value=complete(value.data), shape=list(value.shape),
                         dtype=str(value.data.dtype))
        elif value is None or isinstance(value, (bool, int, float, np.number)):
            entry["value"] = value if value is None or isinstance(value, bool) else \
                array(value)
        else:
            entry["text"] = shown(value)
        out.append(entry)
    return out


def outputs_table(result):
    from .render import _escape, _table
    table = _table("Outputs", "line", "statement", "value")
    for stmt, value in result.outputs or ():
        text = statement_text(result.program.source, stmt)
        if len(text) > MAX_STATEMENT:
            text = text[:MAX_STATEMENT - 1] + "…"
        table.add_row(str(stmt.line), _escape(text), _escape(shown(value)))
    return table


def save_grads(grads: dict, directory: str) -> None:
    """``--save-grads DIR``: each gradient as DIR/NAME.npy (a gradient that is None,
    never reached by backward, is not written)."""
    import os

    from ..errors import InputError
    try:
        os.makedirs(directory, exist_ok=True)
        for name, grad in grads.items():
            if grad is not None:
                np.save(os.path.join(directory, f"{name}.npy"), np.asarray(grad),
                        allow_pickle=False)
    except OSError as exc:
        raise InputError(f"--save-grads: cannot write to '{directory}': "
                         f"{exc.strerror or exc}") from None
