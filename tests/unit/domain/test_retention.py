from datetime import datetime, timedelta, timezone

import orjson

from leakwatch.domain.deal_state import apply_event
from leakwatch.domain.retention import TEXT_DROPPED, bounded, expire, touched
from schemas.events import CallEvent, DealEvent, TranscriptTurn

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
GRACE, RETENTION = 60.0, 90 * 86400.0
NOW = 1_800_000_000.0


def deal_with_calls(n: int, *, lost: bool = True):
    state, _ = apply_event(None, DealEvent(event_id="c", deal_id="D1", ts=T0, type="created", stage="Новая заявка"))
    for i in range(n):
        turns = [TranscriptTurn(offset_s=j, speaker="client" if j % 2 else "manager", text=f"реплика {i}-{j} " * 8)
                 for j in range(6)]
        state, _ = apply_event(state, CallEvent(event_id=f"call{i}", deal_id="D1", call_id=f"k{i}", direction="out",
                                                status="answered", duration_s=120, ts=T0 + timedelta(hours=i),
                                                transcript=turns))
    if lost:
        state, _ = apply_event(state, DealEvent(event_id="l", deal_id="D1", ts=T0 + timedelta(hours=n), type="lost",
                                                stage="Закрыто"))
    return state


def size(state) -> int:
    return len(orjson.dumps(state.model_dump(mode="json")))


def test_the_timeline_keeps_the_newest_messages_up_to_the_cap():
    state = bounded(deal_with_calls(50), timeline_cap=100)
    assert len(state.timeline) == 100
    assert max(m.ts for m in state.timeline.values()) == T0 + timedelta(hours=50)  # the loss is kept
    assert bounded(state, timeline_cap=100) is state


def test_texts_go_after_the_grace_period_and_the_deal_after_the_retention():
    state = touched(bounded(deal_with_calls(50), timeline_cap=200), NOW)
    assert expire(state, NOW + GRACE / 2, grace_s=GRACE, retention_s=RETENTION) is state  # still in grace
    dried = expire(state, NOW + 2 * GRACE, grace_s=GRACE, retention_s=RETENTION)
    assert {m.text for m in dried.timeline.values() if m.speaker != "system"} == {TEXT_DROPPED}
    assert any(m.speaker == "system" for m in dried.timeline.values())
    assert size(dried) < size(state) / 2
    assert expire(dried, NOW + 2 * GRACE, grace_s=GRACE, retention_s=RETENTION) is dried
    assert expire(dried, NOW + RETENTION + GRACE, grace_s=GRACE, retention_s=RETENTION) is None


def test_an_open_or_untouched_deal_keeps_its_texts():
    state = touched(deal_with_calls(3, lost=False), NOW)
    assert expire(state, NOW + RETENTION * 2, grace_s=GRACE, retention_s=RETENTION) is state
    old_events = deal_with_calls(3)  # lost long ago by its events' clock, but just folded
    assert expire(touched(old_events, NOW), NOW + 1, grace_s=GRACE, retention_s=RETENTION).timeline == old_events.timeline


def test_may_expire_agrees_with_expire_on_stored_dicts():
    """The sweep's cheap pre-check never hides a state that `expire` would change."""
    from leakwatch.domain.retention import TEXT_DROPPED, expire, may_expire
    from leakwatch.domain.deal_state import DealState
    from schemas.conversation import Message
    from datetime import datetime, timezone

    ts = datetime(2026, 11, 1, tzinfo=timezone.utc)
    talk = {"a": Message(ts=ts, speaker="client", text="дорого"), "b": Message(ts=ts, speaker="system", text="Звонок")}
    dried = {k: (m if m.speaker == "system" else m.model_copy(update={"text": TEXT_DROPPED})) for k, m in talk.items()}
    cases = [DealState(deal_id="d", status=status, touched_at=touched, timeline=timeline)
             for status in ("open", "lost", "won") for touched in (None, 0.0, 990.0, 999.5)
             for timeline in (talk, dried, {})]
    for state in cases:
        raw = state.model_dump(mode="json")
        changed = expire(state, 1000.0, grace_s=1.0, retention_s=500.0) != state
        assert may_expire(raw, 1000.0, grace_s=1.0, retention_s=500.0) == changed, state
