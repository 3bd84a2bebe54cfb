"""The CRM/telephony facts the pipeline writes into a conversation as `system` messages,
parsed into typed events. The vocabulary is fixed by the pipeline, so plain patterns
(not morphology) read it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from leakwatch.classifier.contract import Message


class EventKind(StrEnum):
    DEAL_CREATED = "deal_created"
    INBOUND_REQUEST = "inbound_request"
    MISSED_CALL = "missed_call"
    OUTBOUND_NO_ANSWER = "outbound_no_answer"
    CALLBACK_TASK = "callback_task"
    CALLBACK_OVERDUE = "callback_overdue"
    CALLBACK_DONE = "callback_done"
    PROPOSAL_SENT = "proposal_sent"  # «Письмо с КП отправлено»
    MATERIALS_SENT = "materials_sent"
    INVOICE_SENT = "invoice_sent"
    STAGE_CHANGED = "stage_changed"
    CLOSED_LOST = "closed_lost"
    OTHER = "other"


SENDING_KINDS = frozenset({EventKind.PROPOSAL_SENT, EventKind.MATERIALS_SENT, EventKind.INVOICE_SENT})

_Q = "[«\"'“]?"  # the pipeline uses «», hand-made inputs use plain quotes
_PATTERNS: tuple[tuple[EventKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rx, re.IGNORECASE))
    for kind, rx in (
        (EventKind.DEAL_CREATED, r"^сделка создана"),
        (EventKind.INBOUND_REQUEST, r"^входящая заявка"),
        (EventKind.MISSED_CALL, r"^пропущенный (входящий )?звонок"),
        (EventKind.OUTBOUND_NO_ANSWER, r"^исходящий звонок.*не ответил"),
        (EventKind.CALLBACK_TASK, rf"^создана задача {_Q}перезвонить.*?(?:\bна\s+(?P<due>.+))?$"),
        (EventKind.CALLBACK_OVERDUE, rf"^задача {_Q}перезвонить.*просрочена"),
        (EventKind.CALLBACK_DONE, rf"^задача {_Q}перезвонить.*выполнена"),
        (EventKind.PROPOSAL_SENT, r"^письмо с кп отправлено"),
        (EventKind.MATERIALS_SENT, r"^отправлены материалы\s*:?\s*(?P<detail>.*)$"),
        (EventKind.INVOICE_SENT, r"^сч[её]т отправлен"),
        (EventKind.STAGE_CHANGED, r"^этап сделки изменён\s*:\s*(?P<detail>.*)$"),
        (EventKind.CLOSED_LOST, r"^сделка закрыта\s*:?\s*отказ"),
    )
)

_DOTTED = re.compile(
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})(?:\.(?P<y>\d{2,4}))?(?:[ ,T]+(?:в\s*)?(?P<H>\d{1,2})[:.](?P<M>\d{2}))?"
)


@dataclass(frozen=True, slots=True)
class SystemEvent:
    kind: EventKind
    ts: datetime
    detail: str = ""  # material name, stage transition
    due: datetime | None = None  # for a «Перезвонить» task


def parse_due(text: str, ref: datetime) -> datetime | None:
    """The datetime a task is set for: ISO 8601 or «04.03.2025 11:00»; naive → `ref`'s zone."""
    text = text.strip().rstrip(".")
    try:
        due = datetime.fromisoformat(text)
    except ValueError:
        m = _DOTTED.search(text)
        if not m:
            return None
        year = int(m["y"]) if m["y"] else ref.year
        year += 2000 if year < 100 else 0
        try:
            due = datetime(year, int(m["m"]), int(m["d"]), int(m["H"] or 18), int(m["M"] or 0))
        except ValueError:
            return None
    return due if due.tzinfo else due.replace(tzinfo=ref.tzinfo)


def parse_event(message: Message) -> SystemEvent:
    text = " ".join(message.text.split())
    for kind, rx in _PATTERNS:
        m = rx.search(text)
        if not m:
            continue
        groups = m.groupdict()
        due = parse_due(groups["due"], message.ts) if groups.get("due") else None
        return SystemEvent(kind, message.ts, (groups.get("detail") or "").strip(), due)
    return SystemEvent(EventKind.OTHER, message.ts, text)
