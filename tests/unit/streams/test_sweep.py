"""The table sweep in slices (streams/agents/sweep.py): a pass lists one partition's keys,
later events of that partition expire what fits in a slice, and nothing holds the loop for
a whole-table scan."""

from __future__ import annotations

import orjson

from leakwatch.domain.retention import TEXT_DROPPED, bounded, touched
from streams.agents.sweep import Sweeper, partition_keys
from tests.unit.domain.test_retention import GRACE, NOW, RETENTION, deal_with_calls


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def stored(deal_id: str, *, lost: bool, touched_at: float) -> dict:
    state = touched(bounded(deal_with_calls(3, lost=lost), timeline_cap=200), touched_at)
    return state.model_copy(update={"deal_id": deal_id}).model_dump(mode="json")


def by_prefix(key: str, partitions: int) -> int:
    return int(key.split("-")[0]) % partitions


def test_a_pass_lists_the_partition_then_slices_expire_its_deals():
    table = {"0-dried": stored("0-dried", lost=True, touched_at=NOW - 2 * GRACE),
             "0-evicted": stored("0-evicted", lost=True, touched_at=NOW - RETENTION - GRACE),
             "0-open": stored("0-open", lost=False, touched_at=NOW - RETENTION - GRACE),
             "1-other": stored("1-other", lost=True, touched_at=NOW - RETENTION - GRACE)}
    clock = Clock()
    sweeper = Sweeper(table, partitions=2, grace_s=GRACE, retention_s=RETENTION, key_partition=by_prefix,
                      every_s=1.0, slice_s=10.0, clock=clock, now=lambda: NOW)
    before = {k: dict(v) for k, v in table.items()}
    sweeper.on_event(0)  # lists partition 0's keys: no state read yet
    assert table == before
    clock.t = 0.5
    sweeper.on_event(0)  # within every_s: nothing
    assert table == before
    clock.t = 1.0
    sweeper.on_event(0)
    assert set(table) == {"0-dried", "0-open", "1-other"}  # evicted; partition 1 untouched
    texts = {m["text"] for m in table["0-dried"]["timeline"].values() if m["speaker"] != "system"}
    assert texts == {TEXT_DROPPED}
    assert table["0-open"] == before["0-open"] and table["1-other"] == before["1-other"]


def test_a_slice_stops_at_its_time_budget():
    table = {f"0-{i}": stored(f"0-{i}", lost=True, touched_at=NOW - RETENTION - GRACE) for i in range(50)}
    clock = Clock()
    sweeper = Sweeper(table, partitions=1, grace_s=GRACE, retention_s=RETENTION, key_partition=by_prefix,
                      every_s=1.0, slice_s=0.0, clock=clock, now=lambda: NOW)
    sweeper.on_event(0)
    clock.t = 1.0
    sweeper.on_event(0)  # no time in the slice: nothing done, the rest waits for the next slice
    assert len(table) == 50


def test_rocksdb_partitions_are_listed_from_their_own_database():
    class Store:
        offset_key = b"__faust\0offset__"
        _dbs = {0: {orjson.dumps("A"): b"{}", offset_key: b"12"}, 1: {orjson.dumps("B"): b"{}"}}

    table = type("Table", (), {"data": Store()})()
    assert partition_keys(table, 0, 2, by_prefix) == ["A"]
    assert partition_keys(table, 3, 4, by_prefix) == []  # not assigned here
