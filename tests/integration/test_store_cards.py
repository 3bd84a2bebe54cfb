"""The cards' SQL on the real ClickHouse engine (chdb), through the store."""

from datetime import datetime, timedelta, timezone

import pytest

from leakwatch.cards.snapshot import read_cards
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas.events import ClassifiedRefusal

DAY = datetime(2026, 11, 19, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore.open(Settings(chdb_path=tmp_path_factory.mktemp("chdb")))
    yield s
    s.close()


def record(deal_id, version=1, *, active=True, kind="salvageable", leak="Не дожали заинтересованных",
           amount=None, hot=False, day=0, manager="Анна", stage="Переговоры", reason="Дорого"):
    return ClassifiedRefusal(
        deal_id=deal_id, version=version, active=active, status="provisional",
        lost_at=DAY + timedelta(days=day, hours=10), classified_at=DAY, pipeline="P", manager=manager,
        stage_before_loss=stage, amount_rub=amount, avg_check_rub=40000, money_rub=amount or 40000,
        target=True, reason=reason, kind=kind, leak=leak if kind == "salvageable" else None, hot=hot,
        confidence=0.8, evidence="", engine={"name": "t", "version": "1"}, source="ai",
        manager_reason=None, reason_mismatch=None)


def test_newest_version_wins_and_retractions_vanish(store):
    store.insert_refusals([record("x1"), record("x2", kind="real"), record("x3"), record("x4", day=-1)])
    # Re-delivery of the same version, a newer verdict, and a retraction.
    store.insert_refusals([record("x1"), record("x2", 2, kind="salvageable", leak="Не отработали возражение"),
                           record("x3", 2, active=False)])
    cards = read_cards(store, DAY, DAY + timedelta(days=1) - timedelta(seconds=1))
    assert (cards.card1.total, cards.card1.salvageable, cards.card1.real) == (2, 2, 0)
    assert cards.card1.potential_lost_rub == 80000
    assert cards.card2.leak_rub == 80000 and cards.card2.cases == 2
    # Day -1 had one 40 000 case: today's 80 000 is 100% above the average day.
    assert cards.card2.above_average_pct == 100


def test_money_uses_the_amount_when_known_and_filters_apply(store):
    day = 5
    store.insert_refusals([
        record("m1", amount=100000, hot=True, day=day, manager="Анна", stage="Выставлен счёт"),
        record("m2", day=day, manager="Игорь", leak="Не связались вовремя"),
        record("m3", amount=10000, day=day, manager="Игорь", leak="Не связались вовремя"),
    ])
    start = DAY + timedelta(days=day)
    end = start + timedelta(days=1) - timedelta(seconds=1)
    cards = read_cards(store, start, end)
    assert cards.card2.leak_rub == 150000 and cards.card2.hot_cases == 1
    assert [(r.leak, r.leak_rub, r.cases, r.leak_pct) for r in cards.card2.by_leak] == [
        ("Не дожали заинтересованных", 100000, 1, 67), ("Не связались вовремя", 50000, 2, 33)]
    assert cards.card2.main_stage == "Выставлен счёт"
    igor = read_cards(store, start, end, manager="Игорь")
    assert igor.card2.leak_rub == 50000 and igor.card1.total == 2


def test_won_mean(store):
    store.insert_won([("w1", 1, DAY, "P", "Анна", 30000), ("w2", 1, DAY, "P", "Анна", 50000),
                      ("w2", 1, DAY, "P", "Анна", 50000)])
    assert store.won_mean("P", DAY - timedelta(days=1)) == 40000
    assert store.won_mean("other", DAY - timedelta(days=1)) is None


def test_an_empty_period_reads_as_zeros(store):
    start = DAY + timedelta(days=300)
    cards = read_cards(store, start, start + timedelta(days=1))
    assert cards.card1.total == 0 and cards.card1.salvageable_pct == 0
    assert cards.card2.leak_rub == 0 and cards.card2.main_leak is None and cards.card2.main_stage is None
    assert cards.card2.above_average_pct is None


def test_a_deal_lost_again_on_a_later_day_counts_once_under_the_new_day(store):
    one_day = lambda d: read_cards(store, DAY + timedelta(days=d), DAY + timedelta(days=d + 1) - timedelta(seconds=1))  # noqa: E731
    both = lambda: read_cards(store, DAY + timedelta(days=20), DAY + timedelta(days=23)).card1.total  # noqa: E731
    store.insert_refusals([record("r1", 1, day=20)])
    assert one_day(20).card1.total == 1
    store.insert_refusals([record("r1", 4, day=22)])
    assert (one_day(20).card1.total, one_day(22).card1.total, both()) == (0, 1, 1)
    # At-least-once: the older version re-delivered late, and the newest one twice.
    store.insert_refusals([record("r1", 1, day=20)])
    store.insert_refusals([record("r1", 4, day=22), record("r1", 4, day=22)])
    assert (one_day(20).card1.total, one_day(22).card1.total, both()) == (0, 1, 1)


def test_a_crash_between_the_two_tables_replays_into_the_same_rows(store):
    from leakwatch.store.clickhouse import BY_DAY_COLUMNS, by_day_rows

    total = lambda: read_cards(store, DAY + timedelta(days=30), DAY + timedelta(days=33)).card1.total  # noqa: E731
    store.insert_refusals([record("c1", 1, day=30)])
    moved = [record("c1", 2, day=32)]
    # The read table was written, `refusals` was not (the process died in between)...
    store._insert("refusals_by_day", by_day_rows(moved, store.stored_versions({"c1"})), BY_DAY_COLUMNS)
    # ...and the batch is delivered again.
    store.insert_refusals(moved)
    assert total() == 1
    assert store.query("SELECT count() AS n FROM refusals_by_day FINAL WHERE deal_id = 'c1' AND active = 1")[0]["n"] == 1
