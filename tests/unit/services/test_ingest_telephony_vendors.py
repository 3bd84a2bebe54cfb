"""Mango Office, Zadarma and Bitrix24 call payloads (tests/fixtures/vendors) to canonical calls."""

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import orjson
import pytest
from pydantic import SecretStr

from services.ingest import bitrix24_calls, mango, zadarma
from services.ingest.auth import mango_sign_ok, zadarma_signature_ok
from services.ingest.calls import CallContext, Ignored
from services.ingest.errors import MappingError
from services.ingest.forms import parse_form
from services.ingest.phones import PhoneHasher
from services.ingest.vendor_maps import load_maps
from tests.support.vendor_fixtures import answer, form, load, mango_post

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
MSK = timezone(timedelta(hours=3))
HASHER = PhoneHasher("unit-test-salt")
MAPS = load_maps({"telephony": {"phones": {"8 (916) 123-45-67": "amocrm:leakwatchdemo:31926520"},
                                "managers": {"101": "Анна Смирнова"}},
                  "bitrix24": {"users": {"17": "Олег Петров"}}})


def ctx(tz="Europe/Moscow", phones=HASHER):
    return CallContext(MAPS, phones, NOW, ZoneInfo(tz), MAPS.deals_by_phone_hash(HASHER))


def mango_json(name):
    return load(f"mango/{name}")["json"]


def test_signature_vectors_computed_by_hand():
    # printf '%s' '7916...2026-11-18 10:02:00' | openssl dgst -sha1 -hmac zd-secret | base64 (of the hex)
    assert zadarma_signature_ok(SecretStr("zd-secret"), "79161234567749512345672026-11-18 10:02:00",
                                "ZGQ2M2JjNjY2OTliYTViZjMxNmMwOGUxODJkZmIxNDZjNjVkMGFkZg==")
    assert not zadarma_signature_ok(SecretStr("zd-secret"), "79161234567749512345672026-11-18 10:02:01",
                                    "ZGQ2M2JjNjY2OTliYTViZjMxNmMwOGUxODJkZmIxNDZjNjVkMGFkZg==")
    # printf '%s' 'mango-key{"entry_id":"X"}mango-salt' | sha256sum
    sign = "67e23d1672c62d8b0236c30d47976e94bf26fc3f7656fad074108de208ab81e8"
    fields = {"vpbx_api_key": "mango-key", "sign": sign, "json": '{"entry_id":"X"}'}
    assert mango_sign_ok(SecretStr("mango-key"), SecretStr("mango-salt"), fields)
    assert not mango_sign_ok(SecretStr("mango-key"), SecretStr("mango-salt"), {**fields, "json": '{"entry_id":"Y"}'})
    assert not mango_sign_ok(SecretStr("other-key"), SecretStr("mango-salt"), fields)


def test_mango_signed_post_from_the_fixture_verifies():
    _, body = mango_post("mango/events_summary_incoming.yaml", "k", "s")
    assert mango_sign_ok(SecretStr("k"), SecretStr("s"), dict(parse_qsl(body.decode())))


def test_mango_incoming_answered_summary():
    [call] = mango.call_events("summary", mango_json("events_summary_incoming.yaml"), ctx())
    assert (call.vendor, call.account, call.call_id, call.direction, call.status) == \
        ("mango", "74951234567", "mango:MTA1MjY2NjQ1NzQ6MTAx", "in", "answered")
    assert call.duration_s == 1794985642 - 1794985330  # end_time - talk_time, not from create_time
    assert call.ts == datetime.fromtimestamp(1794985320, timezone.utc)
    assert (call.manager, call.deal_id) == ("Анна Смирнова", "amocrm:leakwatchdemo:31926520")
    assert call.client_phone_hash == HASHER("+7 916 123-45-67") and "79161234567" not in call.model_dump_json()


def test_mango_outgoing_unanswered_and_interim_events():
    [call] = mango.call_events("summary", mango_json("events_summary_outgoing_missed.yaml"), ctx())
    assert (call.direction, call.status, call.duration_s, call.manager) == ("out", "no_answer", 0.0, "Анна Смирнова")
    assert isinstance(mango.call_events("call", mango_json("events_call_appeared.yaml"), ctx()), Ignored)
    assert isinstance(mango.call_events("summary", {**mango_json("events_summary_incoming.yaml"), "call_direction": 0},
                                        ctx()), Ignored)
    with pytest.raises(MappingError, match="unknown event"):
        mango.call_events("weather", {}, ctx())


def zd(name):
    return load(f"zadarma/{name}")["fields"]


def test_zadarma_incoming_end_in_the_pbx_time_zone():
    [call] = zadarma.call_events(zd("notify_end.yaml"), ctx())
    assert (call.call_id, call.direction, call.status, call.duration_s) == \
        ("zadarma:in_a8d4c6d27f3b1a2e4c5b9d0e7f6a1b2c", "in", "answered", 312.0)
    assert call.ts == datetime(2026, 11, 18, 10, 2, tzinfo=MSK)  # local 10:02 in Moscow = 07:02 UTC
    assert (call.recording_ref, call.account, call.manager) == ("1763449320.1234567", "74951234567", "Анна Смирнова")
    [elsewhere] = zadarma.call_events(zd("notify_end.yaml"), ctx("Asia/Novosibirsk"))
    assert elsewhere.ts == datetime(2026, 11, 18, 3, 2, tzinfo=timezone.utc)


def test_zadarma_outgoing_unanswered_and_interim_events():
    [call] = zadarma.call_events(zd("notify_out_end.yaml"), ctx())
    assert (call.direction, call.status, call.recording_ref) == ("out", "no_answer", None)
    assert call.client_phone_hash == HASHER("79161234567")
    for name in ("notify_start.yaml", "notify_record.yaml"):
        assert isinstance(zadarma.call_events(zd(name), ctx()), Ignored)
    assert zadarma.signed_string(zd("notify_out_end.yaml")) == "10179161234567" + "2026-11-19 15:30:00"
    assert zadarma.signed_string({"event": "SMS"}) is None  # undocumented: cannot be verified


def test_a_call_whose_phone_links_to_no_deal_is_unmappable_and_no_salt_no_phone():
    fields = {**zd("notify_end.yaml"), "caller_id": "79990001122"}
    with pytest.raises(MappingError, match="no deal to link it to") as exc:
        zadarma.call_events(fields, ctx())
    assert "79990001122" not in str(exc.value)
    with pytest.raises(MappingError, match="LEAKWATCH_PHONE_HASH_SALT"):
        zadarma.call_events(zd("notify_end.yaml"), ctx(phones=None))


def test_bitrix24_call_end_with_its_statistic_record_links_to_the_crm_deal():
    payload = parse_form(form("bitrix24/onvoximplantcallend.yaml"))
    [record] = answer("bitrix24/voximplant_statistic_get.yaml")["result"]
    [call] = bitrix24_calls.call_events(bitrix24_calls.with_statistic(payload, record), "leakwatch.bitrix24.ru", ctx())
    assert (call.deal_id, call.direction, call.status, call.duration_s, call.manager) == \
        ("bitrix24:leakwatch.bitrix24.ru:759", "in", "answered", 312.0, "Олег Петров")
    assert call.recording_ref.startswith("https://leakwatch.bitrix24.ru/disk/downloadFile/88412/")
    assert call.ts == datetime(2026, 11, 18, 10, 2, tzinfo=MSK)


def test_bitrix24_call_without_a_crm_deal_links_by_phone_and_failed_codes_are_unanswered():
    payload = parse_form(form("bitrix24/onvoximplantcallend.yaml", **{"data[CALL_FAILED_CODE]": "304",
                                                                        "data[CALL_TYPE]": "1"}))
    [call] = bitrix24_calls.call_events(bitrix24_calls.with_statistic(payload, {"CRM_ENTITY_TYPE": "CONTACT",
                                                                                "CRM_ENTITY_ID": "4411"}),
                                        "leakwatch.bitrix24.ru", ctx())
    assert (call.deal_id, call.direction, call.status) == ("amocrm:leakwatchdemo:31926520", "out", "no_answer")


def test_phone_hash_is_salted():
    assert HASHER("79161234567") != PhoneHasher("another-salt")("79161234567")
    assert HASHER("101") is None  # an extension is not a client's phone
    assert orjson.dumps(HASHER("+7 916 123-45-67")).decode().strip('"') == HASHER("89161234567")
