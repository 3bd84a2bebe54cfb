"""The boards' words: Russian by default, English as a setting (LEAKWATCH_LABEL_LANGUAGE).
One table. The label values themselves (reasons, leaks) stay Russian on the wire and in
the store — they are the public contract; only what a person reads is translated."""

from __future__ import annotations

from collections.abc import Callable

from schemas.labels import Kind, Leak, Reason

# key → (ru, en). Keys of labels are their wire values; the rest are the boards' words.
TEXTS: dict[str, tuple[str, str]] = {
    # reasons
    Reason.EXPENSIVE.value: ("Дорого", "Too expensive"),
    Reason.COMPETITOR.value: ("Выбрал конкурента", "Chose a competitor"),
    Reason.NO_TRUST.value: ("Нет доверия", "No trust"),
    Reason.TERMS.value: ("Не подошли условия", "Terms did not fit"),
    Reason.NO_VALUE.value: ("Не понял ценность", "Did not see the value"),
    Reason.LATE_CONTACT.value: ("Поздно связались", "Contacted too late"),
    Reason.GHOSTED.value: ("Клиент пропал", "Client went silent"),
    # kinds
    Kind.SALVAGEABLE.value: ("спасаемый", "salvageable"),
    Kind.REAL.value: ("реальный", "real"),
    # leaks
    Leak.NOT_CLOSED.value: ("Не дожали заинтересованных", "Interested clients not closed"),
    Leak.OBJECTION.value: ("Не отработали возражение", "Objection not handled"),
    Leak.NO_MATERIALS.value: ("Не отправили материалы после звонка", "Materials not sent after the call"),
    Leak.LATE_CALLBACK.value: ("Не связались вовремя", "No call-back in time"),
    # board
    "title": ("Где теряются деньги", "Where the money is lost"),
    "card1": ("Отказы целевых лидов", "Target lead refusals"),
    "card2": ("Потенциально потерянная выручка", "Potentially lost revenue"),
    "salvageable_count": ("Можно было спасти", "Could have been saved"),
    "potential_lost": ("Потенциально потерянная выручка", "Potentially lost revenue"),
    "total_refusals": ("Всего целевых отказов", "Target refusals in total"),
    "salvageable_plural": ("спасаемые", "salvageable"),
    "real_plural": ("реальные", "real"),
    "by_reason": ("Отказы по причинам", "Refusals by reason"),
    "leak_of_day": ("Утечка дня", "Leak of the period"),
    "above_average": ("выше среднего дня", "above the average day"),
    "below_average": ("ниже среднего дня", "below the average day"),
    "no_history": ("нет истории для сравнения", "no history to compare"),
    "cases": ("случаев", "cases"),
    "main_reason": ("Главная причина", "Main reason"),
    "main_stage": ("Главная утечка на этапе", "The main leak happens at"),
    "hot_of_lost": ("горячих среди потерянных", "of the lost clients were hot"),
    "of": ("из", "of"),
    "sum": ("Сумма", "Amount"),
    "count": ("Количество", "Count"),
    "confirmed_of": ("Проверено ОКК", "Reviewed by QA"),
    "mismatches": ("Причина менеджера не совпала", "Manager's reason differed"),
    "period": ("Период", "Period"),
    "from": ("с", "from"),
    "to": ("по", "to"),
    "pipeline": ("Воронка", "Pipeline"),
    "manager": ("Менеджер", "Manager"),
    "all": ("Все", "All"),
    "show": ("Показать", "Show"),
    "cases_title": ("Кого можно было удержать", "Who could have been kept"),
    "all_leaks": ("все утечки", "all leaks"),
    "when": ("Когда", "When"),
    "deal": ("Сделка", "Deal"),
    "stage": ("Этап", "Stage"),
    "reason": ("Причина", "Reason"),
    "leak": ("Утечка", "Leak"),
    "money": ("Сумма", "Amount"),
    "hot": ("Горячий", "Hot"),
    "verdict": ("Вердикт", "Verdict"),
    "provisional": ("условный", "provisional"),
    "confirmed": ("подтверждён", "confirmed"),
    "manager_said": ("Со слов менеджера", "Manager's reason"),
    "evidence": ("Цитата", "Evidence"),
    "managers_title": ("Менеджеры", "Managers"),
    "refusals": ("Отказов", "Refusals"),
    "mismatch_share": ("Причина не совпала", "Reason differed"),
    "leak_money": ("Утечка", "Leak"),
    "leak_cases": ("Случаев", "Cases"),
    "top_leak": ("Главная утечка", "Top leak"),
    "queue_title": ("Условные отказы на проверку", "Refusals awaiting review"),
    "queue_empty": ("Все отказы периода проверены.", "Every refusal of the period is reviewed."),
    "ai_verdict": ("Вердикт ИИ", "AI verdict"),
    "confidence": ("Уверенность", "Confidence"),
    "low_confidence": ("низкая уверенность", "low confidence"),
    "differs": ("не совпадает", "differs"),
    "matches": ("совпадает", "matches"),
    "not_stated": ("не указана", "not stated"),
    "non_target": ("не целевой", "not target"),
    "target": ("Целевой", "Target"),
    "kind": ("Тип", "Kind"),
    "comment": ("Комментарий", "Comment"),
    "confirm": ("Подтвердить", "Confirm"),
    "correct": ("Исправить", "Correct"),
    "review_sent": ("Отправлено: вердикт ОКК", "Sent: QA verdict"),
    "review_not_sent": ("Не отправлено, попробуйте ещё раз", "Not sent, try again"),
    "review_needs_login": ("Чтобы проверять отказы, войдите", "Log in to review refusals"),
    "reviews_disabled": ("Проверка отключена: не задан LEAKWATCH_WEB_TOKEN",
                         "Reviews are off: LEAKWATCH_WEB_TOKEN is not set"),
    "login": ("Войти", "Log in"),
    "token": ("Токен", "Token"),
    "reviewer": ("Проверяющий", "Reviewer"),
    "bad_token": ("Неверный токен", "Wrong token"),
    "refresh": ("Обновить", "Refresh"),
    "updated": ("обновлено", "updated"),
    "yes": ("да", "yes"),
    "no": ("нет", "no"),
    "none": ("—", "—"),
}

LANGUAGES = ("ru", "en")


def translator(language: str) -> Callable[[object], str]:
    """`t(key)`: the key's text in `language`; an unknown key (a name, a stage) is itself."""
    index = LANGUAGES.index(language)

    def t(key: object) -> str:
        if key is None:
            return TEXTS["none"][index]
        entry = TEXTS.get(str(key))
        return entry[index] if entry else str(key)

    return t
