"""The functions a program can call, with their parameters.

Every public entry of the op table (``gradcli.autograd.ops``) is a function here, with
the entry's parameter list; the autograd statements of SPEC 3.5 (``backward``,
``grad``, ``no_grad``, ...) and ``ones``/``zeros`` are the evaluator's own, listed below
in the same notation (:mod:`gradcli.autograd.ops.params`).
"""

from __future__ import annotations

from typing import Optional

from ..autograd import functional as F
from ..autograd.ops import REGISTRY
from ..autograd.ops.params import parse


class Signature:
    __slots__ = ("name", "params", "required", "kinds", "varargs", "lazy", "op", "fn")

    def __init__(self, name: str, params: tuple, op=None, fn=None, lazy: bool = False):
        self.name = name
        self.params = tuple(p.name for p in params)   # in positional order
        self.required = sum(1 for p in params if p.required)
        self.kinds = {p.name: p for p in params}      # name -> Param (kind, default)
        self.varargs = bool(params) and params[-1].varargs   # the last collects the rest
        self.lazy = lazy              # arguments evaluated by the function (no_grad)
        self.op = op                  # the op-table entry, for a function of the table
        self.fn = fn                  # None: an autograd statement the evaluator runs itself


# The evaluator's own functions (SPEC 3.5): autograd statements, and new tensors.
STATEMENTS = {
    "backward": "tensor, gradient: tensor? = None, retain_graph: bool = None, "
                "create_graph: bool = False",
    "grad": "outputs, inputs, grad_outputs: tensor? = None, retain_graph: bool = None, "
            "create_graph: bool = False, allow_unused: bool = False",
    "retain_grad": "x",
    "requires_grad_": "x, requires_grad: bool = True",
    "zero_grad": "x",
    "no_grad": "expr: any",
    "ones": "*shape: ints",
    "zeros": "*shape: ints",
}


# What each does, for `gradcli ops` (SPEC 3.5)
STATEMENT_TEXT = {
    "backward": "adds d(sum(tensor*gradient))/d(leaf) into every leaf's .grad",
    "grad": "the gradients of outputs by inputs, .grad untouched",
    "retain_grad": "keep .grad of a non-leaf at the next backward",
    "requires_grad_": "turn gradient tracking of a leaf on (or off)",
    "zero_grad": "set x.grad to zeros (x.grad.zero_())",
    "no_grad": "evaluate expr with grad mode off (its result is a constant)",
    "detach": "the same values, cut from the graph (a view: shared storage)",
    "ones": "a tensor of ones of that shape (a constant)",
    "zeros": "a tensor of zeros of that shape (a constant)",
}
STATEMENT_SYNTAX = {"backward": "backward(tensor, gradient=None, retain_graph=None, "
                                "create_graph=False), t.backward(...)"}


def _functions() -> dict:
    out: dict[str, Signature] = {}
    for op in REGISTRY.values():
        if not op.internal:
            out[op.name] = Signature(op.name, op.params, op=op, fn=F.NAMESPACE[op.name])
    for name, spec in STATEMENTS.items():
        out[name] = Signature(name, parse(spec, name), lazy=name == "no_grad")
    out["detach"] = Signature("detach", parse("x", "detach"), fn=F.detach)
    for name in ("ones_like", "zeros_like"):
        out.setdefault(name, Signature(name, parse("x", name), fn=getattr(F, name)))
    return out


FUNCTIONS: dict[str, Signature] = _functions()


def signature(name: str) -> Optional[Signature]:
    return FUNCTIONS.get(name)


CONSTANTS = {"pi": 3.141592653589793, "e": 2.718281828459045}
ATTRIBUTES = ("T", "grad", "data")
