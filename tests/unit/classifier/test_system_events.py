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
