"""Calling functions from a program: argument binding, conversion, autograd statements."""

from __future__ import annotations

import math

from ..autograd import engine
from ..autograd import functional as F
from ..autograd.budget import new_tensor
from ..autograd.events import (BackwardEvent, DetachEvent, GradEvent, RequiresGradEvent,
                               ZeroGradEvent)
from ..autograd.tensor import Tensor
from ..errors import InputError, LimitError, ShapeError
from .functions import FUNCTIONS

class _NoValue:
    """What backward(), retain_grad() and zero_grad() evaluate to."""

    def __repr__(self) -> str:
        return "NO_VALUE"

NO_VALUE = _NoValue()
INTEGER_KINDS = frozenset(("int", "int?", "dim", "dims", "ints"))

class CallRunner:
    def __init__(self, run, on_node):
        self.run = run
        self.on_node = on_node

    # -- binding arguments to parameters ---------------------------------------------------
    def bind(self, name: str, positional: list, keywords: dict, node) -> dict:
        sig = FUNCTIONS[name]
        bound: dict = {}
        params = sig.params
        if sig.varargs:
            fixed = params[:-1]
            bound[params[-1]] = positional[len(fixed):]
            positional = positional[:len(fixed)]
            params = fixed
        elif len(positional) > len(params):
            raise InputError(f"{name}() takes at most {len(params)} argument"
                             f"{'s' if len(params) != 1 else ''} but {len(positional)} were given")
        bound.update(zip(params, positional))
        for key, value in keywords.items():
            where = _keyword_position(node, key)
            if key not in sig.params:
                raise InputError(f"{name}() got an unexpected keyword argument '{key}'", **where)
            if key in bound and not (sig.varargs and key == sig.params[-1]
                                     and not bound[key]):
                raise InputError(f"{name}() got multiple values for argument '{key}'", **where)
            bound[key] = value
        for p in sig.params[:sig.required]:
            if p not in bound or (sig.varargs and p == sig.params[-1] and bound[p] == []):
                raise InputError(f"{name}() missing required argument '{p}'")
        if sig.varargs and not isinstance(bound[sig.params[-1]], list):
            bound[sig.params[-1]] = [bound[sig.params[-1]]]     # ones(shape=2)
        return {k: self.convert(name, k, v) for k, v in bound.items()}

    def convert(self, func: str, param: str, value):
        """An argument as the function's parameter of that kind takes it (see
        :mod:`gradcli.autograd.ops.params`): integers for dims and shapes, True/False,
        numbers, strings; tensors (array literals become constants) for the rest."""
        p = FUNCTIONS[func].kinds[param]
        kind = p.kind
        if value is None and (p.default is None or p.default == () or
                              kind in ("any", "tensor?", "const?")):
            return None
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if value in (0.0, 1.0):
                return bool(value)
            raise InputError(f"{func}(): {param} must be True or False")
        if kind in INTEGER_KINDS:
            return self.integers(func, param, kind, value)
        if kind in ("number", "number?"):
            if isinstance(value, float):
                return value
            if isinstance(value, int) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, Tensor) and value.data.size == 1:
                return value
            raise InputError(f"{func}(): {param} must be a number")
        if kind == "str":
            if not isinstance(value, str):
                raise InputError(f"{func}(): {param} must be a string, e.g. {param}="
                                 f"'{p.choices[0] if p.choices else 'text'}'")
            return value
        if kind in ("index", "mask", "any"):
            return value            # lists of integers / bools pass as they are
        if param in ("outputs", "inputs") and isinstance(value, list):
            raise InputError(f"{func}(): {param} must be one tensor; call grad() once per "
                             "tensor, e.g. grad(y, x) and grad(y, w)")
        if kind == "tensors":
            if not isinstance(value, list):
                raise InputError(f"{func}() expects a list of tensors, e.g. {func}([a, b])")
            return [self.run.operand(v) for v in value]
        return self.run.operand(value)

    def integers(self, func: str, param: str, kind: str, value):
        what = f"{func}(): {param}"
        if value is None:
            raise InputError(f"{what} must be an integer, got None")
        if isinstance(value, list):
            if kind not in ("dims", "ints"):
                raise InputError(f"{func}(): {param} must be one integer")
            items = value[0] if len(value) == 1 and isinstance(value[0], list) else value
            return [self.run.integer(v, what) for v in items]
        return self.run.integer(value, what)

    # -- calling -------------------------------------------------------------------------
    def call(self, node, name: str, positional: list, keywords: dict):
        kw = self.bind(name, positional, keywords, node)
        sig = FUNCTIONS[name]
        handler = getattr(self, "do_" + name, None)
        if handler is not None:
            return handler(**kw)
        grows = sig.op.grows if sig.op is not None else None
        if callable(grows):
            self.run.check_count(grows(**kw))
        elif grows == "join":
            self.run.check_size("join", *kw["tensors"])
        elif grows is not None:
            self.run.check_size("matmul" if grows == "matmul" else name, *kw.values())
        if sig.varargs:
            rest = kw.pop(sig.params[-1], [])
            return sig.fn(*[kw.pop(p) for p in sig.params[:-1] if p in kw], *rest, **kw)
        return sig.fn(**kw)

    def do_ones(self, shape):
        return F.ones(*self.new_shape(shape), dtype=self.run.dtype)

    def do_zeros(self, shape):
        return F.zeros(*self.new_shape(shape), dtype=self.run.dtype)

    def new_shape(self, shape) -> list:
        """The shape of a new tensor: sizes >= 0, within max_elements."""
        if any(n < 0 for n in shape):
            bad = next(n for n in shape if n < 0)
            raise ShapeError(f"Trying to create tensor with negative dimension {bad}: "
                             f"{list(shape)}")
        size, limit = math.prod(shape), self.run.max_elements
        if size > limit:
            raise LimitError(f"a tensor of shape {list(shape)} has {size} elements; the "
                             f"limit is {limit}")
        if max(shape, default=0) > limit:       # an empty tensor, but numpy refuses it
            raise LimitError(f"a tensor of shape {list(shape)} has a dimension over the "
                             f"limit of {limit} elements")
        new_tensor(shape)
        return shape

    def do_no_grad(self, expr):
        return expr

    def do_detach(self, x):
        out = F.detach(x)
        self.run.events.append(DetachEvent(x, out))
        return out

    def do_retain_grad(self, x):
        _tensor("retain_grad", x).retain_grad()
        return NO_VALUE

    def do_requires_grad_(self, x, requires_grad=True):
        _tensor("requires_grad_", x).requires_grad_(requires_grad)
        self.run.events.append(RequiresGradEvent(x, requires_grad))
        if requires_grad:
            name = self.run.names.setdefault(id(x), f"%leaf{len(self.run.made_leaves)}")
            self.run.made_leaves.setdefault(name, x)
        return x

    def do_zero_grad(self, x):
        _tensor("zero_grad", x).zero_grad()
        self.run.events.append(ZeroGradEvent(x))
        return NO_VALUE

    def do_backward(self, tensor, gradient=None, retain_graph=None, create_graph=False):
        self.run.explicit_backward = True
        self.run_backward(_tensor("backward", tensor), gradient, retain_graph,
                          bool(create_graph))
        return NO_VALUE

    def run_backward(self, tensor, gradient, retain_graph, create_graph, implicit=False):
        if gradient is not None and not isinstance(gradient, Tensor):
            gradient = F.as_tensor(gradient, like=tensor)
        self.run.events.append(BackwardEvent(tensor, gradient, create_graph, implicit))
        tape = self.run.tape
        tape.in_backward = True
        try:
            engine.backward(tensor, gradient, retain_graph=retain_graph,
                            create_graph=create_graph, on_node=self.on_node)
        finally:
            tape.in_backward = False

    def do_grad(self, outputs, inputs, grad_outputs=None, retain_graph=None,
                create_graph=False, allow_unused=False):
        self.run.explicit_backward = True
        out, inp = _tensor("grad", outputs), _tensor("grad", inputs)
        if grad_outputs is not None and not isinstance(grad_outputs, Tensor):
            grad_outputs = F.as_tensor(grad_outputs, like=out)
        tape = self.run.tape
        tape.in_backward = True
        try:
            (result,) = engine.grad(out, inp, grad_outputs, retain_graph=retain_graph,
                                    create_graph=bool(create_graph),
                                    allow_unused=bool(allow_unused), on_node=self.on_node)
        finally:
            tape.in_backward = False
        self.run.events.append(GradEvent(out, inp, grad_outputs, bool(create_graph), result))
        return result

def _tensor(func: str, value) -> Tensor:
    if not isinstance(value, Tensor):
        raise InputError(f"{func}() needs a tensor, got {value!r}")
    return value

def _keyword_position(node, key: str) -> dict:
    """Where keyword argument ``key`` is written in the call ``node`` (for errors)."""
    for kw in getattr(node, "kwargs", ()):
        if kw.name == key:
            return {"line": kw.line, "column": kw.col}
    return {}
