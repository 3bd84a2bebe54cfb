"""QA reviews of «Условный отказ» verdicts, as `RefusalReview`s. Pure.

Two ways in: the review queue of the web board (confirm the verdict as it stands, or
correct its labels; published on `refusals.reviewed`), and the CRM, where a QA lead moving
a deal from the review stage to the closed-lost stage confirms the verdict, and changing
the loss-reason field on the way corrects the reason. The CRM's way is decided in the
worker's fold of that deal event (leakwatch.domain.deal_state), not in the gateway: only the
worker knows the verdict to confirm (the AI's last labels, kept in the deal state), and the
same fold must not read the move as a reopening. Event ids are derived from what was
decided, so a double submit or a re-delivered webhook is one event.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from schemas.conversation import Labels
from schemas.events import DealEvent, RefusalReview
from schemas.labels import Reason


def _digest(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:16]


def web_review(deal_id: str, version: int, labels: Labels, *, reviewer: str, now: datetime,
               comment: str | None = None) -> RefusalReview:
    """A review from the board: `labels` are the verdict as it stands (confirm) or the QA
    lead's correction. `version` is the verdict's version the reviewer saw."""
    comment = (comment or "").strip() or None
    event_id = f"web:{deal_id}:v{version}:" + _digest(reviewer, labels.model_dump_json(), comment)
    return RefusalReview(event_id=event_id, deal_id=deal_id, ts=now, reviewer=reviewer, comment=comment,
                         **labels.model_dump())


def labels_from_form(*, target: bool, reason: str | None, kind: str | None, leak: str | None,
                     hot: bool) -> Labels:
    """A correction as a form sends it: empty strings are "not chosen". A real refusal has
    no leak, whatever the form still shows. Raises ValueError on an inconsistent verdict."""
    reason, kind, leak = (v or None for v in (reason, kind, leak))
    if not target:
        return Labels(target=False)
    return Labels(target=True, reason=reason, kind=kind, leak=leak if kind == "salvageable" else None, hot=hot)


@dataclass(frozen=True)
class CrmReviewRules:
    """Which stage moves in a CRM are a QA lead's verdict (from settings).

    `review_stages`: the «Условный отказ» stage (names or ids as the CRM sends them);
    `closed_lost_stages`: where a confirmed refusal goes (amoCRM's status 143, Bitrix24's
    `LOSE` / `C<n>:LOSE`, or their names); `reason_values`: the loss-reason field's values
    (enum ids or texts) → a reason; a value equal to a reason's text needs no entry.
    """

    review_stages: frozenset[str]
    closed_lost_stages: frozenset[str]
    reason_values: dict[str, Reason] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings) -> "CrmReviewRules":
        """From `LEAKWATCH_CRM_REVIEW_STAGES`, `…_CLOSED_LOST_STAGES`, `…_LOSS_REASON_VALUES`."""
        return cls(review_stages=frozenset(settings.crm_review_stages),
                   closed_lost_stages=frozenset(settings.crm_closed_lost_stages),
                   reason_values=dict(settings.crm_loss_reason_values))

    @property
    def enabled(self) -> bool:
        return bool(self.review_stages and self.closed_lost_stages)

    def is_review_stage(self, *names: str | None) -> bool:
        """Any of a stage's spellings (its id, its name) is a review stage."""
        return any(n is not None and n in self.review_stages for n in names)

    def is_closed_lost_stage(self, *names: str | None) -> bool:
        return any(n is not None and n in self.closed_lost_stages for n in names)

    def reason_of(self, value: str | None) -> Reason | None:
        if value is None or not str(value).strip():
            return None
        value = str(value).strip()
        if value in self.reason_values:
            return self.reason_values[value]
        try:
            return Reason(value)
        except ValueError:
            return None


@dataclass(frozen=True)
class CrmStageMove:
    """A deal's stage change as a CRM webhook reports it, already read out of the vendor's payload."""

    vendor: str  # "amocrm", "bitrix24"
    vendor_event_id: str  # stable per webhook delivery of this change
    deal_id: str
    from_stage: str | None
    to_stage: str
    reviewer: str  # who moved it (the CRM user)
    ts: datetime
    loss_reason: str | None = None  # the loss-reason field's value after the move
    previous_loss_reason: str | None = None  # … and before it, when the CRM sends both


def _spellings(stage_id: str | None, name: str | None) -> tuple[str | None, ...]:
    """A stage as settings may name it: its id, its name, and a Bitrix24 funnel's stage id
    without the funnel (`C3:LOSE` is also `LOSE`)."""
    bare = stage_id.split(":", 1)[1] if stage_id and re.match(r"C\d+:", stage_id) else None
    return stage_id, name, bare


def review_move(event: DealEvent, rules: CrmReviewRules, *, previous_stage: str | None = None,
                previous_stage_id: str | None = None) -> CrmStageMove | None:
    """The QA lead's move a deal event is, if it is one: from a review stage to a closed-lost
    stage. The stage before is the event's own (amoCRM sends `old_status_id`), else the one
    the deal was at (Bitrix24 sends only the stage now). Stages match by id or by name, so
    the move carries the spelling the settings use."""
    if not rules.enabled or event.type not in ("lost", "stage_changed"):
        return None
    before = _spellings(event.from_stage_id, event.from_stage) if (event.from_stage_id or event.from_stage) \
        else _spellings(previous_stage_id, previous_stage)
    after = _spellings(event.stage_id, event.stage)
    if not rules.is_review_stage(*before) or not rules.is_closed_lost_stage(*after):
        return None
    return CrmStageMove(
        vendor=event.vendor or "crm", vendor_event_id=event.event_id, deal_id=event.deal_id,
        from_stage=next(s for s in before if s in rules.review_stages),
        to_stage=next(s for s in after if s in rules.closed_lost_stages),
        reviewer=event.changed_by or "CRM", ts=event.ts,
        loss_reason=event.lost_reason.value if event.lost_reason else None)


def review_from_crm_move(move: CrmStageMove, verdict: Labels | None, rules: CrmReviewRules, *,
                         manager_reason: Reason | None = None) -> RefusalReview | None:
    """The review a stage move means, or None when it is not one.

    A move from a review stage to a closed-lost stage confirms `verdict` (the deal's
    current labels). The loss-reason field holds the manager's stated reason until the QA
    lead changes it: only a value that differs from the one before the move (or, when the
    CRM does not send that, from `manager_reason`) corrects the reason; the verdict's kind,
    leak and hot stay, since reason and leak are independent (LABELS.md, rule 1). Without a
    verdict, or when a non-target verdict is given a reason, the CRM alone cannot say the
    kind: None, and the deal stays in the board's queue.
    """
    if move.from_stage not in rules.review_stages or move.to_stage not in rules.closed_lost_stages:
        return None
    if verdict is None:
        return None
    labels = verdict
    after = rules.reason_of(move.loss_reason)
    before = rules.reason_of(move.previous_loss_reason) if move.previous_loss_reason is not None else manager_reason
    if after is not None and after != before and after != verdict.reason:
        if not verdict.target:
            return None
        labels = verdict.model_copy(update={"reason": after})
    event_id = f"crm:{move.vendor}:{move.deal_id}:" + _digest(move.vendor_event_id, labels.model_dump_json())
    comment = None if labels is verdict else f"Причина исправлена в CRM: {verdict.reason} → {labels.reason}"
    return RefusalReview(event_id=event_id, deal_id=move.deal_id, ts=move.ts, reviewer=move.reviewer,
                         comment=comment, **labels.model_dump())
