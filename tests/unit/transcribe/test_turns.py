from datetime import datetime, timezone

from schemas.events import CallEvent, TranscriptTurn
from services.transcribe.recordings import needs_transcript, transcript_event
from services.transcribe.turns import Segment, conversation


def test_stereo_channels_become_speakers_in_time_order():
    manager = [Segment(0.0, 2.0, " Добрый день!"), Segment(5.0, 7.0, "Отправлю программу. ")]
    client = [Segment(2.5, 4.0, "Дорого."), Segment(7.5, 8.0, "  ")]
    turns = conversation([manager, client], manager_channel=0)
    assert [(t.speaker, t.offset_s, t.text) for t in turns] == [
        ("manager", 0.0, "Добрый день!"), ("client", 2.5, "Дорого."), ("manager", 5.0, "Отправлю программу.")]
    swapped = conversation([manager, client], manager_channel=1)
    assert [t.speaker for t in swapped] == ["client", "manager", "client"]


def test_mono_cannot_tell_speakers_apart():
    assert [t.speaker for t in conversation([[Segment(0, 1, "алло")]], 0)] == ["client"]


def test_transcript_event_follows_the_call():
    call = CallEvent(event_id="zadarma:1:abc", deal_id="D1", ts=datetime(2026, 11, 18, tzinfo=timezone.utc),
                     call_id="bitrix24:c1", direction="in", status="answered", duration_s=30,
                     recording_ref="https://portal/rec.mp3")
    assert needs_transcript(call)
    assert not needs_transcript(call.model_copy(update={"recording_ref": "1763449320.1234567"}))
    assert not needs_transcript(call.model_copy(update={"status": "missed"}))
    turn = TranscriptTurn(speaker="client", text="дорого", offset_s=1)
    event = transcript_event(call, [turn])
    assert (event.call_id, event.deal_id, event.event_id, event.transcript) == \
        ("bitrix24:c1", "D1", "zadarma:1:abc:transcript", [turn])
    assert not needs_transcript(event)
