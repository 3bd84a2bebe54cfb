"""`leakwatch ingest` as a process against the real broker: vendor payloads in over HTTP,
canonical events (and dead letters) read back from Kafka."""

import json
import os
import uuid

import httpx
import orjson
import pytest

from schemas.decoding import decode
from schemas.events import CallEvent, DealEvent
from schemas.topics import CALLS, DEALS
from tests.integration.services.local_http import Recorder, Service
from tests.integration.services.kafka_read import read_all
from tests.support.servers import free_port
from tests.unit.services.vendor_payloads import amo_form, amo_lead, bitrix_deal, bitrix_form

pytestmark = pytest.mark.kafka

FORM = {"content-type": "application/x-www-form-urlencoded"}
MAPPING = {"amocrm": {"pipelines": {"2116": "Основная"}, "users": {"938348": "Анна Смирнова"}},
           "bitrix24": {"categories": {"1": "b2b"}, "users": {"17": "Олег Петров"}},
           "telephony": {"phones": {"+7 916 123-45-67": "31926520"}, "managers": {"101": "Анна Смирнова"}}}


@pytest.fixture(scope="module")
def bitrix_rest():
    with Recorder({"/rest/1/key/crm.deal.get.json": (200, {"result": bitrix_deal("C1:LOSE"), "time": {}})}) as rec:
        yield rec


@pytest.fixture(scope="module")
def ingest(kafka, bitrix_rest, tmp_path_factory):
    run = uuid.uuid4().hex[:8]
    env = {**os.environ,
           "LEAKWATCH_KAFKA_BOOTSTRAP": kafka.bootstrap,
           "LEAKWATCH_TOPIC_PREFIX": f"in{run}.",
           "LEAKWATCH_APP_ID": f"ingest-{run}",
           "LEAKWATCH_INGEST_AMOCRM_TOKEN": "amo-secret",
           "LEAKWATCH_INGEST_BITRIX24_TOKEN": "b24-app-token",
           "LEAKWATCH_INGEST_TELEPHONY_TOKEN": "tel-secret",
           "LEAKWATCH_INGEST_EVENTS_TOKEN": "ev-secret",
           "LEAKWATCH_INGEST_MAPPING": json.dumps(MAPPING, ensure_ascii=False),
           "LEAKWATCH_INGEST_BITRIX24_REST_URL": f"{bitrix_rest.url}/rest/1/key/"}
    service = Service("ingest", env, free_port(), tmp_path_factory.mktemp("ingest") / "ingest.log").start()
    yield service
    assert service.stop() in (0, -15), service.tail()
    assert "Application shutdown complete" in service.tail()


def topic(service: Service, name: str) -> str:
    return service.env["LEAKWATCH_TOPIC_PREFIX"] + name


def read(kafka, service, name):
    return read_all(kafka.bootstrap, topic(service, name))


def test_amocrm_lost_deal_lands_on_crm_deals_keyed_by_deal(kafka, ingest):
    body = amo_form(("status", [amo_lead(lead_id="7001", status_id="143")]))
    r = httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=amo-secret", content=body, headers=FORM)
    assert r.status_code == 202, r.text
    [sent] = r.json()["events"]
    [(key, value)] = [(k, v) for k, v in read(kafka, ingest, "crm.deals") if v["deal_id"] == "7001"]
    assert key == b"7001"
    event = decode(DEALS, orjson.dumps(value), key=key)  # exactly what the stream will decode
    assert isinstance(event, DealEvent)
    assert (event.event_id, event.type, event.pipeline, event.manager, event.amount_rub, event.stage) == \
        (sent["event_id"], "lost", "Основная", "Анна Смирнова", 45000, "Закрыто и не реализовано")
    # amoCRM retrying the same webhook gives the same id: the stream ignores the repeat.
    again = httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=amo-secret", content=body, headers=FORM)
    assert again.json()["events"][0]["event_id"] == sent["event_id"]


def test_bitrix24_id_only_webhook_is_completed_by_crm_deal_get(kafka, ingest, bitrix_rest):
    r = httpx.post(f"{ingest.url}/v1/webhooks/bitrix24", content=bitrix_form(deal_id="759"), headers=FORM)
    assert r.status_code == 202, r.text
    assert bitrix_rest.at("/rest/1/key/crm.deal.get.json")[-1].path.endswith("?id=759")
    [(key, value)] = [(k, v) for k, v in read(kafka, ingest, "crm.deals") if v["deal_id"] == "759"]
    assert key == b"759"
    assert (value["type"], value["pipeline"], value["manager"], value["amount_rub"]) == ("lost", "b2b", "Олег Петров", 120000)


def test_telephony_call_with_transcript_and_the_log_keeps_no_text(kafka, ingest):
    call = {"call_id": "c-9001", "phone": "8 (916) 123-45-67", "direction": "outgoing", "status": "answered",
            "duration_s": 312, "manager_id": "101", "started_at": "2025-11-18T10:02:00+03:00",
            "transcript": [{"speaker": "manager", "text": "Отправлю программу курса сегодня", "offset_s": 3},
                           {"speaker": "client", "text": "Хорошо, жду письмо", "offset_s": 9}]}
    r = httpx.post(f"{ingest.url}/v1/webhooks/telephony", json=call, headers={"X-Leakwatch-Token": "tel-secret"})
    assert r.status_code == 202, r.text
    [(key, value)] = [(k, v) for k, v in read(kafka, ingest, "telephony.calls") if v["call_id"] == "c-9001"]
    event = decode(CALLS, orjson.dumps(value), key=key)
    assert isinstance(event, CallEvent) and key == b"31926520"
    assert (event.direction, event.status, event.manager) == ("out", "answered", "Анна Смирнова")
    assert [t.text for t in event.transcript] == ["Отправлю программу курса сегодня", "Хорошо, жду письмо"]
    log = ingest.log_path.read_text()
    # The phone in any spelling (not a bare "916": log timestamps' milliseconds can read 916).
    assert event.event_id in log and "Отправлю программу" not in log
    assert not any(phone in log for phone in ("123-45-67", "1234567", "916) 123", "916 123"))


def test_canonical_array(kafka, ingest):
    events = [{"event_id": f"act-{i}", "deal_id": "7002", "ts": "2025-11-18T11:00:00+03:00",
               "type": "materials_sent", "materials": "КП"} for i in range(2)]
    r = httpx.post(f"{ingest.url}/v1/events/crm.activities", json=events, headers={"Authorization": "Bearer ev-secret"})
    assert r.status_code == 202, r.text
    got = [(k, v["event_id"]) for k, v in read(kafka, ingest, "crm.activities") if v["deal_id"] == "7002"]
    assert sorted(got) == [(b"7002", "act-0"), (b"7002", "act-1")]


def test_unmappable_payload_goes_to_deadletter_and_a_wrong_token_nowhere(kafka, ingest):
    bad = amo_form(("status", [amo_lead(lead_id="7003", price="сорок тысяч")]))
    r = httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=amo-secret", content=bad, headers=FORM)
    assert r.status_code == 422 and "not a number" in r.json()["error"]
    intruder = amo_form(("status", [amo_lead(lead_id="7004")]))
    assert httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=guess", content=intruder,
                      headers=FORM).status_code == 401
    letters = [v for _, v in read(kafka, ingest, "deadletter")]
    [letter] = [v for v in letters if v["payload"] == bad.decode()]
    assert letter["topic"] == "crm.deals" and letter["error"] == "ingest amocrm: " + r.json()["error"]
    assert not any("7004" in v["payload"] for v in letters)
    assert not any(v["deal_id"] in ("7003", "7004") for _, v in read(kafka, ingest, "crm.deals"))
