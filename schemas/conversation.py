"""What a refusal classifier reads and writes: the wire shapes shared by the classifier,
the stream and `refusals.classified`. Depends on nothing of leakwatch's.

The input is one lost deal's conversation (`leakwatch classify FILE` reads it as JSON Lines,
one object per line; see README «Classifying files»). The stream builds the same input from
a deal's state: call transcripts and chats become manager/client messages; CRM and telephony
facts become `system` messages with their times.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.labels import Kind, Leak, Reason


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    ts: datetime  # ISO 8601 with offset
    speaker: Literal["manager", "client", "system"]
    text: str


class EventKind(StrEnum):
    """What a CRM or telephony fact is, whichever CRM recorded it."""

    DEAL_CREATED = "deal_created"
    INBOUND_REQUEST = "inbound_request"  # a site form, an inbound e-mail or chat: the client asks
    MISSED_CALL = "missed_call"
    INBOUND_CALL = "inbound_call"  # the client rang and was answered
    OUTBOUND_CALL = "outbound_call"
    OUTBOUND_NO_ANSWER = "outbound_no_answer"
    MEETING = "meeting"  # a demo, a visit, a measurement that took place
    AUTO_REPLY = "auto_reply"  # a robot answered: not a manager contact
    TASK_CREATED = "task_created"
    TASK_OVERDUE = "task_overdue"
    TASK_DONE = "task_done"
    SENT = "sent"  # materials went out: a КП, an invoice, a contract, a file
    BOUNCED = "bounced"  # an e-mail that never reached the client
    REMINDER_SENT = "reminder_sent"  # a message to the client without materials: a contact
    MESSAGE_READ = "message_read"
    NO_NEXT_STEP = "no_next_step"  # the CRM says no follow-up task was set
    SLA_BREACH = "sla_breach"  # the CRM says a request waited unassigned / unanswered
    INCIDENT = "incident"  # an integration or telephony outage: not the manager's doing
    STAGE_CHANGED = "stage_changed"
    DUPLICATE = "duplicate"
    CLOSED_NOT_TARGET = "closed_not_target"  # spam, not a lead, a job seeker
    CLOSED_LOST = "closed_lost"
    WON = "won"
    OTHER = "other"  # unknown: changes nothing


class TaskKind(StrEnum):
    CALLBACK = "callback"
    MATERIALS = "materials"
    OTHER = "other"


class SystemFact(BaseModel):
    """A CRM or telephony fact as the stream knew it, before it was rendered into the
    timeline as a `system` message (`text`): the classifier reads these instead of parsing
    the text back."""

    model_config = ConfigDict(frozen=True)

    ts: datetime
    kind: EventKind
    task: TaskKind | None = None  # for tasks: what the task is for
    due: datetime | None = None  # for a created task
    detail: str = ""  # material name, task title, close reason
    off_hours: bool | None = None  # the source marked it as outside working time
    text: str = ""  # the system message this fact was rendered as, if any


class ConversationInput(BaseModel):
    """One lost deal to classify."""

    model_config = ConfigDict(frozen=True)

    id: str
    deal_id: str
    amount_rub: int | None = None
    channel: Literal["call", "chat", "mixed"]
    messages: list[Message]
    crm_notes: list[str] = Field(default_factory=list)
    manager_reason: Reason | None = None
    # Structured facts behind the `system` messages (the stream fills it; text-only input
    # leaves it empty and the system messages are read back instead).
    events: list[SystemFact] = Field(default_factory=list)


class EngineInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str


class Labels(BaseModel):
    """The decision a sales-QA lead would make. Non-target items carry no reason/kind/leak."""

    model_config = ConfigDict(frozen=True)

    target: bool
    reason: Reason | None = None
    kind: Kind | None = None
    leak: Leak | None = None
    hot: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> "Labels":
        if not self.target and (self.reason or self.kind or self.leak):
            raise ValueError("a non-target item has no reason, kind or leak")
        if self.target and (self.reason is None or self.kind is None):
            raise ValueError("a target refusal needs a reason and a kind")
        if self.kind == Kind.SALVAGEABLE and self.leak is None:
            raise ValueError("a salvageable refusal needs a leak")
        if self.kind == Kind.REAL and self.leak is not None:
            raise ValueError("a real refusal has no leak")
        return self


class ClassificationResult(Labels):
    id: str
    deal_id: str
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: str = ""  # a short quote from the conversation
    engine: EngineInfo
    # Set when this engine answered because another failed (e.g. "openai").
    fallback_from: str | None = None
    # True when the manager's stated reason differs from `reason`; None when either is missing.
    reason_mismatch: bool | None = None
