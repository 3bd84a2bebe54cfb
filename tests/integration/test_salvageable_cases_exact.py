"""The salvageable cases list (SALVAGEABLE_CASES, read from `salvageable_cases` without
FINAL) equals, row for row and in order, the straightforward query it replaced: the
newest verdicts of refusals_by_day read with FINAL. On the real engine (chdb), with
superseded versions, retractions, deals lost again on another day (tombstones), the
same version re-delivered with other content, crashes between the writes, ties in
money and in time, more than 500 cases, filters, and before and after merges."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from leakwatch.cards.macros import ALL, expand
from leakwatch.cards.queries import CARDS, FILTERS
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import BY_DAY_COLUMNS, ClickHouseStore, by_day_rows, touched_days
from schemas.events import ClassifiedRefusal
from schemas.labels import Leak, Reason

START = datetime(2026, 5, 30, tzinfo=timezone.utc)  # the stream crosses a month (partition) boundary
MANAGERS, PIPELINES = ("Анна", "Игорь", "Олег"), ("Основная", "B2B")

# The reference: the query as it was before salvageable_cases (deal_id added to its
# ORDER BY: without it the order of equal money and time was whatever FINAL produced).
REFERENCE = f"""
SELECT
    lost_at, deal_id, manager, pipeline, stage_before_loss AS stage, reason, leak,
    money_rub, hot, status, manager_reason, evidence
FROM refusals_by_day FINAL
WHERE active = 1 AND target = 1 AND $__timeFilter(lost_at) AND {FILTERS} AND kind = 'salvageable'
ORDER BY money_rub DESC, lost_at DESC, deal_id
LIMIT 500
"""


def verdict(rng: random.Random, deal_id: str, version: int, lost_at: datetime) -> ClassifiedRefusal:
    kind = rng.choice(["salvageable", "salvageable", "real"])
    amount = rng.choice([None, 15000, 40000, 40000, 125000])  # few amounts: many ties in money
    stated = rng.choice([None, *Reason])
    return ClassifiedRefusal(
        deal_id=deal_id, version=version, active=rng.random() > 0.12, status=rng.choice(["provisional", "confirmed"]),
        lost_at=lost_at, classified_at=lost_at, pipeline=rng.choice(PIPELINES), manager=rng.choice(MANAGERS),
        stage_before_loss="Переговоры", amount_rub=amount, avg_check_rub=40000, money_rub=amount or 40000,
        target=rng.random() > 0.1, reason=rng.choice(list(Reason)), kind=kind,
        leak=rng.choice(list(Leak)) if kind == "salvageable" else None, hot=rng.random() < 0.3, confidence=0.8,
        evidence=rng.choice(["", "«дорого»", "перезвоню"]), engine={"name": "t", "version": "1"}, source="ai",
        manager_reason=stated, reason_mismatch=None)


def stream(rng: random.Random, deals: int) -> list[ClassifiedRefusal]:
    """Every version of each deal over 5 days; some share one lost_at (ties in time too)."""
    shared = [START + timedelta(seconds=rng.randrange(5 * 86400)) for _ in range(20)]
    records = []
    for n in range(deals):
        lost_at = rng.choice(shared) if rng.random() < 0.2 else START + timedelta(
            seconds=rng.randrange(5 * 86400), milliseconds=rng.randrange(1000))
        for version in range(1, rng.choice([2, 2, 3, 4])):
            records.append(verdict(rng, f"D-{n:04}", version, lost_at))
            if rng.random() < 0.2:  # lost again on another day: a tombstone under the old one
                lost_at += timedelta(days=rng.choice([-2, -1, 1, 2]), seconds=rng.randrange(3600))
    return records


def read(store: ClickHouseStore, sql: str, lo: datetime, hi: datetime, **variables) -> list[tuple]:
    expanded = expand(sql, time_from=lo, time_to=hi, variables={"pipeline": ALL, "manager": ALL, **variables})
    return [tuple(r.values()) for r in store.query(expanded)]


def periods() -> list[tuple[datetime, datetime, dict]]:
    whole = (START - timedelta(days=3), START + timedelta(days=8), {})
    out = [whole, (*whole[:2], {"manager": ["Анна"]}), (*whole[:2], {"pipeline": ["B2B"], "manager": ["Игорь", "Олег"]})]
    for d in range(-1, 6):
        day = START + timedelta(days=d)
        out.append((day, day + timedelta(days=1) - timedelta(seconds=1), {}))
    out.append((START + timedelta(hours=30, minutes=7), START + timedelta(hours=41, seconds=13), {}))
    return out


def assert_same(store: ClickHouseStore) -> int:
    listed = 0
    for lo, hi, variables in periods():
        want = read(store, REFERENCE, lo, hi, **variables)
        got = read(store, CARDS["salvageable_cases"], lo, hi, **variables)
        assert got == want, (lo, hi, variables)
        listed = max(listed, len(got))
    return listed


@pytest.mark.parametrize("seed", [3, 4])
def test_the_list_equals_the_final_query(tmp_path, seed):
    rng = random.Random(seed)
    store = ClickHouseStore.open(Settings(chdb_path=tmp_path / "chdb"))
    try:
        records = stream(rng, 1400)
        order = sorted(records, key=lambda r: (r.version + rng.random() * 2, r.deal_id))
        order += rng.sample(records, len(records) // 6)  # re-delivered, some late and out of order
        rng.shuffle(order[len(order) // 2:])
        i = 0
        while i < len(order):
            batch = order[i:i + rng.randrange(20, 200)]
            i += len(batch)
            if rng.random() < 0.3:  # the sink died after the read table, before reconciling: replayed
                stored = store.stored_versions({r.deal_id for r in batch})
                store._insert("refusals_by_day", by_day_rows(batch, stored), BY_DAY_COLUMNS)
            store.insert_refusals(batch)
            if rng.random() < 0.15:
                assert_same(store)
        # The same version delivered again with other content: FINAL keeps the last one.
        changed = [r.model_copy(update={"evidence": "другая цитата", "hot": not r.hot})
                   for r in rng.sample(records, 60)]
        store.insert_refusals(changed)
        unmerged = store.query("SELECT count() AS n FROM salvageable_cases WHERE sign = -1")[0]["n"]
        assert unmerged > 0  # the second branch has work to do
        assert assert_same(store) == 500  # the whole stream lists more than 500 cases
        # After merges (the +1/-1 pairs collapsed) the list is the same again.
        store.query("OPTIMIZE TABLE salvageable_cases FINAL")
        store.query("OPTIMIZE TABLE refusals_by_day FINAL")
        assert store.query("SELECT count() AS n FROM salvageable_cases WHERE sign = -1")[0]["n"] < unmerged
        assert_same(store)
        # A reconcile with nothing new inserts nothing (the fixpoint replays rely on).
        before = store.query("SELECT count() AS n FROM salvageable_cases")[0]["n"]
        store.reconcile_aggregates(None)
        assert store.query("SELECT count() AS n FROM salvageable_cases")[0]["n"] == before
    finally:
        store.close()


def test_a_half_written_reconcile_is_completed_by_the_replay(tmp_path):
    """A batch over two months (partitions) whose reconcile landed for one day only."""
    store = ClickHouseStore.open(Settings(chdb_path=tmp_path / "chdb"))
    try:
        rng = random.Random(7)
        first = [verdict(rng, f"H-{n}", 1, START + timedelta(days=n % 4, hours=n)) for n in range(40)]
        store.insert_refusals(first)
        moved = [r.model_copy(update={"version": 2, "kind": "salvageable", "leak": Leak.OBJECTION, "active": True,
                                      "target": True, "lost_at": r.lost_at + timedelta(days=1)}) for r in first]
        by_day = by_day_rows(moved, store.stored_versions({r.deal_id for r in moved}))
        store._insert("refusals_by_day", by_day, BY_DAY_COLUMNS)
        store.reconcile_aggregates({min(touched_days(by_day))})
        store.insert_refusals(moved)  # delivered again
        assert assert_same(store) == 40
    finally:
        store.close()
