"""The functions a program can call, with their parameters.

Math functions map onto the engine's Python API (``gradcli.autograd.functional``);
the autograd statements of SPEC 3.5 (``backward``, ``grad``, ``no_grad``, ...) are
handled by the evaluator, which only needs their parameter lists from here.
"""

from __future__ import annotations

from typing import Callable, Optional

from ..autograd import functional as F


class Signature:
    __slots__ = ("params", "required", "fn", "varargs", "lazy")

    def __init__(self, params: tuple, required: int, fn: Optional[Callable],
                 varargs: bool = False, lazy: bool = False):
        self.params = params          # parameter names, in positional order
        self.required = required      # how many of them must be given
        self.fn = fn                  # None: an autograd statement the evaluator runs itself
        self.varargs = varargs        # the last parameter collects extra positionals
        self.lazy = lazy              # arguments evaluated by the function (no_grad)


def _sig(params: str, fn, required: int | None = None, **kw) -> Signature:
    names = tuple(params.split())
    return Signature(names, len(names) if required is None else required, fn, **kw)


FUNCTIONS: dict[str, Signature] = {}

for _name in F.UNARY:
    FUNCTIONS[_name] = _sig("x", getattr(F, _name))
for _name in F.BINARY + ["dot", "matmul", "mm", "mse_loss", "add", "sub", "mul", "div",
                         "pow"]:
    FUNCTIONS[_name] = _sig("a b", getattr(F, _name))

FUNCTIONS.update({
    "neg": _sig("x", F.neg),
    "clamp": _sig("x min max", F.clamp, 1),
    "sum": _sig("x dim keepdim", F.sum, 1),
    "mean": _sig("x dim keepdim", F.mean, 1),
    "prod": _sig("x", F.prod),
    "max": _sig("x other", F.max, 1),
    "min": _sig("x other", F.min, 1),
    "norm": _sig("x", F.norm),
    "logsumexp": _sig("x dim keepdim", F.logsumexp, 2),
    "softmax": _sig("x dim", F.softmax),
    "log_softmax": _sig("x dim", F.log_softmax),
    "trace": _sig("x", F.trace),
    "reshape": _sig("x shape", F.reshape, 2, varargs=True),
    "view": _sig("x shape", F.view, 2, varargs=True),
    "flatten": _sig("x", F.flatten),
    "permute": _sig("x dims", F.permute, 2, varargs=True),
    "t": _sig("x", F.t),
    "unsqueeze": _sig("x dim", F.unsqueeze),
    "squeeze": _sig("x dim", F.squeeze, 1),
    "stack": _sig("tensors dim", F.stack, 1),
    "cat": _sig("tensors dim", F.cat, 1),
    "ones_like": _sig("x", F.ones_like),
    "zeros_like": _sig("x", F.zeros_like),
    "ones": _sig("shape", None, 1, varargs=True),
    "zeros": _sig("shape", None, 1, varargs=True),
    "detach": _sig("x", F.detach),
    # autograd statements (SPEC 3.5), run by the evaluator
    "backward": _sig("tensor gradient retain_graph create_graph", None, 1),
    "grad": _sig("outputs inputs grad_outputs retain_graph create_graph allow_unused",
                 None, 2),
    "retain_grad": _sig("x", None),
    "requires_grad_": _sig("x requires_grad", None, 1),
    "zero_grad": _sig("x", None),
    "no_grad": _sig("expr", None, lazy=True),
})

# Parameters that take integers (dims, shapes) or booleans rather than tensors.
INT_PARAMS = {"dim", "shape", "dims"}
BOOL_PARAMS = {"keepdim", "retain_graph", "create_graph", "allow_unused", "requires_grad"}
NUMBER_PARAMS = {"min", "max"}

CONSTANTS = {"pi": 3.141592653589793, "e": 2.718281828459045}
ATTRIBUTES = ("T", "grad", "data")
