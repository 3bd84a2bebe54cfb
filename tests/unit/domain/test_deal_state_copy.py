"""apply_event copies only containers: the state it was given must stay as it was."""

from datetime import datetime, timedelta, timezone

from leakwatch.domain.deal_state import apply_event
from schemas.events import ActivityEvent, CallEvent, DealEvent, RefusalReview, TranscriptTurn

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)


def test_the_previous_state_is_untouched_by_the_fold():
    before, _ = apply_event(None, DealEvent(event_id="1", deal_id="D", ts=T0, type="created", stage="Новая заявка"))
    snapshot = before.model_dump()
    events = [
        CallEvent(event_id="2", deal_id="D", ts=T0 + timedelta(minutes=1), call_id="c1", direction="out",
                  status="answered", duration_s=60, manager="M",
                  transcript=[TranscriptTurn(offset_s=0, speaker="client", text="Дорого")]),
        ActivityEvent(event_id="3", deal_id="D", ts=T0 + timedelta(minutes=2), type="materials_sent", materials="КП"),
        DealEvent(event_id="4", deal_id="D", ts=T0 + timedelta(minutes=3), type="lost", stage="Закрыто"),
        RefusalReview(event_id="5", deal_id="D", ts=T0 + timedelta(minutes=4), reviewer="qa", target=True,
                      reason="Дорого", kind="real"),
    ]
    state = before
    for e in events:
        new, changed = apply_event(state, e)
        assert changed and new is not state
        state = new
    assert before.model_dump() == snapshot
    assert len(state.timeline) > len(before.timeline) and state.seen_events == ["1", "2", "3", "4", "5"]
