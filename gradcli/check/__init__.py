"""Cross-checks of gradcli's gradients: SymPy's symbolic derivatives, central finite
differences as a fallback, and the user's own ``--expect`` values (SPEC 5)."""

from __future__ import annotations

from .expect import check_expectations


def run_check(result, *, rtol: float = 1e-7, atol: float = 1e-9, timeout: float = 5.0) -> dict:
    """The check report of a result (the JSON ``check`` object)."""
    return {"status": "skipped", "method": "none", "max_abs_err": None, "symbolic": {},
            "failed": [], "variables": {},
            "reason": "the symbolic check is not available in this build yet"}


__all__ = ["run_check", "check_expectations"]
