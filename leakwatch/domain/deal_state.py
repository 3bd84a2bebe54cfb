"""A deal's state, folded from its CRM, telephony and review events. Pure: no I/O.

`apply_event` is idempotent by event id, so a replay after a crash (Kafka delivers at
least once) changes nothing. The timeline keeps every conversation turn and every CRM or
telephony fact as a message, which is what the classifier reads: promises made in a call
are judged against the facts that follow them (or don't).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field

from schemas.conversation import EventKind, Labels, Message, SystemFact, TaskKind
from schemas.labels import Reason
from schemas.events import ActivityEvent, CallEvent, DealEvent, RefusalReview
from leakwatch.domain.reviews import CrmReviewRules, review_from_crm_move, review_move

# How many event ids a deal remembers for de-duplication; deals have far fewer events.
SEEN_EVENTS_KEPT = 500
UNKNOWN = "—"


class Review(BaseModel):
    model_config = ConfigDict(frozen=True)

    labels: Labels
    reviewer: str
    reviewed_at: datetime


class DealState(BaseModel):
    deal_id: str
    pipeline: str = "default"
    manager: str = UNKNOWN
    amount_rub: int | None = None
    stage: str | None = None
    stage_id: str | None = None  # the CRM's id of `stage`, when it sent one
    stage_before_loss: str | None = None
    status: Literal["open", "won", "lost"] = "open"
    created_at: datetime | None = None
    lost_at: datetime | None = None
    ever_lost: bool = False  # a refusal record may exist downstream and need retracting
    manager_reason: Reason | None = None
    lost_comment: str | None = None
    is_spam: bool = False
    duplicate_of: str | None = None
    calls: int = 0
    # Keyed by a stable source id (event id, call id + turn) so a transcript that arrives
    # after its call replaces the placeholder instead of adding to it.
    timeline: dict[str, Message] = Field(default_factory=dict)
    # The CRM/telephony facts behind the timeline's system messages, under the same keys,
    # so the classifier reads them as they were instead of parsing the rendered text.
    facts: dict[str, SystemFact] = Field(default_factory=dict)
    review: Review | None = None
    # The AI's labels of the newest record published (written by the refusals agent, not
    # by a fold): the verdict a QA lead confirms by closing the deal in the CRM.
    ai_labels: Labels | None = None
    revision: int = 0  # bumps on every change; the version of the refusal record
    # When the worker last changed this state (epoch seconds, the worker's clock, not the
    # events'): the grace period and the retention run from here (leakwatch.domain.retention).
    touched_at: float | None = None
    seen_events: list[str] = Field(default_factory=list)

    @property
    def is_target(self) -> bool:
        """Spam and duplicates are not target: "those clients never existed"."""
        return not self.is_spam and self.duplicate_of is None

    @property
    def is_refusal(self) -> bool:
        return self.status == "lost" and self.is_target

    def messages(self) -> list[Message]:
        return sorted(self.timeline.values(), key=lambda e: e.ts)

    def system_facts(self) -> list[SystemFact]:
        return sorted(self.facts.values(), key=lambda f: f.ts)


Event = DealEvent | CallEvent | ActivityEvent | RefusalReview


def apply_event(state: DealState | None, event: Event,
                rules: CrmReviewRules | None = None) -> tuple[DealState, bool]:
    """Fold one event into the deal's state. Returns (new state, whether anything changed).
    With `rules`, a QA lead's move of a lost deal from «Условный отказ» to closed-lost is a review."""
    if state is None:
        state = DealState(deal_id=event.deal_id)
    if event.event_id in state.seen_events:
        return state, False
    new = _copy_for_fold(state)
    match event:
        case DealEvent():
            _apply_deal(new, event, rules)
        case CallEvent():
            _apply_call(new, event)
        case ActivityEvent():
            _apply_activity(new, event)
        case RefusalReview():
            new.review = Review(labels=event.labels(), reviewer=event.reviewer, reviewed_at=event.ts)
    changed = new != state  # field values only; both still hold the same seen_events here
    new.seen_events = (state.seen_events + [event.event_id])[-SEEN_EVENTS_KEPT:]
    if changed:
        new.revision = state.revision + 1
    return new, changed


# The containers a fold may change in place; `seen_events` is not one (it is replaced whole
# after the comparison), and it is the largest (up to SEEN_EVENTS_KEPT ids) to copy.
_FOLDED_CONTAINERS = tuple(name for name, f in DealState.model_fields.items()
                           if get_origin(f.annotation) in (dict, list, set) and name != "seen_events")


def _copy_for_fold(state: DealState) -> DealState:
    """A copy the fold may change: new containers, shared items. The items (messages,
    reviews, strings) are immutable, so a deep copy — which cost more the longer a deal's
    history — would only duplicate them; the old state stays intact for the comparison."""
    return state.model_copy(update={name: getattr(state, name).copy() for name in _FOLDED_CONTAINERS})


def _note(state: DealState, key: str, ts: datetime, text: str, speaker: str = "system",
          kind: EventKind | None = None, **fact) -> None:
    state.timeline[key] = Message(ts=ts, speaker=speaker, text=text)
    if kind is not None:
        state.facts[key] = SystemFact(ts=ts, kind=kind, text=text, **fact)
    else:
        state.facts.pop(key, None)


def _apply_deal(state: DealState, e: DealEvent, rules: CrmReviewRules | None = None) -> None:
    for field in ("pipeline", "manager", "amount_rub"):
        value = getattr(e, field)
        if value is not None:
            setattr(state, field, value)
    if e.is_spam is not None:
        state.is_spam = e.is_spam
    if e.duplicate_of is not None:
        state.duplicate_of = e.duplicate_of or None
    previous_stage = state.stage
    move = (review_move(e, rules, previous_stage=previous_stage, previous_stage_id=state.stage_id)
            if rules is not None and state.status == "lost" else None)
    if e.stage is not None:
        state.stage, state.stage_id = e.stage, e.stage_id
    if move is not None:
        # The QA lead closed the «Условный отказ»: a verdict, neither a reopening nor a new
        # loss (its time, the stage before it and the manager's stated reason stay). Without
        # a verdict yet it confirms nothing, and the deal stays in the board's queue.
        verdict = state.review.labels if state.review is not None else state.ai_labels
        review = review_from_crm_move(move, verdict, rules, manager_reason=state.manager_reason)
        if review is not None:
            state.review = Review(labels=review.labels(), reviewer=review.reviewer, reviewed_at=review.ts)
        return
    if e.type == "created":
        state.created_at = state.created_at or e.ts
        if e.source == "site":
            _note(state, e.event_id, e.ts, "Входящая заявка с сайта", kind=EventKind.INBOUND_REQUEST)
        else:
            _note(state, e.event_id, e.ts, "Сделка создана", kind=EventKind.DEAL_CREATED)
    elif e.type == "stage_changed" and e.stage and e.stage != previous_stage:
        transition = f"{previous_stage or UNKNOWN} → {e.stage}"
        _note(state, e.event_id, e.ts, f"Этап сделки изменён: {transition}", kind=EventKind.STAGE_CHANGED,
              detail=transition)
        if state.status == "lost":
            state.status = "open"  # reopened: the refusal is retracted downstream
    elif e.type == "won":
        state.status = "won"
        _note(state, e.event_id, e.ts, "Сделка успешно реализована", kind=EventKind.WON)
    elif e.type == "lost":
        state.stage_before_loss = previous_stage if e.stage else (state.stage or previous_stage)
        state.status = "lost"
        state.ever_lost = True
        state.lost_at = e.ts
        state.manager_reason = e.lost_reason
        state.lost_comment = e.lost_comment
        _note(state, e.event_id, e.ts, "Сделка закрыта: отказ", kind=EventKind.CLOSED_LOST)


def _apply_call(state: DealState, e: CallEvent) -> None:
    if e.manager and state.manager == UNKNOWN:
        state.manager = e.manager
    base = f"call:{e.call_id}"
    if e.status == "missed" and e.direction == "in":
        _note(state, base, e.ts, "Пропущенный входящий звонок", kind=EventKind.MISSED_CALL)
    elif e.status == "missed":
        _note(state, base, e.ts, "Исходящий звонок: пропущен", kind=EventKind.OUTBOUND_NO_ANSWER)
    elif e.status == "no_answer":
        _note(state, base, e.ts, "Исходящий звонок: клиент не ответил", kind=EventKind.OUTBOUND_NO_ANSWER)
    else:
        if not any(k.startswith(base) for k in state.timeline):
            state.calls += 1
        direction = "Входящий" if e.direction == "in" else "Исходящий"
        minutes = max(1, round(e.duration_s / 60))
        kind = EventKind.INBOUND_CALL if e.direction == "in" else EventKind.OUTBOUND_CALL
        _note(state, base, e.ts, f"{direction} звонок, {minutes} мин", kind=kind, detail=f"{minutes} мин")
        for i, turn in enumerate(e.transcript or []):
            ts = e.ts + timedelta(seconds=turn.offset_s)
            _note(state, f"{base}:{i}", ts, turn.text, speaker=turn.speaker)


TASK_TITLES = {"callback": "Перезвонить", "meeting": "Встреча", "other": "Задача"}


def _apply_activity(state: DealState, e: ActivityEvent) -> None:
    title = TASK_TITLES[e.task_kind or "other"]
    task = dict(task=TaskKind.CALLBACK if e.task_kind == "callback" else TaskKind.OTHER, detail=title)
    if e.type == "task_created":
        due = f" на {e.due_at.strftime('%Y-%m-%d %H:%M')}" if e.due_at else ""
        _note(state, e.event_id, e.ts, f"Создана задача «{title}»{due}", kind=EventKind.TASK_CREATED,
              due=e.due_at, **task)
    elif e.type == "task_done":
        _note(state, e.event_id, e.ts, f"Задача «{title}» выполнена", kind=EventKind.TASK_DONE, **task)
    elif e.type == "task_overdue":
        _note(state, e.event_id, e.ts, f"Задача «{title}» просрочена", kind=EventKind.TASK_OVERDUE, **task)
    elif e.type == "materials_sent":
        _note(state, e.event_id, e.ts, materials_text(e.materials), kind=EventKind.SENT,
              detail=(e.materials or "").strip())
    elif e.type == "materials_bounced":
        name = (e.materials or "").strip() or "материалы"
        _note(state, e.event_id, e.ts, f"Письмо не доставлено: {name}", kind=EventKind.BOUNCED, detail=name)
    elif e.type == "message":
        _note(state, e.event_id, e.ts, e.text or "", speaker=e.author or "client")


def materials_text(materials: str | None) -> str:
    name = (materials or "").strip()
    lowered = name.lower()
    if lowered in {"кп", "коммерческое предложение"}:
        return "Письмо с КП отправлено"
    if lowered.startswith("сч"):
        return "Счёт отправлен"
    return f"Отправлены материалы: {name or 'без названия'}"
