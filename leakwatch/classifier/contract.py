"""What a refusal classifier reads and writes, and the interface every engine implements.

The input is one lost deal's conversation as JSON Lines (`leakwatch classify FILE`).
The Faust refusal agent builds the same input from a deal's state: call transcripts and
chats become manager/client messages; CRM and telephony facts (missed calls, overdue
«Перезвонить» tasks, «Письмо с КП отправлено») become `system` messages with their
times, so an engine can tell a kept promise from a broken one.
"""

from __future__ import annotations

import abc
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leakwatch.domain.labels import Kind, Leak, Reason


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    ts: datetime  # ISO 8601 with offset
    speaker: Literal["manager", "client", "system"]
    text: str


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


def reason_mismatch(manager_reason: Reason | None, reason: Reason | None) -> bool | None:
    if manager_reason is None or reason is None:
        return None
    return manager_reason != reason


class RefusalClassifier(abc.ABC):
    """An engine. Implementations must return one result per input, in input order."""

    name: str
    version: str

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(name=self.name, version=self.version)

    @abc.abstractmethod
    async def classify(self, items: list[ConversationInput]) -> list[ClassificationResult]:
        """Classify a batch. Must not block the event loop for long (CPU work in a thread)."""

    def warm_up(self) -> None:
        """Load what the first batch would otherwise wait for. Engines with state override it."""
        return None

    async def aclose(self) -> None:  # engines holding connections override this
        return None
