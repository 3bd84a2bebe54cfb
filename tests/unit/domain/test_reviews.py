"""QA reviews as events: from the board's form and from a CRM stage move."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from leakwatch.domain.deal_state import apply_event
from leakwatch.domain.reviews import CrmReviewRules, CrmStageMove, labels_from_form, review_from_crm_move, web_review
from schemas.conversation import Labels
from schemas.labels import Kind, Leak, Reason

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=timezone.utc)
VERDICT = Labels(target=True, reason=Reason.GHOSTED, kind=Kind.SALVAGEABLE, leak=Leak.NO_MATERIALS, hot=True)
RULES = CrmReviewRules(review_stages=frozenset({"Условный отказ", "142001"}),
                       closed_lost_stages=frozenset({"143", "LOSE", "C3:LOSE"}),
                       reason_values={"501": Reason.EXPENSIVE, "502": Reason.LATE_CONTACT})


def move(**kw) -> CrmStageMove:
    base = dict(vendor="amocrm", vendor_event_id="evt-1", deal_id="D-1", from_stage="Условный отказ",
                to_stage="143", reviewer="okk.maria", ts=NOW)
    return CrmStageMove(**{**base, **kw})


def test_web_review_carries_the_labels_and_a_stable_id():
    a = web_review("D-1", 3, VERDICT, reviewer="qa", now=NOW, comment="  ")
    b = web_review("D-1", 3, VERDICT, reviewer="qa", now=NOW.replace(minute=5))
    assert a.labels() == VERDICT and a.comment is None
    assert a.event_id == b.event_id  # a double click is one event
    other = web_review("D-1", 3, VERDICT.model_copy(update={"hot": False}), reviewer="qa", now=NOW)
    assert other.event_id != a.event_id
    assert web_review("D-1", 4, VERDICT, reviewer="qa", now=NOW).event_id != a.event_id


def test_a_review_wins_in_the_fold():
    state, changed = apply_event(None, web_review("D-1", 1, VERDICT, reviewer="qa", now=NOW))
    assert changed and state.review.labels == VERDICT and state.review.reviewer == "qa"
    again, changed = apply_event(state, web_review("D-1", 1, VERDICT, reviewer="qa", now=NOW))
    assert not changed and again.revision == state.revision


def test_form_labels():
    assert labels_from_form(target=False, reason="Дорого", kind="real", leak="", hot=True) == Labels(target=False)
    real = labels_from_form(target=True, reason="Дорого", kind="real", leak="Не отработали возражение", hot=False)
    assert real.leak is None and real.kind == Kind.REAL
    with pytest.raises(ValueError):
        labels_from_form(target=True, reason="Дорого", kind="salvageable", leak="", hot=False)
    with pytest.raises(ValueError):
        labels_from_form(target=True, reason="", kind="real", leak="", hot=False)


def test_moving_to_closed_lost_confirms_the_verdict():
    review = review_from_crm_move(move(), VERDICT, RULES)
    assert review is not None and review.labels() == VERDICT
    assert review.reviewer == "okk.maria" and review.ts == NOW and review.comment is None
    assert review_from_crm_move(move(), VERDICT, RULES).event_id == review.event_id  # re-delivery
    assert review_from_crm_move(move(vendor_event_id="evt-2"), VERDICT, RULES).event_id != review.event_id


@pytest.mark.parametrize("changes", [
    {"from_stage": "Переговоры"},  # not out of the review stage
    {"to_stage": "142"},  # won, not lost
    {"from_stage": None},
])
def test_other_moves_are_not_reviews(changes):
    assert review_from_crm_move(move(**changes), VERDICT, RULES) is None


def test_changing_the_loss_reason_on_the_way_corrects_the_reason():
    review = review_from_crm_move(move(previous_loss_reason="501", loss_reason="502"), VERDICT, RULES)
    assert review.reason == Reason.LATE_CONTACT
    assert (review.kind, review.leak, review.hot) == (VERDICT.kind, VERDICT.leak, VERDICT.hot)
    assert "Клиент пропал → Поздно связались" in review.comment


def test_the_managers_unchanged_reason_does_not_override_the_verdict():
    # The field still holds what the manager typed («Дорого»): the QA lead accepted the AI.
    review = review_from_crm_move(move(previous_loss_reason="501", loss_reason="501"), VERDICT, RULES)
    assert review.reason == VERDICT.reason
    review = review_from_crm_move(move(loss_reason="Дорого"), VERDICT, RULES, manager_reason=Reason.EXPENSIVE)
    assert review.reason == VERDICT.reason
    # Without the previous value, a reason other than the manager's is the QA lead's.
    review = review_from_crm_move(move(loss_reason="Дорого"), VERDICT, RULES, manager_reason=Reason.GHOSTED)
    assert review.reason == Reason.EXPENSIVE


def test_unknown_reason_values_and_missing_verdicts():
    assert review_from_crm_move(move(loss_reason="999"), VERDICT, RULES).reason == VERDICT.reason
    assert review_from_crm_move(move(), None, RULES) is None
    non_target = Labels(target=False)
    assert review_from_crm_move(move(), non_target, RULES).labels() == non_target
    assert review_from_crm_move(move(loss_reason="502"), non_target, RULES) is None


def test_bitrix24_stage_ids():
    review = review_from_crm_move(move(vendor="bitrix24", from_stage="142001", to_stage="C3:LOSE"), VERDICT, RULES)
    assert review is not None and review.event_id.startswith("crm:bitrix24:D-1:")
