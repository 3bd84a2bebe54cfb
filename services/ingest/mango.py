"""Mango Office VPBX notifications -> telephony.calls. Pure: no I/O.

Mango posts form fields `vpbx_api_key`, `sign` and `json` to `<configured URL>/events/<event>`
(VPBX API, "Уведомления о событиях"); `sign = sha256(vpbx_api_key + json + vpbx_api_salt)`,
checked in auth.py before `json` is decoded. `events/call` is sent for every state change of a
call leg (Appeared, Connected, OnHold, Disconnected) and is interim; `events/summary` is sent
once per call when it is over, and is what a call becomes:

    entry_id, call_direction (0 internal, 1 incoming, 2 outgoing), from.number/extension,
    to.number/extension, line_number, create_time, forward_time, talk_time, end_time (unix s;
    talk_time 0 means nobody answered), entry_result (1 answered, 0 not), disconnect_reason.
"""

from __future__ import annotations

from schemas.events import CallEvent
from services.ingest.calls import CallContext, Ignored, call_event
from services.ingest.errors import MappingError
from services.ingest.values import required, text, unix_time

DIRECTIONS = {"1": "in", "2": "out"}
# Sent by the VPBX besides the summary; the call record needs none of them.
INTERIM = {"call", "recording", "record/added", "record/tagged", "dtmf", "sms", "callback", "ping"}


def call_events(event: str, payload: object, ctx: CallContext) -> list[CallEvent] | Ignored:
    if event in INTERIM:
        return Ignored(f"Mango events/{event}: interim; the call is taken from events/summary")
    if event != "summary":
        raise MappingError(f"Mango: unknown event events/{event}")
    if not isinstance(payload, dict):
        raise MappingError("Mango events/summary: `json` is not an object")
    entry = required(payload, "entry_id", "Mango events/summary")
    where = f"Mango call {entry}"
    raw_direction = text(payload.get("call_direction"))
    if raw_direction == "0":
        return Ignored("Mango events/summary: an internal call between employees")
    direction = DIRECTIONS.get(raw_direction or "")
    if direction is None:
        raise MappingError(f"{where}: call_direction {raw_direction!r} is not 1 (incoming) or 2 (outgoing)")
    caller, callee = _party(payload.get("from"), where), _party(payload.get("to"), where)
    client, employee = (caller, callee) if direction == "in" else (callee, caller)
    created = unix_time(payload.get("create_time"), f"{where} create_time")
    talk = unix_time(payload.get("talk_time"), f"{where} talk_time")
    end = unix_time(payload.get("end_time"), f"{where} end_time")
    if created is None:
        raise MappingError(f"{where}: create_time is missing")
    duration = (end - talk).total_seconds() if talk and end and end > talk else 0.0
    return [call_event(
        ctx, vendor="mango", account=text(payload.get("line_number")), call_id=entry,
        direction=direction, answered=talk is not None, duration_s=duration, started_at=created,
        manager=ctx.maps.call_manager(employee.get("extension")), client_phone=client.get("number"),
        record=payload,
    )]


def _party(raw: object, where: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: from/to is not an object")
    return raw
