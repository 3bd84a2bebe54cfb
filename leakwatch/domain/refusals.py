"""From a lost deal's state to the classifier's input and to the public refusal record.
Pure: the agent passes in the AI's result, the average check and the clock."""

from __future__ import annotations

from datetime import datetime

from schemas.conversation import ClassificationResult, ConversationInput, EngineInfo, Labels
from leakwatch.domain.deal_state import UNKNOWN, DealState
from leakwatch.domain.money import case_money
from schemas.events import ClassifiedRefusal
from schemas.labels import Reason

REVIEW_ENGINE = EngineInfo(name="review", version="1")
CRM_ENGINE = EngineInfo(name="crm", version="1")


def classifier_input(state: DealState) -> ConversationInput:
    messages = state.messages()
    has_call = state.calls > 0
    has_chat = any(not key.startswith("call:") and e.speaker != "system"
                   for key, e in state.timeline.items())
    channel = "mixed" if has_call and has_chat else "call" if has_call else "chat"
    notes = [f"Причина отказа со слов менеджера: {state.lost_comment}"] if state.lost_comment else []
    return ConversationInput(
        id=f"{state.deal_id}@{state.revision}", deal_id=state.deal_id,
        amount_rub=state.amount_rub, channel=channel, messages=messages,
        crm_notes=notes, manager_reason=state.manager_reason,
    )


def _common(state: DealState, avg_check_rub: int, now: datetime) -> dict:
    if state.lost_at is None:
        raise ValueError(f"deal {state.deal_id} was never lost")
    return dict(
        deal_id=state.deal_id,
        version=state.revision,
        lost_at=state.lost_at,
        classified_at=now,
        pipeline=state.pipeline,
        manager=state.manager or UNKNOWN,
        stage_before_loss=state.stage_before_loss or UNKNOWN,
        amount_rub=state.amount_rub,
        avg_check_rub=avg_check_rub,
        money_rub=case_money(state.amount_rub, avg_check_rub),
        manager_reason=state.manager_reason,
    )


def retraction_record(state: DealState, *, avg_check_rub: int, now: datetime) -> ClassifiedRefusal:
    """The deal is no longer a target refusal (reopened, won, or marked spam/duplicate)."""
    return ClassifiedRefusal(
        **_common(state, avg_check_rub, now),
        active=False, status="confirmed", target=state.is_target,
        reason=None, kind=None, leak=None, hot=False, confidence=1.0, evidence="",
        engine=CRM_ENGINE, source="crm", reason_mismatch=None,
    )


def refusal_record(state: DealState, ai: ClassificationResult | None, *,
                   avg_check_rub: int, now: datetime, public_evidence: bool = True) -> ClassifiedRefusal:
    """The newest verdict on a lost deal: a QA review wins over the AI and is kept as such.
    The evidence quote is the client's own words: `public_evidence=False` keeps it off the topic."""
    ai_labels = Labels(**ai.model_dump(include={"target", "reason", "kind", "leak", "hot"})) if ai else None
    if state.review is not None:
        labels, source = state.review.labels, "review"
        confidence, engine, reviewer = 1.0, REVIEW_ENGINE, state.review.reviewer
    elif ai is not None:
        labels, source = ai_labels, "ai"
        confidence, engine, reviewer = ai.confidence, ai.engine, None
    else:
        raise ValueError(f"deal {state.deal_id}: neither a review nor an AI verdict")
    return ClassifiedRefusal(
        **_common(state, avg_check_rub, now),
        active=state.is_refusal,
        status="confirmed" if source == "review" else "provisional",
        target=labels.target,
        reason=labels.reason,
        kind=labels.kind,
        leak=labels.leak,
        hot=labels.hot,
        confidence=confidence,
        evidence=ai.evidence if ai and public_evidence else "",
        engine=engine,
        source=source,
        ai=ai_labels if source == "review" else None,
        reviewer=reviewer,
        reason_mismatch=reason_mismatch(state.manager_reason, labels.reason),
    )


def reason_mismatch(manager_reason: Reason | None, reason: Reason | None) -> bool | None:
    """True when the manager's stated reason differs from the true one; None when either is missing."""
    if manager_reason is None or reason is None:
        return None
    return manager_reason != reason
