"""Backoff for work that must not be acked undone: the delay before attempt n."""

from __future__ import annotations


def backoff_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Doubling from `base_s` after the first failed attempt (attempt 1 -> base), capped."""
    return min(cap_s, base_s * 2 ** max(attempt - 1, 0))
