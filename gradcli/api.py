"""The Python API's ``evaluate`` (SPEC 6): the evaluator plus, on request, the check.

Lives above ``lang`` and ``check`` so that the layers keep pointing one way.
"""

from __future__ import annotations

import numpy as np


def evaluate(program, bindings=None, *, const=None, wrt=None, of=None, upstream=None,
             check=False, rtol=1e-7, atol=1e-9, check_timeout=5.0, **options):
    """Evaluate and differentiate ``program``; with ``check=True`` the result's ``.check``
    holds the cross-check report (the JSON ``check`` object of the CLI).

    numpy arrays are shared, not copied (as ``torch.from_numpy`` shares them): the
    leaves are read-only views of them, and a program that writes into one runs on
    copies.  Other keyword options go to :func:`gradcli.lang.evaluator.evaluate`
    (``dtype``, ``retain_grad``, ``max_elements``, ``implicit_backward``, ``on_node``,
    ``copy``, ``keep``).
    """
    from .lang.evaluator import evaluate as run
    result = run(program, bindings, const=const, wrt=wrt, of=of, upstream=upstream,
                 **options)
    if check:
        from .check import run_check
        result.check = run_check(result, rtol=rtol, atol=atol, timeout=check_timeout)
    return result


def run(script: str, *, filename: str = "<script>") -> str:
    """What ``gradcli run`` prints for ``script`` (a PyTorch script, SPEC 7).  An error
    in the script raises its GradcliError (``python_name`` is the exception PyTorch
    would raise; ``printed`` holds what the script printed before it)."""
    from .lang.script import run_script
    printed, error = run_script(script, filename=filename)
    if error is not None:
        error.printed = printed
        raise error
    return printed


class Matrix(np.ndarray):
    """A Hessian or Jacobian: a 2-D numpy array with ``.variables`` (the column labels,
    ``w[0,1]`` for tensor elements), ``.outputs`` (a Jacobian's row labels) and
    ``.check`` (the cross-check report, with check=True)."""

    variables: list = []
    outputs: list = []
    check = None

    def __array_finalize__(self, obj) -> None:
        for name in ("variables", "outputs", "check"):
            setattr(self, name, getattr(obj, name, getattr(Matrix, name)))


def jacobian(program, bindings=None, *, const=None, wrt=None, check=False, rtol=1e-7,
             atol=1e-9, check_timeout=5.0, **options) -> Matrix:
    """The Jacobian of the program's output (flattened) over every variable that
    requires grad (binding order, tensors flattened), one row per output element."""
    return _matrix("jacobian", program, bindings, const, wrt, check, rtol, atol,
                   check_timeout, options)


def hessian(program, bindings=None, *, const=None, wrt=None, check=False, rtol=1e-7,
            atol=1e-9, check_timeout=5.0, **options) -> Matrix:
    """The Hessian of a scalar program over every variable that requires grad."""
    return _matrix("hessian", program, bindings, const, wrt, check, rtol, atol,
                   check_timeout, options)


def _matrix(kind, program, bindings, const, wrt, check, rtol, atol, timeout, options):
    from .lang import derivatives
    from .lang.evaluator import evaluate as run
    result = run(program, bindings, const=const, wrt=wrt, implicit_backward=False, **options)
    if kind == "hessian":
        values, labels = derivatives.hessian(result)
        outputs = labels
    else:
        values, outputs, labels = derivatives.jacobian(result)
    matrix = np.asarray(values).view(Matrix)
    matrix.variables, matrix.outputs = list(labels), list(outputs)
    if check:
        from .check.matrices import check_matrix
        matrix.check = check_matrix(result, kind, values, rtol=rtol, atol=atol,
                                    timeout=timeout)
    return matrix
