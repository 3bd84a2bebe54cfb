"""Facts read off a conversation's timeline: what the manager promised and whether it was
kept (`promises.py`), how long the client waited, missed calls, how ready the client was,
which objections came up and whether the manager worked them.

Pure functions over `Message`s: no I/O, no clock (time is the messages' own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Sequence

from leakwatch.classifier import lexicon as lx
from schemas.conversation import Message, SystemFact
from leakwatch.classifier.promises import Promise, find_promises
from leakwatch.classifier.system_events import EventKind
from leakwatch.classifier.timeline import Entry, analyse, clock_start, next_entry, quote, working_time

# A client's inbound (request, missed call, message) answered later than this, in working
# hours, waited too long.
SLOW_RESPONSE = timedelta(hours=4)
# A manager reply with at least this many words is taken as an attempt to work an objection.
SUBSTANTIVE_REPLY_WORDS = 14

__all__ = ["ConversationFacts", "Objection", "Promise", "derive_facts", "quote", "SLOW_RESPONSE"]


@dataclass(frozen=True, slots=True)
class Objection:
    topic: Literal["price", "think", "doubt"]
    at: datetime
    quote: str
    answered: bool


@dataclass(frozen=True)
class ConversationFacts:
    promises: tuple[Promise, ...] = ()
    objections: tuple[Objection, ...] = ()
    hot_signals: tuple[str, ...] = ()  # client quotes asking for invoice/contract/date/payment
    not_received_complaints: tuple[str, ...] = ()  # «так и не получил»
    no_callback_complaints: tuple[str, ...] = ()  # «вы обещали перезвонить»
    first_response_delay: timedelta | None = None
    longest_client_wait: timedelta | None = None  # inbound → next manager contact
    unanswered_inbound: int = 0  # inbound the manager never followed up
    missed_calls: int = 0
    missed_calls_returned_late: int = 0  # returned after SLOW_RESPONSE or never
    unanswered_outbound_calls: int = 0
    overdue_tasks: int = 0
    client_messages: int = 0
    manager_messages: int = 0
    followups_without_reply: int = 0  # manager contacts after the client's last word
    cue_counts: dict[str, int] = field(default_factory=dict)  # lexicon.REASON_CUES hits

    def broken(self, what: str) -> tuple[Promise, ...]:
        """Broken promises of one kind that the client was waiting for."""
        return tuple(p for p in self.promises if p.what == what and p.kept is False and p.client_waiting)

    @property
    def unanswered_objections(self) -> tuple[Objection, ...]:
        return tuple(o for o in self.objections if not o.answered)

    @property
    def hot(self) -> bool:
        return bool(self.hot_signals)


# --- objections ------------------------------------------------------------------------------

_OBJECTION_LEXICONS = (("price", lx.PRICE_OBJECTION), ("think", lx.THINK_OBJECTION), ("doubt", lx.DOUBT_OBJECTION))


def _worked(reply: Entry | None) -> bool:
    if reply is None:
        return False
    if lx.HANDLING.matches(reply.lemmas):
        return True
    return len(reply.words) >= SUBSTANTIVE_REPLY_WORDS and not lx.BRUSH_OFF.matches(reply.lemmas[:3])


def _price_objection(lemmas: tuple[str, ...]) -> bool:
    """«дорого», but not «дело не в деньгах» / «не так уж и дорого»."""
    if lx.PRICE_NOT_ISSUE.matches(lemmas):
        return False
    phrase = lx.PRICE_OBJECTION.match(lemmas)
    if phrase is None:
        return False
    at = phrase.find(lemmas)
    return "не" not in lemmas[max(0, at - 4) : at] or phrase.lemmas[0] == "не"


def find_objections(entries: Sequence[Entry]) -> tuple[Objection, ...]:
    found: list[Objection] = []
    for e in entries:
        if e.speaker != "client":
            continue
        for topic, lexicon in _OBJECTION_LEXICONS:
            if topic == "price" and not _price_objection(e.lemmas):
                continue
            if lexicon.matches(e.lemmas):
                reply = next_entry(entries, e, lambda x: x.speaker in ("manager", "client") and x is not e)
                reply = reply if reply is not None and reply.speaker == "manager" else None
                found.append(Objection(topic, e.ts, quote(e.message.text), _worked(reply)))
                break  # one objection per message: the first topic is the strongest cue
    return tuple(found)


# --- response times --------------------------------------------------------------------------


def _waits(entries: Sequence[Entry]) -> tuple[list[timedelta], int, int, int]:
    """Per inbound: working time until the manager's next contact. Returns the waits, inbound
    never followed up, missed calls, missed calls returned late (or never)."""
    waits: list[timedelta] = []
    never = missed = missed_late = 0
    for e in entries:
        if not e.is_client_inbound:
            continue
        reply = next_entry(entries, e, lambda x: x.is_manager_contact)
        is_missed = e.is_event(EventKind.MISSED_CALL)
        missed += is_missed
        if reply is None:
            # A client's last word before the deal closes is not a wait; a missed call is.
            never += is_missed or e.speaker != "client"
            missed_late += is_missed
            continue
        wait = working_time(clock_start(e), reply.ts)
        waits.append(wait)
        missed_late += is_missed and wait > SLOW_RESPONSE
    return waits, never, missed, missed_late


def first_response_delay(entries: Sequence[Entry]) -> timedelta | None:
    """Working time from the client's first inbound to the manager's first contact after it."""
    first_in = next((e for e in entries if e.is_client_inbound), None)
    if first_in is None:
        return None
    # A manager who reached out first (an outbound deal) kept nobody waiting.
    if any(e.is_manager_contact for e in entries[: first_in.index]) or first_in.is_manager_contact:
        return timedelta(0)
    reply = next_entry(entries, first_in, lambda x: x.is_manager_contact)
    return None if reply is None else working_time(clock_start(first_in), reply.ts)


def _followups_without_reply(entries: Sequence[Entry]) -> int:
    last_client = max((e.index for e in entries if e.speaker == "client" or e.is_event(EventKind.INBOUND_CALL)), default=-1)
    return sum(1 for e in entries[last_client + 1 :] if e.is_manager_contact)


# --- everything --------------------------------------------------------------------------------


def derive_facts(messages: Sequence[Message], events: Sequence[SystemFact] = ()) -> ConversationFacts:
    return facts_of(analyse(messages, events))


def facts_of(entries: Sequence[Entry]) -> ConversationFacts:
    client = [e for e in entries if e.speaker == "client"]
    waits, never, missed, missed_late = _waits(entries)
    return ConversationFacts(
        promises=find_promises(entries),
        objections=find_objections(entries),
        hot_signals=tuple(quote(e.message.text) for e in client if lx.HOT.matches(e.lemmas)),
        not_received_complaints=tuple(
            quote(e.message.text) for e in client if lx.NOT_RECEIVED.matches(e.lemmas)
        ),
        no_callback_complaints=tuple(
            quote(e.message.text) for e in client if lx.NO_CALLBACK.matches(e.lemmas)
        ),
        first_response_delay=first_response_delay(entries),
        longest_client_wait=max(waits, default=None),
        unanswered_inbound=never,
        missed_calls=missed,
        missed_calls_returned_late=missed_late,
        unanswered_outbound_calls=sum(1 for e in entries if e.is_event(EventKind.OUTBOUND_NO_ANSWER)),
        overdue_tasks=sum(1 for e in entries if e.is_event(EventKind.TASK_OVERDUE)),
        client_messages=len(client),
        manager_messages=sum(1 for e in entries if e.speaker == "manager"),
        followups_without_reply=_followups_without_reply(entries),
        cue_counts={
            name: sum(1 for e in client if lexicon.matches(e.lemmas))
            for name, lexicon in lx.REASON_CUES.items()
        },
    )
