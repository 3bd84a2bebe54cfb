import asyncio
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from services.ingest import bitrix24
from services.ingest.bitrix24_rest import Bitrix24Rest
from services.ingest.calls import Ignored
from services.ingest.vendor_rest import LookupFailed, RestClient
from services.ingest.errors import MappingError
from services.ingest.forms import parse_form
from services.ingest.vendor_maps import load_maps
from tests.unit.services.vendor_payloads import bitrix_deal, bitrix_form

NOW = datetime(2025, 11, 18, 9, 0, tzinfo=timezone.utc)
MAPS = load_maps({"bitrix24": {"categories": {"1": "b2b"}, "users": {"17": "Олег Петров"},
                               "stages": {"C1:PREPARATION": "КП отправлено"}, "outcomes": {"C1:JUNK": "spam"}}})


def events(fields=None, event="ONCRMDEALUPDATE"):
    return bitrix24.deal_events(parse_form(bitrix_form(event, fields=fields)), MAPS, NOW)


def test_the_id_only_payload_bitrix_sends_needs_crm_deal_get():
    payload = parse_form(bitrix_form())
    assert bitrix24.needs_deal_fields(payload) and bitrix24.deal_id(payload) == "759"
    with pytest.raises(MappingError, match="crm.deal.get"):
        bitrix24.deal_events(payload, MAPS, NOW)


def test_lost_deal_in_a_funnel():
    [e] = events(bitrix_deal("C1:LOSE"))
    assert (e.type, e.deal_id, e.pipeline, e.manager, e.amount_rub) == ("lost", "bitrix24:leakwatch.bitrix24.ru:759", "b2b", "Олег Петров", 120000)
    assert e.stage == "Сделка провалена" and e.source == "site"
    assert e.ts == datetime(2025, 11, 18, 12, 30, tzinfo=timezone(timedelta(hours=3)))


def test_outcomes_from_semantics_suffixes_and_the_mapping():
    assert events(bitrix_deal("WON", CATEGORY_ID="0", STAGE_SEMANTIC_ID="S"))[0].type == "won"
    custom_failure = events(bitrix_deal("C1:7", STAGE_SEMANTIC_ID="F"))[0]
    assert (custom_failure.type, custom_failure.stage) == ("lost", "bitrix24:C1:7")
    junk = events(bitrix_deal("C1:JUNK", STAGE_SEMANTIC_ID="F"))[0]
    assert junk.type == "lost" and junk.is_spam is True
    moving = events(bitrix_deal("C1:PREPARATION"))[0]
    assert (moving.type, moving.stage) == ("stage_changed", "КП отправлено")


def test_later_edits_of_a_closed_deal_are_one_loss_not_many():
    first = events(bitrix_deal("C1:LOSE"))[0]
    edited = events(bitrix_deal("C1:LOSE", DATE_MODIFY="2025-11-19T09:00:00+03:00", COMMENTS="уточнили"))[0]
    reopened_and_lost = events(bitrix_deal("C1:LOSE", MOVED_TIME="2025-11-25T10:00:00+03:00"))[0]
    assert first.event_id == edited.event_id != reopened_and_lost.event_id


def test_a_foreign_currency_amount_is_not_taken_as_roubles():
    assert events(bitrix_deal(CURRENCY_ID="USD", OPPORTUNITY="1500"))[0].amount_rub is None


def test_add_and_delete():
    [created] = events(bitrix_deal("C1:NEW", STAGE_SEMANTIC_ID="P"), event="ONCRMDEALADD")
    assert (created.type, created.stage, created.event_id) == ("created", "Новая", "bitrix24:leakwatch.bitrix24.ru:759:add")
    [deleted] = events(event="ONCRMDEALDELETE")
    assert (deleted.type, deleted.is_spam) == ("updated", True)


def test_contact_and_lead_events_are_known_and_ignored_others_are_unmappable():
    assert isinstance(bitrix24.event_kind(parse_form(bitrix_form("ONCRMCONTACTADD"))), Ignored)
    assert isinstance(bitrix24.event_kind(parse_form(bitrix_form("ONCRMLEADUPDATE"))), Ignored)
    assert bitrix24.event_kind(parse_form(bitrix_form("ONVOXIMPLANTCALLEND"))) == "call"
    with pytest.raises(MappingError, match="not a Bitrix24 event"):
        bitrix24.event_kind(parse_form(bitrix_form("SOMETHING_ELSE")))


def client_for(url, handler, attempts=3):
    return Bitrix24Rest(RestClient(url, per_second=1000, max_attempts=attempts, backoff_s=0,
                                   transport=httpx.MockTransport(handler)))


def test_crm_deal_get_fills_the_fields():
    seen = []

    def bitrix(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"result": bitrix_deal("C1:LOSE"), "time": {}})

    async def fetch():
        client = client_for("https://leakwatch.bitrix24.ru/rest/1/key/", bitrix)
        try:
            return await client.deal("759")
        finally:
            await client.close()

    payload = bitrix24.with_deal_fields(parse_form(bitrix_form()), asyncio.run(fetch()))
    assert str(seen[0]) == "https://leakwatch.bitrix24.ru/rest/1/key/crm.deal.get.json?id=759"
    assert bitrix24.deal_events(payload, MAPS, NOW)[0].type == "lost"


def test_crm_deal_get_failure_does_not_leak_the_url():
    async def fetch():
        client = client_for("https://leakwatch.bitrix24.ru/rest/1/secret-key/",
                            lambda r: httpx.Response(401, json={"error": "x"}))
        try:
            await client.deal("759")
        finally:
            await client.close()

    with pytest.raises(LookupFailed) as exc:
        asyncio.run(fetch())
    assert "HTTP 401" in str(exc.value) and "secret-key" not in str(exc.value)


def test_rate_limited_answers_are_retried_a_bounded_number_of_times():
    seen = []

    def busy_then_ok(request):
        seen.append(1)
        if len(seen) < 3:
            return httpx.Response(503, json={"error": "QUERY_LIMIT_EXCEEDED"})
        return httpx.Response(200, json={"result": bitrix_deal("C1:LOSE")})

    async def fetch(handler, attempts):
        client = client_for("https://leakwatch.bitrix24.ru/rest/1/key/", handler, attempts)
        try:
            return await client.deal("759")
        finally:
            await client.close()

    assert asyncio.run(fetch(busy_then_ok, 3))["ID"] == "759" and len(seen) == 3
    seen.clear()
    with pytest.raises(LookupFailed, match="after 2 attempts"):
        asyncio.run(fetch(busy_then_ok, 2))
    assert len(seen) == 2


def test_review_stage_and_the_loss_reason_user_field():
    from leakwatch.domain.reviews import CrmReviewRules
    rules = CrmReviewRules(review_stages=frozenset({"C1:UC_REVIEW"}), closed_lost_stages=frozenset({"C1:LOSE"}),
                           reason_values={"501": "Дорого", "502": "Поздно связались"})
    payload = parse_form(bitrix_form(fields=bitrix_deal(stage="C1:UC_REVIEW", UF_CRM_LOSS_REASON="501")))
    [e] = bitrix24.deal_events(payload, MAPS, NOW, rules, "UF_CRM_LOSS_REASON")
    assert (e.type, e.stage_id, e.lost_reason, e.changed_by) == ("lost", "C1:UC_REVIEW", "Дорого", "Олег Петров")
    assert bitrix24.deal_events(payload, MAPS, NOW)[0].type == "stage_changed"  # not configured: in progress
    closed = parse_form(bitrix_form(fields=bitrix_deal(stage="C1:LOSE", UF_CRM_LOSS_REASON="502",
                                                       MOVED_TIME="2025-11-18T14:00:00+03:00")))
    [c] = bitrix24.deal_events(closed, MAPS, NOW, rules, "UF_CRM_LOSS_REASON")
    assert (c.type, c.stage_id, c.lost_reason, c.from_stage) == ("lost", "C1:LOSE", "Поздно связались", None)
    assert c.event_id != e.event_id
    # An unknown enum id is no reason: the QA lead's move then only confirms.
    odd = parse_form(bitrix_form(fields=bitrix_deal(stage="C1:LOSE", UF_CRM_LOSS_REASON="999")))
    assert bitrix24.deal_events(odd, MAPS, NOW, rules, "UF_CRM_LOSS_REASON")[0].lost_reason is None
