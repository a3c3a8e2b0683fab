"""PyTorch's named tuples of results (``torch.return_types.max(values=..., indices=...)``):
a tuple that also names its parts and prints as PyTorch prints it."""

from __future__ import annotations


class ReturnType(tuple):
    """``torch.return_types.NAME``: (values, indices) with those names as attributes."""

    kind = ""
    fields: tuple = ()

    def __new__(cls, *parts):
        return super().__new__(cls, parts)

    def __getattr__(self, name: str):
        try:
            return self[type(self).fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        body = ",\n".join(f"{name}={part!r}" for name, part in zip(self.fields, self))
        return f"torch.return_types.{self.kind}(\n{body})"

    __str__ = __repr__


def return_type(kind: str, fields: tuple = ("values", "indices")) -> type:
    """The named-tuple class PyTorch returns from ``kind`` (max, min, sort, topk, ...)."""
    return type(kind, (ReturnType,), {"kind": kind, "fields": fields, "__slots__": ()})
