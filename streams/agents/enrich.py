"""Fold CRM, telephony and review events into the deal-state table; ask for a refusal
record whenever a lost deal's state changes (or an event is replayed after a crash)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

import orjson
from aiokafka.partitioner import murmur2

from leakwatch.domain.deal_state import DealState, apply_event
from leakwatch.domain.retention import bounded, touched
from leakwatch.domain.reviews import CrmReviewRules
from schemas.decoding import decode
from schemas.events import DeadLetter, DealEvent, RefusalReview
from schemas.topics import BY_NAME
from streams import metrics
from streams.agents.sweep import Sweeper

log = logging.getLogger(__name__)
SWEEP_INTERVAL_S = 30.0


def key_partition(key: str, partitions: int) -> int:
    """The partition Kafka's default (murmur2) partitioner gives a key: the producers' and
    so the table's (its changelog is co-partitioned with the inputs)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


# Parsed states kept for the deals that got events lately (a deal's events come close
# together); a miss costs one validation of the stored dict. ~10 KB each.
PARSED_STATES_KEPT = 4096


class DealStates:
    """The deal-state table read and written as `DealState`s, with the states this process
    wrote kept parsed: the next event of the same deal skips `model_validate` of the stored
    dict. A cached state is used only while the table still holds the very dict it was
    written as (identity), so a value that came from anywhere else — changelog recovery,
    a rebalance, another writer — is validated afresh."""

    def __init__(self, table, cache_size: int = PARSED_STATES_KEPT, rules: CrmReviewRules | None = None):
        self.table, self.cache_size, self.rules = table, cache_size, rules
        self._parsed: OrderedDict[str, tuple[dict, DealState]] = OrderedDict()

    def get(self, deal_id: str) -> DealState | None:
        raw = self.table.get(deal_id)
        if not raw:
            return None
        hit = self._parsed.get(deal_id)
        if hit is not None and hit[0] is raw:
            self._parsed.move_to_end(deal_id)
            return hit[1]
        state = DealState.model_validate(raw)
        self._remember(deal_id, raw, state)
        return state

    def fold(self, event, finish: Callable[[DealState], DealState] = lambda s: s) -> tuple[DealState, bool, bool]:
        """(new state, whether it changed, whether the event was a replay of a folded one).
        `finish` shapes a changed state before it is stored (bounding, the last-change time)."""
        state = self.get(event.deal_id)
        replayed = state is not None and event.event_id in state.seen_events
        new, changed = apply_event(state, event, self.rules)
        if changed or state is None:
            new = finish(new)
            raw = new.model_dump(mode="json")
            self.table[event.deal_id] = raw
            self._remember(event.deal_id, raw, new)
        elif replayed:
            # Written again, unchanged, so the changelog holds it: a local RocksDB store can be
            # ahead of the changelog (killed after the put, before the changelog send was
            # acked), and the replay of that event is the only chance to publish it — else a
            # worker that takes the partition over later rebuilds the deal without it.
            self.table[event.deal_id] = self.table.get(event.deal_id)
        return new, changed, replayed

    def _remember(self, deal_id: str, raw: dict, state: DealState) -> None:
        if self.cache_size <= 0:
            return
        self._parsed[deal_id] = (raw, state)
        self._parsed.move_to_end(deal_id)
        while len(self._parsed) > self.cache_size:
            self._parsed.popitem(last=False)


def register(ctx) -> None:
    settings = ctx.settings
    grace_s = settings.grace_period_s + 60  # its record is out by then
    retention_s = settings.deal_retention_days * 86400
    sweeper = Sweeper(ctx.deal_state, partitions=settings.topic_partitions, grace_s=grace_s,
                      retention_s=retention_s, key_partition=key_partition, pass_every_s=SWEEP_INTERVAL_S)

    # A QA lead's move from «Условный отказ» to closed-lost in the CRM is folded as a review.
    states = DealStates(ctx.deal_state, rules=CrmReviewRules.from_settings(settings))

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

            before = states.get(decoded.deal_id)
            new, changed, replayed = states.fold(
                decoded, lambda s: touched(bounded(s, timeline_cap=settings.deal_timeline_cap), time.time()))

            if new.ever_lost and (changed or replayed):
                # A review (from the board or a CRM move) needs no grace period; anything else
                # may still be followed by a late transcript, so wait before classifying.
                reviewed = isinstance(decoded, RefusalReview) or (
                    new.review is not None and (before is None or before.review != new.review))
                wait = 0.0 if reviewed or not new.is_refusal else settings.grace_period_s
                request = {"deal_id": new.deal_id, "revision": new.revision, "due_at": time.time() + wait}
                # Same partition as the state, so the worker that owns one owns the other.
                await ctx.requests.send(key=msg.key or new.deal_id.encode(), value=orjson.dumps(request),
                                        partition=msg.partition)
            if isinstance(decoded, DealEvent) and decoded.type == "won" and (changed or replayed) and new.amount_rub:
                row = {"deal_id": new.deal_id, "version": new.revision, "won_at": decoded.ts.isoformat(),
                       "pipeline": new.pipeline, "manager": new.manager, "amount_rub": new.amount_rub}
                await ctx.won.send(key=new.deal_id.encode(), value=orjson.dumps(row), partition=msg.partition)
            sweeper.on_event(msg.partition)
