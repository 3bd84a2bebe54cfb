"""What every vendor's call becomes: one canonical telephony.calls event. Pure.

The vendor adapters (mango.py, zadarma.py, bitrix24_calls.py, telephony.py) read their own
fields; this module hashes the client's phone and links the call to a deal: by the CRM id
when the vendor knows it, else by the phone's hash in the phone -> deal table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from schemas.events import CallEvent, TranscriptTurn
from services.ingest.errors import MappingError
from services.ingest.ids import content_id
from services.ingest.phones import PhoneHasher
from services.ingest.vendor_maps import VendorMaps


@dataclass(frozen=True)
class Ignored:
    """A known event the product does not use: answered 200, counted, nothing produced."""

    reason: str


@dataclass(frozen=True)
class CallContext:
    maps: VendorMaps
    phones: PhoneHasher | None  # None: LEAKWATCH_PHONE_HASH_SALT is not set
    now: datetime
    pbx_tz: ZoneInfo  # where a vendor's local times (Zadarma) are
    deals_by_phone: dict[str, str] = field(default_factory=dict)  # phone hash -> deal id

    def phone_hash(self, raw: object, where: str) -> str | None:
        if raw is None or str(raw).strip() == "":
            return None
        if self.phones is None:
            raise MappingError(f"{where}: LEAKWATCH_PHONE_HASH_SALT is not set, so the client's phone cannot be kept")
        return self.phones(raw)


def call_event(ctx: CallContext, *, vendor: str, account: str | None, call_id: str, direction: str,
               answered: bool, duration_s: float, started_at: datetime, manager: str | None,
               client_phone: object, record: object, deal_id: str | None = None,
               recording_ref: str | None = None, transcript: list[TranscriptTurn] | None = None,
               transcript_ref: str | None = None) -> CallEvent:
    where = f"{vendor} call {call_id}"
    phone_hash = ctx.phone_hash(client_phone, where)
    deal = deal_id or (ctx.deals_by_phone.get(phone_hash) if phone_hash else None)
    if deal is None:
        # The number itself stays out of the message: it is personal data.
        raise MappingError(f"{where}: no deal to link it to (no CRM id, and the client's phone is not "
                           "in telephony.phones of LEAKWATCH_INGEST_MAPPING)")
    # Canonical meaning by direction: a client's unanswered call is missed, a manager's is no answer.
    status = "answered" if answered else ("missed" if direction == "in" else "no_answer")
    return CallEvent(
        # The same webhook again (a vendor's retry) gives the same id: the stream ignores it.
        event_id=content_id(f"{vendor}:{call_id}", record),
        deal_id=deal, call_id=f"{vendor}:{call_id}", direction=direction, status=status,
        duration_s=duration_s, ts=started_at, manager=manager, transcript=transcript,
        transcript_ref=transcript_ref, vendor=vendor, account=account, client_phone_hash=phone_hash,
        recording_ref=recording_ref,
    )
