"""The Python API's ``evaluate`` (SPEC 6): the evaluator plus, on request, the check.

Lives above ``lang`` and ``check`` so that the layers keep pointing one way.
"""

from __future__ import annotations


def evaluate(program, bindings=None, *, const=None, wrt=None, of=None, upstream=None,
             check=False, rtol=1e-7, atol=1e-9, check_timeout=5.0, **options):
    """Evaluate and differentiate ``program``; with ``check=True`` the result's ``.check``
    holds the cross-check report (the JSON ``check`` object of the CLI).

    Other keyword options go to :func:`gradcli.lang.evaluator.evaluate` (``dtype``,
    ``retain_grad``, ``max_elements``, ``implicit_backward``, ``on_node``).
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
