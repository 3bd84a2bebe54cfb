"""What a refusal classifier reads and writes: the wire shapes shared by the classifier,
the stream and `refusals.classified`. Depends on nothing of leakwatch's.

The input is one lost deal's conversation (`leakwatch classify FILE` reads it as JSON Lines,
one object per line; see README «Classifying files»). The stream builds the same input from
a deal's state: call transcripts and chats become manager/client messages; CRM and telephony
facts become `system` messages with their times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.labels import Kind, Leak, Reason


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
