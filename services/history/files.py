"""History from an export file. Pure apart from reading the file.

JSON (an array) or JSON Lines: canonical events, each naming its topic in `topic`
(crm.deals, telephony.calls, crm.activities, refusals.reviewed) or recognised by its fields.
CSV: one deal per row, columns `deal_id, created_at, status (open|won|lost), closed_at,
stage, pipeline, manager, amount_rub, lost_reason, lost_comment` (times ISO 8601 with an
offset) — the shape of a CRM's deal export after renaming its columns.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from pydantic import BaseModel, ValidationError

from schemas.decoding import describe
from schemas.topics import ACTIVITIES, CALLS, DEALS, INPUTS, REVIEWS, TopicSpec
from services.history.names import MappingError, rub, text, when

BY_TOPIC = {spec.name: spec for spec in INPUTS}
DEAL_TYPES = {"created", "updated", "stage_changed", "won", "lost"}


def _spec_for(item: dict) -> TopicSpec:
    if item.get("topic") is not None:
        spec = BY_TOPIC.get(item["topic"])
        if spec is None:
            raise MappingError(f"topic {item['topic']!r} is not an input topic ({', '.join(BY_TOPIC)})")
        return spec
    if "call_id" in item:
        return CALLS
    if "reviewer" in item:
        return REVIEWS
    return DEALS if item.get("type") in DEAL_TYPES else ACTIVITIES


def json_items(raw: bytes) -> list[tuple[str, object]]:
    """(where, item): `item N` of a JSON array, `line N` of JSON Lines; a line that is not
    JSON is its own item, refused with its line number, not the whole file."""
    stripped = raw.lstrip()
    if stripped.startswith(b"["):
        items = orjson.loads(stripped)
        if not isinstance(items, list):
            raise orjson.JSONDecodeError("expected a JSON array", stripped.decode(errors="replace"), 0)
        return [(f"item {n}", item) for n, item in enumerate(items, 1)]
    out: list[tuple[str, object]] = []
    for n, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                out.append((f"line {n}", orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                out.append((f"line {n}", NotJson(line.decode(errors="replace"), str(exc))))
    return out


class NotJson:
    def __init__(self, text: str, why: str):
        self.text, self.why = text, why


def event_from_json(item: object) -> tuple[TopicSpec, BaseModel]:
    if isinstance(item, NotJson):
        raise MappingError(f"not JSON: {item.why}")
    if not isinstance(item, dict):
        raise MappingError(f"expected a JSON object, got {type(item).__name__}")
    spec = _spec_for(item)
    try:
        return spec, spec.model.model_validate({k: v for k, v in item.items() if k != "topic"})
    except ValidationError as exc:
        raise MappingError(f"does not match {spec.name} v1: {describe(exc)}") from None


def events_from_csv_row(row: dict) -> list[tuple[TopicSpec, BaseModel]]:
    deal = text(row.get("deal_id"))
    where = f"CSV deal {deal}"
    if deal is None:
        raise MappingError("CSV row: `deal_id` is missing")
    created = when(row.get("created_at"), where)
    if created is None:
        raise MappingError(f"{where}: `created_at` is missing")
    status = (text(row.get("status")) or "open").lower()
    if status not in ("open", "won", "lost"):
        raise MappingError(f"{where}: status {status!r} is not open, won or lost")
    common = {"deal_id": deal, "pipeline": text(row.get("pipeline")), "manager": text(row.get("manager")),
              "amount_rub": rub(row.get("amount_rub"), where)}
    try:
        out = [(DEALS, DEALS.model(event_id=f"file:{deal}:created", ts=created, type="created",
                                   stage=text(row.get("stage")) if status == "open" else None, **common))]
        if status != "open":
            closed = when(row.get("closed_at"), where)
            if closed is None:
                raise MappingError(f"{where}: a {status} deal needs `closed_at`")
            out.append((DEALS, DEALS.model(
                event_id=f"file:{deal}:{status}:{int(closed.timestamp())}", ts=closed, type=status,
                stage=text(row.get("stage")), lost_reason=text(row.get("lost_reason")) if status == "lost" else None,
                lost_comment=text(row.get("lost_comment")) if status == "lost" else None, **common)))
    except ValidationError as exc:
        raise MappingError(f"{where}: {describe(exc)}") from None
    return out


def read_export(path: Path) -> tuple[list[tuple[TopicSpec, BaseModel]], list[tuple[str, str]]]:
    """(events, [(raw item, why it was refused)]); each why starts with the file's name and
    where in it («deals.csv line 4: …»), so a person can find and fix the row."""
    raw = path.read_bytes()
    events, refused = [], []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        for row in reader:
            try:
                events.extend(events_from_csv_row(row))
            except MappingError as exc:  # line_num: the row's last physical line, the header being line 1
                refused.append((orjson.dumps(row).decode(), f"{path.name} line {reader.line_num}: {exc}"))
        return events, refused
    try:
        items = json_items(raw)
    except orjson.JSONDecodeError as exc:
        raise MappingError(f"{path.name}: not JSON or JSON Lines: {exc}") from None
    for where, item in items:
        try:
            events.append(event_from_json(item))
        except MappingError as exc:
            payload = item.text if isinstance(item, NotJson) else orjson.dumps(item).decode()
            refused.append((payload, f"{path.name} {where}: {exc}"))
    return events, refused
