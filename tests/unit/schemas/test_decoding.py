import json

from schemas.decoding import decode
from schemas.events import DeadLetter, DealEvent
from schemas.generate import file_for, render
from schemas.topics import ALL, CALLS, DEALS


def raw(**kw) -> bytes:
    base = {"event_id": "e1", "deal_id": "D1", "ts": "2026-11-18T10:00:00+03:00", "type": "lost"}
    return json.dumps({**base, **kw}, ensure_ascii=False).encode()


def test_valid_event_decodes_and_unknown_fields_are_ignored():
    event = decode(DEALS, raw(lost_reason="Дорого", vendor_field=1), key=b"D1")
    assert isinstance(event, DealEvent) and event.lost_reason == "Дорого"


def test_malformed_events_become_dead_letters_with_reasons():
    cases = {
        b"": "empty message",
        b"{oops": "not JSON",
        b"[1]": "expected a JSON object",
        raw(type="teleported"): "type",
        raw(ts="2026-11-18T10:00:00"): "ts",  # no offset: times would be ambiguous
        raw(lost_reason="Потому что"): "lost_reason",
    }
    for payload, reason in cases.items():
        dead = decode(DEALS, payload, key=b"D1", partition=2, offset=7)
        assert isinstance(dead, DeadLetter), payload
        assert reason in dead.error and dead.partition == 2 and dead.offset == 7


def test_key_must_match_the_deal():
    dead = decode(DEALS, raw(), key=b"D2")
    assert isinstance(dead, DeadLetter) and "differs" in dead.error


def test_binary_payload_is_kept_as_base64():
    dead = decode(CALLS, b"\xff\xfe", key=None)
    assert dead.payload.startswith("base64:")


def test_committed_json_schemas_match_the_models():
    for spec in ALL:
        assert file_for(spec).read_text(encoding="utf-8") == render(spec), (
            f"{file_for(spec).name} is stale: run python -m schemas.generate")
