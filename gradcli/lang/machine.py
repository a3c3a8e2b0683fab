"""The interpreter: runs a parsed program's statements (one interpreter for both
dialects: ``gradcli grad`` programs and ``gradcli run`` scripts).

Statements run in a loop; blocks nest only as deep as the text does (the tokenizer
limits indentation levels); calls of the program's own functions nest up to
``MAX_CALL_DEPTH`` (Python's RecursionError past it).  Expressions are evaluated by
:mod:`gradcli.lang.expressions` with an explicit stack.  Every statement counts
against ``max_statements`` (SPEC 7: 10^7), so any program ends in bounded time.
"""

from __future__ import annotations

from ..autograd.grad_mode import is_grad_enabled, set_grad_enabled
from ..autograd.tensor import Tensor
from ..errors import GradcliError, LimitError
from . import ast
from .attributes import set_attribute
from .expressions import Evaluator
from .objects import ExceptionType, ExceptionValue, UserFunction
from .pyops import MAX_SEQUENCE, ScriptError, delitem, iterate, setitem, truth

MAX_CALL_DEPTH = 100
INPLACE = {"+": "__iadd__", "-": "__isub__", "*": "__imul__", "/": "__itruediv__",
           "**": "pow_", "//": "floor_divide_", "%": "remainder_"}


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class Frame:
    """Where names are looked up (``scopes``, innermost first, globals last) and stored."""

    __slots__ = ("scopes", "store", "global_names")

    def __init__(self, scopes: list, store: dict, global_names=frozenset()):
        self.scopes = scopes
        self.store = store
        self.global_names = global_names


class Interpreter(Evaluator):
    """The state of one program run.  Subclasses set the dialect's rules: the grad
    dialect (:class:`gradcli.lang.evaluator.GradRun`) and the script dialect
    (:class:`gradcli.lang.script.ScriptRun`)."""

    dialect = "python"

    def __init__(self, program, builtins: dict, *, max_statements: int = 10 ** 7,
                 max_elements: int = 10 ** 8):
        self.program = program
        self.source = program.source
        self.builtins = builtins
        self.globals: dict = {}
        self.frame = Frame([self.globals], self.globals)
        self.max_statements = max_statements
        self.max_elements = max_elements
        self.statements_run = 0
        self.call_depth = 0
        self.handling: list = []        # exceptions being handled (for a bare `raise`)
        self.stmt = None                # the statement running (its line for watchers)
        self.handlers = {kind: getattr(self, name) for kind, name in _HANDLERS.items()}

    # -- running ------------------------------------------------------------------------
    def run_program(self) -> None:
        self.exec_block(self.program.statements)

    def count(self, n: int = 1) -> None:
        self.statements_run += n
        if self.statements_run > self.max_statements:
            raise LimitError(f"the program ran over {self.max_statements} statements (the "
                             "limit): does a loop never end?")

    def exec_block(self, statements) -> None:
        handlers = self.handlers
        for stmt in statements:
            self.statements_run += 1
            if self.statements_run > self.max_statements:
                self.count(0)
            self.stmt = stmt                     # the innermost statement running now
            try:
                handlers[type(stmt)](stmt)
            except GradcliError as exc:
                raise exc.located(stmt.line, stmt.col, self.source)

    # -- simple statements --------------------------------------------------------------
    def exec_expr(self, stmt) -> None:
        self.statement_value(stmt, self.value(stmt.value))

    def statement_value(self, stmt, value) -> None:
        """What an expression statement's value becomes (scripts: nothing)."""

    def exec_assign(self, stmt) -> None:
        self.assign(stmt.target, self.value(stmt.value), stmt)

    def exec_aug_assign(self, stmt) -> None:
        target, op = stmt.target, stmt.op
        value = self.operand(self.expr(stmt.value))
        if isinstance(target, str):
            current = self.lookup(target, stmt)
            self.assign(target, self.augment(op, current, value), stmt)
        elif isinstance(target, ast.Attr):
            owner = self.expr(target.value)
            current = self.attribute(owner, target)
            set_attribute(self, owner, target.name, self.augment(op, current, value))
        else:
            owner = self.expr(target.value)
            key = self.subscript(target)
            current = self.index(owner, key)
            setitem(owner, key, self.augment(op, current, value))

    def augment(self, op: str, current, value):
        """``current op= value``: in place for tensors and lists, as Python does."""
        if isinstance(current, Tensor):
            self.check_size(op, current, value)
            method = getattr(current, INPLACE.get(op, ""), None)
            if method is None:
                raise ScriptError("TypeError", f"unsupported in-place operand type(s) for "
                                  f"{op}=: 'Tensor' and '{type(value).__name__}'")
            return method(value)
        if isinstance(current, list) and op == "+":
            items = list(iterate(value))
            if len(current) + len(items) > MAX_SEQUENCE:
                raise LimitError(f"a list of over {MAX_SEQUENCE} elements")
            current.extend(items)
            return current
        return self.arith(op, self.operand(current), value)

    def exec_pass(self, stmt) -> None:
        pass

    def exec_break(self, stmt) -> None:
        raise _Break

    def exec_continue(self, stmt) -> None:
        raise _Continue

    def exec_return(self, stmt) -> None:
        raise _Return(None if stmt.value is None else self.value(stmt.value))

    def exec_global(self, stmt) -> None:
        if self.frame.store is not self.globals:
            self.frame.global_names = frozenset(self.frame.global_names | set(stmt.names))

    def exec_delete(self, stmt) -> None:
        targets = stmt.targets.items if isinstance(stmt.targets, ast.Tuple) else \
            (stmt.targets,)
        for target in targets:
            if isinstance(target, ast.Name):
                if target.id not in self.frame.store:
                    raise ScriptError("NameError", f"name '{target.id}' is not defined")
                del self.frame.store[target.id]
            elif isinstance(target, ast.Index):
                delitem(self.expr(target.value), self.subscript(target))
            else:
                raise ScriptError("TypeError", "only names and items can be deleted")

    def exec_assert(self, stmt) -> None:
        if not truth(self.expr(stmt.test)):
            message = () if stmt.msg is None else (self.expr(stmt.msg),)
            raise ScriptError("AssertionError", ExceptionValue("AssertionError",
                                                               message).message)

    def exec_raise(self, stmt) -> None:
        if stmt.exc is None:
            if not self.handling:
                raise ScriptError("RuntimeError", "No active exception to reraise")
            raise self.handling[-1]
        value = self.expr(stmt.exc)
        if isinstance(value, ExceptionType):
            value = ExceptionValue(value.name, ())
        if not isinstance(value, ExceptionValue):
            raise ScriptError("TypeError", "exceptions must derive from BaseException")
        raise ScriptError(value.type_name, value.message)

    def exec_import(self, stmt) -> None:
        for alias in stmt.names:
            if alias.asname is not None:
                self.store(alias.asname, self.import_module(alias.name, alias))
            else:
                self.import_module(alias.name, alias)
                top = alias.name.split(".")[0]
                self.store(top, self.import_module(top, alias))

    def exec_import_from(self, stmt) -> None:
        module = self.import_module(stmt.module, stmt)
        for alias in stmt.names:
            value = module.members.get(alias.name)
            if value is None:
                try:
                    value = self.import_module(f"{stmt.module}.{alias.name}", alias)
                except GradcliError:
                    raise ScriptError("ImportError", f"cannot import name '{alias.name}' "
                                      f"from '{stmt.module}' (gradcli supports part of "
                                      "it: see SPEC 7)", line=alias.line,
                                      column=alias.col) from None
            self.store(alias.asname or alias.name, value)

    def import_module(self, name: str, node):
        raise ScriptError("ModuleNotFoundError", f"No module named '{name}'")

    # -- compound statements ------------------------------------------------------------
    def exec_if(self, stmt) -> None:
        while True:
            if truth(self.expr(stmt.test)):
                self.exec_block(stmt.body)
                return
            orelse = stmt.orelse
            if len(orelse) == 1 and type(orelse[0]) is ast.If:     # elif: no recursion
                stmt = orelse[0]
                self.statements_run += 1
                continue
            self.exec_block(orelse)
            return

    def exec_while(self, stmt) -> None:
        body = stmt.body
        while truth(self.expr(stmt.test)):
            try:
                self.exec_block(body)
            except _Break:
                return
            except _Continue:
                pass
            self.count()
        self.exec_block(stmt.orelse)

    def exec_for(self, stmt) -> None:
        body, target = stmt.body, stmt.target
        for item in iterate(self.expr(stmt.iter)):
            self.count()
            self.assign(target, item, stmt)
            try:
                self.exec_block(body)
            except _Break:
                return
            except _Continue:
                pass
        self.exec_block(stmt.orelse)

    def exec_function_def(self, stmt) -> None:
        decorators = [self.expr(d) for d in stmt.decorators]
        fn = self.make_function(stmt.name, stmt.params, stmt.body, False)
        for decorator in reversed(decorators):
            fn = self.decorate(decorator, fn, stmt)
        self.store(stmt.name, fn)

    def make_function(self, name: str, params, body, is_lambda: bool) -> UserFunction:
        defaults = {p.name: self.expr(p.default) for p in params if p.default is not None}
        return UserFunction(name, params, body, defaults, list(self.frame.scopes), is_lambda)

    def decorate(self, decorator, fn, node):
        return self.call_value(decorator, [fn], {}, node)

    def exec_with(self, stmt) -> None:
        entered = []
        try:
            for item in stmt.items:
                context = self.expr(item.context)
                value = self.enter_context(context, item)
                entered.append(context)
                if item.target is not None:
                    self.assign(item.target, value, item)
            self.exec_block(stmt.body)
        finally:
            for context in reversed(entered):
                context.__exit__(None, None, None)

    def enter_context(self, context, node):
        from ..autograd.grad_mode import _GradModeContext
        if isinstance(context, _GradModeContext) or hasattr(context, "grad_mode_context") \
                or getattr(context, "script_context", False):
            context.__enter__()
            return None
        raise ScriptError("TypeError", f"'{type(context).__name__}' object does not "
                          "support the context manager protocol (gradcli's with-blocks "
                          "are torch.no_grad(), torch.enable_grad(), "
                          "torch.set_grad_enabled(b) and warnings.catch_warnings())")

    def exec_try(self, stmt) -> None:
        try:
            try:
                self.exec_block(stmt.body)
            except GradcliError as exc:
                handler = self.handler_for(stmt.handlers, exc)
                if handler is None:
                    raise
                self.handle(handler, exc)
            else:
                self.exec_block(stmt.orelse)
        finally:
            if stmt.finalbody:
                self.exec_block(stmt.finalbody)

    def handler_for(self, handlers, exc: GradcliError):
        name = exc.python_name
        if name is None:
            return None                 # gradcli's limits: no script may catch them
        for handler in handlers:
            if handler.type is None:
                return handler
            kinds = self.expr(handler.type)
            kinds = kinds if isinstance(kinds, tuple) else (kinds,)
            for kind in kinds:
                if not isinstance(kind, ExceptionType):
                    raise ScriptError("TypeError", "catching classes that do not inherit "
                                      "from BaseException is not allowed")
                if kind.covers(name):
                    return handler
        return None

    def handle(self, handler, exc: GradcliError) -> None:
        if handler.name is not None:
            # str(e) is PyTorch's message where gradcli's own says more
            self.store(handler.name, ExceptionValue(exc.python_name,
                                                    (exc.python_message or exc.message,)))
        self.handling.append(exc)
        try:
            self.exec_block(handler.body)
        finally:
            self.handling.pop()

    # -- names and targets ------------------------------------------------------------
    def store(self, name: str, value) -> None:
        frame = self.frame
        if name in frame.global_names:
            self.globals[name] = value
        else:
            frame.store[name] = value

    def assign(self, target, value, node) -> None:
        if isinstance(target, str):
            self.store(target, value)
        elif type(target) is ast.Name:
            self.store(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.ArrayLit)):
            self.unpack(target.items, value, node)
        elif isinstance(target, ast.Attr):
            set_attribute(self, self.expr(target.value), target.name, value)
        elif isinstance(target, ast.Index):
            setitem(self.expr(target.value), self.subscript(target), value)
        else:
            raise ScriptError("SyntaxError", "cannot assign here")

    def unpack(self, targets, value, node) -> None:
        items = list(iterate(value))
        starred = [i for i, t in enumerate(targets) if isinstance(t, ast.Starred)]
        if starred:
            i = starred[0]
            after = len(targets) - i - 1
            if len(items) < len(targets) - 1:
                raise ScriptError("ValueError", f"not enough values to unpack (expected "
                                  f"at least {len(targets) - 1}, got {len(items)})")
            items = items[:i] + [items[i:len(items) - after]] + items[len(items) - after:]
            targets = targets[:i] + (targets[i].value,) + targets[i + 1:]
        elif len(items) != len(targets):
            if len(items) > len(targets):
                raise ScriptError("ValueError", f"too many values to unpack (expected "
                                  f"{len(targets)})")
            raise ScriptError("ValueError", f"not enough values to unpack (expected "
                              f"{len(targets)}, got {len(items)})")
        for target, item in zip(targets, items):
            self.assign(target, item, node)

    # -- calls of the program's own functions ------------------------------------------
    def call_user(self, fn: UserFunction, args: list, kwargs: dict):
        if self.call_depth >= MAX_CALL_DEPTH:
            raise ScriptError("RecursionError", "maximum recursion depth exceeded (gradcli "
                              f"allows {MAX_CALL_DEPTH} nested calls)")
        local = fn.bind(args, kwargs)
        saved = self.frame
        self.frame = Frame([local] + fn.scopes, local)
        self.call_depth += 1
        try:
            if fn.is_lambda:
                return self.expr(fn.body)
            self.exec_block(fn.body)
            return None
        except _Return as result:
            return result.value
        except GradcliError as exc:
            frames = exc.__dict__.setdefault("frames", [])
            frames.append(fn.name)
            raise
        finally:
            self.call_depth -= 1
            self.frame = saved

    # -- hooks the dialects fill in -------------------------------------------------------
    def tensor_hook(self, tensor, name: str):
        """A method of ``tensor`` the dialect runs itself (None: the engine's)."""
        return None

    def read_grad(self, tensor, node):
        return tensor.grad

    def write(self, text: str) -> None:
        raise NotImplementedError

    # -- grad mode around an expression (the grad dialect's no_grad(expr)) -------------
    def with_grad_mode(self, enabled: bool, thunk):
        previous = is_grad_enabled()
        set_grad_enabled(enabled)
        try:
            return thunk()
        finally:
            set_grad_enabled(previous)


_HANDLERS = {
    ast.ExprStmt: "exec_expr", ast.Assign: "exec_assign",
    ast.AugAssign: "exec_aug_assign", ast.Pass: "exec_pass",
    ast.Break: "exec_break", ast.Continue: "exec_continue",
    ast.Return: "exec_return", ast.Global: "exec_global",
    ast.Delete: "exec_delete", ast.Assert: "exec_assert",
    ast.Raise: "exec_raise", ast.Import: "exec_import",
    ast.ImportFrom: "exec_import_from", ast.If: "exec_if",
    ast.While: "exec_while", ast.For: "exec_for",
    ast.FunctionDef: "exec_function_def", ast.With: "exec_with",
    ast.Try: "exec_try",
}
