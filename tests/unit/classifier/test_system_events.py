from datetime import datetime

import pytest

from leakwatch.classifier.system_events import EventKind, TaskKind, parse_due, parse_event

from tests.unit.classifier.builders import MSK, messages


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Сделка создана", EventKind.DEAL_CREATED),
        ("Входящая заявка с сайта", EventKind.INBOUND_REQUEST),
        ("Пропущенный входящий звонок", EventKind.MISSED_CALL),
        ("Исходящий звонок: клиент не ответил", EventKind.OUTBOUND_NO_ANSWER),
        ("Исходящий звонок, 7 мин", EventKind.OUTBOUND_CALL),
        ("Входящий звонок, 12 мин", EventKind.INBOUND_CALL),
        ("Демонстрация проведена (видеозвонок, 20 мин)", EventKind.MEETING),
        ("Автоответ: менеджер перезвонит в течение 15 минут", EventKind.AUTO_REPLY),
        ("Создана задача «Перезвонить» на 04.03.2025 11:00", EventKind.TASK_CREATED),
        ("Задача «Перезвонить» просрочена", EventKind.TASK_OVERDUE),
        ('Задача "Перезвонить" выполнена', EventKind.TASK_DONE),
        ("Письмо с КП отправлено", EventKind.SENT),
        ("Отправлены материалы: Программа курса.pdf", EventKind.SENT),
        ("Счёт отправлен", EventKind.SENT),
        ("Счет отправлен", EventKind.SENT),
        ("Договор отправлен на согласование", EventKind.SENT),
        ("Замер выполнен, дизайн-проект отправлен", EventKind.SENT),
        ("Отправлено письмо-напоминание", EventKind.REMINDER_SENT),
        ("Сообщение прочитано", EventKind.MESSAGE_READ),
        ("Этап сделки изменён: Переговоры → КП отправлено", EventKind.STAGE_CHANGED),
        ("Сделка объединена с D-7731 (дубль)", EventKind.DUPLICATE),
        ("Сделка закрыта: не целевой (существующий клиент)", EventKind.CLOSED_NOT_TARGET),
        ("Сделка закрыта: спам", EventKind.CLOSED_NOT_TARGET),
        ("Сделка закрыта: отказ", EventKind.CLOSED_LOST),
        ("Что-то новое", EventKind.OTHER),
    ],
)
def test_pipeline_vocabulary(text, kind):
    [message] = messages(("03 10:00", "system", text))
    assert parse_event(message).kind == kind


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("Создана задача «Перезвонить» на 2026-10-29 11:00", TaskKind.CALLBACK),
        ("Задача «Отправить КП» просрочена", TaskKind.MATERIALS),
        ("Создана задача «Отправить документы» на 2026-11-16 18:00", TaskKind.MATERIALS),
        ("Задача «Подготовить стенд» выполнена", TaskKind.OTHER),
    ],
)
def test_task_titles(text, task):
    [message] = messages(("03 10:00", "system", text))
    assert parse_event(message).task == task


def test_off_hours_mark():
    [holiday, normal] = messages(
        ("03 10:00", "system", "Пропущенный входящий звонок (нерабочий праздничный день)"),
        ("03 10:00", "system", "Пропущенный входящий звонок"),
    )
    assert parse_event(holiday).off_hours and not parse_event(normal).off_hours


def test_details_and_due_time():
    [materials, stage, task] = messages(
        ("03 10:00", "system", "Отправлены материалы: Программа.pdf"),
        ("03 10:00", "system", "Этап сделки изменён: A → B"),
        ("03 10:00", "system", "Создана задача «Перезвонить» на 2025-03-04T11:30:00+03:00"),
    )
    assert parse_event(materials).detail == "Программа.pdf"
    assert parse_event(stage).detail == "A → B"
    assert parse_event(task).due == datetime(2025, 3, 4, 11, 30, tzinfo=MSK)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04 11:00", datetime(2025, 3, 4, 11, 0, tzinfo=MSK)),
        ("04.03.2025 11:00", datetime(2025, 3, 4, 11, 0, tzinfo=MSK)),
        ("04.03 в 9:15", datetime(2025, 3, 4, 9, 15, tzinfo=MSK)),
        ("завтра", None),
    ],
)
def test_parse_due(text, expected):
    assert parse_due(text, datetime(2025, 3, 3, 10, tzinfo=MSK)) == expected


# Wordings from the independent writers' deals (tests/data/writers): other CRMs, other
# telephony, English. Each expectation was written by hand from the text.
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Заявка с сайта lingvalive.ru: форма «Бесплатный урок». Имя: Ирина", EventKind.INBOUND_REQUEST),
        ("Лид: форма «Консультация по курсу Java-разработчик» (utm: yandex_search)", EventKind.INBOUND_REQUEST),
        ("Inbound e-mail to events@nevagrand.ru → lead created 'TalentBridge Hospitality'", EventKind.INBOUND_REQUEST),
        ("Авито: новое сообщение по объявлению «Шины б/у Michelin X-Ice 215/55 R16 4 шт»", EventKind.INBOUND_REQUEST),
        ("Новое письмо на sales@integralsoft.ru → создан лид", EventKind.INBOUND_REQUEST),
        ("Исходящий, разговор 4:51", EventKind.OUTBOUND_CALL),
        ("Исходящий вызов · менеджер Захаров Д. · 7 мин 12 с", EventKind.OUTBOUND_CALL),
        ("Outbound call, 4 min 55 s — Luka Horvat, Adria Foods d.o.o. (Zagreb)", EventKind.OUTBOUND_CALL),
        ("Звонок исходящий, 1 мин 05 сек", EventKind.OUTBOUND_CALL),
        ("Звонок · 25 мин · участники: менеджер Егорова С., клиент Мамонтов Р.", EventKind.OUTBOUND_CALL),
        ("Входящий, разговор 4:10 (линия продаж)", EventKind.INBOUND_CALL),
        ("Входящий вызов, 3:25", EventKind.INBOUND_CALL),
        ("Call (inbound) — 9 min 40 s — Piotr Nowak, Logistics Manager", EventKind.INBOUND_CALL),
        ("Исходящий: не отвечает", EventKind.OUTBOUND_NO_ANSWER),
        ("Outbound call (Ольга К.) → no answer, 0:00", EventKind.OUTBOUND_NO_ANSWER),
        ("Перезвон: абонент недоступен", EventKind.OUTBOUND_NO_ANSWER),
        ("Исходящий вызов · Дёмина О. · занято", EventKind.OUTBOUND_NO_ANSWER),
        ("Исходящий вызов на +7 800 ***-**-17: «Номер не обслуживается»", EventKind.OUTBOUND_NO_ANSWER),
        ("Пропущенный входящий · +7 (343) ***-**-12 · линия «Продажи» · ожидание 48 с", EventKind.MISSED_CALL),
        ("Входящий звонок пропущен: +7 9** ***-**-91 (ожидание 1 мин 10 с)", EventKind.MISSED_CALL),
        ("Задача «Перезвонить ПолиПласт с новой ценой» · 25.11 13:00 · Рябов К.", EventKind.TASK_CREATED),
        ("Task created: 'Send TCO comparison + Riga case study to K. Tamm' — due 10.06", EventKind.TASK_CREATED),
        ("Задача «Звонок Сергею — договор» на 06.04 11:00", EventKind.TASK_CREATED),
        ("Task 'MICE proposal Lumen Tech' overdue", EventKind.TASK_OVERDUE),
        ("Задача «Позвонить Вадиму» не выполнена в срок", EventKind.TASK_OVERDUE),
        ("Срок задачи истёк: «Отправить программу и КП — СтройАльянс»", EventKind.TASK_OVERDUE),
        ("Дело не закрыто в срок", EventKind.TASK_OVERDUE),
        ("Задача «Отправить документы врача» закрыта автоматически (сделка в статусе «Отказ»)", EventKind.OTHER),
        ("Email sent: SAM_Audit_Sample_Report.pdf, Savings_estimate_VanDijk.xlsx · opened 29.06 14:30", EventKind.SENT),
        ("Счёт №3187 от 21.09.2026 на 43 200 ₽ сформирован · отправка на k.belousov@garage77.ru", EventKind.SENT),
        ("Contract_BalticTech_Sept.pdf sent · delivered", EventKind.SENT),
        ("WhatsApp: отправлены 3 файла (сертификат Fotona, диплом Ивановой А.С., лицензия) — прочитано 17:20",
         EventKind.SENT),
        ("Недоставка: 550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table", EventKind.BOUNCED),
        ("Исходящее письмо «КП СЭД» → zakupki@umi-holding.ru. Вложение «КП_УМИ_400.pdf» (38 МБ) удалено почтовым "
         "сервером: превышен лимит 25 МБ", EventKind.BOUNCED),
        ("Delivery Status Notification (Failure): домен gmial.com не найден, письмо не доставлено", EventKind.BOUNCED),
        ("Мессенджер: входящее вне рабочего времени МСК (03:15). Автоответ: «Ответим с 9:00 по Москве»",
         EventKind.AUTO_REPLY),
        ("Auto-reply: \"I'm out of office until 12 January with limited access to email.\"", EventKind.AUTO_REPLY),
        ("Бот: «Ваше сообщение получено, администратор ответит в течение 15 минут»", EventKind.AUTO_REPLY),
        ("SLA timer expired (24 h) · lead in 'Unassigned' queue", EventKind.SLA_BREACH),
        ("Неотвеченные диалоги старше 48 ч: 1 (ответственный — Е. Михеева)", EventKind.SLA_BREACH),
        ("Инцидент закрыт ИТ-отделом: восстановлен приём заявок, из очереди загружено 17 заявок", EventKind.INCIDENT),
        ("[Интеграция сайт → CRM] Ошибка доставки вебхука: HTTP 502. Заявки сохраняются в буфер",
         EventKind.INCIDENT),
        ("Stage → 'Verbal yes'. No follow-up task scheduled", EventKind.NO_NEXT_STEP),
        ("Задача не создана. Стадия: «Думает»", EventKind.NO_NEXT_STEP),
        ("Видеовстреча · 40 мин · ООО «Мед-Импорт», генеральный директор", EventKind.MEETING),
        ("Пробный урок проведён. Преподаватель: уровень A2", EventKind.MEETING),
        ("Выезд назначен: 09.07, 10:00–12:00, мастер Гусейнов Р.", EventKind.OTHER),
        ("Сообщение доставлено · прочитано 12:16", EventKind.MESSAGE_READ),
        ("Message read", EventKind.MESSAGE_READ),
        ("Найдено совпадение: телефон/имя — сделка ПБ-2341 (заявка с сайта от 23.11 18:40)", EventKind.DUPLICATE),
        ("Лид закрыт · статус «Некачественный лид» · комментарий: соискатель", EventKind.CLOSED_NOT_TARGET),
        ("Ответственный сменил этап: «Нецелевой / спам»", EventKind.CLOSED_NOT_TARGET),
        ("Stage changed: New → Lost · reason: Competitor", EventKind.CLOSED_LOST),
        ("Сделка «Колёса в сборе K5» → Отказ · Дорого", EventKind.CLOSED_LOST),
        ("Opportunity → Closed lost. Reason: Requirements not met (data residency)", EventKind.CLOSED_LOST),
        ("Сделка «Тараканы 3к» → этап «Думает»", EventKind.STAGE_CHANGED),
        ("Campaign 'Q3 −25%' expired", EventKind.OTHER),
        ("Вызов завершён", EventKind.OTHER),
    ],
)
def test_other_crms_wordings(text, kind):
    [message] = messages(("03 10:00", "system", text))
    assert parse_event(message).kind == kind


@pytest.mark.parametrize(
    ("text", "task", "due"),
    [
        ("Задача «Перезвонить ПолиПласт с новой ценой» · 25.11 13:00 · Рябов К.", TaskKind.CALLBACK,
         datetime(2025, 11, 25, 13, 0, tzinfo=MSK)),
        ("Task created: 'Send TCO comparison + Riga case study to K. Tamm' — due 10.06", TaskKind.MATERIALS,
         datetime(2025, 6, 10, 18, 0, tzinfo=MSK)),
        ("Задача «Перезвонить по замеру (срочно)» на 10:05, отв. Белов К.", TaskKind.CALLBACK,
         datetime(2025, 3, 3, 10, 5, tzinfo=MSK)),
        ("Task 'Follow up Kessler' overdue by 4 days", TaskKind.CALLBACK, None),
    ],
)
def test_task_titles_and_due_times_in_other_wordings(text, task, due):
    [message] = messages(("03 10:00", "system", text))
    event = parse_event(message)
    assert (event.task, event.due) == (task, due)
