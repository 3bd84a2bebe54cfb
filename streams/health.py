"""What `/health` reports: ok, or degraded with the current problems (a classifier or the
producer failing and being retried, refusals dead-lettered recently)."""

from __future__ import annotations

import time

DEAD_LETTER_MEMORY_S = 3600.0  # a dead-lettered refusal keeps the worker "degraded" this long


class WorkerHealth:
    def __init__(self) -> None:
        self._problems: dict[str, str] = {}
        self._dead_lettered_at: list[float] = []

    def problem(self, area: str, reason: str) -> None:
        self._problems[area] = reason

    def resolved(self, area: str) -> None:
        self._problems.pop(area, None)

    def dead_lettered(self, n: int = 1) -> None:
        self._dead_lettered_at.extend([time.monotonic()] * n)

    def report(self) -> dict:
        horizon = time.monotonic() - DEAD_LETTER_MEMORY_S
        self._dead_lettered_at = [t for t in self._dead_lettered_at if t >= horizon]
        problems = dict(self._problems)
        if self._dead_lettered_at:
            problems["dead_letters"] = (f"{len(self._dead_lettered_at)} refusal request(s) dead-lettered "
                                        f"in the last {DEAD_LETTER_MEMORY_S / 60:.0f} min")
        return {"status": "degraded" if problems else "ok", "problems": problems}
