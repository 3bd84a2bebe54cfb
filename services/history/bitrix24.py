"""Bitrix24 REST objects -> canonical events with their original times. Pure.

Deals (`crm.deal.list`): created at DATE_CREATE; a closed deal (STAGE_SEMANTIC_ID F lost,
S won, or a configured outcome) closes at MOVED_TIME / CLOSEDATE — with the same event ids
the webhook gateway uses, so history and live webhooks never count a deal twice.
Activities (`crm.activity.list`, OWNER_TYPE_ID 2 = deal): TYPE_ID 1 meeting, 2 call, 3 task,
4 e-mail (DIRECTION 1 in, 2 out); telephony calls (PROVIDER_ID VOXIMPLANT_CALL) come from
`voximplant.statistic.get` instead, joined to their deal by CRM_ACTIVITY_ID (or
CRM_ENTITY_TYPE DEAL): CALL_TYPE 1 outgoing, 2/3 incoming, 4 callback; CALL_FAILED_CODE
200 is a call that took place. Deal ids are ingest's, `bitrix24:<portal domain>:<id>`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from schemas.events import ActivityEvent, CallEvent, DealEvent
from services.history.names import MappingError, VendorMaps, rub, text, when

DEAL_OWNER = "2"  # OWNER_TYPE_ID of a deal
SEMANTICS = {"S": "won", "F": "lost"}
SOURCES = {"WEB": "site", "CALL": "call", "RECOMMENDATION": "referral", "EMAIL": "email"}
DIRECTIONS = {"1": "out", "2": "in", "3": "in", "4": "out"}  # CALL_TYPE, as the gateway reads it
KEEP = {
    "deals": ("ID", "STAGE_ID", "CATEGORY_ID", "OPPORTUNITY", "CURRENCY_ID", "ASSIGNED_BY_ID", "DATE_CREATE",
              "DATE_MODIFY", "CLOSEDATE", "CLOSED", "STAGE_SEMANTIC_ID", "SOURCE_ID", "MOVED_TIME"),
    "activities": ("ID", "OWNER_ID", "OWNER_TYPE_ID", "TYPE_ID", "PROVIDER_ID", "SUBJECT", "COMPLETED", "DIRECTION",
                   "CREATED", "LAST_UPDATED", "DEADLINE", "END_TIME", "RESPONSIBLE_ID"),
    "calls": ("ID", "CALL_ID", "PORTAL_USER_ID", "CALL_TYPE", "CALL_DURATION", "CALL_START_DATE", "CALL_FAILED_CODE",
              "CRM_ENTITY_TYPE", "CRM_ENTITY_ID", "CRM_ACTIVITY_ID", "CALL_RECORD_URL"),  # never PHONE_NUMBER
}


def trimmed(stream: str, item: dict) -> dict:
    return {k: item[k] for k in KEEP[stream] if k in item}


def _outcome(stage_id: str, semantic: str | None, maps: VendorMaps) -> str | None:
    configured = maps.bitrix_outcome(stage_id)
    if configured:
        return configured
    if semantic in SEMANTICS:
        return SEMANTICS[semantic]
    return {"WON": "won", "LOSE": "lost", "APOLOGY": "lost"}.get(stage_id.rpartition(":")[2])


def deal_key(account: str, vendor_id: object) -> str:
    return f"bitrix24:{account}:{vendor_id}"


def deal_events(deal: dict, maps: VendorMaps, account: str) -> list[BaseModel]:
    stage_id = text(deal.get("STAGE_ID"))
    where = f"Bitrix24 deal {deal.get('ID')}"
    if text(deal.get("ID")) is None or stage_id is None:
        raise MappingError(f"{where}: `ID` and `STAGE_ID` are needed")
    deal_id = deal_key(account, text(deal.get("ID")))
    created = when(deal.get("DATE_CREATE"), where)
    if created is None:
        raise MappingError(f"{where}: `DATE_CREATE` is missing")
    category = text(deal.get("CATEGORY_ID")) or "0"
    currency = (text(deal.get("CURRENCY_ID")) or "RUB").upper()
    common = {"deal_id": deal_id, "pipeline": maps.bitrix_category(category),
              "manager": maps.bitrix_user(deal.get("ASSIGNED_BY_ID")),
              "amount_rub": rub(deal.get("OPPORTUNITY"), where) if currency in ("RUB", "RUR") else None,
              "vendor": "bitrix24", "account": account}
    source = text(deal.get("SOURCE_ID"))
    extra = {"source": SOURCES.get(source.upper(), source.lower())} if source else {}
    result = _outcome(stage_id, text(deal.get("STAGE_SEMANTIC_ID")), maps)
    stage = maps.bitrix_stage(stage_id)
    if result is None:
        return [DealEvent(event_id=f"{deal_id}:add", ts=created, type="created", stage=stage, **common, **extra)]
    events: list[BaseModel] = [DealEvent(event_id=f"{deal_id}:add", ts=created, type="created", **common, **extra)]
    moved = text(deal.get("MOVED_TIME"))
    closed = when(moved, where) or when(deal.get("CLOSEDATE"), where) or when(deal.get("DATE_MODIFY"), where) or created
    event_id = f"{deal_id}:{stage_id}" + (f":{moved}" if moved else "")
    if result == "won":
        events.append(DealEvent(event_id=event_id, ts=closed, type="won", stage=stage, **common))
    else:
        events.append(DealEvent(event_id=event_id, ts=closed, type="lost", stage=stage,
                                is_spam=True if result == "spam" else None, **common))
    return events


def activity_events(activity: dict, maps: VendorMaps, now: datetime, account: str) -> list[BaseModel]:
    if text(activity.get("OWNER_TYPE_ID")) != DEAL_OWNER or activity.get("PROVIDER_ID") == "VOXIMPLANT_CALL":
        return []
    act_id = text(activity.get("ID"))
    where = f"Bitrix24 activity {act_id}"
    if act_id is None or text(activity.get("OWNER_ID")) is None:
        raise MappingError(f"{where}: `ID` and `OWNER_ID` are needed")
    deal = deal_key(account, text(activity.get("OWNER_ID")))
    created = when(activity.get("CREATED"), where)
    if created is None:
        raise MappingError(f"{where}: `CREATED` is missing")
    type_id = text(activity.get("TYPE_ID"))
    if type_id == "4":  # e-mail
        subject = text(activity.get("SUBJECT"))
        if not subject:
            return []
        outgoing = text(activity.get("DIRECTION")) == "2"
        return [ActivityEvent(event_id=f"bitrix24:{account}:activity:{act_id}", deal_id=deal, ts=created, type="message",
                              channel="email", author="manager" if outgoing else "client", text=subject)]
    kind = {"1": "meeting", "2": "callback"}.get(type_id or "", "other")
    due = when(activity.get("DEADLINE"), where)
    base = dict(deal_id=deal, task_id=f"bitrix24:{account}:{act_id}", task_kind=kind, due_at=due)
    events: list[BaseModel] = [ActivityEvent(event_id=f"bitrix24:{account}:activity:{act_id}:created", type="task_created",
                                             ts=created, **base)]
    if text(activity.get("COMPLETED")) == "Y":
        done = when(activity.get("END_TIME"), where) or when(activity.get("LAST_UPDATED"), where) or created
        events.append(ActivityEvent(event_id=f"bitrix24:{account}:activity:{act_id}:done", type="task_done", ts=done, **base))
    elif due is not None and due < now:
        events.append(ActivityEvent(event_id=f"bitrix24:{account}:activity:{act_id}:overdue", type="task_overdue", ts=due, **base))
    return events


def call_deal(call: dict, activity_deals: dict[str, str]) -> str | None:
    if (text(call.get("CRM_ENTITY_TYPE")) or "").upper() == "DEAL":
        return text(call.get("CRM_ENTITY_ID"))
    return activity_deals.get(text(call.get("CRM_ACTIVITY_ID")) or "")


def call_events(call: dict, maps: VendorMaps, activity_deals: dict[str, str], account: str) -> list[BaseModel]:
    number = call_deal(call, activity_deals)
    if number is None:
        return []  # a call to a contact or lead with no deal: nothing to attach it to
    call_id = text(call.get("CALL_ID")) or text(call.get("ID"))
    where = f"Bitrix24 call {call_id}"
    ts = when(call.get("CALL_START_DATE"), where)
    if ts is None or call_id is None:
        raise MappingError(f"{where}: `CALL_ID` and `CALL_START_DATE` are needed")
    direction = DIRECTIONS.get(text(call.get("CALL_TYPE")) or "", "in")
    duration = float(text(call.get("CALL_DURATION")) or 0)
    took_place = text(call.get("CALL_FAILED_CODE")) in (None, "200") and duration > 0
    status = "answered" if took_place else ("no_answer" if direction == "out" else "missed")
    # call_id as the gateway writes it, so a call seen live and imported is one call of the deal.
    return [CallEvent(event_id=f"bitrix24:{account}:call:{call_id}", deal_id=deal_key(account, number), ts=ts,
                      call_id=f"bitrix24:{call_id}", direction=direction, status=status, duration_s=duration,
                      manager=maps.bitrix_user(call.get("PORTAL_USER_ID")), vendor="bitrix24", account=account,
                      recording_ref=text(call.get("CALL_RECORD_URL")))]


def activity_deals(activities: list[dict]) -> dict[str, str]:
    """Activity id -> its deal, for joining telephony calls to deals."""
    return {str(a["ID"]): str(a["OWNER_ID"]) for a in activities
            if text(a.get("OWNER_TYPE_ID")) == DEAL_OWNER and a.get("ID") is not None and a.get("OWNER_ID") is not None}
