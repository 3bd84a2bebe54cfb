"""A conversation as a timeline: each message analysed once (lemmas for speech, a typed
event for a system line), plus working-time arithmetic. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable, Sequence

from schemas.conversation import Message, SystemFact
from leakwatch.classifier.morphology import Token, tokens
from leakwatch.classifier.system_events import (
    CLIENT_INBOUND_KINDS,
    MANAGER_CONTACT_KINDS,
    EventKind,
    SystemEvent,
    TaskKind,
    from_fact,
    parse_event,
)

WORKDAY_START, WORKDAY_END = time(9, 0), time(21, 0)
MAX_COUNTED_WAIT = timedelta(days=30)  # bounds the day loop; longer is simply "very late"


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    message: Message
    words: tuple[Token, ...] = ()
    event: SystemEvent | None = None

    @property
    def ts(self) -> datetime:
        return self.message.ts

    @property
    def speaker(self) -> str:
        return self.message.speaker

    @property
    def lemmas(self) -> tuple[str, ...]:
        return tuple(t.lemma for t in self.words)

    def is_event(self, *kinds: EventKind, task: TaskKind | None = None) -> bool:
        return (
            self.event is not None
            and self.event.kind in kinds
            and (task is None or self.event.task == task)
        )

    @property
    def is_manager_contact(self) -> bool:
        """The manager reached out (or tried to): a message, a call, a meeting, a sending."""
        if self.speaker == "manager":
            return True
        return self.is_event(*MANAGER_CONTACT_KINDS) or self.is_event(EventKind.TASK_DONE, task=TaskKind.CALLBACK)

    @property
    def is_client_inbound(self) -> bool:
        return self.speaker == "client" or self.is_event(*CLIENT_INBOUND_KINDS)

    def negated(self, i: int) -> bool:
        """The word at `i` has «не» right before it."""
        return i > 0 and self.words[i - 1].lemma == "не"


def _key(ts: datetime, text: str) -> tuple[datetime, str]:
    return ts, " ".join(text.split())


def with_facts(messages: Sequence[Message], facts: Sequence[SystemFact]) -> list[tuple[Message, SystemEvent | None]]:
    """Each message with its typed event: a system message the stream rendered from a
    structured fact takes that fact as it was; any other system message is read back from
    its text; a fact that was never rendered joins the timeline as a system message."""
    by_text = {_key(f.ts, f.text): f for f in facts if f.text}
    used: set[int] = set()
    out: list[tuple[Message, SystemEvent | None]] = []
    for m in messages:
        if m.speaker != "system":
            out.append((m, None))
            continue
        fact = by_text.get(_key(m.ts, m.text))
        if fact is not None:
            used.add(id(fact))
        out.append((m, from_fact(fact) if fact is not None else parse_event(m)))
    for f in facts:
        if id(f) not in used:
            out.append((Message(ts=f.ts, speaker="system", text=f.text or f.detail or str(f.kind)), from_fact(f)))
    return out


def analyse(messages: Sequence[Message], facts: Sequence[SystemFact] = ()) -> tuple[Entry, ...]:
    # Sorted by time, stable: the pipeline's inputs are ordered, hand-made ones may not be.
    ordered = sorted(with_facts(messages, facts), key=lambda pair: pair[0].ts)
    return tuple(
        Entry(i, m, event=event) if m.speaker == "system" else Entry(i, m, tokens(m.text))
        for i, (m, event) in enumerate(ordered)
    )


def next_entry(entries: Sequence[Entry], after: Entry, predicate: Callable[[Entry], bool]) -> Entry | None:
    return next((e for e in entries[after.index + 1 :] if predicate(e)), None)


def quote(text: str, limit: int = 200) -> str:
    """A message as an evidence quote: one line, at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def working_time(start: datetime, end: datetime) -> timedelta:
    """Time between two moments inside working hours: a request at 23:40 answered at 9:05
    waited five minutes, not nine hours."""
    total = timedelta(0)
    day = start.date()
    while day <= end.date() and total < MAX_COUNTED_WAIT:
        open_at = datetime.combine(day, WORKDAY_START, start.tzinfo)
        close_at = datetime.combine(day, WORKDAY_END, start.tzinfo)
        lo, hi = max(start, open_at), min(end, close_at)
        if hi > lo:
            total += hi - lo
        day += timedelta(days=1)
    return total


def clock_start(e: Entry) -> datetime:
    """When a client's wait starts: at once, or the next morning for an event the pipeline
    marked as outside working time («нерабочий праздничный день»)."""
    if e.event is not None and e.event.off_hours:
        return datetime.combine(e.ts.date() + timedelta(days=1), WORKDAY_START, e.ts.tzinfo)
    return e.ts
