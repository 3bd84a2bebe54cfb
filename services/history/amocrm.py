"""amoCRM / Kommo REST objects (API v4) -> canonical events with their original times. Pure.

Leads (`GET /api/v4/leads`): the deal is created at `created_at`; a closed lead (status 142
won, 143 lost) closes at `closed_at` with its amount and `loss_reason_id`. Status moves
(`GET /api/v4/events`, type `lead_status_changed`) are the stages in between; a move into
142/143 is left to the lead, which knows the amount and the reason. Notes
(`GET /api/v4/leads/notes`): `call_in`/`call_out` are calls (`params.duration`,
`params.call_status` 4 = разговор состоялся), `common` and `sms_*` are texts. Tasks
(`GET /api/v4/tasks`): created, done, or overdue at `complete_till`.
Deal ids are ingest's, `amocrm:<subdomain>:<lead id>`, so history and live webhooks meet in
one deal state.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from schemas.events import ActivityEvent, CallEvent, DealEvent
from services.history.names import AMO_LOST, AMO_WON, MappingError, VendorMaps, rub, text, when

ANSWERED = "4"  # call_status: 1 left a message, 2 call back later, 3 away, 4 talked, 5 wrong number, 6 no answer, 7 busy
TASK_KINDS = {"1": "callback", "2": "meeting"}  # amoCRM's two built-in task types: Звонок, Встреча
# What the mapping reads of each object: the spool on disk keeps nothing else (no phone numbers).
KEEP = {
    "leads": ("id", "price", "responsible_user_id", "status_id", "pipeline_id", "loss_reason_id", "created_at",
              "updated_at", "closed_at", "is_deleted", "_embedded"),
    "events": ("id", "type", "entity_id", "entity_type", "created_at", "value_after"),
    "notes": ("id", "entity_id", "note_type", "created_at", "responsible_user_id", "created_by", "params"),  # params: below
    "tasks": ("id", "entity_id", "entity_type", "task_type_id", "created_at", "updated_at", "complete_till",
              "is_completed", "responsible_user_id"),
}
NOTE_PARAMS = ("uniq", "duration", "call_status", "text", "link")  # never `phone`
STREAMS = ("leads", "events", "notes", "tasks")  # the order they are fetched and mapped in


def trimmed(stream: str, item: dict) -> dict:
    kept = {k: item[k] for k in KEEP[stream] if k in item}
    if stream == "leads" and isinstance(kept.get("_embedded"), dict):
        kept["_embedded"] = {"loss_reason": kept["_embedded"].get("loss_reason") or []}
    if stream == "notes" and isinstance(kept.get("params"), dict):
        kept["params"] = {k: v for k, v in kept["params"].items() if k in NOTE_PARAMS}
    return kept


def _ts(item: dict, field: str, where: str) -> datetime:
    ts = when(item.get(field), where)
    if ts is None:
        raise MappingError(f"{where}: `{field}` is missing")
    return ts


def deal_id(account: str, vendor_id: object) -> str:
    return f"amocrm:{account}:{vendor_id}"


def lead_events(lead: dict, maps: VendorMaps, account: str) -> list[BaseModel]:
    if text(lead.get("id")) is None:
        raise MappingError("amoCRM lead: `id` is missing")
    lead_id = deal_id(account, text(lead.get("id")))
    where = f"amoCRM lead {lead.get('id')}"
    common = {"deal_id": lead_id, "pipeline": maps.amo_pipeline(lead.get("pipeline_id")),
              "manager": maps.amo_user(lead.get("responsible_user_id")), "amount_rub": rub(lead.get("price"), where),
              "vendor": "amocrm", "account": account}
    events: list[BaseModel] = [DealEvent(event_id=f"{lead_id}:created", ts=_ts(lead, "created_at", where),
                                         type="created", **common)]
    status = text(lead.get("status_id"))
    if lead.get("is_deleted"):
        events.append(DealEvent(event_id=f"{lead_id}:deleted", ts=_ts(lead, "updated_at", where),
                                type="updated", is_spam=True, deal_id=lead_id, vendor="amocrm", account=account))
    elif status in (AMO_WON, AMO_LOST):
        closed = when(lead.get("closed_at"), where) or _ts(lead, "updated_at", where)
        stage = maps.amo_status(status)
        event_id = f"{lead_id}:{status}:{int(closed.timestamp())}"
        if status == AMO_WON:
            events.append(DealEvent(event_id=event_id, ts=closed, type="won", stage=stage, **common))
        else:
            reasons = (lead.get("_embedded") or {}).get("loss_reason") or []
            reason_id = text(lead.get("loss_reason_id")) or (text(reasons[0].get("id")) if reasons else None)
            reason_name = text(reasons[0].get("name")) if reasons else None
            meaning = maps.amo_loss_reason(reason_id) or maps.amo_loss_reason_name(reason_name)
            events.append(DealEvent(event_id=event_id, ts=closed, type="lost", stage=stage,
                                    is_spam=True if meaning == "spam" else None,
                                    lost_reason=None if meaning == "spam" else meaning, **common))
    return events


def status_event(event: dict, maps: VendorMaps, account: str) -> list[BaseModel]:
    if event.get("type") != "lead_status_changed" or event.get("entity_type") not in ("lead", "leads"):
        return []
    where = f"amoCRM event {event.get('id')}"
    after = event.get("value_after") or []
    status = after[0].get("lead_status") if after and isinstance(after[0], dict) else None
    if not isinstance(status, dict) or text(status.get("id")) is None:
        raise MappingError(f"{where}: value_after[0].lead_status.id is missing")
    if text(status.get("id")) in (AMO_WON, AMO_LOST):
        return []  # the lead itself closes the deal, with its amount and reason
    if text(event.get("entity_id")) is None:
        raise MappingError(f"{where}: `entity_id` is missing")
    deal = deal_id(account, text(event.get("entity_id")))
    return [DealEvent(event_id=f"amocrm:{account}:event:{event.get('id')}", deal_id=deal,
                      ts=_ts(event, "created_at", where), type="stage_changed", stage=maps.amo_status(status.get("id")),
                      pipeline=maps.amo_pipeline(status.get("pipeline_id")), vendor="amocrm", account=account)]


def note_events(note: dict, maps: VendorMaps, account: str) -> list[BaseModel]:
    kind = note.get("note_type")
    where = f"amoCRM note {note.get('id')}"
    if text(note.get("entity_id")) is None:
        raise MappingError(f"{where}: `entity_id` is missing")
    deal = deal_id(account, text(note.get("entity_id")))
    params = note.get("params") if isinstance(note.get("params"), dict) else {}
    ts = _ts(note, "created_at", where)
    manager = maps.amo_user(note.get("responsible_user_id") or note.get("created_by"))
    event_id = f"amocrm:{account}:note:{note.get('id')}"
    if kind in ("call_in", "call_out"):
        direction = "in" if kind == "call_in" else "out"
        duration = float(params.get("duration") or 0)
        answered = text(params.get("call_status")) == ANSWERED or (params.get("call_status") is None and duration > 0)
        status = "answered" if answered else ("missed" if direction == "in" else "no_answer")
        return [CallEvent(event_id=event_id, deal_id=deal, ts=ts, call_id=text(params.get("uniq")) or event_id,
                          direction=direction, status=status, duration_s=duration, manager=manager,
                          vendor="amocrm", account=account, recording_ref=text(params.get("link")))]
    body = text(params.get("text"))
    if kind == "common" and body:
        return [ActivityEvent(event_id=event_id, deal_id=deal, ts=ts, type="message", author="manager",
                              channel="crm_note", text=body)]
    if kind in ("sms_in", "sms_out") and body:
        return [ActivityEvent(event_id=event_id, deal_id=deal, ts=ts, type="message", channel="sms", text=body,
                              author="client" if kind == "sms_in" else "manager")]
    return []


def task_events(task: dict, maps: VendorMaps, now: datetime, account: str) -> list[BaseModel]:
    if task.get("entity_type") != "leads":
        return []
    where = f"amoCRM task {task.get('id')}"
    task_id = text(task.get("id"))
    if text(task.get("entity_id")) is None or task_id is None:
        raise MappingError(f"{where}: `entity_id` and `id` are needed")
    deal = deal_id(account, text(task.get("entity_id")))
    kind = TASK_KINDS.get(text(task.get("task_type_id")) or "", "other")
    due = when(task.get("complete_till"), where)
    base = dict(deal_id=deal, task_id=f"amocrm:{account}:{task_id}", task_kind=kind, due_at=due)
    events: list[BaseModel] = [ActivityEvent(event_id=f"amocrm:{account}:task:{task_id}:created", type="task_created",
                                             ts=_ts(task, "created_at", where), **base)]
    if task.get("is_completed"):
        events.append(ActivityEvent(event_id=f"amocrm:{account}:task:{task_id}:done", type="task_done",
                                    ts=_ts(task, "updated_at", where), **base))
    elif due is not None and due < now:
        events.append(ActivityEvent(event_id=f"amocrm:{account}:task:{task_id}:overdue", type="task_overdue", ts=due, **base))
    return events


def events_of(stream: str, item: dict, maps: VendorMaps, now: datetime, account: str) -> list[BaseModel]:
    if stream == "leads":
        return lead_events(item, maps, account)
    if stream == "events":
        return status_event(item, maps, account)
    if stream == "notes":
        return note_events(item, maps, account)
    return task_events(item, maps, now, account)
