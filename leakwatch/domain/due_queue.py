"""Items held until their due time (the grace period for late transcripts), in due order.

A timer queue instead of a sleep in the agent: a review (due now) is taken at once even
while older requests wait out their grace period. Pure: the caller passes the clock."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class DueQueue(Generic[T]):
    """One entry per key: pushing a key again replaces its item and its due time (a newer
    revision of the same deal supersedes the older request; a review is due at once)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Hashable]] = []
        self._items: dict[Hashable, tuple[float, int, T]] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._items)

    def push(self, key: Hashable, due_at: float, item: T) -> T | None:
        """Add or replace; returns the item it replaced (the caller still owes it an ack)."""
        old = self._items.get(key)
        seq = next(self._seq)
        self._items[key] = (due_at, seq, item)
        heapq.heappush(self._heap, (due_at, seq, key))
        return old[2] if old is not None else None

    def next_due(self) -> float | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float, limit: int) -> list[T]:
        out: list[T] = []
        while len(out) < limit:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                break
            _, _, key = heapq.heappop(self._heap)
            out.append(self._items.pop(key)[2])
        return out

    def _drop_stale(self) -> None:
        """Heap entries of replaced items are skipped lazily."""
        while self._heap:
            due_at, seq, key = self._heap[0]
            current = self._items.get(key)
            if current is not None and current[1] == seq:
                return
            heapq.heappop(self._heap)
