"""amoCRM / Kommo deal webhooks -> crm.deals events. Pure: no I/O.

amoCRM posts form fields per action, several deals per post:
`leads[status][0][id]`, `[status_id]`, `[old_status_id]`, `[pipeline_id]`, `[price]`,
`[responsible_user_id]`, `[last_modified]` (unix s), `[date_create]`, and the same under
`leads[add]`, `leads[update]`, `leads[responsible]` (a new responsible manager);
`leads[delete]` carries only id, status_id and pipeline_id; `account[subdomain]` names the
account, and deal ids are `amocrm:<subdomain>:<lead id>` so accounts never collide.
Status 142 is won and 143 lost in every account. A lost lead's reason is not in the webhook:
the gateway fetches it (`GET /api/v4/leads/{id}?with=loss_reason`) and passes its name in as
`loss_reason_name`; `amocrm.loss_reason_names` maps it to one of the seven reasons.
Hooks on contacts, companies, tasks or notes are known and not used (Ignored).

«Условный отказ»: a move into a review stage (`LEAKWATCH_CRM_REVIEW_STAGES`, status id or
name) is the manager's refusal with a stated reason — a `lost` event whose loss reason is
fetched the same way; the QA lead's later move to 143 carries `old_status_id` (`from_stage_id`)
and `modified_user_id` (`changed_by`), and the worker reads it as the review. The hook sends
no old field values: the reason after the move is compared with the manager's stated one.
"""

from __future__ import annotations

from datetime import datetime

from leakwatch.domain.reviews import CrmReviewRules
from schemas.events import DealEvent
from services.ingest.calls import Ignored
from services.ingest.errors import MappingError
from services.ingest.forms import entries
from services.ingest.ids import content_id
from services.ingest.values import required, rub, text, when
from services.ingest.vendor_maps import AMO_LOST, AMO_WON, VendorMaps

# A post may hold several actions; creation goes first so the stream sees the deal born.
ACTIONS = ("add", "update", "status", "responsible", "delete")
OTHER_ENTITIES = ("contacts", "companies", "customers", "task", "tasks", "notes", "unsorted", "talk", "catalogs")


def subdomain_of(payload: object) -> str:
    account = payload.get("account") if isinstance(payload, dict) else None
    sub = text(account.get("subdomain")) if isinstance(account, dict) else None
    if sub is None:
        raise MappingError("amoCRM: account[subdomain] is missing")
    return sub.lower()


def is_refusal_status(status_id: str | None, maps: VendorMaps, review: CrmReviewRules | None) -> bool:
    """Lost (143), or a review stage («Условный отказ») by its id or its name."""
    if status_id == AMO_LOST:
        return True
    return (review is not None and status_id is not None
            and review.is_review_stage(status_id, maps.amo_status(status_id)))


def lost_lead_ids(payload: object, maps: VendorMaps | None = None, review: CrmReviewRules | None = None) -> list[str]:
    """Leads this post moves to the lost status or to a review stage: their loss reason has to be fetched."""
    leads = payload.get("leads") if isinstance(payload, dict) else None
    section = leads.get("status", []) if isinstance(leads, dict) else []
    def refusal(status_id: str | None) -> bool:
        return status_id == AMO_LOST or (maps is not None and is_refusal_status(status_id, maps, review))

    return [text(lead.get("id")) for lead in entries(section)
            if text(lead.get("id")) and refusal(text(lead.get("status_id")))]


def with_loss_reasons(payload: dict, names: dict[str, str | None]) -> dict:
    """The payload with each lost lead's `loss_reason_name` (from the REST lookup) filled in."""
    section = {str(i): dict(lead) for i, lead in enumerate(entries(payload["leads"]["status"]))}
    for lead in section.values():
        name = names.get(text(lead.get("id")) or "")
        if name:
            lead["loss_reason_name"] = name
    return {**payload, "leads": {**payload["leads"], "status": section}}


def deal_events(payload: object, maps: VendorMaps, now: datetime,
                review: CrmReviewRules | None = None) -> list[DealEvent] | Ignored:
    leads = payload.get("leads") if isinstance(payload, dict) else None
    if leads is None and isinstance(payload, dict) and any(e in payload for e in OTHER_ENTITIES):
        return Ignored("amoCRM: not a lead (deal) hook: " + ", ".join(e for e in OTHER_ENTITIES if e in payload))
    if not isinstance(leads, dict) or not any(a in leads for a in ACTIONS):
        got = ", ".join(sorted(payload)) if isinstance(payload, dict) and payload else "no fields"
        raise MappingError(f"amoCRM: no deal in the payload (expected leads[add|update|status|delete]), got {got}")
    sub = subdomain_of(payload)
    events = []
    for action in ACTIONS:
        for i, lead in enumerate(entries(leads.get(action, []))):
            events.append(_event(action, lead, sub, maps, now, f"amoCRM leads[{action}][{i}]", review))
    if not events:
        raise MappingError("amoCRM: the leads sections are empty")
    return events


def _event(action: str, lead: dict, sub: str, maps: VendorMaps, now: datetime, where: str,
           review: CrmReviewRules | None = None) -> DealEvent:
    lead_id = f"amocrm:{sub}:{required(lead, 'id', where)}"
    status_id = text(lead.get("status_id"))
    ts = when(lead.get("last_modified") or lead.get("updated_at"), where)
    if ts is None and action == "add":
        ts = when(lead.get("date_create") or lead.get("created_at"), where)
    fields = {
        "event_id": content_id(f"{lead_id}:{action}", lead),
        "deal_id": lead_id,
        "ts": ts or now,  # a delete carries no time: the moment we heard of it
        "pipeline": maps.amo_pipeline(lead.get("pipeline_id")),
        "manager": maps.amo_user(lead.get("responsible_user_id")),
        "amount_rub": rub(lead.get("price"), where),
        "vendor": "amocrm", "account": sub,
    }
    if action == "delete":
        # A deleted deal no longer exists in the CRM: excluded like spam, so the boards
        # agree with the CRM's own reports (and a refusal already counted is retracted).
        return DealEvent(type="updated", is_spam=True, **fields)
    if action in ("update", "responsible"):  # a reassignment changes the manager only
        # No stage here: amoCRM also sends leads[status] for a move, and an update that
        # arrives first would make the stream lose the stage the deal was lost at.
        return DealEvent(type="updated", **fields)
    if status_id is None:
        raise MappingError(f"{where}: `status_id` is missing")
    stage = maps.amo_status(status_id)
    fields["stage_id"] = status_id
    if action == "add":
        return DealEvent(type="created", stage=stage, **fields)
    old = text(lead.get("old_status_id"))
    fields.update(from_stage_id=old, from_stage=maps.amo_status(old),
                  changed_by=maps.amo_user(lead.get("modified_user_id")))
    if status_id == AMO_WON:
        return DealEvent(type="won", stage=stage, **fields)
    if is_refusal_status(status_id, maps, review):
        meaning = (maps.amo_loss_reason(text(lead.get("loss_reason_id")))
                   or maps.amo_loss_reason_name(text(lead.get("loss_reason_name")))
                   or (review.reason_of(lead.get("loss_reason_name")) if review is not None else None))
        if meaning == "spam":
            return DealEvent(type="lost", stage=stage, is_spam=True, **fields)
        return DealEvent(type="lost", stage=stage, lost_reason=meaning, **fields)
    return DealEvent(type="stage_changed", stage=stage, **fields)
