"""From an authenticated raw body to canonical events: parse, look up what the vendor left
out, map. Shared by the HTTP routes and the retrier, which reads a kept webhook again.

Raises MappingError (unmappable: dead letter), pydantic's ValidationError (mapped but not
canonical: dead letter) or LookupFailed (the vendor's REST did not answer: retry later).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel

from leakwatch.domain.reviews import CrmReviewRules
from leakwatch.settings import Settings
from schemas.topics import CALLS, DEALS, TopicSpec
from services.ingest import amocrm, bitrix24, bitrix24_calls, mango, telephony, zadarma
from services.ingest.amocrm_rest import AmoCrmRest
from services.ingest.bitrix24_rest import Bitrix24Rest
from services.ingest.calls import CallContext, Ignored
from services.ingest.canonical import TOPICS, canonical_events
from services.ingest.errors import MappingError
from services.ingest.forms import parse_body
from services.ingest.phones import PhoneHasher
from services.ingest.vendor_maps import VendorMaps


@dataclass(frozen=True)
class Accepted:
    spec: TopicSpec
    events: list[BaseModel]


def flat_form(raw: bytes) -> dict[str, str]:
    """Mango's and Zadarma's flat form fields (no PHP-style nesting)."""
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        raise MappingError("form body is not UTF-8") from None


def target_of(route: str, raw: bytes) -> TopicSpec:
    """The topic a route's events go to, for naming it in a dead letter."""
    source, _, rest = route.partition(":")
    if source == "events":
        return TOPICS.get(rest, DEALS)
    if source == "amocrm" or (source == "bitrix24" and b"ONVOXIMPLANT" not in raw.upper()):
        return DEALS
    return CALLS


class Handlers:
    def __init__(self, settings: Settings, maps: VendorMaps, *, amocrm_rest: AmoCrmRest | None = None,
                 bitrix_rest: Bitrix24Rest | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self._maps = maps
        salt = settings.phone_hash_salt
        self._phones = PhoneHasher(salt.get_secret_value()) if salt and salt.get_secret_value() else None
        self._deals_by_phone = maps.deals_by_phone_hash(self._phones) if self._phones else {}
        self._pbx_tz = ZoneInfo(settings.ingest_zadarma_timezone or settings.timezone)
        self._amocrm, self._bitrix, self._clock = amocrm_rest, bitrix_rest, clock
        # «Условный отказ»: which stages are a refusal awaiting review, and Bitrix24's loss-reason field.
        self._review = CrmReviewRules.from_settings(settings)
        self._bitrix_reason_field = settings.crm_loss_reason_field.get("bitrix24")

    def _ctx(self) -> CallContext:
        return CallContext(self._maps, self._phones, self._clock(), self._pbx_tz, self._deals_by_phone)

    async def run(self, route: str, raw: bytes, content_type: str | None) -> Accepted | Ignored:
        source, _, rest = route.partition(":")
        if source == "amocrm":
            return await self._amocrm_hook(parse_body(raw, content_type))
        if source == "bitrix24":
            return await self._bitrix24_hook(parse_body(raw, content_type))
        if source == "mango":
            return self._mango_hook(rest, flat_form(raw))
        if source == "zadarma":
            return _accepted(CALLS, zadarma.call_events(flat_form(raw), self._ctx()))
        if source == "telephony":
            return Accepted(CALLS, telephony.call_events(parse_body(raw, content_type), self._ctx()))
        if source == "events":
            spec = TOPICS[rest]
            return Accepted(spec, canonical_events(spec, parse_body(raw, content_type)))
        raise ValueError(f"unknown route {route!r}")

    async def _amocrm_hook(self, payload: object) -> Accepted | Ignored:
        lost = (amocrm.lost_lead_ids(payload, self._maps, self._review)
                if isinstance(payload, dict) and "leads" in payload else [])
        if lost and self._amocrm is not None:
            names = {lead: await self._amocrm.loss_reason(lead) for lead in lost}
            payload = amocrm.with_loss_reasons(payload, names)
        return _accepted(DEALS, amocrm.deal_events(payload, self._maps, self._clock(), self._review))

    async def _bitrix24_hook(self, payload: object) -> Accepted | Ignored:
        kind = bitrix24.event_kind(payload)
        if isinstance(kind, Ignored):
            return kind
        domain = bitrix24.domain_of(payload)
        if kind == "call":
            if self._bitrix is not None:
                record = await self._bitrix.call(bitrix24_calls.call_id(payload))
                payload = bitrix24_calls.with_statistic(payload, record)
            return Accepted(CALLS, bitrix24_calls.call_events(payload, domain, self._ctx()))
        if self._bitrix is not None and bitrix24.needs_deal_fields(payload):
            payload = bitrix24.with_deal_fields(payload, await self._bitrix.deal(bitrix24.deal_id(payload)))
        return Accepted(DEALS, bitrix24.deal_events(payload, self._maps, self._clock(), self._review,
                                                    self._bitrix_reason_field))

    def _mango_hook(self, event: str, form: dict[str, str]) -> Accepted | Ignored:
        if event in mango.INTERIM:
            return Ignored(f"Mango events/{event}: interim; the call is taken from events/summary")
        try:
            payload = orjson.loads(form.get("json") or "")
        except orjson.JSONDecodeError as exc:
            raise MappingError(f"Mango: the `json` field is not JSON: {exc}") from None
        return _accepted(CALLS, mango.call_events(event, payload, self._ctx()))

    async def close(self) -> None:
        for client in (self._amocrm, self._bitrix):
            if client is not None:
                await client.close()


def _accepted(spec: TopicSpec, result: list[BaseModel] | Ignored) -> Accepted | Ignored:
    return result if isinstance(result, Ignored) else Accepted(spec, result)
