from datetime import datetime, timezone

import pytest

from schemas.conversation import ClassificationResult, EngineInfo
from leakwatch.domain.money import average_check, case_money
from leakwatch.domain.refusals import classifier_input, refusal_record, retraction_record
from tests.unit.domain.test_deal_state import T0, deal, fold
from schemas.events import ActivityEvent, RefusalReview

NOW = datetime(2026, 11, 18, 12, tzinfo=timezone.utc)


def ai(**labels) -> ClassificationResult:
    base = dict(id="x", deal_id="D1", target=True, reason="Клиент пропал", kind="salvageable",
                leak="Не отправили материалы после звонка", hot=True, confidence=0.7,
                evidence="вышлю КП сегодня", engine=EngineInfo(name="embedded", version="1"))
    return ClassificationResult(**{**base, **labels})


def lost_deal(**created):
    return fold(deal("1", "created", pipeline="P", manager="M", stage="Переговоры", **created),
                ActivityEvent(event_id="m", deal_id="D1", ts=T0, type="message", author="client", text="дорого"),
                deal("2", "lost", 3, stage="Закрыто", lost_reason="Дорого"))


def test_ai_verdict_becomes_a_provisional_record_with_case_money():
    r = refusal_record(lost_deal(), ai(), avg_check_rub=40000, now=NOW)
    assert (r.source, r.status, r.active, r.money_rub, r.version) == ("ai", "provisional", True, 40000, 3)
    assert r.reason_mismatch is True and r.evidence == "вышлю КП сегодня"


def test_evidence_quote_can_be_kept_off_the_public_topic():
    r = refusal_record(lost_deal(), ai(), avg_check_rub=40000, now=NOW, public_evidence=False)
    assert r.evidence == "" and r.reason == "Клиент пропал"  # the verdict itself stays


def test_review_wins_and_the_ai_labels_are_kept():
    state = fold(*[], deal("1", "created", amount_rub=90000), deal("2", "lost", 1),
                 RefusalReview(event_id="r", deal_id="D1", ts=T0, reviewer="qa", target=True,
                               reason="Дорого", kind="real"))
    r = refusal_record(state, ai(), avg_check_rub=40000, now=NOW)
    assert (r.source, r.status, r.kind, r.leak, r.reviewer) == ("review", "confirmed", "real", None, "qa")
    assert r.ai.kind == "salvageable" and r.money_rub == 90000


def test_retraction_is_inactive():
    state = fold(deal("1", "created"), deal("2", "lost", 1), deal("3", "updated", 2, is_spam=True))
    r = retraction_record(state, avg_check_rub=40000, now=NOW)
    assert not r.active and not r.target and r.source == "crm"


def test_classifier_input_carries_the_timeline_and_manager_reason():
    item = classifier_input(lost_deal())
    assert item.id == "D1@3" and item.channel == "chat" and item.manager_reason == "Дорого"
    assert [m.text for m in item.messages][-1] == "Сделка закрыта: отказ"


def test_never_lost_deal_has_no_record():
    with pytest.raises(ValueError):
        refusal_record(fold(deal("1", "created")), ai(), avg_check_rub=1, now=NOW)


def test_case_money_and_average_check():
    assert case_money(120000, 40000) == 120000
    assert case_money(None, 40000) == 40000
    assert average_check("P", {"P": 50000}, 70000.0, 40000) == 50000
    assert average_check("Q", {"P": 50000}, 70000.4, 40000) == 70000
    assert average_check("Q", {}, None, 40000) == 40000
