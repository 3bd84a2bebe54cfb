"""Canonical events posted as JSON (one object or an array) -> validated models. Pure.

All or nothing: one bad event rejects the whole post, which then goes to `deadletter`
whole, so a sender fixes and re-sends one batch instead of guessing which part landed.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from schemas.decoding import describe
from schemas.topics import INPUTS, TopicSpec
from services.ingest.errors import MappingError

TOPICS = {spec.name: spec for spec in INPUTS}  # crm.deals, telephony.calls, crm.activities, refusals.reviewed


def canonical_events(spec: TopicSpec, payload: object) -> list[BaseModel]:
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise MappingError("empty array: no events")
    events, errors = [], []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(f"[{i}]: expected a JSON object, got {type(item).__name__}")
            continue
        try:
            events.append(spec.model.model_validate(item))
        except ValidationError as exc:
            errors.append(f"[{i}]: {describe(exc)}")
    if errors:
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise MappingError(f"does not match {spec.name} v1: {shown}")
    return events
