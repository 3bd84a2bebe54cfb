"""The enrich agent's batch (streams/agents/enrich.py): one table write and at most one
refusal request per deal per batch, the request at the newest revision and with the wait
the old one-request-per-event agent gave its last request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from schemas.events import CallEvent, DealEvent, RefusalReview, TranscriptTurn
from streams.agents.enrich import DealStates, refusal_request, won_rows
from tests.unit.streams.test_deal_states import Table

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
GRACE = 60.0


def deal(i: int, type_: str, stage: str, deal_id: str = "D1", **kw) -> DealEvent:
    return DealEvent(event_id=f"{deal_id}-{i}", deal_id=deal_id, ts=T0 + timedelta(minutes=i), type=type_,
                     stage=stage, pipeline="b2c", manager="Анна", **kw)


def call(i: int, deal_id: str = "D1") -> CallEvent:
    return CallEvent(event_id=f"{deal_id}-c{i}", deal_id=deal_id, ts=T0 + timedelta(minutes=i), call_id=f"k{i}",
                     direction="out", status="answered", duration_s=120,
                     transcript=[TranscriptTurn(offset_s=5, speaker="client", text="Дорого, подумаю")])


def review(i: int, deal_id: str = "D1") -> RefusalReview:
    return RefusalReview(event_id=f"{deal_id}-r{i}", deal_id=deal_id, ts=T0 + timedelta(minutes=i),
                         reviewer="qa", target=False)


LOST_DEAL = [deal(0, "created", "Новая заявка"), call(1), deal(2, "stage_changed", "Переговоры"), call(3),
             deal(4, "lost", "Закрыто и не реализовано")]


def test_a_lost_deal_in_one_batch_is_written_once_and_asks_once_at_its_last_revision():
    table = Table()
    [f] = DealStates(table).fold_batch([(e, None) for e in LOST_DEAL])
    assert table.writes == ["D1"]
    assert table["D1"]["revision"] == 5 and table["D1"]["status"] == "lost"  # five events, each a change
    request, _ = refusal_request(f, grace_period_s=GRACE, now=1000.0)
    assert request == {"deal_id": "D1", "revision": 5, "due_at": 1000.0 + GRACE}


def test_an_open_deal_asks_for_nothing_and_deals_are_written_apart():
    table = Table()
    events = [deal(0, "created", "Новая заявка", "D2"), *LOST_DEAL, deal(1, "stage_changed", "Переговоры", "D2")]
    folds = {f.deal_id: f for f in DealStates(table).fold_batch([(e, None) for e in events])}
    assert sorted(table.writes) == ["D1", "D2"]
    assert refusal_request(folds["D2"], grace_period_s=GRACE, now=0.0) is None
    assert refusal_request(folds["D1"], grace_period_s=GRACE, now=0.0)[0]["revision"] == 5


def test_a_review_last_needs_no_grace_but_a_later_change_waits_again():
    reviewed = DealStates(Table()).fold_batch([(e, None) for e in [*LOST_DEAL, review(5)]])[0]
    assert refusal_request(reviewed, grace_period_s=GRACE, now=0.0)[0] == {"deal_id": "D1", "revision": 6,
                                                                           "due_at": 0.0}
    later = DealStates(Table()).fold_batch([(e, None) for e in [*LOST_DEAL, review(5), call(6)]])[0]
    assert refusal_request(later, grace_period_s=GRACE, now=0.0)[0] == {"deal_id": "D1", "revision": 7,
                                                                        "due_at": GRACE}


def test_a_replayed_batch_rewrites_the_unchanged_state_and_asks_again():
    table = Table()
    states = DealStates(table)
    states.fold_batch([(e, None) for e in LOST_DEAL])
    stored = table["D1"]
    [again] = states.fold_batch([(e, None) for e in LOST_DEAL[-2:]])  # re-delivered after a crash
    assert not again.changed and again.replayed
    assert table.writes == ["D1", "D1"] and table["D1"] == stored
    assert refusal_request(again, grace_period_s=GRACE, now=0.0)[0]["revision"] == 5


def test_a_won_event_gives_one_row_at_the_revision_it_left():
    events = [deal(0, "created", "Новая заявка", amount_rub=90_000), deal(1, "won", "Успешно"), call(2)]
    [f] = DealStates(Table()).fold_batch([(e, None) for e in events])
    rows = [row for row, _ in won_rows(f)]
    assert rows == [{"deal_id": "D1", "version": 2, "won_at": events[1].ts.isoformat(), "pipeline": "b2c",
                     "manager": "Анна", "amount_rub": 90_000}]
    assert refusal_request(f, grace_period_s=GRACE, now=0.0) is None
