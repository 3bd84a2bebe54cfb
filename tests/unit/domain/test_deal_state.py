from datetime import datetime, timedelta, timezone

import pytest

from leakwatch.domain.deal_state import DealState, apply_event
from schemas.events import ActivityEvent, CallEvent, DealEvent, RefusalReview, TranscriptTurn

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)


def deal(event_id, type_, minutes=0, **kw):
    return DealEvent(event_id=event_id, deal_id="D1", ts=T0 + timedelta(minutes=minutes), type=type_, **kw)


def fold(*events) -> DealState:
    state = None
    for e in events:
        state, _ = apply_event(state, e)
    return state


def test_loss_records_stage_before_loss_reason_and_time():
    s = fold(deal("1", "created", pipeline="P", manager="M", amount_rub=50000, stage="Новая заявка"),
             deal("2", "stage_changed", 5, stage="Выставлен счёт"),
             deal("3", "lost", 60, stage="Закрыто и не реализовано", lost_reason="Дорого"))
    assert s.is_refusal and s.stage_before_loss == "Выставлен счёт"
    assert s.lost_at == T0 + timedelta(minutes=60) and s.manager_reason == "Дорого"
    assert s.revision == 3


def test_replayed_event_changes_nothing():
    e = deal("1", "created", pipeline="P", stage="Новая заявка")
    s1, changed1 = apply_event(None, e)
    s2, changed2 = apply_event(s1, e)
    assert changed1 and not changed2 and s2 == s1


def test_spam_and_duplicates_are_not_target():
    assert not fold(deal("1", "created", is_spam=True), deal("2", "lost", 1)).is_refusal
    assert not fold(deal("1", "created", duplicate_of="D0"), deal("2", "lost", 1)).is_refusal
    late_spam = fold(deal("1", "created"), deal("2", "lost", 1), deal("3", "updated", 2, is_spam=True))
    assert late_spam.ever_lost and not late_spam.is_refusal


def test_reopened_deal_is_no_longer_a_refusal():
    s = fold(deal("1", "created", stage="Переговоры"), deal("2", "lost", 1, stage="Закрыто"),
             deal("3", "stage_changed", 2, stage="Переговоры"))
    assert s.status == "open" and s.ever_lost and not s.is_refusal


def test_late_transcript_replaces_the_call_placeholder_and_bumps_revision():
    call = dict(deal_id="D1", call_id="c1", direction="out", status="answered", duration_s=120, ts=T0)
    s = fold(deal("1", "created"), CallEvent(event_id="c", **call), deal("2", "lost", 5))
    before = s.revision
    s, changed = apply_event(s, CallEvent(event_id="c-t", **call, transcript=[
        TranscriptTurn(offset_s=3, speaker="client", text="дорого")]))
    assert changed and s.revision == before + 1
    texts = [m.text for m in s.messages()]
    assert texts.count("Исходящий звонок, 2 мин") == 1 and "дорого" in texts
    assert s.calls == 1


@pytest.mark.parametrize("type_,kw,text", [
    ("task_created", {"task_id": "t", "task_kind": "callback", "due_at": T0 + timedelta(days=1)},
     "Создана задача «Перезвонить» на 2026-11-19 10:00"),
    ("task_overdue", {"task_id": "t", "task_kind": "callback"}, "Задача «Перезвонить» просрочена"),
    ("materials_sent", {"materials": "КП"}, "Письмо с КП отправлено"),
    ("materials_sent", {"materials": "счёт"}, "Счёт отправлен"),
    ("materials_sent", {"materials": "программа курса"}, "Отправлены материалы: программа курса"),
])
def test_activities_become_system_facts_in_the_timeline(type_, kw, text):
    s = fold(ActivityEvent(event_id="a", deal_id="D1", ts=T0, type=type_, **kw))
    assert [(m.speaker, m.text) for m in s.messages()] == [("system", text)]


def test_review_is_kept_on_the_state():
    s = fold(deal("1", "created"), deal("2", "lost", 1),
             RefusalReview(event_id="r", deal_id="D1", ts=T0, reviewer="qa", target=True, reason="Дорого",
                           kind="real"))
    assert s.review.labels.kind == "real" and s.review.reviewer == "qa"
