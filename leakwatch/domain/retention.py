"""Keeping a deal's state bounded. Pure: the caller passes the clock and the limits.

Without this a deal's state (and each of its changelog records, which rewrite the whole
state) grows with every call and message, and the table never forgets a deal. Three
rules: the timeline keeps at most `timeline_cap` messages (the newest: the end of a
conversation is what explains a refusal); once a closed deal has not changed for longer
than the grace period its record is published, so the conversation's texts go (the facts
the leak reasons rest on stay: system notes, counts, stages, the review); a closed deal
unchanged for longer than the retention is dropped from the table altogether.
"""

from __future__ import annotations

from leakwatch.domain.deal_state import DealState

TEXT_DROPPED = "…"


def bounded(state: DealState, *, timeline_cap: int) -> DealState:
    """The state with at most `timeline_cap` timeline messages (the newest)."""
    if len(state.timeline) <= timeline_cap:
        return state
    newest = sorted(state.timeline.items(), key=lambda kv: kv[1].ts)[-timeline_cap:]
    return state.model_copy(update={"timeline": dict(newest)})


def touched(state: DealState, now: float) -> DealState:
    return state.model_copy(update={"touched_at": now})


def expire(state: DealState, now: float, *, grace_s: float, retention_s: float) -> DealState | None:
    """None when the deal should leave the table; else the state, with the conversation's
    texts dropped once it has been closed and unchanged for longer than `grace_s` (its
    record is out by then). Clocks are the worker's (`touched_at`), not the events': a
    replay of old events must not dry a deal before it is classified."""
    if state.status == "open" or state.touched_at is None or now - state.touched_at <= grace_s:
        return state
    if now - state.touched_at > retention_s:
        return None
    if all(m.speaker == "system" or m.text == TEXT_DROPPED for m in state.timeline.values()):
        return state
    timeline = {k: (m if m.speaker == "system" else m.model_copy(update={"text": TEXT_DROPPED}))
                for k, m in state.timeline.items()}
    return state.model_copy(update={"timeline": timeline})


def may_expire(raw: dict, now: float, *, grace_s: float, retention_s: float) -> bool:
    """Whether `expire` could change this stored state, read from the table's dict without
    validating it: the sweep runs over every deal of a partition, and most are open, recent
    or already dried, so validating each one would cost more than the sweep saves."""
    touched_at = raw.get("touched_at")
    if raw.get("status") == "open" or touched_at is None or now - touched_at <= grace_s:
        return False
    if now - touched_at > retention_s:
        return True
    return any(m.get("speaker") != "system" and m.get("text") != TEXT_DROPPED
               for m in (raw.get("timeline") or {}).values())
