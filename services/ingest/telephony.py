"""Call-record webhooks (any PBX or call-tracking vendor) -> telephony.calls events. Pure.

One record, a JSON list of them, or `{"calls": [...]}`:

    {"call_id": "c-8841", "deal_id": "31926520"  (or "phone": "+7 916 123-45-67"),
     "direction": "in|out|inbound|outgoing...", "status": "answered|missed|no_answer|busy...",
     "duration_s": 312, "manager": "Анна Смирнова"  (or "manager_id": "101"),
     "started_at": "2026-11-18T10:02:00+03:00"  (or unix seconds),
     "transcript": [{"speaker": "manager|client", "text": "...", "offset_s": 0}],
     "transcript_url": "https://...", "recording_url": "https://..."}

The phone is hashed here (LEAKWATCH_PHONE_HASH_SALT); without a deal_id the call links to a
deal through the phone's hash in telephony.phones.

The recording's text often comes later: post the same call_id again with the transcript.
"""

from __future__ import annotations

from schemas.events import CallEvent, TranscriptTurn
from services.ingest.calls import CallContext, call_event
from services.ingest.errors import MappingError
from services.ingest.forms import entries
from services.ingest.values import number, required, text, when

DIRECTIONS = {"in": "in", "inbound": "in", "incoming": "in", "out": "out", "outbound": "out", "outgoing": "out"}
ANSWERED = {"answered", "answer", "success", "completed", "connected", "ok"}
UNANSWERED = {"missed", "no_answer", "noanswer", "no answer", "not_answered", "busy", "failed", "cancel",
              "canceled", "cancelled", "rejected", "unanswered"}
SPEAKERS = {"manager": "manager", "operator": "manager", "agent": "manager", "employee": "manager",
            "client": "client", "customer": "client", "caller": "client", "callee": "client"}


def call_events(payload: object, ctx: CallContext) -> list[CallEvent]:
    if isinstance(payload, dict) and "calls" in payload:
        payload = payload["calls"]
    records = list(entries(payload if isinstance(payload, list) else [payload]))
    if not records:
        raise MappingError("telephony: no call records")
    return [_call(r, ctx, f"telephony call [{i}]") for i, r in enumerate(records)]


def _call(r: dict, ctx: CallContext, where: str) -> CallEvent:
    call_id = text(r.get("call_id")) or required(r, "id", where)
    where = f"telephony call {call_id}"
    phone = r.get("phone") or r.get("client_phone")
    if text(r.get("deal_id")) is None and text(phone) is None:
        raise MappingError(f"{where}: neither `deal_id` nor `phone` is given")
    direction = DIRECTIONS.get((text(r.get("direction")) or "").lower())
    if direction is None:
        raise MappingError(f"{where}: direction {r.get('direction')!r} is not in/out")
    status = (text(r.get("status")) or "").lower()
    if status not in ANSWERED and status not in UNANSWERED:
        raise MappingError(f"{where}: status {r.get('status')!r} is neither answered nor unanswered")
    manager = text(r.get("manager")) or ctx.maps.call_manager(r.get("manager_id") or r.get("extension"))
    return call_event(
        ctx, vendor="telephony", account=text(r.get("account")), call_id=call_id, direction=direction,
        answered=status in ANSWERED,
        duration_s=number(r.get("duration_s", r.get("duration")), f"{where} duration"),
        started_at=when(r.get("started_at") or r.get("ts"), where) or ctx.now,
        manager=manager, client_phone=phone, deal_id=text(r.get("deal_id")),
        recording_ref=text(r.get("recording_url") or r.get("recording_ref")),
        transcript=_turns(r.get("transcript"), where),
        transcript_ref=text(r.get("transcript_url") or r.get("transcript_ref")),
        record=r,
    )


def _turns(raw: object, where: str) -> list[TranscriptTurn] | None:
    if raw is None or raw == "":
        return None
    turns = []
    for i, turn in enumerate(entries(raw)):
        speaker = SPEAKERS.get((text(turn.get("speaker")) or "").lower())
        if speaker is None:
            raise MappingError(f"{where}: transcript[{i}] speaker {turn.get('speaker')!r} is not manager/client")
        offset = number(turn.get("offset_s", turn.get("start")), f"{where} transcript[{i}] offset")
        turns.append(TranscriptTurn(speaker=speaker, text=str(turn.get("text") or ""), offset_s=offset))
    return turns
