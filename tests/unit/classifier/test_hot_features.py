"""Hot-only features: readiness in varied words, dates written as digits."""

from __future__ import annotations

import pytest

from leakwatch.classifier.features import NUMERIC_DATE, hot_vector, read

from tests.unit.classifier.builders import conversation


@pytest.mark.parametrize("text", ["Бронируем!", "хочу записаться", "Выставите счёт на юрлицо",
                                  "счёт на ООО выставьте, пожалуйста", "Please send the invoice",
                                  "ok, book us in for Friday"])
def test_readiness_in_varied_words_is_read(text):
    r = read(conversation(("03 10:00", "client", text), ("03 10:01", "manager", "Хорошо")))
    assert r.facts.hot


@pytest.mark.parametrize("text, is_date", [("КП ждём до 24.06 18:00", True), ("вылет 10.12", True),
                                           ("замер 15.10.2025", True), ("ставка 4.9%", False),
                                           ("цена 1.500.000", False), ("ставка 4,9%", False)])
def test_a_date_in_digits(text, is_date):
    assert bool(NUMERIC_DATE.search(text)) is is_date


def test_a_dated_need_is_a_hot_feature():
    dated = read(conversation(("03 10:00", "client", "Хотим заказать, нужно до 24.06"), ("03 10:01", "manager", "Хорошо")))
    plain = read(conversation(("03 10:00", "client", "Хотим заказать"), ("03 10:01", "manager", "Хорошо")))
    assert hot_vector(dated)[-2:].tolist() == [1.0, 1.0]
    assert hot_vector(plain)[-2:].tolist() == [0.0, 0.0]
