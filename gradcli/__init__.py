"""gradcli: a command-line gradient calculator with PyTorch's autograd semantics.

The Python API (SPEC 6)::

    import gradcli
    x = gradcli.tensor(2.0, requires_grad=True)
    y = x ** 3
    y.backward()
    x.grad            # tensor(12.)

Names are imported lazily so that ``import gradcli`` stays cheap for the CLI.
"""

from __future__ import annotations

__version__ = "0.1.0"

_EXPORTS = {
    "Tensor": "gradcli.autograd.tensor",
    "tensor": "gradcli.autograd.tensor",
    "grad": "gradcli.autograd.engine",
    "backward": "gradcli.autograd.engine",
    "no_grad": "gradcli.autograd.grad_mode",
    "enable_grad": "gradcli.autograd.grad_mode",
    "functional": "gradcli.autograd",
    "evaluate": "gradcli.api",
    "run": "gradcli.api",
    "jacobian": "gradcli.api",
    "hessian": "gradcli.api",
    "Result": "gradcli.lang.evaluator",
    "GradcliError": "gradcli.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gradcli' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
