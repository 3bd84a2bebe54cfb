from datetime import datetime, timezone

import pytest

from zoneinfo import ZoneInfo

from services.ingest import telephony
from services.ingest.calls import CallContext
from services.ingest.errors import MappingError
from services.ingest.phones import PhoneHasher
from services.ingest.vendor_maps import load_maps

NOW = datetime(2025, 11, 18, 9, 0, tzinfo=timezone.utc)
MAPS = load_maps({"telephony": {"phones": {"+7 (916) 123-45-67": "31926520"}, "managers": {"101": "Анна Смирнова"}}})
HASHER = PhoneHasher("unit-test-salt")


def call_events(payload, maps, now):
    ctx = CallContext(maps, HASHER, now, ZoneInfo("Europe/Moscow"), maps.deals_by_phone_hash(HASHER))
    return telephony.call_events(payload, ctx)


def record(**kw):
    base = {"call_id": "c-8841", "deal_id": "31926520", "direction": "outbound", "status": "ANSWERED",
            "duration": "312", "manager_id": "101", "started_at": "1763456400"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def test_answered_call_with_transcript():
    turns = [{"speaker": "operator", "text": "Добрый день! Школа программирования.", "start": 0},
             {"speaker": "customer", "text": "Дорого, я подумаю.", "offset_s": 12.5}]
    [e] = call_events(record(transcript=turns), MAPS, NOW)
    assert (e.call_id, e.deal_id, e.direction, e.status, e.duration_s, e.manager) == \
        ("telephony:c-8841", "31926520", "out", "answered", 312.0, "Анна Смирнова")
    assert [(t.speaker, t.offset_s) for t in e.transcript] == [("manager", 0.0), ("client", 12.5)]
    assert e.ts == datetime(2025, 11, 18, 9, 0, tzinfo=timezone.utc)


def test_phone_maps_to_the_deal_in_any_notation():
    [e] = call_events(record(deal_id=None, phone="8 916 123 45 67"), MAPS, NOW)
    assert e.deal_id == "31926520"
    # The number leaves only as its salted hash, the same for every notation.
    [again] = call_events(record(deal_id=None, phone="+7 (916) 123-45-67"), MAPS, NOW)
    assert e.client_phone_hash == again.client_phone_hash and len(e.client_phone_hash) == 64
    assert "1234567" not in e.model_dump_json()


def test_unanswered_means_missed_inbound_and_no_answer_outbound():
    inbound, outbound = call_events([record(direction="incoming", status="busy"),
                                     record(call_id="c-2", direction="out", status="noanswer")], MAPS, NOW)
    assert (inbound.status, outbound.status) == ("missed", "no_answer")


def test_the_transcript_reference_and_a_later_transcript_are_new_events():
    first = call_events(record(transcript_url="https://pbx.example/rec/c-8841.json"), MAPS, NOW)[0]
    later = call_events({"calls": [record(transcript=[{"speaker": "client", "text": "Алло"}])]}, MAPS, NOW)[0]
    assert first.transcript_ref == "https://pbx.example/rec/c-8841.json"
    assert first.call_id == later.call_id and first.event_id != later.event_id


def test_an_unmapped_phone_is_an_error_that_does_not_repeat_the_number():
    with pytest.raises(MappingError, match="no deal to link it to") as exc:
        call_events(record(deal_id=None, phone="+7 999 000-11-22"), MAPS, NOW)
    assert "999" not in str(exc.value)


@pytest.mark.parametrize("kw,reason", [
    ({"direction": "sideways"}, "direction"),
    ({"status": "ringing"}, "status"),
    ({"duration": "долго"}, "not a number"),
    ({"deal_id": None}, "neither `deal_id` nor `phone`"),
    ({"transcript": [{"speaker": "robot", "text": "x"}]}, "speaker"),
])
def test_unmappable_records(kw, reason):
    with pytest.raises(MappingError, match=reason):
        call_events(record(**kw), MAPS, NOW)
