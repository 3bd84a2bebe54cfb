"""What the embedded engine reads of a conversation: the facts, the client's and the
manager's lines (minus anything addressed to the classifier), and a numeric vector of
the facts that sits next to the sentence embeddings."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from leakwatch.classifier import lexicon as lx
from schemas.conversation import ConversationInput, Message
from leakwatch.classifier.facts import SLOW_RESPONSE, ConversationFacts, derive_facts
from leakwatch.classifier.injection import strip_injections
from leakwatch.classifier.morphology import lemmas
from leakwatch.classifier.system_events import EventKind, parse_event

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


def _lines(messages: list[Message], speaker: str) -> tuple[str, ...]:
    kept = tuple(m.text for m in messages if m.speaker == speaker and m.text.strip())
    return kept[-MAX_LINES_PER_SPEAKER:]


def _non_target_cues(messages: list[Message], notes: list[str]) -> dict[str, int]:
    client = [lemmas(m.text) for m in messages if m.speaker == "client"]
    anyone = [lemmas(m.text) for m in messages if m.speaker != "system"] + [lemmas(n) for n in notes]
    cues = {name: sum(1 for ls in client if lex.matches(ls)) for name, lex in lx.NON_TARGET_CLIENT_CUES.items()}
    cues |= {name: sum(1 for ls in anyone if lex.matches(ls)) for name, lex in lx.NON_TARGET_ANY_CUES.items()}
    # The CRM itself says so: «Сделка закрыта: спам», «Сделка объединена с … (дубль)».
    cues["crm_marked"] = sum(
        1 for m in messages
        if m.speaker == "system" and parse_event(m).kind in (EventKind.CLOSED_NOT_TARGET, EventKind.DUPLICATE)
    )
    return cues


def read(item: ConversationInput) -> Reading:
    # Everything downstream (facts, cues, embeddings) sees the text without injected orders.
    messages = [m.model_copy(update={"text": strip_injections(m.text)}) for m in item.messages]
    return Reading(
        item,
        derive_facts(messages),
        _lines(messages, "client"),
        _lines(messages, "manager"),
        _non_target_cues(messages, item.crm_notes),
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
        r.item.channel == "call",
        r.item.channel == "chat",
        r.item.amount_rub is None,
    ]
    return np.asarray(values, dtype=np.float64)
