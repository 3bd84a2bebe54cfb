"""The board's lists read without FINAL equal, row for row and in order, the
straightforward queries they replaced: the salvageable cases (SALVAGEABLE_CASES, from
`salvageable_cases`) the newest verdicts of refusals_by_day read with FINAL, the review
queue (REVIEW_QUEUE, from `review_queue`) those of `refusals` FINAL. On the real engine (chdb), with
superseded versions, retractions, deals lost again on another day (tombstones), the
same version re-delivered with other content, crashes between the writes, ties in
money and in time, more than 500 cases, filters, and before and after merges."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from leakwatch.cards.macros import ALL, expand
from leakwatch.cards.queries import _SURE, _UNSURE, BOARD, CARDS, FILTERS, _queue_from
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import (
    BY_DAY_COLUMNS, REFUSAL_COLUMNS, ClickHouseStore, by_day_rows, refusal_row, touched_days)
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
ORDER BY money_rub DESC, lost_at DESC, deal_id DESC
LIMIT 500
"""
QUEUE_REFERENCE = f"""
SELECT
    deal_id, version, lost_at, manager, pipeline, stage_before_loss AS stage, money_rub,
    target, reason, kind, leak, hot, confidence, confidence < $low_confidence AS low_confidence,
    evidence, engine_name, manager_reason, reason_mismatch
FROM refusals FINAL
WHERE active = 1 AND status = 'provisional' AND $__timeFilter(lost_at) AND {FILTERS}
ORDER BY low_confidence DESC, toDate(lost_at, ${{timezone:singlequote}}) DESC, money_rub DESC, lost_at DESC, deal_id
LIMIT 500
"""
REFERENCE_OF_LEAK = REFERENCE.replace("kind = 'salvageable'", "kind = 'salvageable' AND leak = ${leak:singlequote}")
TABLES = ("salvageable_cases", "review_queue")
BOARD_VARIABLES = {"low_confidence": "0.6", "timezone": "Europe/Moscow"}


def verdict(rng: random.Random, deal_id: str, version: int, lost_at: datetime) -> ClassifiedRefusal:
    kind = rng.choice(["salvageable", "salvageable", "real"])
    amount = rng.choice([None, 15000, 40000, 40000, 125000])  # few amounts: many ties in money
    stated = rng.choice([None, *Reason])
    return ClassifiedRefusal(
        deal_id=deal_id, version=version, active=rng.random() > 0.12, status=rng.choice(["provisional", "confirmed"]),
        lost_at=lost_at, classified_at=lost_at, pipeline=rng.choice(PIPELINES), manager=rng.choice(MANAGERS),
        stage_before_loss="Переговоры", amount_rub=amount, avg_check_rub=40000, money_rub=amount or 40000,
        target=rng.random() > 0.1, reason=rng.choice(list(Reason)), kind=kind,
        leak=rng.choice(list(Leak)) if kind == "salvageable" else None, hot=rng.random() < 0.3,
        confidence=rng.choice([0.3, 0.59, 0.6, 0.8, 0.95]),
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
    expanded = expand(sql, time_from=lo, time_to=hi,
                      variables={"pipeline": ALL, "manager": ALL, **BOARD_VARIABLES, **variables})
    return [tuple(r.values()) for r in store.query(expanded)]


def periods() -> list[tuple[datetime, datetime, dict]]:
    whole = (START - timedelta(days=3), START + timedelta(days=8), {})
    out = [whole, (*whole[:2], {"manager": ["Анна"]}), (*whole[:2], {"pipeline": ["B2B"], "manager": ["Игорь", "Олег"]})]
    for d in range(-1, 6):
        day = START + timedelta(days=d)
        out.append((day, day + timedelta(days=1) - timedelta(seconds=1), {}))
    out.append((START + timedelta(hours=30, minutes=7), START + timedelta(hours=41, seconds=13), {}))
    return out


def assert_same(store: ClickHouseStore) -> tuple[int, int]:
    """Both lists equal their references for every period; the longest of each."""
    listed = [0, 0]
    for lo, hi, variables in periods():
        for i, (sql, reference) in enumerate(((CARDS["salvageable_cases"], REFERENCE),
                                              (BOARD["review_queue"], QUEUE_REFERENCE))):
            want = read(store, reference, lo, hi, **variables)
            got = read(store, sql, lo, hi, **variables)
            assert got == want, (i, lo, hi, variables)
            listed[i] = max(listed[i], len(got))
        if not variables:  # the web board's list of one leak (its filter before the LIMIT)
            for leak in Leak:
                got = read(store, BOARD["salvageable_cases_of_leak"], lo, hi, leak=leak.value)
                assert got == read(store, REFERENCE_OF_LEAK, lo, hi, leak=leak.value), (leak, lo, hi)
    return listed[0], listed[1]


@pytest.mark.parametrize("seed", [3, 4])
def test_the_lists_equal_the_final_queries(tmp_path, seed):
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
            crash = rng.random()
            if crash < 0.3:  # the sink died after the read table, before reconciling: replayed
                stored = store.stored_versions({r.deal_id for r in batch})
                store._insert("refusals_by_day", by_day_rows(batch, stored), BY_DAY_COLUMNS)
            elif crash < 0.45:  # ... or after `refusals`, before the review queue
                stored = store.stored_versions({r.deal_id for r in batch})
                by_day = by_day_rows(batch, stored)
                store._insert("refusals_by_day", by_day, BY_DAY_COLUMNS)
                store.reconcile_aggregates(touched_days(by_day))
                store._insert("refusals", [refusal_row(r) for r in batch], REFUSAL_COLUMNS)
            store.insert_refusals(batch)
            if rng.random() < 0.08:
                assert_same(store)
        # Background merges would collapse the +1/-1 pairs below at any moment: held off
        # until the lists have been read with them unmerged.
        for table in TABLES:
            store.query(f"SYSTEM STOP MERGES {table}")
        # The same version delivered again with other content: FINAL keeps the last one.
        changed = [r.model_copy(update={"evidence": "другая цитата", "hot": not r.hot})
                   for r in rng.sample(records, 60)]
        store.insert_refusals(changed)
        # ... and then the first content again (a replay of the older delivery): those cases
        # are listed with a -1 row among their rows (+1, -1, +1), read by the second branches.
        store.insert_refusals([r for r in records if r.deal_id in {c.deal_id for c in changed[:30]}])
        unmerged = {t: store.query(f"SELECT count() AS n FROM {t} WHERE sign = -1")[0]["n"] for t in TABLES}
        assert all(unmerged.values())  # the second branches have work to do
        for table in TABLES:
            assert store.query(f"SELECT count() AS n FROM (SELECT row_hash FROM {table} GROUP BY row_hash "
                               "HAVING sum(sign) = 1 AND countIf(sign = -1) > 0)")[0]["n"] > 0
        assert assert_same(store) == (500, 500)  # the whole stream lists more than 500 of each
        # After merges (the +1/-1 pairs collapsed) the lists are the same again.
        for table in TABLES:
            store.query(f"SYSTEM START MERGES {table}")
        for table in (*TABLES, "refusals_by_day", "refusals"):
            store.query(f"OPTIMIZE TABLE {table} FINAL")
        for table in TABLES:
            assert store.query(f"SELECT count() AS n FROM {table} WHERE sign = -1")[0]["n"] < unmerged[table]
        assert_same(store)
        # A reconcile with nothing new inserts nothing (the fixpoint replays rely on).
        before = {t: store.query(f"SELECT count() AS n FROM {t}")[0]["n"] for t in TABLES}
        store.rebuild_aggregates()
        assert {t: store.query(f"SELECT count() AS n FROM {t}")[0]["n"] for t in TABLES} == before
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
        assert assert_same(store)[0] == 40
    finally:
        store.close()


def test_a_busy_queue_reads_from_its_newest_days(tmp_path):
    """More than 500 unsure and 500 sure verdicts on the period's last two days: each branch
    reads from the day its top 500 starts on, and still equals `refusals FINAL`."""
    store = ClickHouseStore.open(Settings(chdb_path=tmp_path / "chdb"))
    try:
        rng = random.Random(11)
        end = START + timedelta(days=4)
        first = [verdict(rng, f"B-{n:04}", 1, end - timedelta(seconds=rng.randrange(3 * 86400)))
                 for n in range(2600)]
        first = [r.model_copy(update={"status": "provisional", "active": True}) for r in first]
        for i in range(0, len(first), 650):
            store.insert_refusals(first[i:i + 650])
        # Newer versions: some confirmed (leave the queue), some now unsure, some retracted.
        later = [r.model_copy(update={"version": 2, "status": rng.choice(["provisional", "confirmed"]),
                                      "confidence": rng.choice([0.2, 0.9]), "active": rng.random() > 0.1})
                 for r in rng.sample(first, 700)]
        store.insert_refusals(later)
        lo, hi = START, end - timedelta(seconds=1)
        for low in ("0.6", "0.3", "0.0"):
            variables = {"low_confidence": low}
            want = read(store, QUEUE_REFERENCE, lo, hi, **variables)
            assert read(store, BOARD["review_queue"], lo, hi, **variables) == want
            assert len(want) == 500
        for group in (_UNSURE, _SURE):  # both branches start within the period: they skip its first days
            start = read(store, f"SELECT {_queue_from(group)}", lo, hi, low_confidence="0.6")[0][0]
            assert lo.replace(tzinfo=None) + timedelta(days=1) < start.replace(tzinfo=None) <= hi.replace(tzinfo=None)
    finally:
        store.close()
