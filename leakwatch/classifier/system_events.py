"""The CRM/telephony facts the pipeline writes into a conversation as `system` messages,
parsed into typed events. The vocabulary is the pipeline's, so plain patterns (not
morphology) read it; unknown texts become OTHER and change nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from schemas.conversation import Message


class EventKind(StrEnum):
    DEAL_CREATED = "deal_created"
    INBOUND_REQUEST = "inbound_request"  # «Входящая заявка с сайта», «… из Telegram»
    MISSED_CALL = "missed_call"
    INBOUND_CALL = "inbound_call"  # «Входящий звонок, 5 мин»: the client rang and was answered
    OUTBOUND_CALL = "outbound_call"  # «Исходящий звонок, 7 мин»
    OUTBOUND_NO_ANSWER = "outbound_no_answer"
    MEETING = "meeting"  # «Демонстрация проведена», «Видеовстреча проведена», «Замер выполнен»
    AUTO_REPLY = "auto_reply"  # a robot answered: not a manager contact
    TASK_CREATED = "task_created"  # «Создана задача «Перезвонить» на <datetime>»
    TASK_OVERDUE = "task_overdue"
    TASK_DONE = "task_done"
    SENT = "sent"  # «Письмо с КП отправлено», «Отправлены материалы: …», «Счёт отправлен»
    REMINDER_SENT = "reminder_sent"  # «Отправлено письмо-напоминание»: a contact, not materials
    MESSAGE_READ = "message_read"  # «Сообщение прочитано/доставлено»
    STAGE_CHANGED = "stage_changed"
    DUPLICATE = "duplicate"  # «Обнаружен дубль», «Сделка объединена с … (дубль)»
    CLOSED_NOT_TARGET = "closed_not_target"  # «Сделка закрыта: не целевой / спам / дубль»
    CLOSED_LOST = "closed_lost"
    OTHER = "other"


class TaskKind(StrEnum):
    CALLBACK = "callback"  # «Перезвонить», «Связаться»
    MATERIALS = "materials"  # «Отправить КП», «Отправить документы», «Выставить счёт»
    OTHER = "other"


_Q = "[«\"'“]"  # the pipeline uses «», hand-made inputs use plain quotes
_TITLE = rf"{_Q}(?P<title>[^»\"'”]+)[»\"'”]"
_PATTERNS: tuple[tuple[EventKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rx, re.IGNORECASE))
    for kind, rx in (
        (EventKind.DEAL_CREATED, r"^сделка создана"),
        (EventKind.INBOUND_REQUEST, r"^входящая заявка"),
        (EventKind.MISSED_CALL, r"^пропущенный (входящий )?звонок\s*(?P<detail>.*)$"),
        (EventKind.OUTBOUND_NO_ANSWER, r"^исходящий звонок.*(не ответил|не дозвон|недозвон|сброс|занято)"),
        (EventKind.OUTBOUND_CALL, r"^исходящий звонок"),
        (EventKind.INBOUND_CALL, r"^входящий звонок"),
        (EventKind.AUTO_REPLY, r"^автоответ"),
        (EventKind.TASK_CREATED, rf"^создана задача {_TITLE}(?:.*?\bна\s+(?P<due>.+))?$"),
        (EventKind.TASK_OVERDUE, rf"^задача {_TITLE}.*просроч"),
        (EventKind.TASK_DONE, rf"^задача {_TITLE}.*выполн"),
        (EventKind.REMINDER_SENT, r"напоминани"),
        (EventKind.SENT, r"^(?:[^:]*?\s*)?(отправлен|направлен|выслан)\w*(?:\s+материалы)?\s*:?\s*(?P<detail>.*)$"),
        (EventKind.MEETING, r"(демонстрац|встреч|замер|презентац)\w*.*(проведен|выполнен|состоял)"),
        (EventKind.MESSAGE_READ, r"^сообщение (прочитано|доставлено)"),
        (EventKind.DUPLICATE, r"дубл"),
        (EventKind.CLOSED_NOT_TARGET, r"^сделка закрыта\s*:?\s*(?P<detail>(не ?целев|спам|дубл).*)$"),
        (EventKind.CLOSED_LOST, r"^сделка закрыта"),
        (EventKind.STAGE_CHANGED, r"^этап сделки изменён\s*:\s*(?P<detail>.*)$"),
    )
)
# Telephony and meeting kinds that mean the manager actually reached (or tried to reach) the client.
MANAGER_CONTACT_KINDS = frozenset(
    {EventKind.OUTBOUND_CALL, EventKind.OUTBOUND_NO_ANSWER, EventKind.INBOUND_CALL, EventKind.MEETING,
     EventKind.REMINDER_SENT, EventKind.SENT}
)
CLIENT_INBOUND_KINDS = frozenset({EventKind.INBOUND_REQUEST, EventKind.MISSED_CALL})

_CALLBACK_TITLE = re.compile(r"перезвон|позвон|звонок|связат|набрать|созвон", re.IGNORECASE)
_MATERIALS_TITLE = re.compile(r"отправ|выслат|прислат|выстав|кп|счёт|счет|договор|документ|материал|смет|расч", re.IGNORECASE)
_DOTTED = re.compile(
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})(?:\.(?P<y>\d{2,4}))?(?:[ ,T]+(?:в\s*)?(?P<H>\d{1,2})[:.](?P<M>\d{2}))?"
)
_OFF_HOURS = re.compile(r"нерабоч|выходн|праздн|ночь|ночн", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SystemEvent:
    kind: EventKind
    ts: datetime
    detail: str = ""  # material name, task title, stage transition, close reason
    due: datetime | None = None  # for a created task

    @property
    def task(self) -> TaskKind:
        if self.kind not in (EventKind.TASK_CREATED, EventKind.TASK_OVERDUE, EventKind.TASK_DONE):
            return TaskKind.OTHER
        if _CALLBACK_TITLE.search(self.detail):
            return TaskKind.CALLBACK
        return TaskKind.MATERIALS if _MATERIALS_TITLE.search(self.detail) else TaskKind.OTHER

    @property
    def off_hours(self) -> bool:
        """The pipeline marked it outside working time («нерабочий праздничный день»)."""
        return bool(_OFF_HOURS.search(self.detail))


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
        detail = groups.get("title") or groups.get("detail") or ""
        due = parse_due(groups["due"], message.ts) if groups.get("due") else None
        return SystemEvent(kind, message.ts, detail.strip(), due)
    return SystemEvent(EventKind.OTHER, message.ts, text)
