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


def closest(name: str, known: Iterable[str]) -> Optional[str]:
    """The known name fewest edits away (at most a third of the name's length, at least
    1), preferring names of the same length; None when nothing is that close."""
    limit = max(1, len(name) // 3)
    best = None
    for candidate in sorted(known):
        d = edit_distance(name.lower(), candidate.lower())
        if d > limit:
            continue
        key = (d, abs(len(candidate) - len(name)))
        if best is None or key < best[0]:
            best = (key, candidate)
    return None if best is None else best[1]
