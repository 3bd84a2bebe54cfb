"""What the embedded engine reads of a conversation: the facts, the client's and the
manager's lines (minus anything addressed to the classifier), and a numeric vector of
the facts that sits next to the sentence embeddings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from leakwatch.classifier import lexicon as lx
from schemas.conversation import ConversationInput, Message
from leakwatch.classifier.facts import SLOW_RESPONSE, ConversationFacts, facts_of
from leakwatch.classifier.injection import strip_injections
from leakwatch.classifier.morphology import lemmas
from leakwatch.classifier.system_events import EventKind
from leakwatch.classifier.timeline import Entry, analyse

# Embedding whole long calls costs time and blurs the signal; the end of a lost deal
# is where the refusal is said.
MAX_LINES_PER_SPEAKER = 12


@dataclass(frozen=True)
class Reading:
    item: ConversationInput
    facts: ConversationFacts
    client_lines: tuple[str, ...]
    manager_lines: tuple[str, ...]
    non_target_cues: dict[str, int]
    events: dict[str, int]  # EventKind -> count (structured, or read off the system messages)
    tools: dict[str, tuple[bool, bool]]  # tool -> (the CRM notes list it, the manager offered it)
    ready_deferred: tuple[bool, bool, bool]  # client ready, manager deferred, no next step set
    client_lemmas: tuple[tuple[str, ...], ...] = ()  # every client line, as lemmas
    form_lemmas: tuple[tuple[str, ...], ...] = ()  # the client's words inside CRM events (site forms, bots)
    commerce_events: int = 0  # CRM events of a buying stage: invoice, payment, booking, contract
    appointment_events: int = 0  # CRM events of a booked step: appointment, viewing, measurement


def _lines(messages: list[Message], speaker: str) -> tuple[str, ...]:
    kept = tuple(m.text for m in messages if m.speaker == speaker and m.text.strip())
    return kept[-MAX_LINES_PER_SPEAKER:]


def _non_target_cues(entries: tuple[Entry, ...], notes: list[str]) -> dict[str, int]:
    client = [e.lemmas for e in entries if e.speaker == "client"]
    anyone = [e.lemmas for e in entries if e.speaker != "system"] + [lemmas(n) for n in notes]
    cues = {name: sum(1 for ls in client if lex.matches(ls)) for name, lex in lx.NON_TARGET_CLIENT_CUES.items()}
    cues |= {name: sum(1 for ls in anyone if lex.matches(ls)) for name, lex in lx.NON_TARGET_ANY_CUES.items()}
    # The CRM merged the deal into another: a structural fact («Сделка объединена с … (дубль)»).
    cues["crm_merged"] = sum(1 for e in entries if e.is_event(EventKind.DUPLICATE))
    # A manager closed it as not target («Сделка закрыта: спам», «Причина: Нецелевой»): a claim,
    # as self-serving at times as the CRM loss reason (LABELS.md: judge by content).
    cues["crm_marked"] = sum(1 for e in entries if e.is_event(EventKind.CLOSED_NOT_TARGET))
    return cues


def _tools(entries: tuple[Entry, ...], notes: list[str]) -> dict[str, tuple[bool, bool]]:
    """Per answering tool (discount, instalment, cheaper package, guarantee, proof): whether
    the CRM notes list it and whether the manager brought it up (rule 6)."""
    noted = [lemmas(n) for n in notes]
    said = [e.lemmas for e in entries if e.speaker == "manager"]
    return {
        name: (any(lex.matches(ls) for ls in noted), any(lex.matches(ls) for ls in said))
        for name, lex in lx.TOOLS.items()
    }


def _ready_deferred(entries: tuple[Entry, ...], facts: ConversationFacts) -> tuple[bool, bool, bool]:
    """«Не дожали заинтересованных»: a client who was ready (or close), a manager who let it
    drift («подумайте», «на связи»), and no next step in the CRM."""
    ready_at = next((e.index for e in entries if e.speaker == "client"
                     and (lx.HOT.matches(e.lemmas) or lx.READY.matches(e.lemmas))), None)
    if ready_at is None:
        return False, False, False
    after = entries[ready_at + 1 :]
    deferred = any(e.speaker == "manager" and lx.DEFERRAL.matches(e.lemmas) for e in after)
    next_step = any(e.is_event(EventKind.TASK_CREATED, EventKind.SENT, EventKind.MEETING) for e in after)
    no_step = any(e.is_event(EventKind.NO_NEXT_STEP) for e in entries) or not next_step
    return True, deferred, no_step


# A deal that reached a buying stage: an invoice made, a payment link, a payment tried, a booking.
_COMMERCE = re.compile(
    r"сч[её]т\w*\s*(№|#|на\s+оплат|сформир|выставл)|ссылк\w* на оплат|оплат|предоплат|аванс|плат[её]ж|"
    r"\bброн|заброн|invoice|payment|booking|reserv|договор\w*\s*(на\s+подпис|подписан|отправлен)",
    re.IGNORECASE,
)


def _system_text(e: Entry) -> str:
    return e.message.text if e.message.text else (e.event.detail if e.event else "")


def _commerce_events(entries: tuple[Entry, ...]) -> int:
    # The closing event names the CRM's loss reason («Причина: Дорого»), not a stage reached.
    return sum(1 for e in entries if e.speaker == "system" and not e.is_event(EventKind.CLOSED_LOST)
               and _COMMERCE.search(_system_text(e)))


def _appointment_events(entries: tuple[Entry, ...]) -> int:
    return sum(1 for e in entries if e.speaker == "system" and not e.is_event(EventKind.CLOSED_LOST)
               and lx.APPOINTMENT.matches(lemmas(_system_text(e))))


def read(item: ConversationInput) -> Reading:
    # Everything downstream (facts, cues, embeddings) sees the text without injected orders.
    messages = [m.model_copy(update={"text": strip_injections(m.text)}) for m in item.messages]
    entries = analyse(messages, item.events)
    facts = facts_of(entries)
    events: dict[str, int] = {}
    for e in entries:
        if e.event is not None:
            events[e.event.kind] = events.get(e.event.kind, 0) + 1
    return Reading(
        item,
        facts,
        _lines(messages, "client"),
        _lines(messages, "manager"),
        _non_target_cues(entries, item.crm_notes),
        events,
        _tools(entries, item.crm_notes),
        _ready_deferred(entries, facts),
        tuple(e.lemmas for e in entries if e.speaker == "client"),
        tuple(lemmas(_system_text(e)) for e in entries if e.is_event(EventKind.INBOUND_REQUEST)),
        _commerce_events(entries),
        _appointment_events(entries),
    )


# Event kinds whose counts the learned heads see.
_EVENT_FEATURES = (
    EventKind.BOUNCED, EventKind.SLA_BREACH, EventKind.INCIDENT, EventKind.NO_NEXT_STEP,
    EventKind.AUTO_REPLY, EventKind.TASK_OVERDUE, EventKind.SENT, EventKind.MEETING,
    EventKind.OUTBOUND_NO_ANSWER, EventKind.MISSED_CALL, EventKind.INBOUND_REQUEST, EventKind.OTHER,
)


def _hours(delta) -> float:
    return 0.0 if delta is None else math.log1p(max(delta.total_seconds(), 0) / 3600)


def fact_vector(r: Reading) -> np.ndarray:
    f = r.facts
    promises = {
        (what, state): sum(1 for p in f.promises if p.what == what and p.kept is state)
        for what in ("materials", "callback")
        for state in (True, False, None)
    }
    topics = {t: [o for o in f.objections if o.topic == t] for t in ("price", "think", "doubt")}
    values = [
        promises[("materials", False)] > 0,
        promises[("materials", True)] > 0,
        promises[("callback", False)] > 0,
        promises[("callback", True)] > 0,
        promises[("callback", None)] > 0,
        bool(f.not_received_complaints),
        bool(f.no_callback_complaints),
        _hours(f.first_response_delay),
        _hours(f.longest_client_wait),
        f.longest_client_wait is not None and f.longest_client_wait > SLOW_RESPONSE,
        f.unanswered_inbound,
        f.missed_calls,
        f.missed_calls_returned_late,
        f.unanswered_outbound_calls,
        f.overdue_tasks,
        f.hot,
        len(f.hot_signals),
        *(bool(topics[t]) for t in topics),
        *(any(not o.answered for o in topics[t]) for t in topics),
        math.log1p(f.followups_without_reply),
        math.log1p(f.client_messages),
        math.log1p(f.manager_messages),
        *(min(v, 3) for v in f.cue_counts.values()),
        *(min(v, 3) for v in r.non_target_cues.values()),
        *(min(r.events.get(k, 0), 3) for k in _EVENT_FEATURES),
        *(noted for noted, _ in r.tools.values()),
        *(offered for _, offered in r.tools.values()),
        any(noted and not offered for noted, offered in r.tools.values()),
        *r.ready_deferred,
        min(sum(1 for line in r.client_lemmas if lx.URGENCY.matches(line)), 3),
        min(sum(1 for line in r.client_lemmas if lx.BUDGET.matches(line)), 3),
        any(lx.READY.matches(line) for line in r.client_lemmas),
        all(r.ready_deferred),
        bool(f.unanswered_objections) and any(noted and not offered for noted, offered in r.tools.values()),
        r.item.channel == "call",
        r.item.channel == "chat",
        r.item.amount_rub is None,
    ]
    return np.asarray(values, dtype=np.float64)


# dd.mm with a real month (two digits, so «4.9%» is no date), optionally .yy or .yyyy.
NUMERIC_DATE = re.compile(r"(?<![\d.,])(?:0?[1-9]|[12]\d|3[01])\.(?:0[1-9]|1[0-2])(?:\.(?:\d{4}|\d{2}))?(?![\d,]|\.\d)")


def hot_vector(r: Reading) -> np.ndarray:
    """Columns only the hot head sees. Readiness cues say nothing about whose fault the loss
    was; next to the leak head they taught it that an eager client means a salvageable deal."""
    client_and_forms = r.client_lemmas + r.form_lemmas
    budget = any(lx.BUDGET.matches(line) for line in client_and_forms)
    deadline = any(lx.DEADLINE.matches(line) for line in client_and_forms)
    urgent = any(lx.URGENCY.matches(line) for line in client_and_forms)
    intent = any(lx.INTENT.matches(line) or lx.HOT.matches(line) for line in client_and_forms)
    numeric_date = any(NUMERIC_DATE.search(line) for line in r.client_lines)
    values = [
        # LABELS.md «hot»: a concrete purchase with a budget and a deadline, an agreed date, a
        # deal that reached the invoice or booking stage; the client's words in site forms count.
        min(sum(1 for line in r.client_lemmas + r.form_lemmas if lx.DEADLINE.matches(line)), 3),
        min(sum(1 for line in r.form_lemmas if lx.URGENCY.matches(line) or lx.BUDGET.matches(line)), 2),
        any(lx.HOT.matches(line) or lx.READY.matches(line) for line in r.form_lemmas),
        min(r.commerce_events, 3),
        # Readiness words counted (the shared block has only whether there was one), intent
        # short of an order, and the policy's «concrete purchase»: money and a date together.
        min(sum(1 for line in client_and_forms if lx.HOT.matches(line)), 3),
        min(sum(1 for line in client_and_forms if lx.READY.matches(line)), 3),
        min(sum(1 for line in client_and_forms if lx.INTENT.matches(line)), 3),
        budget and (deadline or urgent),
        (budget or deadline or urgent) and intent,
        min(r.appointment_events, 2),
        # A date written as digits («до 24.06», «вылет 10.12»): the lexicon's weekdays and
        # months miss it, and a dated need is half of the policy's «concrete purchase».
        numeric_date,
        numeric_date and (budget or intent),
    ]
    return np.asarray(values, dtype=np.float64)
