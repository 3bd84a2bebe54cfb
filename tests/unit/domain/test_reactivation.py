"""The «Воронка отказов» rules: who may come back, and when to call again."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from leakwatch.domain.reactivation import come_back, decide, reactivation_entry, recontact, task_text, withdrawal
from schemas.reactivation import ComeBack, ReactivationEntry
from tests.support.refusal_records import refusal

MSK = ZoneInfo("Europe/Moscow")
LOST = datetime(2026, 11, 18, 12, 0, tzinfo=MSK)  # a Wednesday


def lost(reason: str, evidence: str = "", **kw):
    return refusal("D-1", kw.pop("lost_at", LOST), reason=reason, **kw).model_copy(update={"evidence": evidence})


@pytest.mark.parametrize("reason, evidence, cause", [
    ("Дорого", "Для нас это дорого", ComeBack.BUDGET_LATER),
    ("Клиент пропал", "", ComeBack.WENT_SILENT),
    ("Выбрал конкурента", "Мы подписали договор с другой школой до конца года", ComeBack.CONTRACT_ENDS),
    ("Выбрал конкурента", "Выбрали других, у них дешевле", None),
    ("Не подошли условия", "Давайте вернёмся к этому после Нового года", ComeBack.POSTPONED),
    ("Не понял ценность", "Я подумаю", ComeBack.POSTPONED),
    ("Не понял ценность", "Не понимаю, зачем нам это", None),
    ("Нет доверия", "Отзывы у вас плохие", None),
])
def test_who_may_come_back(reason, evidence, cause):
    assert come_back(lost(reason, evidence)) == cause


def test_retracted_or_not_target_refusals_are_not_listed():
    assert come_back(lost("Дорого", active=False)) is None
    assert come_back(lost("Дорого", target=False)) is None


@pytest.mark.parametrize("cause, evidence, day, basis", [
    (ComeBack.BUDGET_LATER, "Бюджет будет через полгода", date(2027, 5, 18), "mentioned"),
    (ComeBack.POSTPONED, "давайте после нового года", date(2027, 1, 12), "mentioned"),
    (ComeBack.POSTPONED, "Перезвоните через две недели", date(2026, 12, 2), "mentioned"),
    (ComeBack.POSTPONED, "Вернёмся к вопросу в марте", date(2027, 3, 1), "mentioned"),
    (ComeBack.POSTPONED, "Перезвоните осенью", date(2027, 9, 1), "mentioned"),
    # 14 days before a named end: 31 Dec - 14 = 17 Dec; 15 Mar - 14 = 1 Mar.
    (ComeBack.CONTRACT_ENDS, "договор с ними до конца года", date(2026, 12, 17), "mentioned"),
    (ComeBack.CONTRACT_ENDS, "Договор заканчивается 15 марта, тогда и поговорим", date(2027, 3, 1), "mentioned"),
    (ComeBack.CONTRACT_ENDS, "когда закончится договор", date(2027, 5, 18), "default"),  # +6 months
    (ComeBack.BUDGET_LATER, "Дорого", date(2027, 2, 18), "default"),  # +3 months
    (ComeBack.POSTPONED, "Я подумаю", date(2026, 12, 18), "default"),  # +1 month
    (ComeBack.WENT_SILENT, "", date(2026, 12, 2), "default"),  # +14 days
])
def test_recontact_date(cause, evidence, day, basis):
    when = recontact(cause, evidence, LOST.date())
    assert (when.on, when.basis) == (day, basis)
    assert (when.phrase is None) == (basis == "default")


def test_a_weekend_date_moves_to_monday():
    assert recontact(ComeBack.POSTPONED, "через 3 дня", date(2026, 11, 18)).on == date(2026, 11, 23)


def test_a_date_already_past_becomes_the_next_workday():
    # Contract ends 20 Nov; 14 days before it is already behind the loss on 18 Nov.
    assert recontact(ComeBack.CONTRACT_ENDS, "договор до 20 ноября", date(2026, 11, 18)).on == date(2026, 11, 19)


def test_the_loss_day_is_taken_in_the_accounts_time_zone():
    late = datetime(2026, 11, 18, 22, 30, tzinfo=timezone.utc)  # 01:30 on 19 Nov in Moscow
    entry = reactivation_entry(lost("Клиент пропал", lost_at=late), MSK)
    assert entry.recontact_on == date(2026, 12, 3)


def test_entry_carries_money_evidence_and_the_refusals_version():
    record = lost("Дорого", "Бюджет будет через полгода", amount=120000).model_copy(update={"version": 7})
    entry = reactivation_entry(record, MSK)
    assert (entry.deal_id, entry.version, entry.active, entry.money_rub, entry.amount_rub) == ("D-1", 7, True, 120000, 120000)
    assert entry.evidence == "Бюджет будет через полгода" and entry.date_phrase == "через полгода"
    assert entry == reactivation_entry(record, MSK)  # no clock inside: a replay yields the same entry
    ReactivationEntry.model_validate_json(entry.model_dump_json())


def test_decide_withdraws_only_what_was_listed():
    record = lost("Дорого", "дорого")
    corrected = record.model_copy(update={"reason": "Нет доверия", "version": 2})
    assert decide(record, listed=False, tz=MSK).active
    out = decide(corrected, listed=True, tz=MSK)
    assert (out.active, out.version, out.come_back, out.recontact_on) == (False, 2, None, None)
    assert decide(corrected, listed=False, tz=MSK) is None
    assert decide(record.model_copy(update={"active": False}), listed=True, tz=MSK).active is False


def test_an_active_entry_needs_its_date():
    with pytest.raises(ValueError):
        withdrawal(lost("Дорого")).model_copy(update={"active": True}).model_validate(
            {**withdrawal(lost("Дорого")).model_dump(), "active": True})


def test_task_text_names_the_cause_and_quotes_the_client():
    entry = reactivation_entry(lost("Дорого", "Бюджет будет через полгода"), MSK)
    assert task_text(entry).startswith("Воронка отказов: связаться снова — Бюджет позже.")
    assert "«Бюджет будет через полгода»" in task_text(entry)
    long = reactivation_entry(lost("Дорого", "дорого " * 100), MSK)
    assert len(task_text(long)) < 450
