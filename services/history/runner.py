"""An import in two resumable steps. Fetch: every stream page by page into the spool, the
checkpoint saved after each page. Produce: the spooled history mapped to canonical events,
de-duplicated, put in time order (a deal is created before its calls and lost after them,
as the stream folds it), and produced in batches, each acknowledged by Kafka before the
checkpoint moves past it. A re-run of a finished import produces the same event ids, which
the stream ignores."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pydantic import BaseModel, ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from schemas.decoding import describe
from schemas.events import ActivityEvent, CallEvent, DeadLetter, DealEvent, RefusalReview
from schemas.topics import ACTIVITIES, CALLS, DEADLETTER, DEALS, REVIEWS, TopicSpec
from services.history import amocrm, bitrix24
from services.history.checkpoint import Checkpoint, StreamState
from services.history.names import MappingError, VendorMaps
from services.kafka_out import EventProducer

log = logging.getLogger("leakwatch.import")
BATCH = 1000
SPECS = {DealEvent: DEALS, CallEvent: CALLS, ActivityEvent: ACTIVITIES, RefusalReview: REVIEWS}


@dataclass
class Mapped:
    events: list[tuple[TopicSpec, BaseModel]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (where it came from, why)

    def add(self, produce: Callable[[], list[BaseModel]], origin: str) -> None:
        try:
            self.events.extend((SPECS[type(e)], e) for e in produce())
        except (MappingError, ValidationError, ValueError, TypeError, KeyError) as exc:
            why = describe(exc) if isinstance(exc, ValidationError) else str(exc)
            self.refused.append((origin, why))


def fetch(api, checkpoint: Checkpoint, trim: Callable[[str, dict], dict], progress: Progress) -> None:
    for stream in api.ORDER:
        state = checkpoint.streams.setdefault(stream, StreamState(api.first_token(stream)))
        task = progress.add_task(f"{checkpoint.source} {stream}", total=state.total, completed=state.items)
        while not state.done:
            page = api.page(stream, state.next_token, checkpoint.since)
            checkpoint.append(stream, [trim(stream, item) for item in page.items])
            state.next_token, state.total = page.next_token, page.total if page.total is not None else state.total
            state.pages += 1
            state.items += len(page.items)
            checkpoint.save()
            progress.update(task, completed=state.items, total=state.total if not state.done else state.items)
        progress.update(task, completed=state.items, total=state.items)


def map_amocrm(checkpoint: Checkpoint, maps: VendorMaps, account: str) -> Mapped:
    out = Mapped()
    for stream in amocrm.STREAMS:
        for item in checkpoint.spooled(stream):
            out.add(lambda: amocrm.events_of(stream, item, maps, checkpoint.started_at, account),
                    f"amocrm {stream} {item.get('id')}")
    return out


def map_bitrix24(checkpoint: Checkpoint, maps: VendorMaps, account: str) -> Mapped:
    out = Mapped()
    activities = checkpoint.spooled("activities")
    joins = bitrix24.activity_deals(activities)
    for deal in checkpoint.spooled("deals"):
        out.add(lambda: bitrix24.deal_events(deal, maps, account), f"bitrix24 deal {deal.get('ID')}")
    for activity in activities:
        out.add(lambda: bitrix24.activity_events(activity, maps, checkpoint.started_at, account),
                f"bitrix24 activity {activity.get('ID')}")
    for call in checkpoint.spooled("calls"):
        out.add(lambda: bitrix24.call_events(call, maps, joins, account), f"bitrix24 call {call.get('CALL_ID') or call.get('ID')}")
    return out


def _rank(event: BaseModel) -> int:
    if isinstance(event, DealEvent):
        return {"created": 0, "won": 2, "lost": 2}.get(event.type, 1)
    return 3 if isinstance(event, RefusalReview) else 1


def in_time_order(events: Iterable[tuple[TopicSpec, BaseModel]]) -> list[tuple[TopicSpec, BaseModel]]:
    """One of each event id, oldest first; a fixed order, so a resumed import skips exactly what was sent."""
    unique = {(spec.name, e.event_id): (spec, e) for spec, e in events}
    return sorted(unique.values(), key=lambda se: (se[1].ts, _rank(se[1]), se[1].deal_id, se[1].event_id))


def produce(mapped: Mapped, checkpoint: Checkpoint, producer: EventProducer, progress: Progress) -> Counter:
    events = in_time_order(mapped.events)
    if mapped.refused and not checkpoint.dead_letters_sent:
        now = datetime.now(timezone.utc)
        for origin, why in mapped.refused:
            letter = DeadLetter(topic=f"import:{checkpoint.source}", partition=None, offset=None, key=None,
                                error=why, payload=origin, received_at=now)
            producer.send_raw(DEADLETTER.name, None, letter.model_dump_json().encode())
        producer.flush()
        checkpoint.dead_letters_sent = True
        checkpoint.save()
    task = progress.add_task("Kafka", total=len(events), completed=checkpoint.produced)
    for start in range(checkpoint.produced, len(events), BATCH):
        batch = events[start:start + BATCH]
        for spec, event in batch:
            producer.send(spec, event)
        producer.flush()  # raises DeliveryFailed: the checkpoint stays before this batch
        checkpoint.produced = start + len(batch)
        checkpoint.save()
        progress.update(task, completed=checkpoint.produced)
    checkpoint.finished = True
    checkpoint.save()
    return Counter(spec.name for spec, _ in events)


def progress_bar(enabled: bool) -> Progress:
    from rich.console import Console

    return Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True), disable=not enabled)
