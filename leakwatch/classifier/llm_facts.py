"""The pipeline's derived facts as the LLM reads them: one sentence per fact, with its times,
its units and where it comes from («callback promised 2025-03-03 10:05, first manager contact
after it 2025-03-04 12:30 (26.4 h later) …», source: telephony events), so the model need not
redo date arithmetic and can weigh a fact by its source. Pure: no I/O, no clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from leakwatch.classifier.facts import ConversationFacts, Promise
from leakwatch.classifier.system_events import EventKind
from leakwatch.classifier.timeline import Entry, analyse
from schemas.conversation import Message

TELEPHONY = frozenset({EventKind.MISSED_CALL, EventKind.INBOUND_CALL, EventKind.OUTBOUND_CALL,
                       EventKind.OUTBOUND_NO_ANSWER})
TASKS = frozenset({EventKind.TASK_CREATED, EventKind.TASK_OVERDUE, EventKind.TASK_DONE})
MAILING = frozenset({EventKind.SENT, EventKind.REMINDER_SENT, EventKind.MESSAGE_READ, EventKind.AUTO_REPLY})
SENDINGS = frozenset({EventKind.SENT})
# Entries closer than this to the one before belong to the same call or chat exchange.
SAME_EXCHANGE = timedelta(minutes=30)


def _at(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M")


def _hours(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    return f"{seconds / 60:.0f} min" if abs(seconds) < 3600 else f"{seconds / 3600:.1f} h"


def source_of(entry: Entry) -> str:
    if entry.speaker != "system":
        return f"{entry.speaker}'s message"
    kind = entry.event.kind if entry.event is not None else EventKind.OTHER
    if kind in TELEPHONY:
        return "telephony events"
    if kind in TASKS:
        return "CRM tasks"
    if kind in MAILING:
        return "CRM e-mail/messaging events"
    return "CRM events"


def _fact(text: str, source: str) -> dict:
    return {"fact": text, "source": source}


def _entry_at(entries: Sequence[Entry], ts: datetime) -> Entry | None:
    return next((e for e in entries if e.ts == ts), None)


def _after(entries: Sequence[Entry], ts: datetime, predicate) -> Entry | None:
    return next((e for e in entries if e.ts > ts and predicate(e)), None)


def _later_exchange(entries: Sequence[Entry], ts: datetime, predicate) -> Entry | None:
    """The first entry matching `predicate` in a later exchange than the one at `ts`: the
    manager's «хорошо, до связи» in the same call is not the promised call back."""
    later = [e for e in entries if e.ts > ts]
    previous = ts
    for i, e in enumerate(later):
        if e.ts - previous > SAME_EXCHANGE:
            return next((x for x in later[i:] if predicate(x)), None)
        previous = e.ts
    return None


def _verdict(p: Promise) -> str:
    state = {True: "kept", False: "broken", None: "undecided"}[p.kept]
    return f"pipeline verdict: {state} ({p.why})"


def _promise_fact(entries: Sequence[Entry], p: Promise) -> dict:
    made = _entry_at(entries, p.made_at)
    by = "a CRM task" if made is not None and made.is_event(EventKind.TASK_CREATED) else "the manager's words"
    what = "callback" if p.what == "callback" else "materials (proposal, invoice, documents)"
    text = f"{what} promised {_at(p.made_at)} in {by}"
    if p.due is not None:
        text += f", due {_at(p.due)}"
    if p.what == "callback":
        follow = _later_exchange(entries, p.made_at, lambda e: e.is_manager_contact)
        done = "first manager contact after it"
    else:
        follow = _after(entries, p.made_at, lambda e: e.is_event(*SENDINGS))
        done = "first sending recorded after it"
    sources = [source_of(made)] if made is not None else []
    if follow is None:
        text += f"; no {done.removeprefix('first ')} before the conversation ends"
    else:
        text += f"; {done} {_at(follow.ts)} ({_hours(follow.ts - p.made_at)} later"
        if p.due is not None:
            late = follow.ts - p.due
            text += f", {_hours(late)} after the due time" if late > timedelta(0) else ", before the due time"
        text += ")"
        sources.append(source_of(follow))
    return _fact(f"{text}; {_verdict(p)}", " + ".join(dict.fromkeys(sources)) or "timeline")


def fact_statements(messages: Sequence[Message], facts: ConversationFacts) -> list[dict]:
    """What the pipeline read off the timeline, as sentences with units and sources."""
    entries = analyse(messages)
    out = [_promise_fact(entries, p) for p in facts.promises]
    if facts.first_response_delay is not None:
        out.append(_fact(f"first manager contact after the client's first request: "
                         f"{_hours(facts.first_response_delay)} of working time (09:00-21:00 counted)",
                         "timeline (messages and CRM/telephony events)"))
    if facts.longest_client_wait is not None:
        out.append(_fact(f"longest client wait for the manager: {_hours(facts.longest_client_wait)} "
                         "of working time", "timeline (messages and CRM/telephony events)"))
    if facts.missed_calls:
        out.append(_fact(f"{facts.missed_calls} missed client call(s), {facts.missed_calls_returned_late} of them "
                         "returned after 4 working hours or never", "telephony events"))
    if facts.overdue_tasks:
        out.append(_fact(f"{facts.overdue_tasks} CRM task(s) reported overdue", "CRM tasks"))
    for o in facts.objections:
        handled = "worked by the manager" if o.answered else "not worked (no reply, a brush-off or a short reply)"
        out.append(_fact(f"client objection ({o.topic}) at {_at(o.at)}: {handled}",
                         "client's and manager's messages (pipeline heuristic)"))
    if facts.hot_signals:
        out.append(_fact(f"{len(facts.hot_signals)} client message(s) asking to buy (invoice, contract, date, "
                         "payment)", "client's messages (pipeline heuristic)"))
    unknown = sum(1 for e in entries if e.speaker == "system" and (e.event is None or e.event.kind == EventKind.OTHER))
    if unknown:
        out.append(_fact(f"{unknown} system message(s) the pipeline could not interpret: facts above may miss "
                         "them; read them yourself", "CRM events"))
    return out
