"""`leakwatch import`: vendor REST objects to canonical events with their original times."""

from datetime import datetime, timedelta, timezone

from schemas.topics import CALLS, DEALS
from services.history import amocrm, bitrix24, files
from services.history.names import load_maps
from services.history.runner import Mapped, in_time_order
from services.history.vendor_api import RateLimiter

MAPS = load_maps({"amocrm": {"pipelines": {"3104455": "Основная"}, "users": {"938348": "Анна Смирнова"},
                             "statuses": {"10216994": "Переговоры"}, "loss_reasons": {"7656397": "Дорого", "7656398": "spam"}},
                  "bitrix24": {"categories": {"1": "b2b"}, "users": {"17": "Олег Петров"}}})
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
T0 = 1795000000  # 2026-11-18T..Z


def utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def test_amocrm_lost_lead_is_created_and_lost_at_its_own_times_with_the_reason():
    lead = {"id": 31926520, "price": 120000, "responsible_user_id": 938348, "status_id": 143, "pipeline_id": 3104455,
            "loss_reason_id": 7656397, "created_at": T0, "updated_at": T0 + 900, "closed_at": T0 + 600}
    created, lost = amocrm.lead_events(lead, MAPS, "acme")
    assert (created.type, created.ts, created.deal_id, created.manager, created.pipeline, created.account) == (
        "created", utc(T0), "amocrm:acme:31926520", "Анна Смирнова", "Основная", "acme")
    assert (lost.type, lost.ts, lost.lost_reason, lost.amount_rub) == ("lost", utc(T0 + 600), "Дорого", 120000)
    assert lost.event_id == f"amocrm:acme:31926520:143:{T0 + 600}"


def test_amocrm_loss_reason_from_the_embedded_list_and_spam():
    lead = {"id": 1, "status_id": 143, "created_at": T0, "closed_at": T0 + 1,
            "_embedded": {"loss_reason": [{"id": 7656398, "name": "Спам"}]}}
    _, lost = amocrm.lead_events(lead, MAPS, "acme")
    assert lost.is_spam is True and lost.lost_reason is None
    # A reason known only by its name maps as ingest maps it («Купили у конкурентов» by default).
    named = {**lead, "_embedded": {"loss_reason": [{"id": 1, "name": "Купили у конкурентов"}]}}
    assert amocrm.lead_events(named, MAPS, "acme")[1].lost_reason == "Выбрал конкурента"


def test_amocrm_status_moves_become_stages_but_closing_is_left_to_the_lead():
    move = {"id": "01pz", "type": "lead_status_changed", "entity_id": 1, "entity_type": "lead", "created_at": T0 + 60,
            "value_after": [{"lead_status": {"id": 10216994, "pipeline_id": 3104455}}]}
    [stage] = amocrm.status_event(move, MAPS, "acme")
    assert (stage.type, stage.stage, stage.ts, stage.deal_id) == ("stage_changed", "Переговоры", utc(T0 + 60), "amocrm:acme:1")
    closing = {**move, "value_after": [{"lead_status": {"id": 143, "pipeline_id": 3104455}}]}
    assert amocrm.status_event(closing, MAPS, "acme") == []


def test_amocrm_call_notes_and_texts():
    talked = {"id": 5, "entity_id": 1, "note_type": "call_out", "created_at": T0, "responsible_user_id": 938348,
              "params": {"uniq": "abc", "duration": 185, "call_status": 4, "phone": "+79161234567"}}
    [call] = amocrm.note_events(talked, MAPS, "acme")
    assert (call.direction, call.status, call.duration_s, call.call_id, call.manager) == ("out", "answered", 185, "abc", "Анна Смирнова")
    missed = {**talked, "id": 6, "note_type": "call_in", "params": {"duration": 0, "call_status": 6}}
    assert amocrm.note_events(missed, MAPS, "acme")[0].status == "missed"
    [note] = amocrm.note_events({"id": 7, "entity_id": 1, "note_type": "common", "created_at": T0,
                                 "params": {"text": "Клиент просил КП"}}, MAPS, "acme")
    assert (note.type, note.author, note.text) == ("message", "manager", "Клиент просил КП")
    assert "phone" not in amocrm.trimmed("notes", talked)["params"]  # the spool never holds the number


def test_amocrm_tasks_created_done_or_overdue():
    task = {"id": 56981, "entity_id": 1, "entity_type": "leads", "task_type_id": 1, "created_at": T0,
            "updated_at": T0 + 3600, "complete_till": T0 + 1800, "is_completed": True}
    created, done = amocrm.task_events(task, MAPS, NOW, "acme")
    assert (created.type, created.task_kind, created.due_at, done.type, done.ts) == (
        "task_created", "callback", utc(T0 + 1800), "task_done", utc(T0 + 3600))
    _, overdue = amocrm.task_events({**task, "is_completed": False}, MAPS, NOW, "acme")
    assert (overdue.type, overdue.ts) == ("task_overdue", utc(T0 + 1800))
    assert len(amocrm.task_events({**task, "is_completed": False, "complete_till": int(NOW.timestamp()) + 60}, MAPS, NOW, "acme")) == 1
    assert amocrm.task_events({**task, "entity_type": "contacts"}, MAPS, NOW, "acme") == []


def test_bitrix24_lost_deal_uses_the_gateways_event_ids():
    deal = {"ID": "412", "STAGE_ID": "C1:LOSE", "CATEGORY_ID": "1", "OPPORTUNITY": "45000.00", "CURRENCY_ID": "RUB",
            "ASSIGNED_BY_ID": "17", "DATE_CREATE": "2026-11-18T10:00:00+03:00", "MOVED_TIME": "2026-11-18T15:30:00+03:00",
            "STAGE_SEMANTIC_ID": "F", "SOURCE_ID": "WEB"}
    created, lost = bitrix24.deal_events(deal, MAPS, "acme.bitrix24.ru")
    # The gateway's ids for the same facts (services/ingest/bitrix24.py): live and imported are one event.
    assert (created.event_id, created.source, created.pipeline, created.manager) == (
        "bitrix24:acme.bitrix24.ru:412:add", "site", "b2b", "Олег Петров")
    assert (lost.event_id, lost.type, lost.ts.isoformat(), lost.amount_rub) == (
        "bitrix24:acme.bitrix24.ru:412:C1:LOSE:2026-11-18T15:30:00+03:00", "lost", "2026-11-18T15:30:00+03:00", 45000)
    [open_deal] = bitrix24.deal_events({**deal, "STAGE_ID": "C1:NEW", "STAGE_SEMANTIC_ID": "P"}, MAPS, "acme.bitrix24.ru")
    assert open_deal.type == "created" and open_deal.stage == "Новая"


def test_bitrix24_calls_join_their_deal_through_the_activity():
    activities = [{"ID": "900", "OWNER_ID": "412", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
                   "CREATED": "2026-11-18T11:00:00+03:00"}]
    joins = bitrix24.activity_deals(activities)
    assert bitrix24.activity_events(activities[0], MAPS, NOW, "p") == []  # the call itself comes from voximplant
    call = {"CALL_ID": "externalCall.1", "PORTAL_USER_ID": "17", "CALL_TYPE": "2", "CALL_DURATION": "95",
            "CALL_START_DATE": "2026-11-18T11:00:00+03:00", "CALL_FAILED_CODE": "200", "CRM_ENTITY_TYPE": "CONTACT",
            "CRM_ENTITY_ID": "5", "CRM_ACTIVITY_ID": "900", "PHONE_NUMBER": "+79161234567"}
    [event] = bitrix24.call_events(call, MAPS, joins, "p")
    assert (event.deal_id, event.direction, event.status, event.duration_s, event.call_id) == (
        "bitrix24:p:412", "in", "answered", 95, "bitrix24:externalCall.1")
    assert "PHONE_NUMBER" not in bitrix24.trimmed("calls", call)
    assert bitrix24.call_events({**call, "CRM_ACTIVITY_ID": "1"}, MAPS, joins, "p") == []
    assert bitrix24.call_events({**call, "CALL_FAILED_CODE": "304", "CALL_DURATION": "0"}, MAPS, joins, "p")[0].status == "missed"


def test_bitrix24_tasks_and_emails():
    task = {"ID": "901", "OWNER_ID": "412", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "PROVIDER_ID": "CRM_CALL",
            "CREATED": "2026-11-18T12:00:00+03:00", "DEADLINE": "2026-11-19T12:00:00+03:00", "COMPLETED": "N"}
    created, overdue = bitrix24.activity_events(task, MAPS, NOW, "p")
    assert (created.type, created.task_kind, overdue.type) == ("task_created", "callback", "task_overdue")
    email = {**task, "ID": "902", "TYPE_ID": "4", "DIRECTION": "2", "SUBJECT": "КП по курсу"}
    [sent] = bitrix24.activity_events(email, MAPS, NOW, "p")
    assert (sent.type, sent.author, sent.channel, sent.text) == ("message", "manager", "email", "КП по курсу")


def test_history_is_produced_once_per_event_id_in_time_order():
    lead = {"id": 1, "status_id": 143, "created_at": T0, "closed_at": T0 + 600}
    note = {"id": 5, "entity_id": 1, "note_type": "call_out", "created_at": T0 + 300, "params": {"duration": 60, "call_status": 4}}
    mapped = Mapped()
    for _ in range(2):  # a page fetched twice (a crash between spool and checkpoint)
        mapped.add(lambda: amocrm.lead_events(lead, MAPS, "acme"), "lead")
        mapped.add(lambda: amocrm.note_events(note, MAPS, "acme"), "note")
    mapped.add(lambda: amocrm.lead_events({"id": 2}, MAPS, "acme"), "lead 2")
    ordered = in_time_order(mapped.events)
    assert [(s.name, e.type if s is DEALS else e.status) for s, e in ordered] == [
        (DEALS.name, "created"), (CALLS.name, "answered"), (DEALS.name, "lost")]
    assert mapped.refused == [("lead 2", "amoCRM lead 2: `created_at` is missing")]


def test_rate_limiter_spaces_requests():
    now, slept = [0.0], []

    def sleep(s):
        slept.append(round(s, 6))
        now[0] += s

    limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert slept == [0.525, 0.525]  # 2 a second, 5% under
    now[0] += 5
    limiter.wait()
    assert slept == [0.525, 0.525]  # after a pause no wait


def test_export_files(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,created_at,status,closed_at,stage,pipeline,manager,amount_rub,lost_reason,lost_comment\n"
                    "D1,2026-11-18T10:00:00+03:00,lost,2026-11-18T15:00:00+03:00,Переговоры,Основная,Анна,50000,Дорого,дорого\n"
                    "D2,2026-11-18T10:00:00+03:00,lost,,,,,,,\n", encoding="utf-8-sig")
    events, refused = files.read_export(path)
    assert [(e.type, e.ts.hour) for _, e in events] == [("created", 10), ("lost", 15)]
    assert events[1][1].lost_reason == "Дорого"
    assert refused[0][1] == "deals.csv line 3: CSV deal D2: a lost deal needs `closed_at`"
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text('{"topic": "telephony.calls", "event_id": "c1", "deal_id": "D1", "ts": "2026-11-18T11:00:00+03:00",'
                     ' "call_id": "c1", "direction": "out", "status": "answered"}\n'
                     '{"event_id": "e1", "deal_id": "D1", "ts": "2026-11-18T10:00:00+03:00", "type": "created"}\n'
                     '{"event_id": "e2", "deal_id": "D1", "ts": "2026-11-18T10:00:00", "type": "created"}\n'
                     '\n{"event_id": "e3", \n')
    events, refused = files.read_export(jsonl)
    assert [s.name for s, _ in events] == ["telephony.calls", "crm.deals"]
    assert [why.split(":")[0] for _, why in refused] == ["events.jsonl line 3", "events.jsonl line 5"]
    assert "ts" in refused[0][1] and refused[1][1].startswith("events.jsonl line 5: not JSON:")
    array = tmp_path / "events.json"
    array.write_text('[{"event_id": "e1", "deal_id": "D1", "ts": "2026-11-18T10:00:00+03:00", "type": "created"}, 7]')
    events, refused = files.read_export(array)
    assert len(events) == 1 and refused == [("7", "events.json item 2: expected a JSON object, got int")]
