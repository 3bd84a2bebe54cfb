"""`leakwatch ingest` as a process against the real broker: each vendor's documented payloads
(tests/fixtures/vendors) posted over HTTP, the canonical events (and dead letters) read back
from Kafka. amoCRM's and Bitrix24's REST APIs are local servers answering with the documented
examples."""

import json
import os
import time
import uuid
from datetime import datetime, timezone

import httpx
import orjson
import pytest

from schemas.decoding import decode
from schemas.events import CallEvent, DealEvent
from schemas.topics import CALLS, DEALS
from services.ingest.phones import PhoneHasher
from tests.integration.services.kafka_read import read_all
from tests.integration.services.local_http import Recorder, Service
from tests.support.servers import free_port
from tests.support.vendor_fixtures import FORM, answer, form, mango_post, zadarma_post
from tests.unit.services.vendor_payloads import amo_form, amo_lead

pytestmark = pytest.mark.kafka

SALT = "integration-salt-0123456789"
CLIENT = "amocrm:leakwatchdemo:31926520"  # the deal the client's phone belongs to
MAPPING = {"amocrm": {"pipelines": {"2116": "Основная"}, "users": {"938348": "Анна Смирнова"}},
           "bitrix24": {"categories": {"1": "b2b"}, "users": {"17": "Олег Петров"}},
           "telephony": {"phones": {"+7 916 123-45-67": CLIENT}, "managers": {"101": "Анна Смирнова"}}}
B24 = "/rest/1/key"
STAT = f"{B24}/voximplant.statistic.get.json"


@pytest.fixture(scope="module")
def vendor_rest():
    with Recorder({f"{B24}/crm.deal.get.json": (200, answer("bitrix24/crm_deal_get.yaml")),
                   STAT: (200, answer("bitrix24/voximplant_statistic_get.yaml")),
                   "/api/v4/leads/31926520": (200, answer("amocrm/lead_with_loss_reason.yaml"))}) as rec:
        yield rec


@pytest.fixture(scope="module")
def ingest(kafka, vendor_rest, tmp_path_factory):
    run = uuid.uuid4().hex[:8]
    env = {**os.environ,
           "LEAKWATCH_KAFKA_BOOTSTRAP": kafka.bootstrap,
           "LEAKWATCH_TOPIC_PREFIX": f"in{run}.",
           "LEAKWATCH_APP_ID": f"ingest-{run}",
           "LEAKWATCH_BROKER_SESSION_TIMEOUT_S": "6",
           "LEAKWATCH_BROKER_HEARTBEAT_INTERVAL_S": "1",
           "LEAKWATCH_INGEST_AMOCRM_TOKEN": "amo-secret",
           "LEAKWATCH_INGEST_BITRIX24_APP_TOKEN": "APP_TOKEN",
           "LEAKWATCH_INGEST_MANGO_API_KEY": "mango-key",
           "LEAKWATCH_INGEST_MANGO_API_SALT": "mango-salt",
           "LEAKWATCH_INGEST_ZADARMA_SECRET": "zd-secret",
           "LEAKWATCH_INGEST_ZADARMA_TIMEZONE": "Europe/Moscow",
           "LEAKWATCH_INGEST_TELEPHONY_TOKEN": "tel-secret",
           "LEAKWATCH_INGEST_EVENTS_TOKEN": "ev-secret",
           "LEAKWATCH_PHONE_HASH_SALT": SALT,
           "LEAKWATCH_INGEST_MAPPING": json.dumps(MAPPING, ensure_ascii=False),
           "LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL": f"{vendor_rest.url}{B24}/",
           "LEAKWATCH_INGEST_AMOCRM_API_URL": vendor_rest.url,
           "LEAKWATCH_INGEST_AMOCRM_API_TOKEN": "amo-api-token",
           "LEAKWATCH_INGEST_REST_MAX_ATTEMPTS": "2",
           "LEAKWATCH_INGEST_RETRY_INTERVAL_S": "1"}
    service = Service("ingest", env, free_port(), tmp_path_factory.mktemp("ingest") / "ingest.log").start()
    yield service
    assert service.stop() in (0, -15), service.tail()
    assert "Application shutdown complete" in service.tail()


def topic(service: Service, name: str) -> str:
    return service.env["LEAKWATCH_TOPIC_PREFIX"] + name


def read(kafka, service, name):
    return read_all(kafka.bootstrap, topic(service, name))


def calls_for(kafka, ingest, call_id):
    return [(k, v) for k, v in read(kafka, ingest, "telephony.calls") if v["call_id"] == call_id]


def test_amocrm_lost_lead_gets_its_loss_reason_from_the_api(kafka, ingest, vendor_rest):
    body = form("amocrm/leads_status_lost.yaml")
    r = httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=amo-secret", content=body, headers=FORM)
    assert (r.status_code, r.json()["status"]) == (200, "accepted"), r.text
    [sent] = r.json()["events"]
    [hit] = vendor_rest.at("/api/v4/leads/31926520")
    assert hit.path.endswith("?with=loss_reason") and hit.headers["Authorization"] == "Bearer amo-api-token"
    [(key, value)] = [(k, v) for k, v in read(kafka, ingest, "crm.deals") if v["event_id"] == sent["event_id"]]
    event = decode(DEALS, orjson.dumps(value), key=key)  # exactly what the stream will decode
    assert isinstance(event, DealEvent) and key == b"amocrm:leakwatchdemo:31926520"
    assert (event.type, event.pipeline, event.manager, event.amount_rub, event.lost_reason, event.account) == \
        ("lost", "Основная", "Анна Смирнова", 45000, "Выбрал конкурента", "leakwatchdemo")
    # amoCRM retrying the same webhook gives the same id: the stream ignores the repeat.
    again = httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=amo-secret", content=body, headers=FORM)
    assert again.json()["events"][0]["event_id"] == sent["event_id"]


def test_bitrix24_deal_and_call_are_completed_by_its_rest(kafka, ingest, vendor_rest):
    r = httpx.post(f"{ingest.url}/v1/webhooks/bitrix24", content=form("bitrix24/oncrmdealupdate.yaml"), headers=FORM)
    assert (r.status_code, r.json()["status"]) == (200, "accepted"), r.text
    assert vendor_rest.at(f"{B24}/crm.deal.get.json")[-1].path.endswith("?id=759")
    deal = "bitrix24:leakwatch.bitrix24.ru:759"
    [(key, value)] = [(k, v) for k, v in read(kafka, ingest, "crm.deals") if v["deal_id"] == deal]
    assert key == deal.encode()
    assert (value["type"], value["pipeline"], value["manager"], value["amount_rub"]) == ("lost", "b2b", "Олег Петров", 120000)

    r = httpx.post(f"{ingest.url}/v1/webhooks/bitrix24", content=form("bitrix24/onvoximplantcallend.yaml"), headers=FORM)
    assert (r.status_code, r.json()["status"]) == (200, "accepted"), r.text
    assert "FILTER%5BCALL_ID%5D=externalCall." in vendor_rest.at(STAT)[-1].path
    [(key, value)] = calls_for(kafka, ingest, "bitrix24:externalCall.2b4e58d3f2a0c6fbc8a1f1a0b3d0c9e1.1763449320")
    call = decode(CALLS, orjson.dumps(value), key=key)
    assert isinstance(call, CallEvent) and key == deal.encode()  # linked by the CRM entity of the call record
    assert (call.direction, call.status, call.duration_s, call.manager) == ("in", "answered", 312.0, "Олег Петров")
    assert call.recording_ref.startswith("https://leakwatch.bitrix24.ru/disk/downloadFile/")
    assert call.client_phone_hash == PhoneHasher(SALT)("+79161234567")


def test_mango_summary_is_a_call_and_events_call_is_ignored(kafka, ingest):
    event, body = mango_post("mango/events_call_appeared.yaml", "mango-key", "mango-salt")
    r = httpx.post(f"{ingest.url}/v1/webhooks/mango/events/{event}", content=body, headers=FORM)
    assert (r.status_code, r.json()["status"]) == (200, "ignored")
    event, body = mango_post("mango/events_summary_incoming.yaml", "mango-key", "mango-salt")
    r = httpx.post(f"{ingest.url}/v1/webhooks/mango/events/{event}", content=body, headers=FORM)
    assert (r.status_code, r.json()["status"]) == (200, "accepted"), r.text
    [(key, value)] = calls_for(kafka, ingest, "mango:MTA1MjY2NjQ1NzQ6MTAx")
    assert key == CLIENT.encode()  # linked by the phone's hash
    assert (value["direction"], value["status"], value["duration_s"], value["manager"]) == \
        ("in", "answered", 312.0, "Анна Смирнова")
    assert datetime.fromisoformat(value["ts"]) == datetime(2026, 11, 18, 7, 2, tzinfo=timezone.utc)
    forged = body.replace(b"sign=", b"sign=0")
    assert httpx.post(f"{ingest.url}/v1/webhooks/mango/events/summary", content=forged, headers=FORM).status_code == 401


def test_zadarma_echo_end_and_a_forged_signature(kafka, ingest):
    assert httpx.get(f"{ingest.url}/v1/webhooks/zadarma", params={"zd_echo": "7f3a91"}).text == "7f3a91"
    body, headers = zadarma_post("zadarma/notify_start.yaml", "zd-secret")
    assert httpx.post(f"{ingest.url}/v1/webhooks/zadarma", content=body, headers=headers).json()["status"] == "ignored"
    body, headers = zadarma_post("zadarma/notify_out_end.yaml", "zd-secret")
    r = httpx.post(f"{ingest.url}/v1/webhooks/zadarma", content=body, headers=headers)
    assert (r.status_code, r.json()["status"]) == (200, "accepted"), r.text
    [(key, value)] = calls_for(kafka, ingest, "zadarma:out_0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    assert (key, value["direction"], value["status"]) == (CLIENT.encode(), "out", "no_answer")
    assert datetime.fromisoformat(value["ts"]) == datetime(2026, 11, 19, 12, 30, tzinfo=timezone.utc)  # 15:30 MSK
    body, headers = zadarma_post("zadarma/notify_end.yaml", "guessed-secret")
    assert httpx.post(f"{ingest.url}/v1/webhooks/zadarma", content=body, headers=headers).status_code == 401
    assert calls_for(kafka, ingest, "zadarma:in_a8d4c6d27f3b1a2e4c5b9d0e7f6a1b2c") == []


def test_a_failed_lookup_is_kept_and_retried_until_it_works(kafka, ingest, vendor_rest):
    good = vendor_rest.routes[STAT]
    vendor_rest.routes[STAT] = (503, {"error": "QUERY_LIMIT_EXCEEDED"})
    body = form("bitrix24/onvoximplantcallend.yaml", **{"data[CALL_ID]": "externalCall.retry.1"})
    r = httpx.post(f"{ingest.url}/v1/webhooks/bitrix24", content=body, headers=FORM)
    assert (r.status_code, r.json()["status"]) == (202, "queued"), r.text
    before = len(vendor_rest.at(STAT))
    vendor_rest.wait_for(STAT, before + 2, timeout_s=60)  # the retrier asked again (and failed again)
    vendor_rest.routes[STAT] = good
    deadline = time.monotonic() + 90
    while not calls_for(kafka, ingest, "bitrix24:externalCall.retry.1") and time.monotonic() < deadline:
        time.sleep(1)
    [(key, _)] = calls_for(kafka, ingest, "bitrix24:externalCall.retry.1")
    assert key == b"bitrix24:leakwatch.bitrix24.ru:759"


def test_generic_telephony_call_with_transcript_and_the_log_keeps_no_text(kafka, ingest):
    call = {"call_id": "c-9001", "phone": "8 (916) 123-45-67", "direction": "outgoing", "status": "answered",
            "duration_s": 312, "manager_id": "101", "started_at": "2025-11-18T10:02:00+03:00",
            "transcript": [{"speaker": "manager", "text": "Отправлю программу курса сегодня", "offset_s": 3},
                           {"speaker": "client", "text": "Хорошо, жду письмо", "offset_s": 9}]}
    r = httpx.post(f"{ingest.url}/v1/webhooks/telephony", json=call, headers={"X-Leakwatch-Token": "tel-secret"})
    assert r.status_code == 200, r.text
    [(key, value)] = calls_for(kafka, ingest, "telephony:c-9001")
    event = decode(CALLS, orjson.dumps(value), key=key)
    assert isinstance(event, CallEvent) and key == CLIENT.encode()
    assert [t.text for t in event.transcript] == ["Отправлю программу курса сегодня", "Хорошо, жду письмо"]
    log = ingest.log_path.read_text()
    everything = log + json.dumps([v for _, v in read(kafka, ingest, "telephony.calls")])
    # The client's phone in any spelling (not a bare "916": log timestamps' milliseconds can read
    # 916; not "1234567": the company's own line 74951234567 is no personal data and may show).
    assert event.event_id in log and "Отправлю программу" not in log
    assert not any(phone in everything for phone in ("123-45-67", "9161234567", "916) 123", "916 123"))


def test_canonical_array(kafka, ingest):
    events = [{"event_id": f"act-{i}", "deal_id": "7002", "ts": "2025-11-18T11:00:00+03:00",
               "type": "materials_sent", "materials": "КП"} for i in range(2)]
    r = httpx.post(f"{ingest.url}/v1/events/crm.activities", json=events, headers={"Authorization": "Bearer ev-secret"})
    assert r.status_code == 200, r.text
    got = [(k, v["event_id"]) for k, v in read(kafka, ingest, "crm.activities") if v["deal_id"] == "7002"]
    assert sorted(got) == [(b"7002", "act-0"), (b"7002", "act-1")]


def test_unmappable_payload_goes_to_the_private_deadletter_and_a_wrong_token_nowhere(kafka, ingest):
    bad = amo_form(("status", [amo_lead(lead_id="7003", status_id="142", price="сорок тысяч")]))
    r = httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=amo-secret", content=bad, headers=FORM)
    assert (r.status_code, r.json()["status"]) == (202, "dead_lettered") and "not a number" in r.json()["error"]
    intruder = amo_form(("status", [amo_lead(lead_id="7004")]))
    assert httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=tel-secret", content=intruder,
                      headers=FORM).status_code == 401
    letters = [v for _, v in read(kafka, ingest, "ingest.deadletter")]
    [letter] = [v for v in letters if v["payload"] == bad.decode()]
    assert letter["topic"] == "crm.deals" and letter["error"] == "ingest amocrm: " + r.json()["error"]
    assert not any("7004" in v["payload"] for v in letters)
    assert not any(v["deal_id"].endswith((":7003", ":7004")) for _, v in read(kafka, ingest, "crm.deals"))
    # The public deadletter topic gets none of the gateway's raw bodies.
    assert read(kafka, ingest, "deadletter") == []
    metrics = httpx.get(f"{ingest.url}/metrics").text
    assert 'leakwatch_ingest_requests_total{outcome="dead_lettered",source="amocrm"} 1.0' in metrics
    assert 'leakwatch_ingest_requests_total{outcome="unauthorized",source="amocrm"} 1.0' in metrics
