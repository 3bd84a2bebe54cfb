"""The deal-state table's sweep (#8's bounds: texts dropped after the grace period, closed
deals evicted after the retention), in slices, so it never holds the event loop.

A whole-table pass inside one event decoded every stored state: with 100k deals in RocksDB
that held the loop for minutes after each start (the first event of each partition ran it),
and again every 30 s. Now a pass first lists the keys of the event's partition (RocksDB:
that partition's own database, no values decoded), then each later event of the partition
looks at as many of them as fit in `slice_s`, at most every `every_s`. Writes still happen
while an event of that partition is in hand: Faust writes a table change to the changelog
partition of the current event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import orjson

from leakwatch.domain.deal_state import DealState
from leakwatch.domain.retention import expire, may_expire

log = logging.getLogger(__name__)


def partition_keys(table, partition: int, partitions: int, key_partition: Callable[[str, int], int]) -> list[str]:
    """The table's keys on `partition`. With Faust's RocksDB store each partition is its own
    database, read directly (keys only); otherwise every key's partition is computed."""
    store = getattr(table, "data", None)
    dbs = getattr(store, "_dbs", None)
    if isinstance(dbs, dict):
        db = dbs.get(partition)
        if db is None:
            return []
        offset_key = getattr(store, "offset_key", None)
        return [orjson.loads(k) for k in db.keys() if k != offset_key]
    return [k for k in list(table.keys()) if key_partition(k, partitions) == partition]


class Sweeper:
    def __init__(self, table, *, partitions: int, grace_s: float, retention_s: float,
                 key_partition: Callable[[str, int], int], pass_every_s: float = 30.0,
                 every_s: float = 1.0, slice_s: float = 0.02, clock=time.monotonic, now=time.time):
        self.table, self.partitions = table, partitions
        self.grace_s, self.retention_s, self.key_partition = grace_s, retention_s, key_partition
        self.pass_every_s, self.every_s, self.slice_s = pass_every_s, every_s, slice_s
        self.clock, self.now = clock, now
        self._todo: dict[int, list[str]] = {}
        self._pass_at: dict[int, float] = {}
        self._slice_at: dict[int, float] = {}

    def on_event(self, partition: int) -> None:
        """Called by the enrich agent with an event of `partition` in hand."""
        t = self.clock()
        if t < self._slice_at.get(partition, float("-inf")) + self.every_s:
            return
        self._slice_at[partition] = t
        todo = self._todo.get(partition)
        if not todo:
            if t < self._pass_at.get(partition, float("-inf")) + self.pass_every_s:
                return
            self._pass_at[partition] = t
            # Listing the keys is this slice's work; popped from the end.
            self._todo[partition] = partition_keys(self.table, partition, self.partitions, self.key_partition)[::-1]
            return
        self._slice(partition, todo)

    def _slice(self, partition: int, todo: list[str]) -> None:
        now, deadline = self.now(), time.perf_counter() + self.slice_s
        dried = evicted = 0
        while todo and time.perf_counter() < deadline:
            deal_id = todo.pop()
            raw = self.table.get(deal_id)
            if raw is None or not may_expire(raw, now, grace_s=self.grace_s, retention_s=self.retention_s):
                continue
            state = DealState.model_validate(raw)
            kept = expire(state, now, grace_s=self.grace_s, retention_s=self.retention_s)
            if kept is None:
                del self.table[deal_id]
                evicted += 1
            elif kept is not state:
                self.table[deal_id] = kept.model_dump(mode="json")
                dried += 1
        if dried or evicted:
            log.info("partition %d: texts dropped from %d closed deals, %d deals evicted", partition, dried, evicted)
