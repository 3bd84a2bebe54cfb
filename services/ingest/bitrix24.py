"""Bitrix24 outbound deal webhooks -> crm.deals events. Pure: no I/O.

Bitrix24 posts form fields `event=ONCRMDEALADD|ONCRMDEALUPDATE|ONCRMDEALDELETE`,
`data[FIELDS][ID]`, `ts` (unix s) and `auth[application_token]` — the deal's id only. The
canonical event needs the deal itself, so the payload must also carry crm.deal.get's
fields under data[FIELDS] (STAGE_ID such as `C1:LOSE` or `WON`, CATEGORY_ID, OPPORTUNITY,
CURRENCY_ID, ASSIGNED_BY_ID, DATE_MODIFY, MOVED_TIME, STAGE_SEMANTIC_ID): in production
the gateway fetches them (`LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL`), or a relay posts them.

«Условный отказ»: a review stage (`LEAKWATCH_CRM_REVIEW_STAGES`, STAGE_ID or its name) is a
refusal; Bitrix24 has no built-in loss reason, so its user field (`LEAKWATCH_CRM_LOSS_REASON_FIELD`,
`bitrix24=UF_CRM_…`) is read from crm.deal.get, its enum ids mapped by
`LEAKWATCH_CRM_LOSS_REASON_VALUES`. Only the stage now is sent: the worker knows the one before.
"""

from __future__ import annotations

from datetime import datetime

from leakwatch.domain.reviews import CrmReviewRules
from schemas.events import DealEvent
from services.ingest.calls import Ignored
from services.ingest.errors import MappingError
from services.ingest.ids import content_id
from services.ingest.values import required, rub, text, when
from services.ingest.vendor_maps import VendorMaps

ADD, UPDATE, DELETE = "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"
SEMANTICS = {"S": "won", "F": "lost"}  # STAGE_SEMANTIC_ID; "P" is in progress
SOURCES = {"WEB": "site", "CALL": "call", "RECOMMENDATION": "referral", "EMAIL": "email"}


# Known event families a portal may be subscribed to; only deals and call ends are used.
KNOWN_PREFIXES = ("ONCRM", "ONVOXIMPLANT", "ONAPP", "ONIM", "ONTASK", "ONUSER", "ONCALENDAR")


def event_kind(payload: object) -> str | Ignored:
    """`deal`, `call`, or Ignored for a known event the product does not use."""
    name = (text(payload.get("event")) or "").upper() if isinstance(payload, dict) else ""
    if name in (ADD, UPDATE, DELETE):
        return "deal"
    if name == "ONVOXIMPLANTCALLEND":
        return "call"
    if name.startswith(KNOWN_PREFIXES):
        return Ignored(f"Bitrix24 {name}: not a deal or a finished call")
    raise MappingError(f"Bitrix24: event {name or 'missing'!r} is not a Bitrix24 event")


def domain_of(payload: object) -> str:
    """The portal (auth[domain]): deal ids are `bitrix24:<domain>:<id>`, so portals never collide."""
    auth = payload.get("auth") if isinstance(payload, dict) else None
    domain = text(auth.get("domain")) if isinstance(auth, dict) else None
    if domain is None:
        raise MappingError("Bitrix24: auth[domain] is missing")
    return domain.lower()


def event_name(payload: object) -> str:
    name = (text(payload.get("event")) or "").upper() if isinstance(payload, dict) else ""
    if name not in (ADD, UPDATE, DELETE):
        raise MappingError(f"Bitrix24: event {name or 'missing'!r} is not a deal event "
                           f"({ADD}, {UPDATE} or {DELETE})")
    return name


def fields_of(payload: dict) -> dict:
    data = payload.get("data")
    fields = data.get("FIELDS") if isinstance(data, dict) else None
    if not isinstance(fields, dict):
        raise MappingError("Bitrix24: data[FIELDS] is missing")
    return fields


def deal_id(payload: object) -> str:
    event_name(payload)
    return required(fields_of(payload), "ID", "Bitrix24 data[FIELDS]")


def needs_deal_fields(payload: object) -> bool:
    """True for the id-only payload Bitrix24 itself sends (a delete needs nothing more)."""
    return event_name(payload) != DELETE and text(fields_of(payload).get("STAGE_ID")) is None


def with_deal_fields(payload: dict, deal: dict) -> dict:
    """The payload with crm.deal.get's `result` as its data[FIELDS]."""
    return {**payload, "data": {**payload.get("data", {}), "FIELDS": {**deal, **fields_of(payload)}}}


def outcome(stage_id: str, semantic: str | None, maps: VendorMaps, review: CrmReviewRules | None = None) -> str | None:
    configured = maps.bitrix_outcome(stage_id)
    if configured:
        return configured
    if review is not None and review.is_review_stage(stage_id, maps.bitrix_stage(stage_id)):
        return "lost"  # «Условный отказ»: a refusal awaiting a QA lead
    if semantic in SEMANTICS:
        return SEMANTICS[semantic]
    status = stage_id.rpartition(":")[2]  # `C1:LOSE` -> `LOSE`
    return {"WON": "won", "LOSE": "lost", "APOLOGY": "lost"}.get(status)


def deal_events(payload: object, maps: VendorMaps, now: datetime, review: CrmReviewRules | None = None,
                loss_reason_field: str | None = None) -> list[DealEvent]:
    name = event_name(payload)
    fields = fields_of(payload)
    where = "Bitrix24 data[FIELDS]"
    domain = domain_of(payload)
    deal = f"bitrix24:{domain}:{required(fields, 'ID', where)}"
    sent_at = when(payload.get("ts"), "Bitrix24 ts")
    if name == DELETE:
        # Gone from the CRM: excluded like spam, as for amoCRM deletes.
        return [DealEvent(event_id=f"{deal}:delete", deal_id=deal, ts=sent_at or now,
                          type="updated", is_spam=True, vendor="bitrix24", account=domain)]
    if text(fields.get("STAGE_ID")) is None:
        raise MappingError("Bitrix24 sends only the deal id: the deal's fields (crm.deal.get) are needed; "
                           "set LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL or post them under data[FIELDS]")
    stage_id = required(fields, "STAGE_ID", where)
    category = text(fields.get("CATEGORY_ID"))
    if category is None:
        prefix, sep, _ = stage_id.partition(":")
        category = prefix[1:] if sep and prefix.startswith("C") else "0"
    currency = (text(fields.get("CURRENCY_ID")) or "RUB").upper()
    modified = when(fields.get("DATE_MODIFY"), where)
    common = {
        "deal_id": deal,
        "pipeline": maps.bitrix_category(category),
        "manager": maps.bitrix_user(fields.get("ASSIGNED_BY_ID")),
        # A deal in another currency has no rouble amount; the average check stands in.
        "amount_rub": rub(fields.get("OPPORTUNITY"), where) if currency in ("RUB", "RUR") else None,
        "stage": maps.bitrix_stage(stage_id), "stage_id": stage_id,
        "changed_by": maps.bitrix_user(fields.get("MOVED_BY_ID") or fields.get("MODIFY_BY_ID")),
        "vendor": "bitrix24", "account": domain,
    }
    source = text(fields.get("SOURCE_ID"))
    if source:
        common["source"] = SOURCES.get(source.upper(), source.lower())
    if name == ADD:
        ts = when(fields.get("DATE_CREATE"), where) or modified or sent_at or now
        return [DealEvent(event_id=f"{deal}:add", ts=ts, type="created", **common)]

    result = outcome(stage_id, text(fields.get("STAGE_SEMANTIC_ID")), maps, review)
    if result is None:
        return [DealEvent(event_id=content_id(f"{deal}:update", fields), ts=modified or sent_at or now,
                          type="stage_changed", **common)]
    # Bitrix24 fires an update for every later edit of a closed deal too; keyed by the
    # move into the stage, those repeats are one event, not a new loss each time.
    moved = text(fields.get("MOVED_TIME"))
    event_id = f"{deal}:{stage_id}" + (f":{moved}" if moved else "")
    ts = when(moved, where) or modified or sent_at or now
    if result == "won":
        return [DealEvent(event_id=event_id, ts=ts, type="won", **common)]
    reason = None
    if loss_reason_field and review is not None:
        value = fields.get(loss_reason_field)
        reason = review.reason_of(value[0] if isinstance(value, list) and value else text(value))
    return [DealEvent(event_id=event_id, ts=ts, type="lost", is_spam=True if result == "spam" else None,
                      lost_reason=reason, **common)]
