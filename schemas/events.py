"""The canonical events on leakwatch's topics (schema version 1).

Input models ignore unknown fields so vendors can add data without breaking the stream;
a missing or wrong-typed known field makes the event malformed (it goes to `deadletter`).
A breaking change to any model gets a new schema version and a new topic suffix.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.conversation import EngineInfo, Labels
from schemas.labels import Kind, Leak, Reason

Id = Field(min_length=1, max_length=200)


class _Input(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = 1
    event_id: str = Id  # unique per event: replays of the same id change nothing
    deal_id: str = Id
    ts: AwareDatetime


class DealEvent(_Input):
    """crm.deals: a deal's life in the CRM."""

    type: Literal["created", "updated", "stage_changed", "won", "lost"]
    pipeline: str | None = None
    manager: str | None = None
    amount_rub: int | None = Field(None, ge=0)
    stage: str | None = None  # the stage after this event
    lost_reason: Reason | None = None  # the manager's stated reason, on `lost`
    lost_comment: str | None = None
    is_spam: bool | None = None
    duplicate_of: str | None = None  # id of the deal this one duplicates
    source: str | None = None  # lead source: site, call, referral...
    # Added within v1 (optional): where the deal lives; deal ids are `<vendor>:<account>:<id>`.
    vendor: str | None = None  # amocrm, bitrix24
    account: str | None = None  # amoCRM subdomain, Bitrix24 portal domain
    # Added within v1 (optional): the stage move as the CRM names it, so a QA lead's move
    # from «Условный отказ» to closed-lost (LEAKWATCH_CRM_*_STAGES, ids or names) is read
    # as a review, not as a reopening. On that move `lost_reason` is the loss-reason field
    # after it (the manager's stated reason stays the one given on entering the review stage).
    stage_id: str | None = None  # the CRM's id of `stage`: amoCRM status_id, Bitrix24 STAGE_ID
    from_stage: str | None = None  # the stage before this event, when the CRM sends it
    from_stage_id: str | None = None  # … and its id (amoCRM old_status_id)
    changed_by: str | None = None  # the CRM user who made this change (the reviewer of a move)


class TranscriptTurn(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    offset_s: float = Field(0.0, ge=0)
    speaker: Literal["manager", "client"]
    text: str


class CallEvent(_Input):
    """telephony.calls: a call, and later its transcript (same call_id, a new event)."""

    call_id: str = Id
    direction: Literal["in", "out"]
    status: Literal["answered", "missed", "no_answer"]
    duration_s: float = Field(0.0, ge=0)
    manager: str | None = None
    transcript: list[TranscriptTurn] | None = None
    transcript_ref: str | None = None  # where the recording's text lives when not inline
    # Added within v1 (optional): what the PBX said about the call.
    vendor: str | None = None  # mango, zadarma, bitrix24, telephony
    account: str | None = None  # the PBX line or portal the call went through
    client_phone_hash: str | None = None  # HMAC-SHA256(LEAKWATCH_PHONE_HASH_SALT, digits), never the number
    recording_ref: str | None = None  # the vendor's recording id or URL


class ActivityEvent(_Input):
    """crm.activities: tasks, materials sent and messages."""

    # materials_bounced: the e-mail with the materials came back undelivered
    type: Literal["task_created", "task_done", "task_overdue", "materials_sent", "materials_bounced", "message"]
    task_id: str | None = None
    task_kind: Literal["callback", "meeting", "other"] | None = None
    due_at: AwareDatetime | None = None
    materials: str | None = None  # what was sent: «КП», «программа курса», «счёт»
    author: Literal["manager", "client"] | None = None
    channel: str | None = None  # whatsapp, telegram, email, site chat
    text: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> "ActivityEvent":
        if self.type == "message" and (self.author is None or not self.text):
            raise ValueError("a message needs an author and a text")
        if self.type.startswith("task_") and not self.task_id:
            raise ValueError(f"{self.type} needs a task_id")
        return self


class RefusalReview(_Input):
    """refusals.reviewed: a QA lead confirms or corrects a refusal; it always wins over the AI."""

    reviewer: str = Id
    target: bool
    reason: Reason | None = None
    kind: Kind | None = None
    leak: Leak | None = None
    hot: bool = False
    comment: str | None = None

    @model_validator(mode="after")
    def _labels(self) -> "RefusalReview":
        self.labels()  # raises on an inconsistent verdict
        return self

    def labels(self) -> Labels:
        return Labels(target=self.target, reason=self.reason, kind=self.kind, leak=self.leak, hot=self.hot)


class ClassifiedRefusal(BaseModel):
    """refusals.classified (public): the newest verdict on a lost deal.

    Consumers keep, per deal_id, the record with the highest `version`; the same version
    may arrive twice (at-least-once delivery) and is then identical in its labels.
    `active=false` retracts an earlier record (the deal was reopened or marked spam).
    """

    # Readers ignore fields they do not know: a field added within v1 breaks no consumer.
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = 1
    deal_id: str
    version: int = Field(ge=1)
    active: bool
    status: Literal["provisional", "confirmed"]  # «Условный отказ» until a QA review
    lost_at: AwareDatetime
    classified_at: AwareDatetime
    pipeline: str
    manager: str
    stage_before_loss: str
    amount_rub: int | None
    avg_check_rub: int
    money_rub: int  # the deal's amount when known, else the average check
    target: bool
    reason: Reason | None
    kind: Kind | None
    leak: Leak | None
    hot: bool
    confidence: float = Field(ge=0, le=1)
    evidence: str
    engine: EngineInfo
    # The engine that was asked first and failed for this item, when `engine` is its
    # fallback (the LLM timed out or answered garbage, and the embedded engine answered).
    fallback_from: str | None = None
    # The AI was unsure of this «Условный отказ»: a QA lead should look at it first.
    needs_review: bool = False
    # ai: the classifier; review: a QA lead's verdict (wins over the AI);
    # crm: a retraction because the CRM reopened the deal or marked it spam/duplicate.
    source: Literal["ai", "review", "crm"]
    ai: Labels | None = None  # the AI's own labels when a review overrode them
    reviewer: str | None = None
    manager_reason: Reason | None
    reason_mismatch: bool | None


class DeadLetter(BaseModel):
    """deadletter: an event that could not be used, with the reason; nothing is dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    topic: str
    partition: int | None
    offset: int | None
    key: str | None
    error: str
    payload: str  # the raw bytes as UTF-8 text, or base64 prefixed with "base64:"
    received_at: AwareDatetime


class RefusalRequest(BaseModel):
    """leakwatch.refusal-requests (internal): a lost deal's state changed; classify its
    revision once `due_at` (epoch seconds) has passed (the grace period for late transcripts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deal_id: str
    revision: int = Field(ge=1)
    due_at: float


class WonDeal(BaseModel):
    """leakwatch.won-deals (internal): a won deal's amount, for the average check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deal_id: str
    version: int = Field(ge=1)
    won_at: AwareDatetime
    pipeline: str
    manager: str | None
    amount_rub: int
