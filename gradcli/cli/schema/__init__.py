"""JSON Schemas shipped with gradcli: ``load("result")`` is the schema of the object that
``grad``/``hessian``/``jacobian --format json`` print and ``batch`` writes per line."""

from __future__ import annotations

import json
from importlib import resources


def load(name: str) -> dict:
    """The schema ``NAME.schema.json`` (or ``NAME`` if it already ends in ``.json``)."""
    filename = name if name.endswith(".json") else f"{name}.schema.json"
    text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    return json.loads(text)


__all__ = ["load"]
