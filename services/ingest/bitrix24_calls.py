"""Bitrix24 telephony: ONVOXIMPLANTCALLEND (+ voximplant.statistic.get) -> telephony.calls. Pure.

The event (REST docs, telephony/events: OnVoximplantCallEnd) carries `data[CALL_ID]`,
`CALL_TYPE` (1 outgoing, 2 incoming, 3 incoming redirected, 4 callback), `PHONE_NUMBER`
(the client), `PORTAL_NUMBER`, `PORTAL_USER_ID` (the employee), `CALL_DURATION` (s),
`CALL_START_DATE` (ISO 8601 with offset), `CALL_FAILED_CODE` (200 answered; 304 missed,
603 declined, 486 busy...). The CRM entity and `CALL_RECORD_URL` live only in the call's
statistic record, which the gateway fetches; its fields are merged in as `data[STATISTIC]`.
"""

from __future__ import annotations

from schemas.events import CallEvent
from services.ingest.calls import CallContext, call_event
from services.ingest.errors import MappingError
from services.ingest.values import number, required, text, when

CALL_END = "ONVOXIMPLANTCALLEND"
DIRECTIONS = {"1": "out", "2": "in", "3": "in", "4": "out"}


def call_id(payload: dict) -> str:
    return required(_data(payload), "CALL_ID", "Bitrix24 ONVOXIMPLANTCALLEND data")


def with_statistic(payload: dict, record: dict | None) -> dict:
    return {**payload, "data": {**_data(payload), "STATISTIC": record or {}}}


def call_events(payload: dict, domain: str, ctx: CallContext) -> list[CallEvent]:
    data = _data(payload)
    stat = data.get("STATISTIC") if isinstance(data.get("STATISTIC"), dict) else {}
    merged = {**stat, **{k: v for k, v in data.items() if k != "STATISTIC" and v not in (None, "")}}
    cid = required(merged, "CALL_ID", "Bitrix24 ONVOXIMPLANTCALLEND data")
    where = f"Bitrix24 call {cid}"
    direction = DIRECTIONS.get(text(merged.get("CALL_TYPE")) or "")
    if direction is None:
        raise MappingError(f"{where}: CALL_TYPE {merged.get('CALL_TYPE')!r} is not 1, 2, 3 or 4")
    started = when(merged.get("CALL_START_DATE"), where)
    if started is None:
        raise MappingError(f"{where}: CALL_START_DATE is missing")
    deal = None
    if (text(stat.get("CRM_ENTITY_TYPE")) or "").upper() == "DEAL" and text(stat.get("CRM_ENTITY_ID")):
        deal = f"bitrix24:{domain}:{text(stat.get('CRM_ENTITY_ID'))}"
    return [call_event(
        ctx, vendor="bitrix24", account=domain, call_id=cid, direction=direction,
        answered=text(merged.get("CALL_FAILED_CODE")) == "200",
        duration_s=number(merged.get("CALL_DURATION"), f"{where} CALL_DURATION"),
        started_at=started, manager=ctx.maps.bitrix_user(merged.get("PORTAL_USER_ID")),
        client_phone=merged.get("PHONE_NUMBER"), deal_id=deal,
        recording_ref=text(merged.get("CALL_RECORD_URL")), record=data,
    )]


def _data(payload: dict) -> dict:
    data = payload.get("data")
    if not isinstance(data, dict):
        raise MappingError("Bitrix24 ONVOXIMPLANTCALLEND: data[...] is missing")
    return data
