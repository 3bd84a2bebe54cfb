"""Fold CRM, telephony and review events into the deal-state table; ask for a refusal
record whenever a lost deal's state changes (or an event is replayed after a crash)."""

from __future__ import annotations

import logging
import time
import orjson
from aiokafka.partitioner import murmur2

from leakwatch.domain.deal_state import DealState, apply_event
from leakwatch.domain.retention import bounded, expire, touched
from schemas.decoding import decode
from schemas.events import DeadLetter, DealEvent, RefusalReview
from schemas.topics import BY_NAME
from streams import metrics

log = logging.getLogger(__name__)
SWEEP_INTERVAL_S = 30.0


def key_partition(key: str, partitions: int) -> int:
    """The partition Kafka's default (murmur2) partitioner gives a key: the producers' and
    so the table's (its changelog is co-partitioned with the inputs)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def register(ctx) -> None:
    settings = ctx.settings
    grace_s = settings.grace_period_s + 60  # its record is out by then
    retention_s = settings.deal_retention_days * 86400
    swept_at: dict[int, float] = {}

    def sweep(partition: int) -> None:
        """Drop texts of deals closed longer than the grace period and evict deals closed
        longer than the retention, for the partition of the event in hand (table writes go
        to the changelog partition of the current event, so only its own keys are touched)."""
        now = time.time()
        n = settings.topic_partitions
        dried = evicted = 0
        for deal_id, raw in list(ctx.deal_state.items()):
            if raw is None or key_partition(deal_id, n) != partition:
                continue
            state = DealState.model_validate(raw)
            kept = expire(state, now, grace_s=grace_s, retention_s=retention_s)
            if kept is None:
                del ctx.deal_state[deal_id]
                evicted += 1
            elif kept is not state:
                ctx.deal_state[deal_id] = kept.model_dump(mode="json")
                dried += 1
        if dried or evicted:
            log.info("partition %d: texts dropped from %d closed deals, %d deals evicted", partition, dried, evicted)

    @ctx.app.agent(ctx.inputs, name="enrich")
    async def enrich(stream):
        async for event in stream.events():
            msg = event.message
            metrics.EVENTS_CONSUMED.labels(msg.topic).inc()
            decoded = decode(BY_NAME[msg.topic.removeprefix(settings.topic_prefix)], event.value, key=msg.key,
                             partition=msg.partition, offset=msg.offset)
            if isinstance(decoded, DeadLetter):
                # Logged by position, never by payload: transcripts hold personal data.
                log.warning("dead letter %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset,
                            decoded.error)
                metrics.DEAD_LETTERS.labels(msg.topic).inc()
                await ctx.deadletter.send(key=msg.key, value=decoded.model_dump_json().encode())
                continue

            raw_state = ctx.deal_state.get(decoded.deal_id)
            state = DealState.model_validate(raw_state) if raw_state else None
            replayed = state is not None and decoded.event_id in state.seen_events
            new, changed = apply_event(state, decoded)
            if changed or state is None:
                new = touched(bounded(new, timeline_cap=settings.deal_timeline_cap), time.time())
                ctx.deal_state[decoded.deal_id] = new.model_dump(mode="json")

            if new.ever_lost and (changed or replayed):
                # A review needs no grace period; anything else may still be followed by a
                # late transcript, so wait before classifying.
                wait = 0.0 if isinstance(decoded, RefusalReview) or not new.is_refusal else settings.grace_period_s
                request = {"deal_id": new.deal_id, "revision": new.revision, "due_at": time.time() + wait}
                # Same partition as the state, so the worker that owns one owns the other.
                await ctx.requests.send(key=msg.key or new.deal_id.encode(), value=orjson.dumps(request),
                                        partition=msg.partition)
            if isinstance(decoded, DealEvent) and decoded.type == "won" and (changed or replayed) and new.amount_rub:
                row = {"deal_id": new.deal_id, "version": new.revision, "won_at": decoded.ts.isoformat(),
                       "pipeline": new.pipeline, "manager": new.manager, "amount_rub": new.amount_rub}
                await ctx.won.send(key=new.deal_id.encode(), value=orjson.dumps(row), partition=msg.partition)
            if time.monotonic() - swept_at.get(msg.partition, 0.0) > SWEEP_INTERVAL_S:
                swept_at[msg.partition] = time.monotonic()
                sweep(msg.partition)
