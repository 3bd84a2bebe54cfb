"""The HTTP contract (status codes, secrets, dead letters) with an in-memory publisher;
the Kafka path itself is covered in tests/integration/services."""

import httpx
import pytest
from fastapi.testclient import TestClient

from leakwatch.settings import Settings
from services.ingest.app import create_app
from services.ingest.bitrix24_rest import Bitrix24Deals
from services.ingest.vendor_maps import load_maps
from services.kafka_out import DeliveryFailed
from tests.unit.services.vendor_payloads import amo_form, amo_lead, bitrix_deal, bitrix_form

FORM = {"content-type": "application/x-www-form-urlencoded"}


class MemoryPublisher:
    def __init__(self):
        self.published, self.dead, self.fail = [], [], False

    async def publish(self, spec, events):
        if self.fail:
            raise DeliveryFailed("broker down")
        self.published += [(spec.name, e) for e in events]

    async def dead_letter(self, topic, error, raw, key=None):
        self.dead.append((topic, error, raw))

    def close(self):
        pass


@pytest.fixture
def setup():
    settings = Settings(ingest_amocrm_token="amo-secret", ingest_bitrix24_token="b24-app-token",
                        ingest_telephony_token="tel-secret", ingest_events_token="ev-secret")
    publisher = MemoryPublisher()
    deal = bitrix_deal("C1:LOSE")
    bitrix = Bitrix24Deals("https://b24.example/rest/1/k/",
                           transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"result": deal})))
    app = create_app(settings, publisher, load_maps({}), bitrix=bitrix)
    with TestClient(app) as client:
        yield client, publisher


def test_health_lists_open_sources(setup):
    client, _ = setup
    assert client.get("/health").json() == {"status": "ok", "sources": {
        "amocrm": True, "bitrix24": True, "telephony": True, "events": True}}


def test_amocrm_with_query_token_is_accepted_with_event_ids(setup):
    client, publisher = setup
    r = client.post("/v1/webhooks/amocrm?token=amo-secret", content=amo_form(("status", [amo_lead()])), headers=FORM)
    assert r.status_code == 202
    assert r.json()["topic"] == "crm.deals" and r.json()["events"][0]["deal_id"] == "31926520"
    assert publisher.published[0][1].event_id == r.json()["events"][0]["event_id"]


def test_wrong_token_is_401_and_stores_nothing(setup):
    client, publisher = setup
    r = client.post("/v1/webhooks/amocrm?token=nope", content=amo_form(("status", [amo_lead()])), headers=FORM)
    assert r.status_code == 401 and "LEAKWATCH_INGEST_AMOCRM_TOKEN" in r.json()["error"]
    assert publisher.published == [] and publisher.dead == []


def test_unmappable_is_422_and_the_raw_body_is_dead_lettered(setup):
    client, publisher = setup
    body = b"contacts[add][0][id]=5"
    r = client.post("/v1/webhooks/amocrm", content=body, headers={**FORM, "X-Leakwatch-Token": "amo-secret"})
    assert r.status_code == 422 and r.json()["dead_letter"] is True and "no deal" in r.json()["error"]
    assert publisher.dead == [("crm.deals", "ingest amocrm: " + r.json()["error"], body)]


def test_bitrix_application_token_and_crm_deal_get(setup):
    client, publisher = setup
    r = client.post("/v1/webhooks/bitrix24", content=bitrix_form(), headers=FORM)
    assert r.status_code == 202, r.text
    assert publisher.published[0][1].type == "lost"
    assert client.post("/v1/webhooks/bitrix24", content=bitrix_form(application_token="other"),
                       headers=FORM).status_code == 401


def test_kafka_not_confirming_is_503(setup):
    client, publisher = setup
    publisher.fail = True
    r = client.post("/v1/webhooks/amocrm", content=amo_form(("status", [amo_lead()])),
                    headers={**FORM, "Authorization": "Bearer amo-secret"})
    assert r.status_code == 503


def test_canonical_endpoint(setup):
    client, publisher = setup
    call = {"event_id": "c1", "deal_id": "D1", "ts": "2025-11-18T10:00:00+03:00", "call_id": "c1",
            "direction": "in", "status": "missed"}
    headers = {"X-Leakwatch-Token": "ev-secret"}
    assert client.post("/v1/events/telephony.calls", json=[call], headers=headers).status_code == 202
    assert client.post("/v1/events/refusals.classified", json=call, headers=headers).status_code == 404
    r = client.post("/v1/events/telephony.calls", json={**call, "direction": "up"}, headers=headers)
    assert r.status_code == 422 and "direction" in r.json()["error"]


def test_a_source_without_a_secret_is_closed():
    app = create_app(Settings(), MemoryPublisher(), load_maps({}))
    with TestClient(app) as client:
        assert client.post("/v1/webhooks/telephony", json={}, headers={"X-Leakwatch-Token": ""}).status_code == 401
