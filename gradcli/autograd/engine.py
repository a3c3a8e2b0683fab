"""The backward pass: reverse-mode traversal of the recorded graph.

Iterative and linear in the graph size (no recursion): one depth-first sweep counts
each node's dependencies, then nodes run when every gradient they wait for has
arrived, the most recently created first (PyTorch's ready-queue order), leaves'
AccumulateGrad sinks as soon as they are ready.
"""

from __future__ import annotations

import heapq
import itertools
import warnings
from typing import Callable, Optional, Sequence

import numpy as np

from ..errors import AutogradError, ShapeError
from .budget import before_backward_step
from .budget import current as current_budget
from .function import ARRAY_OPS, TENSOR_OPS, edge_of
from .grad_mode import enable_grad, no_grad
from .node import AccumulateGrad
from .ops.core import as_array
from .tensor import Tensor

# PyTorch's warning (once per process: a script run shows it once) for backward(), not
# grad(), with create_graph=True
CREATE_GRAPH_CYCLE = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this "
    "function, make sure to reset the .grad fields of your parameters to None after use "
    "to break the cycle and avoid the leak.")

NOT_REQUIRING_GRAD = "element {i} of tensors does not require grad and does not have a grad_fn"
IMPLICIT_SCALAR = "grad can be implicitly created only for scalar outputs"
UNUSED = ("The differentiated Tensor at index {i} appears to not have been used in the graph. "
          "Set allow_unused=True if this is the desired behavior.")


def _size(shape) -> str:
    return f"torch.Size([{', '.join(str(n) for n in shape)}])"


def _root_grads(outputs, grad_outputs, create_graph):
    """Check the outputs and build the gradient each one starts with."""
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise AutogradError(NOT_REQUIRING_GRAD.format(i=i))
        if g is None:
            if out.data.size != 1:
                raise AutogradError(IMPLICIT_SCALAR)
            g = np.ones(out.shape, dtype=out.data.dtype)
        else:
            garr = g.data if isinstance(g, Tensor) else np.asarray(g, dtype=out.data.dtype)
            if garr.shape != out.shape:
                raise ShapeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of "
                    f"{_size(garr.shape)} and output[{i}] has a shape of {_size(out.shape)}.")
            if not create_graph or not isinstance(g, Tensor):
                g = np.array(garr, dtype=out.data.dtype, copy=True)  # never alias the caller's
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._make(as_array(g), None)
        edge = edge_of(out)
        if edge is not None:        # (a view made under no_grad may have nowhere to go)
            roots.append((edge, g))
    return roots


def _discover(root_nodes):
    """Dependency count of every node reachable from the roots (iterative DFS)."""
    deps: dict = {}
    seen = set(root_nodes)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for nxt in node.next_edges:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return deps, seen


def reachable(tensors) -> set:
    """Every node a backward from ``tensors`` would visit (their graph, leaves' sinks
    included)."""
    return _discover([n for n in map(edge_of, tensors) if n is not None])[1]


def _needed(seen, deps, targets):
    """The nodes from which some target is reachable (only these run in grad())."""
    # Kahn order from the roots, then a sweep back from the leaves.
    remaining = dict(deps)
    order = [n for n in seen if remaining.get(n, 0) == 0]
    i = 0
    while i < len(order):
        for nxt in order[i].next_edges:
            if nxt is not None:
                remaining[nxt] -= 1
                if remaining[nxt] == 0:
                    order.append(nxt)
        i += 1
    needed = set()
    for node in reversed(order):
        if node in targets or any(e in needed for e in node.next_edges if e is not None):
            needed.add(node)
    return needed


def _add_into(pending: dict, owned: set, node, g, tensor_mode: bool) -> None:
    """Sum gradients arriving at ``node``, in place in buffers this pass allocated."""
    v = pending.get(node)
    if v is None:
        pending[node] = g
    elif tensor_mode:
        pending[node] = v + g
    elif node in owned and v.shape == np.shape(g) and v.dtype == np.result_type(v, g):
        np.add(v, g, out=v)
    else:
        pending[node] = as_array(v + g)
        owned.add(node)


def _accumulate_leaf(var: Tensor, g, create_graph: bool, stolen: set) -> None:
    """AccumulateGrad: add ``g`` into ``var.grad`` (PyTorch's accumulation semantics:
    the first gradient is stored as a copy the leaf owns -- under create_graph a
    recorded one, CopyBackwards -- later ones are added in place, or, under
    create_graph, out of place)."""
    if create_graph:
        g = g if isinstance(g, Tensor) else Tensor._make(as_array(g), None)
        if var._grad is None:        # new_empty_strided(...).copy_(g): version 1
            # (zeros, not empty: the graph lists the buffer, and shows no stray memory)
            var._grad = TENSOR_OPS.written(
                TENSOR_OPS.copy(Tensor._make(np.zeros_like(var.data), None), g))
        else:
            var._grad = var._grad + g
        return
    g = g.data if isinstance(g, Tensor) else g
    if var._grad is None:
        # Steal a fresh buffer (one the VJPs just made and no other leaf got); copy
        # views and anything else.
        fresh = (type(g) is np.ndarray and g.base is None and g.flags.writeable
                 and g.dtype == var.data.dtype and g.shape == var.shape
                 and id(g) not in stolen)
        if fresh:
            stolen.add(id(g))
            arr = g
        else:
            arr = np.array(np.broadcast_to(g, var.shape), dtype=var.data.dtype, copy=True)
        var._grad = Tensor._make(arr, None)
    else:
        grad = var._grad
        np.add(grad.data, g, out=grad.data, casting="unsafe")
        grad._counter().value += 1


def _retain(tensor: Tensor, g, create_graph: bool) -> None:
    """A non-leaf's retained grad: a copy, then sums made out of place (as PyTorch)."""
    g = g if create_graph else (g.data if isinstance(g, Tensor) else g)
    if tensor._grad is None:
        tensor._grad = g if isinstance(g, Tensor) else Tensor._make(
            np.array(np.broadcast_to(g, tensor.shape), dtype=tensor.data.dtype), None)
    else:
        tensor._grad = (tensor._grad + g) if create_graph else Tensor._make(
            as_array(tensor._grad.data + g), None)


def _run_hooks(hooks: list, g, create_graph: bool):
    """A tensor's register_hook()s, in order, on the gradient that reached it; a hook
    that returns a tensor replaces the gradient (PyTorch checks its size)."""
    for fn, in list(hooks):
        out = fn(g if create_graph else Tensor._make(g, None))
        if out is None:
            continue
        if not isinstance(out, Tensor):
            raise AutogradError("expected Variable, but hook returned "
                                f"'{type(out).__name__}'", python_type="TypeError")
        if out.shape != np.shape(g):
            raise AutogradError(f"hook '{getattr(fn, '__name__', 'hook')}' has changed the "
                                "size of value")
        g = out if create_graph else out.data
    return g


def run_backward(outputs: Sequence[Tensor], grad_outputs: Sequence, *, retain_graph: bool,
                 create_graph: bool, inputs: Optional[Sequence[Tensor]] = None,
                 accumulate: bool = True,
                 on_node: Optional[Callable] = None) -> dict:
    """Propagate gradients from ``outputs`` back through the graph.

    With ``accumulate`` the leaves' ``.grad`` are updated (``backward``); ``inputs``
    (for ``grad``) limits the work to what reaches them and returns their gradients as
    a dict node -> gradient.  ``on_node(node, grad, input_grads)`` observes each step.
    """
    roots = _root_grads(outputs, grad_outputs, create_graph)
    if create_graph and accumulate:
        warnings.warn(CREATE_GRAPH_CYCLE, UserWarning, stacklevel=3)
    root_nodes = [n for n, _ in roots]
    deps, seen = _discover(root_nodes)
    targets = None
    if inputs is not None:
        targets = {edge_of(t) for t in inputs}
        needed = _needed(seen, deps, targets)
        deps = {}
        for node in needed:
            for nxt in node.next_edges:
                if nxt in needed:
                    deps[nxt] = deps.get(nxt, 0) + 1
    else:
        needed = seen
    F = TENSOR_OPS if create_graph else ARRAY_OPS
    pending: dict = {}
    owned: set = set()
    stolen: set = set()
    for node, g in roots:
        _add_into(pending, owned, node, g, create_graph)
    tiebreak = itertools.count()
    ready = [(-n.seq, next(tiebreak), n) for n in dict.fromkeys(root_nodes)
             if n in needed and deps.get(n, 0) == 0]
    heapq.heapify(ready)
    everything = inputs is None
    captured: dict = {}
    pop, push = heapq.heappop, heapq.heappush
    budget = current_budget()
    mode = enable_grad() if create_graph else no_grad()
    with mode:
        while ready:
            node = pop(ready)[2]
            g = pending.pop(node, None)
            if g is not None:
                hooks = node.variable._hooks if type(node) is AccumulateGrad else \
                    getattr(node, "hooks", None)
                if hooks:
                    g = _run_hooks(hooks, g, create_graph)
            if targets is not None and node in targets and g is not None:
                captured[node] = g
            grads = None
            if g is not None:
                if type(node) is AccumulateGrad:
                    if accumulate:
                        _accumulate_leaf(node.variable, g, create_graph, stolen)
                else:
                    if node.retained is not None and accumulate:
                        tensor = node.retained()
                        if tensor is not None:
                            _retain(tensor, g, create_graph)
                    if budget is not None:
                        before_backward_step(budget, node)
                    grads = node.apply_vjps(g, F, None if everything else needed)
                    if not retain_graph:
                        node.release()
            if on_node is not None and (accumulate or type(node) is not AccumulateGrad):
                on_node(node, g, grads or ())        # grad() captures, it does not accumulate
            for i, nxt in enumerate(node.next_edges):
                if nxt is None or not (everything or nxt in needed):
                    continue
                if grads is not None and grads[i] is not None:
                    _add_into(pending, owned, nxt, grads[i], create_graph)
                left = deps[nxt] - 1
                deps[nxt] = left
                if left == 0:
                    push(ready, (-nxt.seq, next(tiebreak), nxt))
    return captured


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             on_node=None) -> None:
    """Accumulate d(sum(tensor * grad))/d(leaf) into every reachable leaf's ``.grad``."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, (Tensor, np.ndarray, float, int)):
        grad_tensors = [grad_tensors] * len(tensors) if grad_tensors is None else [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, list(grad_tensors), retain_graph=retain_graph,
                 create_graph=create_graph, on_node=on_node)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, on_node=None):
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``."""
    single = isinstance(inputs, Tensor)
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray, float, int)):
        grad_outputs = [grad_outputs]
    for t in inputs:
        if not t.requires_grad:
            raise AutogradError("One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    captured = run_backward(outputs, list(grad_outputs), retain_graph=retain_graph,
                            create_graph=create_graph, inputs=inputs, accumulate=False,
                            on_node=on_node)
    result = []
    for i, t in enumerate(inputs):
        g = captured.get(edge_of(t))
        if g is None:
            if not allow_unused:
                raise AutogradError(UNUSED.format(i=i))
            result.append(None)
        elif isinstance(g, Tensor):
            result.append(g)
        else:
            result.append(Tensor._make(np.array(g, dtype=t.data.dtype, copy=True), None))
    return tuple(result)
