"""The HTTP contract (status codes, each vendor's credential, dead letters, the body cap) with
an in-memory publisher; the Kafka path itself is covered in tests/integration/services."""

import httpx
import pytest
from fastapi.testclient import TestClient

from leakwatch.settings import Settings
from services.ingest.app import create_app
from services.ingest.bitrix24_rest import Bitrix24Rest
from services.ingest.handlers import Handlers
from services.ingest.vendor_maps import load_maps
from services.ingest.vendor_rest import RestClient
from services.kafka_out import DeliveryFailed
from tests.support.vendor_fixtures import FORM, answer, form, mango_post, zadarma_post
from tests.unit.services.vendor_payloads import amo_form, amo_lead, bitrix_form

SECRETS = dict(ingest_amocrm_token="amo-secret", ingest_bitrix24_app_token="APP_TOKEN",
               ingest_telephony_token="tel-secret", ingest_events_token="ev-secret",
               ingest_reviews_token="qa-secret", ingest_mango_api_key="mango-key",
               ingest_mango_api_salt="mango-salt", ingest_zadarma_secret="zd-secret",
               phone_hash_salt="test-salt-0123456789")
MAPS = {"telephony": {"phones": {"+7 916 123-45-67": "amocrm:leakwatchdemo:31926520"}}}


class MemoryPublisher:
    def __init__(self):
        self.published, self.dead, self.kept, self.fail = [], [], [], False

    async def publish(self, spec, events):
        if self.fail:
            raise DeliveryFailed("broker down")
        self.published += [(spec.name, e) for e in events]

    async def dead_letter(self, topic, error, raw, key=None):
        self.dead.append((topic, error, raw))

    async def retry_later(self, route, topic, error, raw, attempt):
        self.kept.append((route, topic, raw, attempt))

    def close(self):
        pass


def bitrix_transport(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("crm.deal.get.json"):
        return httpx.Response(200, json=answer("bitrix24/crm_deal_get.yaml"))
    return httpx.Response(503, json={"error": "QUERY_LIMIT_EXCEEDED"})


@pytest.fixture
def setup():
    settings = Settings(**SECRETS)
    publisher = MemoryPublisher()
    rest = RestClient("https://b24.example/rest/1/k/", per_second=1000, max_attempts=2, backoff_s=0,
                      transport=httpx.MockTransport(bitrix_transport))
    handlers = Handlers(settings, load_maps(MAPS), bitrix_rest=Bitrix24Rest(rest))
    with TestClient(create_app(settings, publisher, handlers)) as client:
        yield client, publisher


def test_health_lists_open_sources(setup):
    client, _ = setup
    assert client.get("/health").json()["sources"] == {
        "amocrm": True, "telephony": True, "events": True, "reviews": True, "bitrix24": True,
        "mango": True, "zadarma": True}


def test_amocrm_with_query_token_is_accepted_with_namespaced_ids(setup):
    client, publisher = setup
    r = client.post("/v1/webhooks/amocrm?token=amo-secret", content=amo_form(("status", [amo_lead()])), headers=FORM)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert r.json()["events"][0]["deal_id"] == "amocrm:leakwatchdemo:31926520"
    assert publisher.published[0][1].event_id == r.json()["events"][0]["event_id"]


@pytest.mark.parametrize("path,token", [
    ("/v1/webhooks/amocrm?token=nope", None),
    ("/v1/webhooks/amocrm?token=tel-secret", None),  # another source's token opens nothing here
    ("/v1/webhooks/telephony", "amo-secret"),
])
def test_wrong_token_is_401_and_stores_nothing(setup, path, token):
    client, publisher = setup
    headers = {**FORM, **({"X-Leakwatch-Token": token} if token else {})}
    r = client.post(path, content=amo_form(("status", [amo_lead()])), headers=headers)
    assert r.status_code == 401 and "LEAKWATCH_INGEST_" in r.json()["error"]
    assert publisher.published == [] and publisher.dead == []


def test_unmappable_is_202_and_the_raw_body_is_dead_lettered(setup):
    client, publisher = setup
    body = b"leads[sideways][0][id]=5&account[subdomain]=x"
    r = client.post("/v1/webhooks/amocrm", content=body, headers={**FORM, "X-Leakwatch-Token": "amo-secret"})
    assert r.status_code == 202 and r.json()["status"] == "dead_lettered" and "no deal" in r.json()["error"]
    assert publisher.dead == [("crm.deals", "ingest amocrm: " + r.json()["error"], body)]


def test_known_unused_events_are_200_ignored_and_counted(setup):
    client, publisher = setup
    r1 = client.post("/v1/webhooks/amocrm?token=amo-secret", content=form("amocrm/contacts_add.yaml"), headers=FORM)
    r2 = client.post("/v1/webhooks/bitrix24", content=form("bitrix24/oncrmcontactadd.yaml"), headers=FORM)
    event, body = mango_post("mango/events_call_appeared.yaml", "mango-key", "mango-salt")
    r3 = client.post(f"/v1/webhooks/mango/events/{event}", content=body, headers=FORM)
    zd_body, zd_headers = zadarma_post("zadarma/notify_start.yaml", "zd-secret")
    r4 = client.post("/v1/webhooks/zadarma", content=zd_body, headers=zd_headers)
    assert [(r.status_code, r.json()["status"]) for r in (r1, r2, r3, r4)] == [(200, "ignored")] * 4
    assert publisher.published == [] and publisher.dead == []
    metrics = client.get("/metrics").text
    for source in ("amocrm", "bitrix24", "mango", "zadarma"):
        assert f'leakwatch_ingest_requests_total{{outcome="ignored",source="{source}"}} 1.0' in metrics


def test_bitrix_application_token_and_crm_deal_get(setup):
    client, publisher = setup
    r = client.post("/v1/webhooks/bitrix24", content=form("bitrix24/oncrmdealupdate.yaml"), headers=FORM)
    assert r.status_code == 200, r.text
    assert (publisher.published[0][1].type, publisher.published[0][1].deal_id) == ("lost", "bitrix24:leakwatch.bitrix24.ru:759")
    r = client.post("/v1/webhooks/bitrix24", content=bitrix_form(application_token="other"), headers=FORM)
    assert r.status_code == 401 and len(publisher.published) == 1


def test_a_failed_vendor_lookup_keeps_the_webhook_for_a_retry(setup):
    client, publisher = setup
    body = form("bitrix24/onvoximplantcallend.yaml")
    r = client.post("/v1/webhooks/bitrix24", content=body, headers=FORM)
    assert r.status_code == 202 and r.json()["status"] == "queued" and "QUERY_LIMIT" not in r.json()["error"]
    assert publisher.kept == [("bitrix24", "telephony.calls", body, 1)] and publisher.published == []


def test_mango_sign_is_checked_before_json_is_read(setup):
    client, publisher = setup
    event, body = mango_post("mango/events_summary_incoming.yaml", "mango-key", "wrong-salt")
    assert client.post(f"/v1/webhooks/mango/events/{event}", content=body, headers=FORM).status_code == 401
    event, body = mango_post("mango/events_summary_incoming.yaml", "mango-key", "mango-salt")
    r = client.post(f"/v1/webhooks/mango/events/{event}", content=body, headers=FORM)
    assert r.status_code == 200 and r.json()["events"][0]["deal_id"] == "amocrm:leakwatchdemo:31926520"


def test_zadarma_echo_and_signature(setup):
    client, publisher = setup
    echo = client.get("/v1/webhooks/zadarma", params={"zd_echo": "a1B2c3"})
    assert (echo.status_code, echo.text) == (200, "a1B2c3")
    body, headers = zadarma_post("zadarma/notify_end.yaml", "other-secret")
    assert client.post("/v1/webhooks/zadarma", content=body, headers=headers).status_code == 401
    body, headers = zadarma_post("zadarma/notify_end.yaml", "zd-secret")
    assert client.post("/v1/webhooks/zadarma", content=body, headers=headers).status_code == 200
    assert len(publisher.published) == 1


def test_kafka_not_confirming_is_503_not_stored(setup):
    client, publisher = setup
    publisher.fail = True
    r = client.post("/v1/webhooks/amocrm", content=amo_form(("status", [amo_lead()])),
                    headers={**FORM, "Authorization": "Bearer amo-secret"})
    assert r.status_code == 503 and r.json()["status"] == "not_stored"


def test_body_cap_stops_reading_a_chunked_body(setup, monkeypatch):
    client, publisher = setup
    monkeypatch.setattr("services.ingest.app.MAX_BODY_BYTES", 1000)
    def chunks():
        for _ in range(100):
            yield b"x" * 100

    r = client.post("/v1/webhooks/telephony", content=chunks(), headers={"X-Leakwatch-Token": "tel-secret"})
    assert r.status_code == 413 and publisher.dead == []


def test_canonical_endpoint_and_reviews_need_their_own_token(setup):
    client, publisher = setup
    call = {"event_id": "c1", "deal_id": "D1", "ts": "2025-11-18T10:00:00+03:00", "call_id": "c1",
            "direction": "in", "status": "missed"}
    headers = {"X-Leakwatch-Token": "ev-secret"}
    assert client.post("/v1/events/telephony.calls", json=[call], headers=headers).status_code == 200
    assert client.post("/v1/events/refusals.classified", json=call, headers=headers).status_code == 404
    r = client.post("/v1/events/telephony.calls", json={**call, "direction": "up"}, headers=headers)
    assert r.status_code == 202 and "direction" in r.json()["error"]
    review = {"event_id": "r1", "deal_id": "D1", "ts": "2025-11-18T10:00:00+03:00", "reviewer": "qa",
              "target": True, "reason": "Дорого", "kind": "real"}
    assert client.post("/v1/events/refusals.reviewed", json=review, headers=headers).status_code == 401
    assert client.post("/v1/events/refusals.reviewed", json=review,
                       headers={"X-Leakwatch-Token": "qa-secret"}).status_code == 200


def test_a_source_without_a_secret_is_closed():
    settings = Settings()
    with TestClient(create_app(settings, MemoryPublisher(), Handlers(settings, load_maps({})))) as client:
        assert client.post("/v1/webhooks/telephony", json={}, headers={"X-Leakwatch-Token": ""}).status_code == 401
        assert client.post("/v1/webhooks/zadarma", content=b"event=NOTIFY_END", headers=FORM).status_code == 401
        assert client.post("/v1/webhooks/mango/events/summary", content=b"json={}", headers=FORM).status_code == 401


def test_ingest_will_not_start_with_a_telephony_source_and_no_phone_salt():
    import os
    import subprocess
    import sys

    env = {**os.environ, "LEAKWATCH_INGEST_ZADARMA_SECRET": "zd", "LEAKWATCH_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    env.pop("LEAKWATCH_PHONE_HASH_SALT", None)
    done = subprocess.run([sys.executable, "-m", "leakwatch.cli", "ingest"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "LEAKWATCH_PHONE_HASH_SALT" in done.stderr
