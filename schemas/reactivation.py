"""refusals.reactivation (public, schema version 1): the «Воронка отказов» — refusals whose
client may come back, with why, when to call again, the deal's money and the evidence.

Derived from `refusals.classified` one record for one record: keyed by deal_id, `version`
is the refusal's version. Consumers keep, per deal, the entry with the highest version;
the same version may arrive twice (at-least-once) and is then identical. `active=false`
withdraws the deal from the list (the refusal was retracted, or a newer verdict says the
client will not come back).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.labels import Kind, Reason


class ComeBack(StrEnum):
    """Why the client may come back (one per entry)."""

    BUDGET_LATER = "Бюджет позже"
    POSTPONED = "Отложил решение"
    WENT_SILENT = "Клиент пропал"
    CONTRACT_ENDS = "Договор с конкурентом закончится"


class ReactivationEntry(BaseModel):
    # Readers ignore fields they do not know: a field added within v1 breaks no consumer.
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = 1
    deal_id: str = Field(min_length=1, max_length=200)
    version: int = Field(ge=1)  # the refusals.classified version it was derived from
    active: bool
    status: Literal["provisional", "confirmed"]  # the refusal's: AI verdict or a QA review
    lost_at: AwareDatetime
    decided_at: AwareDatetime  # the refusal's classified_at: replays yield the same entry
    pipeline: str
    manager: str
    reason: Reason | None  # the refusal's reason
    kind: Kind | None
    come_back: ComeBack | None  # None on a retraction
    recontact_on: date | None  # the day to call again, in the account's time zone
    # mentioned: a date or period the client named (the phrase is kept); default: the rule
    # for `come_back` when the conversation names none.
    date_basis: Literal["mentioned", "default"] | None
    date_phrase: str | None = None
    amount_rub: int | None
    money_rub: int  # the deal's amount when known, else the average check
    evidence: str  # the quote the verdict rests on
    crm_task: str | None = None  # the recontact task created in the CRM: `amocrm:4745251`, `bitrix24:812`

    @model_validator(mode="after")
    def _complete(self) -> "ReactivationEntry":
        if self.active and (self.come_back is None or self.recontact_on is None or self.date_basis is None):
            raise ValueError("an active entry needs come_back, recontact_on and date_basis")
        return self
