"""'Did you mean ...?': the closest known name to a misspelt one."""

from __future__ import annotations

from typing import Iterable, Optional


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and
    swaps of neighbours each cost 1 (so 'tahn' is one step from 'tanh')."""
    prev2: list = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


# What people type from maths, numpy or other languages, and gradcli's name for it.
SYNONYMS = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
            "arctan2": "atan2", "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
            "sqr": "square", "power": "pow", "absolute": "abs", "fabs": "abs",
            "logistic": "sigmoid", "expit": "sigmoid", "dotproduct": "dot",
            "transpose": "t", "avg": "mean", "average": "mean", "maxium": "maximum",
            "sine": "sin", "cosine": "cos", "tangent": "tan"}


def closest(name: str, known: Iterable[str]) -> Optional[str]:
    """The known name fewest edits away (at most a third of the name's length, at least
    1), preferring a name that begins the other ('sine' -> 'sin', not 'sinh') and then
    names of the same length; a known synonym first ('ln' -> 'log'); None when nothing
    is that close."""
    synonym = SYNONYMS.get(name.lower())
    if synonym is not None and synonym in known:
        return synonym
    limit = max(1, len(name) // 3)
    lowered = name.lower()
    best = None
    for candidate in sorted(known):
        other = candidate.lower()
        d = edit_distance(lowered, other)
        if d > limit:
            continue
        prefix = not (lowered.startswith(other) or other.startswith(lowered))
        key = (d, prefix, abs(len(candidate) - len(name)))
        if best is None or key < best[0]:
            best = (key, candidate)
    return None if best is None else best[1]
