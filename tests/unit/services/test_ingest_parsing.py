import json

import pytest

from leakwatch.settings import SettingsError, load_settings
from services.ingest.auth import presented, token_ok
from services.ingest.canonical import canonical_events
from services.ingest.errors import MappingError
from services.ingest.forms import entries, parse_body, parse_form
from services.ingest.vendor_maps import load_maps, phone_key
from schemas.topics import ACTIVITIES, DEALS
from pydantic import SecretStr


def test_php_style_form_fields_nest():
    form = parse_form(b"leads%5Bstatus%5D%5B0%5D%5Bid%5D=1&leads[status][1][id]=2&a[]=x&a[]=y&plain=%D0%B4%D0%B0")
    assert form == {"leads": {"status": {"0": {"id": "1"}, "1": {"id": "2"}}}, "a": {"0": "x", "1": "y"}, "plain": "да"}


def test_entries_come_in_index_order():
    assert [e["id"] for e in entries({"10": {"id": "c"}, "2": {"id": "b"}, "0": {"id": "a"}})] == ["a", "b", "c"]


@pytest.mark.parametrize("body,reason", [(b"a=1&a[b]=2", "nests under a plain value"),
                                         (b"a[b]=2&a=1", "collides"), (b"\xff=1", "UTF-8")])
def test_conflicting_form_fields_are_unmappable(body, reason):
    with pytest.raises(MappingError, match=reason):
        parse_form(body)


def test_bodies_are_json_or_form():
    assert parse_body(b'{"a": 1}', "application/json") == {"a": 1}
    assert parse_body(b"[1]", None) == [1]
    assert parse_body(b"a=1", "application/x-www-form-urlencoded") == {"a": "1"}
    with pytest.raises(MappingError, match="empty"):
        parse_body(b"  ", None)
    with pytest.raises(MappingError, match="not JSON"):
        parse_body(b"{oops", "application/json")


def test_maps_overlay_defaults_and_reject_what_they_do_not_know():
    maps = load_maps({"amocrm": {"users": {"1": "Анна"}}})
    assert maps.amo_user("1") == "Анна" and maps.amo_status("143") == "Закрыто и не реализовано"
    assert maps.amo_user("0") is None  # amoCRM's "nobody"
    for wrong, reason in [({"pipedrive": {}}, "unknown section"), ({"amocrm": {"stages": {}}}, "unknown map"),
                          ({"amocrm": {"loss_reasons": {"1": "Далеко"}}}, "neither a reason"),
                          ({"bitrix24": {"outcomes": {"C1:X": "maybe"}}}, "not one of"),
                          ({"telephony": {"phones": {"12": "D1"}}}, "not a phone")]:
        with pytest.raises(ValueError, match=reason):
            load_maps(wrong)


def test_phone_notations():
    assert phone_key("+7 (916) 123-45-67") == phone_key("89161234567") == phone_key("9161234567") == "79161234567"


def test_mapping_setting_takes_json_or_a_file(monkeypatch, tmp_path):
    mapping = {"amocrm": {"users": {"938348": "Анна Смирнова"}}}
    monkeypatch.setenv("LEAKWATCH_INGEST_MAPPING", json.dumps(mapping, ensure_ascii=False))
    assert load_settings().ingest_mapping == mapping
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("LEAKWATCH_INGEST_MAPPING", str(path))
    assert load_settings().ingest_mapping == mapping


@pytest.mark.parametrize("env,name", [
    ({"LEAKWATCH_INGEST_MAPPING": "{not json"}, "LEAKWATCH_INGEST_MAPPING"),
    ({"LEAKWATCH_INGEST_MAPPING": "/nonexistent/mapping.json"}, "LEAKWATCH_INGEST_MAPPING"),
    ({"LEAKWATCH_INGEST_PORT": "0"}, "LEAKWATCH_INGEST_PORT"),
    ({"LEAKWATCH_NOTIFIER_TELEGRAM_BOT_TOKEN": "123:abc"}, "LEAKWATCH_NOTIFIER_TELEGRAM_CHAT_ID"),
    ({"LEAKWATCH_NOTIFIER_MAX_ATTEMPTS": "0"}, "LEAKWATCH_NOTIFIER_MAX_ATTEMPTS"),
])
def test_wrong_service_setting_stops_with_its_name(monkeypatch, capsys, env, name):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError):
        load_settings()
    assert name in capsys.readouterr().err


def test_tokens_from_header_bearer_or_query():
    secret = SecretStr("s3cret")
    assert token_ok(secret, presented({"x-leakwatch-token": "s3cret"}, {}))
    assert token_ok(secret, presented({"authorization": "Bearer s3cret"}, {}))
    assert token_ok(secret, presented({}, {"token": "s3cret"}))
    assert not token_ok(secret, presented({}, {"token": "guess"}))
    assert not token_ok(None, ["anything"])  # no secret configured: closed


def test_canonical_single_or_array_all_or_nothing():
    deal = {"event_id": "e1", "deal_id": "D1", "ts": "2025-11-18T10:00:00+03:00", "type": "created"}
    assert [e.event_id for e in canonical_events(DEALS, deal)] == ["e1"]
    assert len(canonical_events(DEALS, [deal, {**deal, "event_id": "e2"}])) == 2
    with pytest.raises(MappingError, match=r"\[1\]: type") as exc:
        canonical_events(DEALS, [deal, {**deal, "type": "teleported"}, 7])
    assert "[2]: expected a JSON object" in str(exc.value)
    with pytest.raises(MappingError, match="message needs an author"):
        canonical_events(ACTIVITIES, {**deal, "type": "message"})
