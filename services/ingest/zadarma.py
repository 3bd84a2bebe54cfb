"""Zadarma PBX notifications -> telephony.calls. Pure: no I/O.

Zadarma posts form fields per event (its API docs, "Уведомления АТС"; the official PHP SDK
zadarma/user-api-v1, lib/Webhook/Notify*.php). Direction comes from the event: NOTIFY_END
closes an incoming call (`caller_id` is the client, `called_did` the company's number),
NOTIFY_OUT_END an outgoing one (`destination` is the client, `internal` the extension). Both
carry `pbx_call_id`, `call_start` (PBX-local `YYYY-MM-DD HH:MM:SS`, no offset), `duration`,
`disposition` (`answered`, `busy`, `cancel`, `no answer`, ...), `is_recorded` and
`call_id_with_rec`. The others are interim, and NOTIFY_RECORD only says the file is ready.

The `Signature` header is base64 of the hex HMAC-SHA1, keyed by the API secret, of the
event's own fields concatenated (SIGNED_FIELDS).
"""

from __future__ import annotations

from schemas.events import CallEvent
from services.ingest.calls import CallContext, Ignored, call_event
from services.ingest.errors import MappingError
from services.ingest.values import local_time, number, required, text

SIGNED_FIELDS = {
    "NOTIFY_START": ("caller_id", "called_did", "call_start"),
    "NOTIFY_INTERNAL": ("caller_id", "called_did", "call_start"),
    "NOTIFY_IVR": ("caller_id", "called_did", "call_start"),
    "NOTIFY_END": ("caller_id", "called_did", "call_start"),
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
    "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
    "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
    "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
}
INTERIM = {"NOTIFY_START", "NOTIFY_INTERNAL", "NOTIFY_IVR", "NOTIFY_ANSWER", "NOTIFY_OUT_START", "NOTIFY_RECORD"}


def signed_string(fields: dict) -> str | None:
    """What the Signature signs; None for an event whose signature is not documented."""
    names = SIGNED_FIELDS.get(str(fields.get("event") or ""))
    if names is None:
        return None
    return "".join(str(fields.get(name) or "") for name in names)


def call_events(fields: dict, ctx: CallContext) -> list[CallEvent] | Ignored:
    event = text(fields.get("event")) or ""
    if event in INTERIM:
        return Ignored(f"Zadarma {event}: interim; the call is taken from NOTIFY_END / NOTIFY_OUT_END")
    if event not in ("NOTIFY_END", "NOTIFY_OUT_END"):
        raise MappingError(f"Zadarma: unknown event {event or 'missing'!r}")
    call_id = required(fields, "pbx_call_id", f"Zadarma {event}")
    where = f"Zadarma call {call_id}"
    incoming = event == "NOTIFY_END"
    recorded = text(fields.get("is_recorded")) == "1"
    return [call_event(
        ctx, vendor="zadarma", call_id=call_id, direction="in" if incoming else "out",
        account=text(fields.get("called_did") if incoming else fields.get("caller_id")),
        answered=(text(fields.get("disposition")) or "").lower() == "answered",
        duration_s=number(fields.get("duration"), f"{where} duration"),
        started_at=local_time(fields.get("call_start"), ctx.pbx_tz, where),
        manager=ctx.maps.call_manager(fields.get("internal")),
        client_phone=fields.get("caller_id") if incoming else fields.get("destination"),
        recording_ref=text(fields.get("call_id_with_rec")) if recorded else None,
        record=fields,
    )]
