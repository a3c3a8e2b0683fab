"""What ``register()`` checks of an entry, at import time (cheap checks only: signatures
and texts, no bytecode), and what :func:`check_table` checks once every module has
registered (derivative texts may name any op of the table).  Each failure is a
ValueError naming the entry and what to change."""

from __future__ import annotations

import re

from .params import TENSOR_KINDS

# (PyTorch names the node of a *_copy op after its view's: DiagonalBackward0_copy)
_GRAD_FN = re.compile(r"^[A-Z][A-Za-z0-9]*(Backward\d+(_copy)?|Backwards)?$|^CopySlices$")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
VARKEYWORDS = 0x08        # CO_VARKEYWORDS
NOT_NODE = frozenset(("inplace",))   # parameters of the function, not of the node
# Words a derivative may use besides its inputs, its parameters and the table's op names.
MATH_WORDS = frozenset(("pi", "if", "else", "and", "or", "not", "N", "g", "T", "inf",
                        "where", "sqrt", "exp", "log", "sign", "outer", "otherwise", "e",
                        "Phi", "phi"))
DOC_SYMBOLS = frozenset(("x", "y", "a", "b", "A", "B", "W", "p", "t", "i", "j", "k"))


def _fail(op, message: str):
    raise ValueError(f"op table entry {op.name!r}: {message}")


def check_entry(op) -> None:
    if not op.name.isidentifier():
        _fail(op, "the name must be an identifier")
    if op.forward is not None and not _GRAD_FN.match(op.grad_fn):
        _fail(op, f"grad_fn {op.grad_fn!r} is not a PyTorch node name (e.g. MulBackward0)")
    if op.forward is None and op.vjps:
        _fail(op, "VJPs without a forward")
    if not op.internal:
        _check_public(op)
    if op.forward is not None:
        _check_vjps(op)
        _check_forward(op)
    if isinstance(op.display, str):
        for key in _PLACEHOLDER.findall(op.display):
            if not (key.isdigit() and int(key) < max(op.arity, 1)):
                _fail(op, f"display {op.display!r}: {{{key}}} is not an input position")


def _check_public(op) -> None:
    if op.params is None:
        _fail(op, "a function of programs needs params='...' (its parameters)")
    if op.group not in _groups():
        _fail(op, f"group {op.group!r} is not one of {_groups()}")
    if op.forward is None and op.function is None:
        _fail(op, "neither a forward nor a function")
    unknown = op.api - _api()
    if unknown:
        _fail(op, f"api {sorted(unknown)}: use torch, F, method, linalg")
    if op.forward is not None and op.function is None:
        tensors = [p for p in op.params if p.is_tensor]
        if len(tensors) != op.arity and not op.variadic:
            _fail(op, f"{len(tensors)} tensor parameters but {op.arity} VJPs")
    differentiable = any(v is not None for v in op.vjps) or op.joint is not None
    if op.forward is not None and differentiable and op.sympy is None:
        _fail(op, "a differentiable op needs its SymPy counterpart (sympy=...)")


def _groups():
    from .core import GROUPS
    return GROUPS


def _api():
    from .core import API
    return API


def _check_vjps(op) -> None:
    """Each VJP is (F, g, *inputs, out, **params): the right number of inputs, and a
    keyword for every parameter of the node."""
    arity = 1 if op.variadic else op.arity
    if len(op.derivative) > arity:
        _fail(op, f"{len(op.derivative)} derivative texts for {arity} inputs")
    node_params = None
    if op.params is not None and op.function is None:
        node_params = {p.name for p in op.params if p.kind not in TENSOR_KINDS} - NOT_NODE
    for k, fn in enumerate(op.vjps + ((op.joint,) if op.joint is not None else ())):
        if fn is None:
            continue
        code = fn.__code__
        names = code.co_varnames[:code.co_argcount]
        extra = 1 if fn is op.joint else 0          # joint: (..., out, wants, **params)
        if len(names) < 3 + arity + extra or names[2 + arity] != "out":
            _fail(op, f"VJP {k} takes {names}; it must take (F, g, <{arity} input"
                      f"{'s' if arity != 1 else ''}>, out, **params)")
        if node_params is not None and not code.co_flags & VARKEYWORDS:
            missing = node_params - set(names[3 + arity + extra:]) - \
                set(code.co_varnames[code.co_argcount:code.co_argcount +
                                     code.co_kwonlyargcount])
            if missing:
                _fail(op, f"VJP {k} does not take the parameter(s) {sorted(missing)}")


def _check_forward(op) -> None:
    if op.params is None or op.function is not None:
        return
    code = getattr(op.forward, "__code__", None)
    if code is None or code.co_flags & VARKEYWORDS:
        return
    names = set(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    missing = {p.name for p in op.params if not p.is_tensor} - names - NOT_NODE
    if missing:
        _fail(op, f"the forward does not take the parameter(s) {sorted(missing)}")


def symbols_of(op) -> tuple:
    """The names an op's derivative texts use for its inputs: those its VJPs give them
    (``(F, g, a, b, out)`` -> ``("a", "b")``)."""
    from .reads import vjp_inputs
    for fn in op.vjps + (op.joint,):
        if fn is not None:
            return vjp_inputs(fn, 1 if op.variadic else op.arity)[0]
    return ()


def derivative_words(op) -> set:
    """The names a derivative text of ``op`` may use: its inputs' symbols (and their
    capitals, for matrices), its parameters, and the words of MATH_WORDS."""
    words = set(MATH_WORDS)
    symbols = symbols_of(op)
    words.update(symbols)
    words.update(s.upper() for s in symbols)
    for p in op.params or ():
        words.add(p.name)
    if op.forward is None:        # a composite's text is read in `gradcli ops` only
        words.update(DOC_SYMBOLS)
    return words


def check_table(registry: dict) -> None:
    """Checks that need the whole table: a derivative text that is not prose may use
    only its op's symbols and parameters, math words and the table's op names (so that
    ``--explain`` can plug values into it)."""
    names = set(registry)
    for op in registry.values():
        words = None
        for text in op.derivative:
            if text is None or type(text) is not str:
                continue                      # None, or Prose: shown as written
            if words is None:
                words = derivative_words(op) | names
            unknown = [t for t in _TOKEN.findall(text) if t not in words]
            if unknown:
                _fail(op, f"derivative {text!r} uses {unknown}: not an input, a parameter, "
                          "an op or a math word; write it with those, or as prose('...')")
