"""The chaos tests' end check: nothing lost, nothing doubled. Every refusal has one newest
record on `refusals.classified` (at-least-once may repeat it, never change it) and one row
in ClickHouse at that version."""

from __future__ import annotations

from pathlib import Path

from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore

# What copies of one version must agree on.
LABELS = ("active", "reason", "kind", "leak", "hot", "source", "status")


def newest_copies(records: list[tuple[bytes | None, dict]]) -> dict[str, list[dict]]:
    """Each deal's records at its highest version (every copy of it)."""
    newest: dict[str, list[dict]] = {}
    for _, r in records:
        top = newest.get(r["deal_id"])
        if top is None or r["version"] > top[0]["version"]:
            newest[r["deal_id"]] = [r]
        elif r["version"] == top[0]["version"]:
            top.append(r)
    return newest


def assert_delivered_once(records: list[tuple[bytes | None, dict]], refusals: set[str], chdb_path: Path) -> int:
    """Asserts the topic's newest records and the store's rows; returns the deals seen. Call it
    once the process owning `chdb_path` (the sink) has stopped."""
    newest = newest_copies(records)
    for deal_id, copies in newest.items():
        assert len({tuple(c[k] for k in LABELS) for c in copies}) == 1, deal_id
    assert {d for d, c in newest.items() if c[0]["active"]} == refusals
    store = ClickHouseStore.open(Settings(chdb_path=chdb_path))
    try:
        rows = store.query("SELECT deal_id, count() AS n, max(version) AS v FROM refusals FINAL GROUP BY deal_id")
    finally:
        store.close()
    assert all(r["n"] == 1 for r in rows)
    assert {r["deal_id"]: r["v"] for r in rows} == {d: c[0]["version"] for d, c in newest.items()}
    return len(newest)
