from datetime import timedelta

from leakwatch.classifier.facts import derive_facts

from tests.unit.classifier.builders import messages


def test_promised_proposal_never_sent_is_broken():
    facts = derive_facts(messages(
        ("03 10:00", "client", "Пришлите, пожалуйста, программу курса."),
        ("03 10:01", "manager", "Конечно, пришлю программу и КП сегодня на почту."),
        ("05 12:00", "client", "Я так и не получил программу, уже выбрал другую школу."),
        ("05 12:10", "system", "Сделка закрыта: отказ"),
    ))
    [promise] = facts.promises
    assert promise.what == "materials" and promise.kept is False
    assert "так и не получил" in promise.why
    assert facts.not_received_complaints


def test_sending_event_keeps_a_materials_promise():
    facts = derive_facts(messages(
        ("03 10:00", "manager", "Вышлю вам презентацию и расчёт в течение часа."),
        ("03 10:40", "system", "Отправлены материалы: Презентация.pdf"),
        ("06 10:00", "client", "Спасибо, но мы решили не брать."),
    ))
    [promise] = facts.promises
    assert promise.kept is True and promise.why.startswith("Отправлены материалы")


def test_manager_saying_sent_keeps_the_promise_and_word_forms_match():
    facts = derive_facts(messages(
        ("03 10:00", "manager", "Скину вам счёт чуть позже."),
        ("03 11:00", "manager", "Отправила счёт, проверьте почту."),
    ))
    assert [p.kept for p in facts.promises] == [True]


def test_short_agreement_to_a_client_request_is_a_promise():
    facts = derive_facts(messages(
        ("03 10:00", "client", "Выставьте счёт, пожалуйста."),
        ("03 10:01", "manager", "Хорошо!"),
        ("04 10:00", "system", "Счёт отправлен"),
    ))
    [promise] = facts.promises
    assert promise.what == "materials" and promise.kept is True


def test_overdue_callback_task_is_a_broken_promise_with_its_due_time():
    facts = derive_facts(messages(
        ("03 10:00", "manager", "Перезвоню вам завтра в 11."),
        ("03 10:01", "system", "Создана задача «Перезвонить» на 04.03.2025 11:00"),
        ("04 13:00", "system", "Задача «Перезвонить» просрочена"),
        ("07 15:00", "manager", "Добрый день, удобно обсудить?"),
    ))
    [promise] = facts.promises  # the spoken promise and the CRM task are one promise
    assert promise.what == "callback" and promise.kept is False
    assert promise.due is not None and promise.due.hour == 11 and promise.due.day == 4
    assert promise.quote.startswith("Перезвоню")
    assert facts.overdue_tasks == 1


def test_done_task_keeps_a_callback():
    facts = derive_facts(messages(
        ("03 10:00", "system", "Создана задача «Перезвонить» на 2025-03-04T11:00:00+03:00"),
        ("04 11:05", "system", "Задача «Перезвонить» выполнена"),
    ))
    assert [p.kept for p in facts.promises] == [True]


def test_callback_days_late_is_broken():
    facts = derive_facts(messages(
        ("03 10:00", "manager", "Наберу вас завтра утром."),
        ("07 10:00", "manager", "Здравствуйте, это снова я."),
    ))
    [promise] = facts.promises
    assert promise.kept is False and "после срока" in promise.why


def test_callback_on_time_is_kept_and_client_complaint_breaks_it():
    kept = derive_facts(messages(
        ("03 10:00", "manager", "Перезвоню через час."),
        ("03 11:00", "system", "Исходящий звонок: клиент не ответил"),
    ))
    assert [p.kept for p in kept.promises] == [True]
    broken = derive_facts(messages(
        ("03 10:00", "manager", "Я вам перезвоню сегодня."),
        ("03 12:00", "client", "Вы обещали перезвонить, а так и не перезвонили."),
    ))
    assert [p.kept for p in broken.promises] == [False]
    assert broken.no_callback_complaints


def test_callback_not_due_when_deal_closed_is_unknown():
    facts = derive_facts(messages(
        ("03 10:00", "manager", "Перезвоню на следующей неделе."),
        ("03 10:05", "system", "Сделка закрыта: отказ"),
    ))
    assert [p.kept for p in facts.promises] == [None]


def test_first_response_delay_and_missed_calls():
    facts = derive_facts(messages(
        ("03 10:00", "system", "Пропущенный входящий звонок"),
        ("04 16:00", "manager", "Добрый день, у нас пропущенный от вас."),
        ("04 16:01", "client", "Уже купил в другом месте."),
    ))
    # working time: 11 h on the 3rd (10:00-21:00) + 7 h on the 4th (9:00-16:00)
    assert facts.first_response_delay == timedelta(hours=18)
    assert facts.missed_calls == 1 and facts.missed_calls_returned_late == 1
    assert facts.cue_counts["competitor"] == 1


def test_quick_answer_to_a_site_request():
    facts = derive_facts(messages(
        ("03 10:00", "system", "Входящая заявка с сайта"),
        ("03 10:04", "manager", "Здравствуйте!"),
    ))
    assert facts.first_response_delay == timedelta(minutes=4)
    assert facts.missed_calls == 0 and facts.unanswered_inbound == 0


def test_readiness_signals_make_the_client_hot():
    facts = derive_facts(messages(
        ("03 10:00", "client", "Нам подходит. Пришлите договор и реквизиты, хотим оплатить до пятницы."),
    ))
    assert facts.hot and len(facts.hot_signals) == 1
    assert not derive_facts(messages(("03 10:00", "client", "Расскажите, что у вас есть."))).hot


def test_objection_brushed_off_is_unanswered():
    facts = derive_facts(messages(
        ("03 10:00", "client", "Дороговато для нас, я подумаю."),
        ("03 10:01", "manager", "Хорошо, думайте."),
    ))
    [objection] = facts.objections
    assert objection.topic == "price" and objection.answered is False
    assert facts.unanswered_objections


def test_objection_worked_is_answered():
    facts = derive_facts(messages(
        ("03 10:00", "client", "Не уверен, что нам это нужно."),
        ("03 10:01", "manager", "Понимаю. Давайте разберём на примере: у клиента вашего размера обучение окупилось за два месяца."),
    ))
    [objection] = facts.objections
    assert objection.topic == "doubt" and objection.answered is True


def test_followups_without_reply_count_the_ghosting():
    facts = derive_facts(messages(
        ("03 10:00", "client", "Посмотрю и вернусь."),
        ("04 10:00", "manager", "Посмотрели?"),
        ("06 10:00", "system", "Исходящий звонок: клиент не ответил"),
        ("08 10:00", "manager", "Напишите, если актуально."),
    ))
    assert facts.followups_without_reply == 3
    assert facts.unanswered_outbound_calls == 1


def test_messages_out_of_order_are_read_by_time():
    facts = derive_facts(messages(
        ("03 10:40", "system", "Письмо с КП отправлено"),
        ("03 10:00", "manager", "Отправлю КП через полчаса."),
    ))
    assert [p.kept for p in facts.promises] == [True]


def test_night_request_answered_in_the_morning_waited_minutes():
    facts = derive_facts(messages(
        ("03 23:40", "client", "Нужен фотограф на завтра, срочно!"),
        ("03 23:40", "system", "Автоответ: Мы работаем с 9:00 до 21:00, ответим утром"),
        ("04 09:05", "manager", "Доброе утро! Проверяю, кто свободен."),
    ))
    assert facts.first_response_delay == timedelta(minutes=5)  # the robot is not a response


def test_missed_call_on_a_holiday_counts_from_the_next_morning():
    facts = derive_facts(messages(
        ("03 12:15", "system", "Пропущенный входящий звонок (нерабочий праздничный день)"),
        ("04 09:02", "system", "Исходящий звонок, 2 мин"),
    ))
    assert facts.first_response_delay == timedelta(minutes=2)
    assert facts.missed_calls == 1 and facts.missed_calls_returned_late == 0


def test_materials_task_overdue_breaks_the_spoken_promise():
    facts = derive_facts(messages(
        ("05 14:31", "manager", "уложимся кп пришлю сегодня вечером со схемой"),
        ("05 14:32", "system", "Создана задача «Отправить КП» на 2025-03-05 19:00"),
        ("06 09:00", "system", "Задача «Отправить КП» просрочена"),
        ("09 11:00", "system", "Исходящий звонок: клиент не ответил"),
    ))
    [promise] = facts.promises
    assert promise.what == "materials" and promise.kept is False
    assert promise.quote.startswith("уложимся")


def test_a_farewell_promise_is_not_a_broken_one():
    facts = derive_facts(messages(
        ("03 17:20", "manager", "Предлагаю вернуться к разговору через полгода, пришлю статистику."),
        ("03 17:21", "system", "Сделка закрыта: отказ"),
    ))
    assert [p.kept for p in facts.promises] == [None]


def test_structured_facts_win_over_the_text_of_the_system_message():
    from schemas.conversation import SystemFact
    from tests.unit.classifier.builders import at

    said = messages(
        ("03 10:00", "manager", "Перезвоню вам завтра в 11, договорились"),
        ("03 10:01", "client", "Хорошо, жду"),
        ("04 15:00", "system", "⚙ 42"),  # a wording no reader knows
    )
    assert derive_facts(said).broken("callback") == ()  # read back: unknown, nothing proven
    fact = SystemFact(ts=at("04 15:00"), kind="task_overdue", task="callback", text="⚙ 42")
    [broken] = derive_facts(said, [fact]).broken("callback")
    assert broken.why == "⚙ 42"


def test_the_clients_wait_in_the_same_call_does_not_cancel_a_call_back():
    facts = derive_facts(messages(
        ("03 10:00", "manager", "Я уточню у технолога и перезвоню вам сегодня до вечера"),
        ("03 10:01", "client", "Хорошо, жду звонка"),
        ("05 12:00", "manager", "Добрый день, по вашему вопросу…"),
    ))
    [promise] = [p for p in facts.promises if p.what == "callback"]
    assert promise.kept is False


def test_preparing_a_contract_or_counting_together_is_no_promise_to_send():
    facts = derive_facts(messages(
        ("03 10:00", "client", "Нам всё подходит"),
        ("03 10:01", "manager", "Отлично, договор подготовим, давайте посчитаем ещё доставку"),
        ("05 10:00", "client", "Мы решили пока не брать"),
    ))
    assert [p for p in facts.promises if p.what == "materials"] == []


def test_a_client_who_never_wrote_is_not_waiting_for_materials():
    facts = derive_facts(messages(
        ("03 10:00", "system", "Входящая заявка с сайта"),
        ("03 10:05", "manager", "Здравствуйте! Пришлю вам КП сегодня"),
        ("06 10:00", "system", "Сделка закрыта: отказ"),
    ))
    [promise] = facts.promises
    assert promise.kept is False and not promise.client_waiting


def test_negated_price_is_no_price_objection():
    facts = derive_facts(messages(
        ("03 10:00", "client", "Дело не в деньгах, цена устраивает, просто не уверены в сроках"),
        ("03 10:01", "client", "Ну не так уж и дорого, но подумаем"),
        ("03 10:02", "client", "Честно, дорого для нас"),
    ))
    assert [o.quote for o in facts.objections if o.topic == "price"] == ["Честно, дорого для нас"]
