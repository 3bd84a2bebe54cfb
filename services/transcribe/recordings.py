"""A call's recording -> the transcript event that follows the call on telephony.calls."""

from __future__ import annotations

from schemas.events import CallEvent, TranscriptTurn
from services.transcribe.audio import channels
from services.transcribe.engines import Engine
from services.transcribe.turns import conversation


def transcribe_recording(data: bytes, engine: Engine, *, language: str, manager_channel: int) -> list[TranscriptTurn]:
    """Each channel transcribed on its own, so turns keep their speaker even when both talk."""
    return conversation([engine.transcribe(samples, language) for samples in channels(data)], manager_channel)


def needs_transcript(call: CallEvent) -> bool:
    """Only http(s) references can be fetched here; vendor ids (Zadarma's call_id_with_rec,
    Mango's recording_id) need the vendor's own download API first."""
    ref = call.recording_ref or ""
    return call.transcript is None and call.status == "answered" and ref.startswith(("https://", "http://"))


def transcript_event(call: CallEvent, turns: list[TranscriptTurn]) -> CallEvent:
    """The same call (same call_id, deal and times) with its text; a new, deterministic event id."""
    return call.model_copy(update={"event_id": f"{call.event_id}:transcript", "transcript": turns})
