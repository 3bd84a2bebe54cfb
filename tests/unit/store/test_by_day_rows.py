"""refusals_by_day rows: one live row per deal, under the day of its newest verdict."""

from datetime import datetime, timedelta, timezone

from leakwatch.store.clickhouse import BY_DAY_COLUMNS, by_day_rows
from schemas.events import ClassifiedRefusal

DAY = datetime(2026, 11, 19, 10, tzinfo=timezone.utc)
ACTIVE, LOST_AT, VERSION = BY_DAY_COLUMNS.index("active"), BY_DAY_COLUMNS.index("lost_at"), BY_DAY_COLUMNS.index("version")


def record(deal_id, version, *, day=0, hours=0):
    return ClassifiedRefusal(
        deal_id=deal_id, version=version, active=True, status="provisional",
        lost_at=DAY + timedelta(days=day, hours=hours), classified_at=DAY, pipeline="P", manager="M",
        stage_before_loss="Переговоры", amount_rub=None, avg_check_rub=40000, money_rub=40000, target=True,
        reason="Дорого", kind="salvageable", leak="Не дожали заинтересованных", hot=False, confidence=0.8,
        evidence="", engine={"name": "t", "version": "1"}, source="ai", manager_reason=None, reason_mismatch=None)


def test_a_deal_lost_again_on_another_day_retires_its_old_day():
    rows = by_day_rows([record("d", 3, day=2)], {"d": (2, DAY)})
    assert [(r[VERSION], r[ACTIVE], r[LOST_AT].date()) for r in rows] == [
        (3, 0, DAY.date()),                      # tombstone under the old day, newer version
        (3, 1, (DAY + timedelta(days=2)).date()),
    ]


def test_the_same_day_needs_no_tombstone_and_a_replay_gives_the_same_rows():
    batch, stored = [record("d", 2, hours=3)], {"d": (1, DAY)}
    assert by_day_rows(batch, stored) == by_day_rows(batch, stored)
    assert [r[ACTIVE] for r in by_day_rows(batch, stored)] == [1]


def test_an_older_version_than_stored_is_left_out():
    assert by_day_rows([record("d", 1, day=-3)], {"d": (2, DAY)}) == []


def test_versions_of_one_deal_in_a_batch_chain_in_order():
    rows = by_day_rows([record("d", 3, day=2), record("d", 2, day=1)], {"d": (1, DAY)})
    assert [(r[VERSION], r[ACTIVE], r[LOST_AT].date()) for r in rows] == [
        (2, 0, DAY.date()), (2, 1, (DAY + timedelta(days=1)).date()),
        (3, 0, (DAY + timedelta(days=1)).date()), (3, 1, (DAY + timedelta(days=2)).date()),
    ]
