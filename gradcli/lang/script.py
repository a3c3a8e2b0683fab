"""Run a PyTorch script (SPEC 7): the Python dialect of the one interpreter.

    text, error = run_script(open("tutorial.py").read(), filename="tutorial.py")

The script's ``import torch`` binds gradcli's torch namespace; its tensors are the
engine's, with PyTorch's float32 default; ``print`` writes what PyTorch would.  What it
printed before an error stays printed; the error itself is formatted as Python reports
it (file, line, the line itself with a caret, ``RuntimeError: message``).
"""

from __future__ import annotations

import warnings
from typing import Callable, Optional

import numpy as np

from ..autograd import dtypes, engine, grad_mode
from ..autograd.events import BackwardEvent, GradEvent
from ..autograd.tape import Tape
from ..autograd.tensor import Tensor
from ..errors import GradcliError
from .machine import Interpreter
from .objects import BoundMethod, Builtin
from .parser import parse
from .pybuiltins import python_builtins
from .pywarnings import ScriptWarnings

NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
    ".grad attribute won't be populated during autograd.backward(). If you indeed want the "
    ".grad field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf "
    "Tensor. If you access the non-leaf Tensor by mistake, make sure you access the leaf "
    "Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information. "
    "(Triggered internally at /__w/pytorch/pytorch/build/aten/src/ATen/core/"
    "TensorBody.h:493.)")                # PyTorch 2.13's wheel says where, too
# what PyTorch warns about once per process (TORCH_WARN_ONCE), not once per place
ONCE_PER_RUN = frozenset((engine.CREATE_GRAPH_CYCLE,))
MAX_STATEMENTS = 10 ** 7     # SPEC 7: a script runs at most this many statements
# --check/--explain record the script's graph on a tape; it holds at most this many bytes
# (a checkable call's graph is small: past 256 elements the symbolic check skips it)
RECORD_LIMIT = 128 * 2 ** 20
SUPPORTED_IMPORTS = ("torch", "torch.nn", "torch.optim", "torch.nn.functional",
                     "torch.nn.utils", "torch.autograd", "torch.autograd.functional",
                     "numpy", "math", "warnings")


class ScriptRun(Interpreter):
    """One run of a script: its output goes to ``write``, warnings to ``warn``."""

    dialect = "python"

    def __init__(self, program, *, write: Callable[[str], None],
                 warn: Callable[[str], None], filename: str = "<script>",
                 max_statements: int = 10 ** 7, watchers=(), record_limit: int = RECORD_LIMIT):
        super().__init__(program, python_builtins(), max_statements=max_statements)
        self.write = write
        self.warn_line = warn
        self.filename = filename
        self.warned: set = set()
        # --explain, --check: watchers hear before each backward or grad call
        # (``before_call(run, kind, roots)``), watch it node by node (``on_node``) and
        # hear after it (``after_call(run, kind, first, line)``: the call's tape events
        # are run.events[first:]); the run then records its graph on a tape and names
        # tensors after the variables they are assigned to
        # (the record is bounded: past record_limit bytes it stops, and the watchers
        # hear of each later call through ``not_recorded(run, kind, line)``)
        self.watchers = tuple(watchers)
        self.tape = Tape(limit=record_limit) if self.watchers else None
        self.events = self.tape.events if self.watchers else []
        self.hook_replaced = False        # a register_hook() replaced a gradient
        self.names: dict = {}
        self.leaves: dict = {}
        self.made_leaves: dict = {}
        self.const_names: set = set()
        from . import torchns
        self.modules = torchns.build({"grad": Builtin("grad", self.grad,
                                                      needs_interpreter=False),
                                      "backward": Builtin("backward", self.backward)})
        self.filters = ScriptWarnings()
        self.modules["warnings"] = self.filters.namespace(
            lambda message, category: self.warn(message, self.stmt, category))

    # -- imports --------------------------------------------------------------------
    def import_module(self, name: str, node):
        module = self.modules.get(name)
        if module is not None:
            return module
        from .pyops import ScriptError
        supported = ", ".join(SUPPORTED_IMPORTS)
        raise ScriptError("ModuleNotFoundError", f"No module named '{name}' in gradcli run "
                          f"(it runs the PyTorch subset of scripts: {supported})")

    # -- what PyTorch warns about ------------------------------------------------------
    def warn(self, message: str, node, category: str = "UserWarning") -> None:
        action = self.filters.action(message, category)
        if action == "ignore":
            return
        if action == "error":
            from .pyops import ScriptError
            raise ScriptError(category, message)
        line = getattr(node, "line", 0)
        place = None if message in ONCE_PER_RUN or action == "once" else line
        if action not in ("always", "all"):
            if (place, message, category) in self.warned:   # Python warns once per place
                return
            self.warned.add((place, message, category))
        text = f"{self.filename}:{line}: {category}: {message}\n"
        lines = self.source.splitlines()
        if not self.filename.startswith("<") and 0 < line <= len(lines) and \
                lines[line - 1].strip():       # Python shows the line of a file, as typed
            text += f"  {lines[line - 1].strip()}\n"
        self.warn_line(text)

    def python_warning(self, message, category, filename, lineno, file=None,
                       line=None) -> None:
        """A warning the engine raised (PyTorch's UserWarnings): shown at the script's
        line, as Python shows PyTorch's, not at gradcli's own."""
        self.warn(str(message), self.stmt, category.__name__)

    def read_grad(self, tensor: Tensor, node):
        if tensor.grad_fn is not None and not tensor.retains_grad:
            self.warn(NON_LEAF_GRAD, node)
        return tensor.grad

    def store(self, name: str, value) -> None:
        super().store(name, value)
        if self.watchers and isinstance(value, Tensor):
            self.names.setdefault(id(value), name)

    def run_program(self) -> None:
        if self.tape is None:
            super().run_program()
            return
        with self.tape:
            super().run_program()

    # -- backward and grad, observed ----------------------------------------------------
    def tensor_hook(self, tensor: Tensor, name: str):
        if name == "backward":
            return BoundMethod(tensor, Builtin("backward", self.tensor_backward))
        if name == "register_hook":
            return BoundMethod(tensor, Builtin("register_hook", self.register_hook))
        return None

    def register_hook(self, tensor, hook):
        """``t.register_hook(fn)``: the engine calls the script's function with the
        gradient; one that returns a tensor replaces it (and the check, which compares
        with the derivative, then leaves that call alone)."""
        def call(grad):
            out = self.call_value(hook, [grad], {})
            if out is not None:
                self.hook_replaced = True
            return out
        call.__name__ = getattr(hook, "name", "hook")     # (PyTorch's errors name it)
        return tensor.register_hook(call)

    def tensor_backward(self, tensor, gradient=None, retain_graph=None, create_graph=False,
                        inputs=None):
        self.backward(tensor, gradient, retain_graph, create_graph)

    def backward(self, tensors, grad_tensors=None, retain_graph=None, create_graph=False,
                 inputs=None):
        if inputs is not None:
            from .pyops import ScriptError
            raise ScriptError("RuntimeError", "backward(inputs=...) is not supported")
        if not self._recording("backward"):
            engine.backward(tensors, grad_tensors, retain_graph=retain_graph,
                            create_graph=bool(create_graph))
            return
        roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
        first = self._before("backward", roots)
        self.events.append(BackwardEvent(roots[0], grad_tensors, bool(create_graph), False))
        self._watched(engine.backward, tensors, grad_tensors, retain_graph=retain_graph,
                      create_graph=bool(create_graph))
        self._after("backward", first)

    def grad(self, outputs, inputs, grad_outputs=None, retain_graph=None,
             create_graph=False, allow_unused=None, is_grads_batched=False):
        if not self._recording("grad"):
            return engine.grad(outputs, inputs, grad_outputs, retain_graph=retain_graph,
                               create_graph=bool(create_graph),
                               allow_unused=bool(allow_unused))
        outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
        first = self._before("grad", outs)
        results = self._watched(engine.grad, outputs, inputs, grad_outputs,
                                retain_graph=retain_graph, create_graph=bool(create_graph),
                                allow_unused=bool(allow_unused))
        if len(outs) == 1:             # the check replays one output's grad() per input
            upstream = grad_outputs
            if isinstance(upstream, (list, tuple)) and len(upstream) == 1:
                upstream = upstream[0]
            ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            for inp, result in zip(ins, results):
                self.events.append(GradEvent(outs[0], inp, upstream, bool(create_graph),
                                             result))
        self._after("grad", first)
        return results

    def _recording(self, kind: str) -> bool:
        """Whether watchers hear of this call; once the record stopped at its limit, they
        hear that it was not recorded."""
        if not self.watchers:
            return False
        if self.tape.stopped:
            for watcher in self.watchers:
                watcher.not_recorded(self, kind, getattr(self.stmt, "line", 0))
            return False
        return True

    def _before(self, kind: str, roots) -> int:
        self.hook_replaced = False
        for watcher in self.watchers:
            watcher.before_call(self, kind, roots)
        return len(self.events)

    def _watched(self, call, *args, **kwargs):
        self.tape.in_backward = True
        try:
            return call(*args, on_node=self._on_node, **kwargs)
        finally:
            self.tape.in_backward = False

    def _after(self, kind: str, first: int) -> None:
        line = getattr(self.stmt, "line", 0)
        for watcher in self.watchers:
            if self.tape.stopped:                       # (it stopped during this call)
                watcher.not_recorded(self, kind, line)
            else:
                watcher.after_call(self, kind, first, line)

    def code_at(self, line: int) -> str:
        """The statement running on line ``line`` as written (for reports about the
        call it made), else the line itself."""
        from .ast import statement_text
        if self.stmt is not None and self.stmt.line == line:
            return statement_text(self.source, self.stmt)
        lines = self.source.splitlines()
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def _on_node(self, node, grad, input_grads) -> None:
        for watcher in self.watchers:
            watcher.on_node(node, grad, input_grads)


def run_script(text: str, *, filename: str = "<script>", write=None, warn=None,
               max_statements: Optional[int] = None, watchers=(),
               record_limit: int = RECORD_LIMIT):
    """Run ``text``; returns (what it printed, the GradcliError that ended it or None).
    ``write``/``warn``: where output and warnings go as they happen (default: kept);
    ``watchers``: see :class:`ScriptRun` (--explain, --check)."""
    printed: list = []
    max_statements = MAX_STATEMENTS if max_statements is None else max_statements
    write = write or printed.append
    warn = warn or (lambda line: None)
    previous_dtype = dtypes.default_if_set()
    grad_enabled = grad_mode.is_grad_enabled()
    try:
        program = parse(text, dialect="python")
        run = ScriptRun(program, write=write, warn=warn, filename=filename,
                        max_statements=max_statements, watchers=watchers,
                        record_limit=record_limit)
        dtypes.set_default_dtype(np.float32)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("always", UserWarning)     # run.warn: once per line
            warnings.showwarning = run.python_warning
            run.run_program()
    except GradcliError as exc:
        if exc.source is None:
            exc.source = text
        return "".join(printed), exc
    finally:
        dtypes.restore_default(previous_dtype)
        grad_mode.set_grad_enabled(grad_enabled)
    return "".join(printed), None


def format_error(exc: GradcliError, filename: str) -> str:
    """The error as Python reports an exception in a script: where, the line, a caret,
    then ``RuntimeError: message`` (or gradcli's own words for its limits)."""
    lines = []
    if exc.line is not None:
        frames = getattr(exc, "frames", [])
        where = frames[0] if frames else "<module>"
        lines.append(f'  File "{filename}", line {exc.line}, in {where}')
        context = exc.context()
        if context:
            text, caret = context.split("\n")
            lines.append("  " + text)
            lines.append("  " + caret)
    kind = exc.python_name
    if kind is None:
        lines.append(f"gradcli: limit: {exc.message}")
    else:
        lines.append(f"{kind}: {exc.python_message or exc.message}")
    return "\n".join(lines) + "\n"
