"""The verdict rules: precise rules decide, and none overrides a confident head."""

from __future__ import annotations

from leakwatch.classifier.decision import Policy, decide
from leakwatch.classifier.features import read
from schemas.labels import Leak

from tests.unit.classifier.builders import conversation


def probs(target=0.9, reason="Дорого", leak=None, p_leak=0.9, hot=0.1):
    leaks = {"none": 0.0, **{x.value: 0.0 for x in Leak}}
    key = leak or "none"
    leaks = {k: (p_leak if k == key else (1 - p_leak) / (len(leaks) - 1)) for k in leaks}
    return {"target": {"target": target, "non_target": 1 - target},
            "reason": {reason: 0.8, "Клиент пропал": 0.2},
            "leak": leaks, "hot": {"hot": hot, "cold": 1 - hot}}


WRONG_NUMBER = conversation(
    ("03 10:00", "client", "Кажется, я ошибся номером, но раз уж позвонил — сколько стоит ваш курс?"),
    ("03 10:01", "manager", "Сорок тысяч"),
    ("03 10:02", "client", "Дорого, спасибо"),
)
BROKEN_CALLBACK = conversation(
    ("03 10:00", "client", "Подумаю, перезвоните мне завтра в 11"),
    ("03 10:01", "manager", "Хорошо, перезвоню завтра в 11"),
    ("03 10:02", "system", "Создана задача «Перезвонить» на 04.03.2025 11:00"),
    ("04 18:00", "system", "Задача «Перезвонить» просрочена"),
)


def test_a_keyword_cue_is_no_veto_over_a_confident_target_head():
    r = read(WRONG_NUMBER)
    assert not decide(r, probs(target=0.6), None).labels.target
    assert decide(r, probs(target=0.95), None).labels.target


MARKED_NOT_TARGET = conversation(
    ("03 10:00", "client", "Сколько стоит проживание в июле? Ребёнку три с половиной года"),
    ("03 10:01", "manager", "Детей принимаем с четырёх лет, исключений не делаем"),
    ("03 10:02", "system", "Сделка закрыта. Причина: Нецелевой"),
)
MERGED = conversation(
    ("03 10:00", "client", "Хотим забронировать номер на июль"),
    ("03 10:01", "system", "Сделка объединена с #4417 (дубль)"),
)


def test_a_manager_s_not_target_close_is_no_veto_over_a_confident_target_head():
    """LABELS.md: judge by content, not only by a CRM mark; a merge is a fact, not a claim."""
    r = read(MARKED_NOT_TARGET)
    assert r.non_target_cues["crm_marked"] == 1
    assert decide(r, probs(target=0.95), None).labels.target
    assert not decide(r, probs(target=0.6), None).labels.target
    merged = read(MERGED)
    assert merged.non_target_cues["crm_merged"] == 1
    assert not decide(merged, probs(target=0.95), None).labels.target


def test_a_proven_broken_promise_names_the_leak_unless_the_head_is_sure_of_another():
    r = read(BROKEN_CALLBACK)
    unsure = decide(r, probs(leak=Leak.OBJECTION.value, p_leak=0.5), None)
    sure = decide(r, probs(leak=Leak.OBJECTION.value, p_leak=0.95), None, Policy(confident=0.8))
    assert unsure.labels.leak == Leak.LATE_CALLBACK
    assert sure.labels.leak == Leak.OBJECTION


def test_without_a_proving_fact_the_head_needs_to_be_sure_of_an_after_call_leak():
    r = read(WRONG_NUMBER.model_copy(update={"messages": WRONG_NUMBER.messages[1:]}))
    weak = decide(r, probs(target=0.95, leak=Leak.NO_MATERIALS.value, p_leak=0.45), None)
    strong = decide(r, probs(target=0.95, leak=Leak.NO_MATERIALS.value, p_leak=0.9), None)
    assert weak.labels.leak != Leak.NO_MATERIALS
    assert strong.labels.leak == Leak.NO_MATERIALS


def test_notes_tools_and_ready_but_deferred_are_read():
    r = read(conversation(
        ("03 10:00", "client", "Нам всё подходит, программа понравилась. Но дорого"),
        ("03 10:01", "manager", "Понимаю, подумайте до понедельника, будем на связи"),
        crm_notes=["Рассрочка на 6 месяцев без переплаты", "Скидка 10% при оплате до конца месяца"],
    ))
    assert r.tools["instalment"] == (True, False) and r.tools["discount"] == (True, False)
    assert r.ready_deferred == (True, True, True)


INVOICE_ASKED = conversation(
    ("03 10:00", "client", "Выставьте счёт на юрлицо, пожалуйста"),
    ("03 10:01", "manager", "Хорошо, пришлю сегодня"),
)


def test_the_readiness_rule_does_not_override_a_confidently_cold_hot_head():
    r = read(INVOICE_ASKED)
    assert r.facts.hot  # the phrase rule fires on «счёт на юрлицо»
    policy = Policy()
    cold = decide(r, probs(target=0.95, hot=policy.hot_rule_floor - 0.2), None, policy)
    assert cold.labels.hot is False


def test_the_readiness_rule_tips_only_an_unsure_hot_head():
    policy = Policy()
    unsure = (policy.hot_rule_floor + policy.hot) / 2
    with_rule = decide(read(INVOICE_ASKED), probs(target=0.95, hot=unsure), None, policy)
    without_rule = decide(read(WRONG_NUMBER), probs(target=0.95, hot=unsure), None, policy)
    assert with_rule.labels.hot is True
    assert without_rule.labels.hot is False


def test_a_sure_hot_head_needs_no_rule():
    r = read(WRONG_NUMBER)
    assert not r.facts.hot
    assert decide(r, probs(target=0.95, hot=0.9), None).labels.hot is True
