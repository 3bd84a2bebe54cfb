"""Fold CRM, telephony and review events into the deal-state table; ask for a refusal
record whenever a lost deal's state changes (or an event is replayed after a crash)."""

from __future__ import annotations

import logging
import time

import orjson

from leakwatch.domain.deal_state import DealState, apply_event
from schemas.decoding import decode
from schemas.events import DeadLetter, DealEvent, RefusalReview
from schemas.topics import BY_NAME
from streams import metrics

log = logging.getLogger(__name__)


def register(ctx) -> None:
    settings = ctx.settings

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
