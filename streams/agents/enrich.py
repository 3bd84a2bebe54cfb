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
from leakwatch.domain.retention import bounded, expire, may_expire, touched
from leakwatch.domain.reviews import CrmReviewRules
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
    swept_at: dict[int, float] = {}

    def sweep(partition: int) -> None:
        """Drop texts of deals closed longer than the grace period and evict deals closed
        longer than the retention, for the partition of the event in hand (table writes go
        to the changelog partition of the current event, so only its own keys are touched)."""
        now = time.time()
        n = settings.topic_partitions
        dried = evicted = 0
        for deal_id, raw in list(ctx.deal_state.items()):
            if (raw is None or key_partition(deal_id, n) != partition
                    or not may_expire(raw, now, grace_s=grace_s, retention_s=retention_s)):
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
            if time.monotonic() - swept_at.get(msg.partition, 0.0) > SWEEP_INTERVAL_S:
                swept_at[msg.partition] = time.monotonic()
                sweep(msg.partition)
