"""Fold CRM, telephony and review events into the deal-state table; ask for a refusal
record whenever a lost deal's state changes (or an event is replayed after a crash).

The inputs are read in batches (Faust's `noack_take`): each deal of a batch is read once,
folded with all its events, written once, and asks for at most one refusal record (its
newest revision; the refusals agent discarded the older ones anyway). A batch's events are
acked only after its table writes and sends are handed to the producer (Faust flushes the
producer before it commits), so a crash at any point re-delivers the whole batch; the fold
is idempotent by event id and a replay re-publishes what the changelog may have missed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
from aiokafka.partitioner import murmur2

from leakwatch.domain.deal_state import DealState, Event, apply_event
from leakwatch.domain.retention import bounded, touched
from leakwatch.domain.reviews import CrmReviewRules
from schemas.decoding import decode
from schemas.events import DeadLetter, DealEvent, RefusalReview
from schemas.topics import BY_NAME
from streams import metrics
from streams.agents.current import current_event
from streams.agents.sweep import Sweeper

log = logging.getLogger(__name__)
SWEEP_INTERVAL_S = 30.0
# A batch is cut at this many events or after this long waiting for more: the wait is at
# most this much latency added; the size bounds a batch's work between two event-loop turns.
BATCH_MAX_EVENTS = 1000
BATCH_WITHIN_S = 0.05


def key_partition(key: str, partitions: int) -> int:
    """The partition Kafka's default (murmur2) partitioner gives a key: the producers' and
    so the table's (its changelog is co-partitioned with the inputs)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


# Parsed states kept for the deals that got events lately (a deal's events come close
# together); a miss costs one validation of the stored dict. ~10 KB each.
PARSED_STATES_KEPT = 4096


@dataclass
class Step:
    """One event folded into its deal: the state it met and the state it left."""

    event: Event
    handle: object  # the Kafka event it came in (Faust's), None in unit tests
    before: DealState | None
    new: DealState
    changed: bool
    replayed: bool


@dataclass
class DealFold:
    """A deal's events of one batch, folded in order; stored once."""

    deal_id: str
    before: DealState | None  # as the batch found it in the table
    new: DealState | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.steps)

    @property
    def replayed(self) -> bool:
        return any(s.replayed for s in self.steps)


class DealStates:
    """The deal-state table read and written as `DealState`s, with the states this process
    wrote kept parsed: the next event of the same deal skips `model_validate` of the stored
    dict. A cached state is used only while the table still holds the very dict it was
    written as (identity), so a value that came from anywhere else — changelog recovery,
    a rebalance, another writer — is validated afresh. (Faust's RocksDB store decodes a new
    dict on every read, so there only `fold_batch`'s one read per deal per batch saves.)"""

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
        """(new state, whether it changed, whether the event was a replay of a folded one)."""
        [f] = self.fold_batch([(event, None)], finish)
        return f.new, f.changed, f.replayed

    def fold_batch(self, events: Iterable[tuple[Event, object]],
                   finish: Callable[[DealState], DealState] = lambda s: s,
                   stamp: Callable[[DealState], DealState] | None = None) -> list[DealFold]:
        """Fold `(event, handle)` pairs in order, each deal read once and written once (one
        changelog record per deal per batch instead of one per event). `finish` shapes each
        changed state (bounding) as the one-by-one fold did; `stamp` (the last-change time,
        which no fold reads) only the state stored. No await in here: nothing (the refusals
        agent's write of the AI labels) slips in between a deal's read and its write. The
        write takes the partition of the deal's last event."""
        folds: dict[str, DealFold] = {}
        for event, handle in events:
            f = folds.get(event.deal_id)
            if f is None:
                with current_event(handle):  # RocksDB reads the event's partition
                    before = self.get(event.deal_id)
                f = folds[event.deal_id] = DealFold(event.deal_id, before, before)
            state = f.new
            replayed = state is not None and event.event_id in state.seen_events
            new, changed = apply_event(state, event, self.rules)
            if changed or state is None:
                new = finish(new)
            elif not replayed:
                # New but changing nothing: as before batching, not stored (its id with it).
                new = state
            f.steps.append(Step(event, handle, state, new, changed, replayed))
            f.new = new
        for f in folds.values():
            with current_event(f.steps[-1].handle):
                if f.changed or f.before is None:
                    if stamp is not None:
                        f.new = stamp(f.new)
                    raw = f.new.model_dump(mode="json")
                    self.table[f.deal_id] = raw
                    self._remember(f.deal_id, raw, f.new)
                elif f.replayed:
                    # Written again, unchanged, so the changelog holds it: a local RocksDB store can be
                    # ahead of the changelog (killed after the put, before the changelog send was
                    # acked), and the replay of that event is the only chance to publish it — else a
                    # worker that takes the partition over later rebuilds the deal without it.
                    self.table[f.deal_id] = self.table.get(f.deal_id)
        return list(folds.values())

    def _remember(self, deal_id: str, raw: dict, state: DealState) -> None:
        if self.cache_size <= 0:
            return
        self._parsed[deal_id] = (raw, state)
        self._parsed.move_to_end(deal_id)
        while len(self._parsed) > self.cache_size:
            self._parsed.popitem(last=False)


def refusal_request(f: DealFold, *, grace_period_s: float, now: float) -> tuple[dict, object] | None:
    """The one refusal request a deal's batch asks for, and the Kafka message it answers:
    the newest revision of a deal that was ever lost and changed (or got a replay). Its wait
    is the one the one-by-one fold gave its last request (the one the refusals agent kept,
    superseding the others): a review (from the board or a CRM move) needs no grace period;
    anything else may still be followed by a late transcript, so it waits."""
    asking = [s for s in f.steps if s.new.ever_lost and (s.changed or s.replayed)]
    if not asking:
        return None
    last = asking[-1]
    reviewed = isinstance(last.event, RefusalReview) or (
        last.new.review is not None and (last.before is None or last.before.review != last.new.review))
    wait = 0.0 if reviewed or not last.new.is_refusal else grace_period_s
    request = {"deal_id": last.new.deal_id, "revision": last.new.revision, "due_at": now + wait}
    return request, getattr(last.handle, "message", None)


def won_rows(f: DealFold) -> list[tuple[dict, object]]:
    """A row for the average checks per won event that changed (or replayed) a deal with an
    amount, at the revision that event left, with its Kafka message."""
    rows = []
    for s in f.steps:
        e = s.event
        if isinstance(e, DealEvent) and e.type == "won" and (s.changed or s.replayed) and s.new.amount_rub:
            rows.append(({"deal_id": s.new.deal_id, "version": s.new.revision, "won_at": e.ts.isoformat(),
                          "pipeline": s.new.pipeline, "manager": s.new.manager, "amount_rub": s.new.amount_rub},
                         getattr(s.handle, "message", None)))
    return rows


def register(ctx) -> None:
    settings = ctx.settings
    grace_s = settings.grace_period_s + 60  # its record is out by then
    retention_s = settings.deal_retention_days * 86400
    sweeper = Sweeper(ctx.deal_state, partitions=settings.topic_partitions, grace_s=grace_s,
                      retention_s=retention_s, key_partition=key_partition, pass_every_s=SWEEP_INTERVAL_S)

    # A QA lead's move from «Условный отказ» to closed-lost in the CRM is folded as a review.
    states = DealStates(ctx.deal_state, rules=CrmReviewRules.from_settings(settings))

    def finish(state: DealState) -> DealState:
        return bounded(state, timeline_cap=settings.deal_timeline_cap)

    def stamp(state: DealState) -> DealState:
        return touched(state, time.time())

    async def handle(batch: list) -> None:
        consumed: Counter[str] = Counter()
        decoded = []
        for event in batch:
            msg = event.message
            consumed[msg.topic] += 1
            d = decode(BY_NAME[msg.topic.removeprefix(settings.topic_prefix)], event.value, key=msg.key,
                       partition=msg.partition, offset=msg.offset)
            if isinstance(d, DeadLetter):
                # Logged by position, never by payload: transcripts hold personal data.
                log.warning("dead letter %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, d.error)
                metrics.DEAD_LETTERS.labels(msg.topic).inc()
                await ctx.deadletter.send(key=msg.key, value=d.model_dump_json().encode())
                continue
            decoded.append((d, event))
        for topic, n in consumed.items():
            metrics.EVENTS_CONSUMED.labels(topic).inc(n)

        folds = states.fold_batch(decoded, finish, stamp)  # the table writes, all before any send below

        now = time.time()
        for f in folds:
            asked = refusal_request(f, grace_period_s=settings.grace_period_s, now=now)
            if asked is not None:
                request, msg = asked
                # Same partition as the state, so the worker that owns one owns the other.
                await ctx.requests.send(key=msg.key or f.deal_id.encode(), value=orjson.dumps(request),
                                        partition=msg.partition)
            for row, msg in won_rows(f):
                await ctx.won.send(key=f.deal_id.encode(), value=orjson.dumps(row), partition=msg.partition)

        last_of_partition = {event.message.partition: event for event in batch}
        for partition, event in last_of_partition.items():
            with current_event(event):  # the sweep's writes go to this partition's changelog
                sweeper.on_event(partition)

    @ctx.app.agent(ctx.inputs, name="enrich")
    async def enrich(stream):
        # Acked only once handled: an exception leaves the batch unacked (never committed;
        # Faust's own `take` would ack it in its `finally`).
        async for batch in stream.noack_take(BATCH_MAX_EVENTS, within=BATCH_WITHIN_S):
            await handle(batch)
            for event in batch:
                await stream.ack(event)
