"""The fold of a QA lead's CRM move: «Условный отказ» → closed-lost is a review of the AI's
last labels (kept in the state), never a reopening, and never a second loss."""

from datetime import datetime, timedelta, timezone

from leakwatch.domain.deal_state import DealState, apply_event
from leakwatch.domain.reviews import CrmReviewRules
from schemas.conversation import Labels
from schemas.events import DealEvent
from schemas.labels import Kind, Leak, Reason

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
AI = Labels(target=True, reason=Reason.GHOSTED, kind=Kind.SALVAGEABLE, leak=Leak.NO_MATERIALS, hot=True)
RULES = CrmReviewRules(review_stages=frozenset({"Условный отказ", "C1:UC_REVIEW"}),
                       closed_lost_stages=frozenset({"143", "C1:LOSE"}))


def deal(event_id, type_, minutes=0, **kw):
    return DealEvent(event_id=event_id, deal_id="D1", ts=T0 + timedelta(minutes=minutes), type=type_, **kw)


def fold(state, *events, rules=RULES) -> DealState:
    for e in events:
        state, _ = apply_event(state, e, rules)
    return state


def amo_awaiting_review(ai=AI) -> DealState:
    """amoCRM: the manager moved the deal to «Условный отказ» (status 61000) saying «Дорого»;
    the refusals agent then stored the AI's labels."""
    s = fold(None, deal("c", "created", stage="Переговоры", stage_id="60001", manager="Анна"),
             deal("r", "lost", 30, stage="Условный отказ", stage_id="61000", from_stage="Переговоры",
                  from_stage_id="60001", lost_reason=Reason.EXPENSIVE, vendor="amocrm"))
    return s.model_copy(update={"ai_labels": ai})


def amo_close(event_id="close", **kw):
    return deal(event_id, "lost", 90, stage="Закрыто и не реализовано", stage_id="143", from_stage="Условный отказ",
                from_stage_id="61000", changed_by="Мария (ОКК)", vendor="amocrm", **kw)


def test_closing_with_the_managers_reason_confirms_the_ai_and_keeps_the_loss():
    before = amo_awaiting_review()
    assert before.is_refusal and before.review is None
    after, changed = apply_event(before, amo_close(lost_reason=Reason.EXPENSIVE), RULES)
    assert changed and after.revision == before.revision + 1
    assert after.review.labels == AI and after.review.reviewer == "Мария (ОКК)"
    assert after.review.reviewed_at == T0 + timedelta(minutes=90)
    # Not a reopening, not a new loss: the refusal stands as it was lost.
    assert after.is_refusal and after.lost_at == before.lost_at
    assert (after.manager_reason, after.stage_before_loss) == (Reason.EXPENSIVE, "Переговоры")
    assert (after.stage, after.stage_id) == ("Закрыто и не реализовано", "143")
    again, changed = apply_event(after, amo_close(lost_reason=Reason.EXPENSIVE), RULES)
    assert not changed and again == after  # amoCRM re-delivering the hook


def test_a_changed_loss_reason_corrects_only_the_reason():
    after = fold(amo_awaiting_review(), amo_close(lost_reason=Reason.LATE_CONTACT))
    assert after.review.labels == AI.model_copy(update={"reason": Reason.LATE_CONTACT})
    assert after.manager_reason == Reason.EXPENSIVE  # what the manager said stays for the mismatch stats


def test_bitrix24_sends_only_the_new_stage_the_state_knows_the_old_one():
    s = fold(None, deal("c", "created", stage="Новая", stage_id="C1:NEW", vendor="bitrix24"),
             deal("r", "lost", 30, stage="bitrix24:C1:UC_REVIEW", stage_id="C1:UC_REVIEW", vendor="bitrix24"))
    s = s.model_copy(update={"ai_labels": AI})
    after = fold(s, deal("close", "lost", 60, stage="Сделка провалена", stage_id="C1:LOSE", vendor="bitrix24",
                         changed_by="Олег", lost_reason=Reason.COMPETITOR))
    assert after.review.labels.reason == Reason.COMPETITOR and after.review.reviewer == "Олег"
    assert after.is_refusal and after.lost_at == s.lost_at


def test_a_stage_changed_into_closed_lost_is_no_reopening():
    # A closed-lost stage the gateway does not know as lost comes as a plain stage change.
    after = fold(amo_awaiting_review(), deal("close", "stage_changed", 90, stage="Закрыто и не реализовано",
                                             stage_id="143", from_stage="Условный отказ"))
    assert after.status == "lost" and after.review.labels == AI and after.review.reviewer == "CRM"


def test_without_a_verdict_the_move_confirms_nothing_and_reopens_nothing():
    after = fold(amo_awaiting_review(ai=None), amo_close(lost_reason=Reason.LATE_CONTACT))
    assert after.review is None and after.is_refusal and after.manager_reason == Reason.EXPENSIVE


def test_a_board_review_is_what_the_crm_move_confirms():
    board = Labels(target=True, reason=Reason.TERMS, kind=Kind.REAL)
    from schemas.events import RefusalReview
    s = fold(amo_awaiting_review(), RefusalReview(event_id="w", deal_id="D1", ts=T0 + timedelta(minutes=40),
                                                  reviewer="РОП", **board.model_dump()))
    after = fold(s, amo_close(lost_reason=Reason.EXPENSIVE))
    assert after.review.labels == board and after.review.reviewer == "Мария (ОКК)"


def test_other_moves_keep_their_meaning():
    # Back from «Условный отказ» to work: reopened, the refusal is retracted downstream.
    reopened = fold(amo_awaiting_review(), deal("back", "stage_changed", 90, stage="Переговоры", stage_id="60001",
                                                from_stage_id="61000"))
    assert reopened.status == "open" and reopened.review is None
    # No review stage before the loss: an ordinary loss, whatever the rules.
    plain = fold(None, deal("c", "created", stage="Переговоры", stage_id="60001"),
                 deal("l", "lost", 5, stage="Закрыто и не реализовано", stage_id="143", from_stage_id="60001",
                      lost_reason=Reason.EXPENSIVE))
    assert plain.review is None and plain.manager_reason == Reason.EXPENSIVE
    # Without rules (no CRM review configured) a second loss is a new loss, as before.
    again = fold(amo_awaiting_review(), amo_close(lost_reason=Reason.LATE_CONTACT), rules=None)
    assert again.review is None and again.manager_reason == Reason.LATE_CONTACT


def test_a_bitrix24_funnel_stage_matches_its_bare_id():
    rules = CrmReviewRules(review_stages=frozenset({"UC_REVIEW"}), closed_lost_stages=frozenset({"LOSE"}))
    s = fold(None, deal("r", "lost", 0, stage="Условный отказ", stage_id="C3:UC_REVIEW"), rules=rules)
    after = fold(s.model_copy(update={"ai_labels": AI}), deal("close", "lost", 5, stage_id="C3:LOSE"), rules=rules)
    assert after.review.labels == AI
