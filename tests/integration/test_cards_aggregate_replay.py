"""The cards' aggregate (refusals_hourly) under at-least-once delivery with crashes: a
random stream of versions, retractions, moves to other days and hours, duplicates and
late older versions, delivered in batches where the sink dies between its writes and the
batch is delivered again. Every card panel and alert query, the salvageable cases list and
the review queue, read on the real engine (chdb), must equal a brute-force count (or list)
over the newest version of each deal, computed here from the records themselves."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from leakwatch.cards.macros import ALL, expand
from leakwatch.cards.people import read_managers
from leakwatch.cards.queries import ALERTS, BOARD, CARDS
from leakwatch.cards.snapshot import read_cards
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import BY_DAY_COLUMNS, ClickHouseStore, by_day_rows, touched_days
from schemas.events import ClassifiedRefusal
from schemas.labels import Leak, Reason

START = datetime(2026, 3, 2, tzinfo=timezone.utc)
MSK = timezone(timedelta(hours=3))
MANAGERS, PIPELINES = ("Анна", "Игорь", "Олег"), ("Основная", "B2B")
STAGES = ("Переговоры", "КП отправлено", "Выставлен счёт")


def verdict(rng: random.Random, deal_id: str, version: int, lost_at: datetime) -> ClassifiedRefusal:
    kind = rng.choice(["salvageable", "real"])
    amount = rng.choice([None, 15000, 40000, 125000])
    stated = rng.choice([None, *Reason])
    reason = rng.choice(list(Reason))
    return ClassifiedRefusal(
        deal_id=deal_id, version=version, active=rng.random() > 0.12, status=rng.choice(["provisional", "confirmed"]),
        lost_at=lost_at, classified_at=lost_at, pipeline=rng.choice(PIPELINES), manager=rng.choice(MANAGERS),
        stage_before_loss=rng.choice(STAGES), amount_rub=amount, avg_check_rub=40000, money_rub=amount or 40000,
        target=rng.random() > 0.1, reason=reason, kind=kind,
        leak=rng.choice(list(Leak)) if kind == "salvageable" else None, hot=rng.random() < 0.3,
        confidence=0.5 if (version + int(deal_id[2:])) % 3 == 0 else 0.8,  # no rng draw: the same stream
        evidence="", engine={"name": "t", "version": "1"}, source="ai", manager_reason=stated,
        reason_mismatch=None if stated is None else stated != reason)


def stream(seed: int) -> list[ClassifiedRefusal]:
    """Every version of 150 deals over 6 days: a re-verdict stays in the hour, moves to
    another hour of the day or to another day; some versions retract the deal."""
    rng, records = random.Random(seed), []
    for n in range(150):
        lost_at = START + timedelta(seconds=rng.randrange(6 * 86400), milliseconds=rng.randrange(1000))
        for version in range(1, rng.choice([2, 3, 4, 5])):
            records.append(verdict(rng, f"D-{n}", version, lost_at))
            move = rng.random()
            if move < 0.25:
                lost_at += timedelta(minutes=rng.randrange(1, 300))
            elif move < 0.4:
                lost_at += timedelta(days=rng.randrange(1, 3), seconds=rng.randrange(3600))
    return records


def deliveries(rng: random.Random, records: list[ClassifiedRefusal]) -> list[list[ClassifiedRefusal]]:
    """Batches as a consumer sees them: roughly in order, with duplicates and late old versions."""
    order = sorted(records, key=lambda r: (r.version + rng.random() * 2, r.deal_id))
    order += rng.sample(records, len(records) // 5)
    rng.shuffle(order[len(order) // 2:])
    batches, i = [], 0
    while i < len(order):
        size = rng.randrange(1, 40)
        batches.append(order[i:i + size])
        i += size
    return batches


def crash_then_replay(store: ClickHouseStore, rng: random.Random, batch: list[ClassifiedRefusal]) -> None:
    """The sink dies after writing part of the batch; it is then delivered again."""
    stored = store.stored_versions({r.deal_id for r in batch})
    by_day = by_day_rows(batch, stored)
    store._insert("refusals_by_day", by_day, BY_DAY_COLUMNS)
    where = rng.choice(["after_by_day", "half_reconciled", "before_refusals"])
    days = sorted(touched_days(by_day))
    if where == "half_reconciled":  # one month's part of the delta landed, not the rest
        store.reconcile_aggregates(set(days[: max(1, len(days) // 2)]))
    elif where == "before_refusals":
        store.reconcile_aggregates(set(days))
    store.insert_refusals(batch)


def newest(delivered: list[ClassifiedRefusal]) -> list[ClassifiedRefusal]:
    best: dict[str, ClassifiedRefusal] = {}
    for r in delivered:
        if r.deal_id not in best or r.version > best[r.deal_id].version:
            best[r.deal_id] = r
    return [r for r in best.values() if r.active and r.target]


def expected(live: list[ClassifiedRefusal], lo: datetime, hi: datetime, baseline_days: int = 28) -> dict:
    """The cards' numbers by definition, as the spec states them (Grafana's `to` is whole seconds)."""
    lo, hi = lo.replace(microsecond=0), hi.replace(microsecond=0)
    period = [r for r in live if lo <= r.lost_at <= hi]
    salv = [r for r in period if r.kind == "salvageable"]
    by_reason, by_leak, stage_money = defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0, 0]), defaultdict(int)
    for r in period:
        by_reason[r.reason][r.kind == "real"] += 1
    for r in salv:
        by_leak[r.leak][0] += r.money_rub
        by_leak[r.leak][1] += 1
        by_leak[r.leak][2] += r.hot
    leaks = sorted(by_leak.items(), key=lambda kv: (-kv[1][0], kv[0]))
    main_leak = leaks[0][0] if leaks else None
    for r in salv:
        if r.leak == main_leak:
            stage_money[r.stage_before_loss] += r.money_rub
    history = [r for r in live if lo - timedelta(days=baseline_days) <= r.lost_at < lo]
    days = {r.lost_at.astimezone(timezone.utc).date() for r in history}
    baseline = sum(r.money_rub for r in history if r.kind == "salvageable") / len(days) if days else 0
    leak_rub = sum(r.money_rub for r in salv)
    managers = defaultdict(lambda: {"refusals": 0, "stated": 0, "mismatches": 0, "cases": 0, "leak_rub": 0})
    for r in period:
        m = managers[r.manager]
        m["refusals"] += 1
        m["stated"] += r.reason_mismatch is not None
        m["mismatches"] += r.reason_mismatch is True
        m["cases"] += r.kind == "salvageable"
        m["leak_rub"] += r.money_rub if r.kind == "salvageable" else 0
    return {
        "card1": (len(period), len(salv), len(period) - len(salv), sum(r.avg_check_rub for r in salv),
                  sum(r.reason_mismatch is True for r in period), sum(r.status == "confirmed" for r in period)),
        "by_reason": {reason: tuple(v) for reason, v in by_reason.items()},
        "card2": (leak_rub, len(salv), sum(r.hot for r in salv)),
        "baseline": round(baseline, 6),
        "by_leak": [(leak, *v) for leak, v in leaks],
        "main_stage": max(stage_money.items(), key=lambda kv: (kv[1], [-ord(c) for c in kv[0]]))[0] if stage_money else None,
        "managers": dict(managers),
    }


def observed(store: ClickHouseStore, lo: datetime, hi: datetime) -> dict:
    cards = read_cards(store, lo, hi)
    c1, c2 = cards.card1, cards.card2
    return {
        "card1": (c1.total, c1.salvageable, c1.real, c1.potential_lost_rub, c1.reason_mismatches, c1.confirmed),
        "by_reason": {r.reason: (r.salvageable, r.real) for r in c1.by_reason},
        "card2": (c2.leak_rub, c2.cases, c2.hot_cases),
        "baseline": round(c2.baseline_daily_rub, 6),
        "by_leak": [(r.leak, r.leak_rub, r.cases, r.hot_cases) for r in c2.by_leak],
        "main_stage": c2.main_stage,
        "managers": {m.manager: {"refusals": m.refusals, "stated": m.stated, "mismatches": m.mismatches,
                                 "cases": m.cases, "leak_rub": m.leak_rub} for m in read_managers(store, lo, hi)},
    }


def periods(rng: random.Random) -> list[tuple[datetime, datetime]]:
    """Moscow days as the time picker sends them, several days, the whole stream, and
    windows that start and end inside an hour (or inside one hour)."""
    out = []
    for d in range(7):
        day = datetime(2026, 3, 2 + d, tzinfo=MSK)
        out.append((day, day + timedelta(days=1) - timedelta(seconds=1)))
    out += [(START + timedelta(days=2), START + timedelta(days=5) - timedelta(seconds=1)),
            (START - timedelta(days=1), START + timedelta(days=10))]
    for _ in range(6):
        lo = START + timedelta(seconds=rng.randrange(7 * 86400))
        out.append((lo, lo + timedelta(seconds=rng.choice([600, 3600, 5000, 86400, 2 * 86400 + 77]))))
    return out


def newest_of_all(delivered: list[ClassifiedRefusal]) -> list[ClassifiedRefusal]:
    best: dict[str, ClassifiedRefusal] = {}
    for r in delivered:
        if r.deal_id not in best or r.version > best[r.deal_id].version:
            best[r.deal_id] = r
    return list(best.values())


def expected_lists(delivered: list[ClassifiedRefusal], lo: datetime, hi: datetime) -> tuple[list, list]:
    """The salvageable cases list and the review queue by definition: (deal, money) in order."""
    lo, hi = lo.replace(microsecond=0), hi.replace(microsecond=0)
    latest = [r for r in newest_of_all(delivered) if r.active and lo <= r.lost_at <= hi]
    cases = sorted((r for r in latest if r.target and r.kind == "salvageable"),
                   key=lambda r: (r.money_rub, r.lost_at, r.deal_id), reverse=True)[:500]
    queue = sorted((r for r in latest if r.status == "provisional"), key=lambda r: r.deal_id)
    for key in (lambda r: r.lost_at, lambda r: r.money_rub, lambda r: r.lost_at.astimezone(MSK).date(),
                lambda r: r.confidence < 0.6):  # stable sorts, the last key first in the order
        queue.sort(key=key, reverse=True)
    return [(r.deal_id, r.money_rub) for r in cases], [(r.deal_id, r.money_rub) for r in queue[:500]]


def observed_lists(store: ClickHouseStore, lo: datetime, hi: datetime) -> tuple[list, list]:
    variables = {"pipeline": ALL, "manager": ALL, "low_confidence": "0.6", "timezone": "Europe/Moscow"}
    return tuple([(r["deal_id"], r["money_rub"]) for r in store.query(expand(
        sql, time_from=lo, time_to=hi, variables=variables))] for sql in (CARDS["salvageable_cases"],
                                                                            BOARD["review_queue"]))


def alerts(store: ClickHouseStore, lo: datetime, hi: datetime) -> tuple[float, float]:
    def one(name):
        rows = store.query(expand(ALERTS[name], time_from=lo, time_to=hi, variables={"baseline_days": "28"}))
        return float(next(iter(rows[0].values())))
    return one("alert_leak_spike"), one("alert_salvageable_burst")


@pytest.mark.parametrize("seed", [1, 2])
def test_the_aggregate_stays_exact_through_replays_and_crashes(tmp_path, seed):
    rng = random.Random(seed)
    store = ClickHouseStore.open(Settings(chdb_path=tmp_path / "chdb"))
    try:
        records = stream(seed)
        delivered: list[ClassifiedRefusal] = []
        for i, batch in enumerate(deliveries(rng, records)):
            if rng.random() < 0.3:
                crash_then_replay(store, rng, batch)
            else:
                store.insert_refusals(batch)
            delivered += batch
            if i % 30 == 0:  # mid-stream too, not only once everything has arrived
                lo, hi = rng.choice(periods(rng))
                assert observed(store, lo, hi) == expected(newest(delivered), lo, hi)
                assert observed_lists(store, lo, hi) == expected_lists(delivered, lo, hi)
        live = newest(delivered)
        assert len({r.deal_id for r in records}) == 150 and 40 < len(live) < 150
        for lo, hi in periods(rng):
            want = expected(live, lo, hi)
            assert observed(store, lo, hi) == want, (lo, hi)
            assert observed_lists(store, lo, hi) == expected_lists(delivered, lo, hi), (lo, hi)
            spike, burst = alerts(store, lo, hi)
            assert burst == want["card2"][1]
            days = max((hi.replace(microsecond=0) - lo.replace(microsecond=0)).total_seconds(), 1) / 86400
            assert spike == (0 if want["baseline"] == 0 else round(want["card2"][0] / (want["baseline"] * days), 3))
        # The stored sums per hour are the brute force's, merged or not (no FINAL).
        hours = defaultdict(int)
        for r in live:
            hours[r.lost_at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0, tzinfo=None)] += 1
        rows = store.query("SELECT hour, sum(refusals) AS n FROM refusals_hourly GROUP BY hour HAVING n != 0")
        assert {r["hour"]: r["n"] for r in rows} == dict(hours)
        # A reconcile with nothing new inserts nothing (the fixpoint the replays rely on).
        tables = ("refusals_hourly", "refusals_timeline", "salvageable_cases", "review_queue")
        before = [store.query(f"SELECT count() AS n FROM {t}")[0]["n"] for t in tables]
        store.rebuild_aggregates()
        assert [store.query(f"SELECT count() AS n FROM {t}")[0]["n"] for t in tables] == before
    finally:
        store.close()
