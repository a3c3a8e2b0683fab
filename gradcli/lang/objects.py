"""The objects a program handles besides numbers, strings, containers and tensors:
functions (gradcli's own and the program's), modules, exception types, torch.Size.

A program can call only these and the methods the attribute tables allow
(:mod:`gradcli.lang.attributes`): the interpreter never calls an arbitrary Python object.
"""

from __future__ import annotations

import inspect

from .pyops import ScriptError

_HOST_ERRORS = {ValueError: "ValueError", IndexError: "IndexError", KeyError: "KeyError",
                ZeroDivisionError: "ZeroDivisionError", OverflowError: "OverflowError"}


class ScriptCallable:
    """What a program may call: ``call(interpreter, args, kwargs)``."""

    __slots__ = ()


class Builtin(ScriptCallable):
    """A gradcli function a program may call (print, torch.exp, ...).

    ``needs_interpreter``: the function takes the interpreter as its first argument
    (print writes to its output; sorted may call back into the program)."""

    __slots__ = ("name", "fn", "needs_interpreter", "_signature")
    python_name = "builtin_function_or_method"

    def __init__(self, name: str, fn, needs_interpreter: bool = False):
        self.name = name
        self.fn = fn
        self.needs_interpreter = needs_interpreter
        self._signature = None

    def __repr__(self) -> str:
        return f"<built-in function {self.name}>"

    def call(self, interp, args: list, kwargs: dict):
        try:
            if self.needs_interpreter:
                return self.fn(interp, *args, **kwargs)
            return self.fn(*args, **kwargs)
        except TypeError as exc:
            raise self.type_error(exc, args, kwargs) from None
        except tuple(_HOST_ERRORS) as exc:
            raise ScriptError(_HOST_ERRORS[type(exc)], str(exc)) from None

    def type_error(self, exc: TypeError, args, kwargs) -> ScriptError:
        """A wrong call (the signature's own message), or a wrong argument inside."""
        if self._signature is None:
            try:
                self._signature = inspect.signature(self.fn)
            except (TypeError, ValueError):
                return ScriptError("TypeError", f"{self.name}(): {exc}")
        try:
            if self.needs_interpreter:
                self._signature.bind(None, *args, **kwargs)
            else:
                self._signature.bind(*args, **kwargs)
        except TypeError as bind_error:
            text = str(bind_error)
            if text.startswith("got "):          # as Python words it: f() got an unexpected...
                return ScriptError("TypeError", f"{self.name}() {text}")
            return ScriptError("TypeError", f"{self.name}(): {text}")
        return ScriptError("TypeError", f"{self.name}(): {exc}")


class BoundMethod(ScriptCallable):
    """``obj.method``: a builtin with its receiver."""

    __slots__ = ("receiver", "function")
    python_name = "method"

    def __init__(self, receiver, function: Builtin):
        self.receiver = receiver
        self.function = function

    def __repr__(self) -> str:
        return f"<bound method {self.function.name}>"

    def call(self, interp, args: list, kwargs: dict):
        return self.function.call(interp, [self.receiver, *args], kwargs)


class UserFunction(ScriptCallable):
    """A function the program defined (``def`` or ``lambda``)."""

    __slots__ = ("name", "params", "body", "defaults", "scopes", "is_lambda", "decorated")
    python_name = "function"

    def __init__(self, name, params, body, defaults: dict, scopes: list, is_lambda=False):
        self.name = name
        self.params = params              # ast.Param tuple
        self.body = body                  # statements (def) or an expression (lambda)
        self.defaults = defaults          # parameter name -> default value
        self.scopes = scopes              # the enclosing scopes, innermost first
        self.is_lambda = is_lambda
        self.decorated = None

    def __repr__(self) -> str:
        return f"<function {self.name} at 0x{id(self):x}>"

    def call(self, interp, args: list, kwargs: dict):
        return interp.call_user(self, args, kwargs)

    def bind(self, args: list, kwargs: dict) -> dict:
        """Python's rules: positional, keyword, defaults, *args, **kwargs."""
        local: dict = {}
        positional = [p for p in self.params if p.kind == ""]
        star = next((p for p in self.params if p.kind == "*"), None)
        double = next((p for p in self.params if p.kind == "**"), None)
        if len(args) > len(positional) and star is None:
            raise ScriptError("TypeError", f"{self.name}() takes {len(positional)} "
                              f"positional argument{'s' * (len(positional) != 1)} but "
                              f"{len(args)} {'was' if len(args) == 1 else 'were'} given")
        for p, value in zip(positional, args):
            local[p.name] = value
        if star is not None:
            local[star.name] = tuple(args[len(positional):])
        extra = {}
        names = {p.name for p in self.params if p.kind in ("", "kw")}
        for key, value in kwargs.items():
            if key in local and key in names:
                raise ScriptError("TypeError", f"{self.name}() got multiple values for "
                                  f"argument '{key}'")
            if key in names:
                local[key] = value
            elif double is not None:
                extra[key] = value
            else:
                raise ScriptError("TypeError", f"{self.name}() got an unexpected keyword "
                                  f"argument '{key}'")
        if double is not None:
            local[double.name] = extra
        for kind, word in (("", "positional"), ("kw", "keyword-only")):
            missing = [p.name for p in self.params if p.kind == kind
                       and p.name not in local and p.name not in self.defaults]
            if missing:
                raise ScriptError("TypeError", f"{self.name}() missing {len(missing)} "
                                  f"required {word} argument{'s' * (len(missing) != 1)}: "
                                  f"{_listed(missing)}")
        for name, value in self.defaults.items():
            local.setdefault(name, value)
        return local


def _listed(names: list) -> str:
    """'a', 'a' and 'b', 'a', 'b', and 'c' (Python's own way of listing)."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


class Namespace:
    """A module (``torch``, ``torch.nn``, ``numpy``): names -> values, read-only."""

    __slots__ = ("name", "members")
    python_name = "module"

    def __init__(self, name: str, members: dict):
        self.name = name
        self.members = members

    def __repr__(self) -> str:
        return f"<module '{self.name}'>"


class ExceptionType(ScriptCallable):
    """RuntimeError, TypeError, ...: for ``except``, ``raise`` and ``isinstance``."""

    __slots__ = ("name", "parent")
    python_name = "type"

    def __init__(self, name: str, parent):
        self.name = name
        self.parent = parent

    def __repr__(self) -> str:
        return f"<class '{self.name}'>"

    def covers(self, name) -> bool:
        """Whether ``except self`` catches an exception of type ``name``."""
        kind = EXCEPTIONS.get(name)
        while kind is not None:
            if kind is self:
                return True
            kind = kind.parent
        return False

    def call(self, interp, args: list, kwargs: dict):
        if kwargs:
            raise ScriptError("TypeError", f"{self.name}() takes no keyword arguments")
        return ExceptionValue(self.name, tuple(args))


class ExceptionValue:
    """A raised or caught exception: ``str(e)`` is its message."""

    __slots__ = ("type_name", "args")
    python_name = "Exception"

    def __init__(self, type_name: str, args: tuple):
        self.type_name = type_name
        self.args = args

    @property
    def python_type_label(self) -> str:
        return self.type_name

    @property
    def message(self) -> str:
        from .pyformat import to_str
        if len(self.args) == 1:
            return to_str(self.args[0])
        return "" if not self.args else to_str(self.args)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        from .pyformat import to_repr
        inner = ", ".join(to_repr(a) for a in self.args)
        return f"{self.type_name}({inner})"


def _exception_tree() -> dict:
    tree = {"BaseException": None, "Exception": "BaseException",
            "RuntimeError": "Exception", "NotImplementedError": "RuntimeError",
            "RecursionError": "RuntimeError", "TypeError": "Exception",
            "ValueError": "Exception", "ArithmeticError": "Exception",
            "ZeroDivisionError": "ArithmeticError", "OverflowError": "ArithmeticError",
            "LookupError": "Exception", "IndexError": "LookupError",
            "KeyError": "LookupError", "AttributeError": "Exception",
            "NameError": "Exception", "AssertionError": "Exception",
            "ImportError": "Exception", "ModuleNotFoundError": "ImportError",
            "StopIteration": "Exception", "SyntaxError": "Exception",
            "Warning": "Exception", "UserWarning": "Warning",
            "DeprecationWarning": "Warning", "FutureWarning": "Warning",
            "RuntimeWarning": "Warning"}
    made: dict = {}
    for name, parent in tree.items():
        made[name] = ExceptionType(name, made.get(parent))
    return made


EXCEPTIONS = _exception_tree()


class Size(tuple):
    """torch.Size: a tuple of ints that prints as ``torch.Size([2, 3])``."""

    python_name = "Size"

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(str(int(n)) for n in self)}])"

    __str__ = __repr__

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item     # a slice stays a Size

    def numel(self) -> int:
        total = 1
        for n in self:
            total *= int(n)
        return total
