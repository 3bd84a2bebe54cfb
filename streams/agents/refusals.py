"""Turn due refusal requests into records on `refusals.classified`.

Never acks what was not done: the stream is read without auto-acks (`noack`), and a
request is acked only after its record was delivered to `refusals.classified` (or, after
`refusal_max_attempts` failed attempts, its dead letter to `deadletter`). A failing batch
is retried with backoff inside the agent, so the partition waits and nothing is committed
past it (Faust's `take()` would ack the whole batch in its `finally` when the body raises).

The grace period for late transcripts is a due-time queue, not a sleep: a review (due at
once) is published while older requests still wait out their grace period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from leakwatch.domain.deal_state import DealState
from leakwatch.domain.due_queue import DueQueue
from leakwatch.domain.refusals import classifier_input, refusal_record, retraction_record
from leakwatch.domain.retry import backoff_delay

from schemas.conversation import ClassificationResult, Labels
from schemas.events import ClassifiedRefusal, DeadLetter, RefusalRequest
from streams import metrics
from streams.agents.current import current_event
from streams.average_checks import AverageChecks

log = logging.getLogger(__name__)
MAX_PENDING = 20_000  # requests held for their due time before the reader waits
# Positions (partition, offset) of requests this process has settled, so a copy that a
# rebalance re-delivers (Faust seeks back to the committed offset, which can lag the acks by
# many requests) is acked at once instead of classified and published again. ~100 B each.
SETTLED_KEPT = 100_000


@dataclass(eq=False)  # identity: one queued request, however equal its fields
class Pending:
    """One deal's newest request and the events to ack once it is done."""

    deal_id: str
    revision: int
    raw: bytes
    events: list = field(default_factory=list)
    attempts: int = 0
    error: str = ""


class RefusalPublisher:
    """Classify, build and publish the records of a batch of due requests; retry the
    failed part with backoff until each one is published or dead-lettered."""

    def __init__(self, ctx, checks: AverageChecks):
        self.ctx, self.s, self.checks = ctx, ctx.settings, checks
        self.health = ctx.health

    async def settle(self, items: list[Pending]) -> None:
        remaining = items
        while remaining:
            failed = await self._attempt(remaining)
            retry = []
            for p in failed:
                if p.attempts >= self.s.refusal_max_attempts:
                    await self._dead_letter(p)
                else:
                    retry.append(p)
            if retry:
                delay = backoff_delay(max(p.attempts for p in retry), self.s.refusal_retry_backoff_s,
                                      self.s.refusal_retry_backoff_max_s)
                metrics.REFUSAL_RETRIES.inc(len(retry))
                self.health.problem("refusals", f"{len(retry)} request(s) failing ({retry[0].error}); "
                                                f"retry in {delay:.1f}s")
                log.warning("%d refusal request(s) failed (%s); retry %d in %.1fs",
                            len(retry), retry[0].error, max(p.attempts for p in retry) + 1, delay)
                await asyncio.sleep(delay)
            else:
                self.health.resolved("refusals")
            remaining = retry

    async def _attempt(self, items: list[Pending]) -> list[Pending]:
        """One try at the whole list; returns the items that failed (attempts counted)."""
        ctx = self.ctx
        current: dict[str, tuple[Pending, DealState]] = {}
        for p in items:
            raw_state = ctx.deal_state.get(p.deal_id)
            if not raw_state or raw_state["revision"] != p.revision:
                continue  # a newer request is queued
            if not raw_state.get("ever_lost"):
                # Only lost deals ask for records, so this revision number was reached by
                # another history: a worker killed after its request was sent but before its
                # changelog write, and the new owner re-folding the inputs (topics in another
                # order). Nothing of this state to publish; the deal's loss, when folded
                # here, asks again under a higher revision.
                log.info("refusal request of deal %s at revision %d matches a state that was never lost "
                         "(re-folded after a takeover): skipped", p.deal_id, p.revision)
                continue
            current[p.deal_id] = (p, DealState.model_validate(raw_state))
        verdicts, failed = await self._classify([(p, s) for p, s in current.values() if s.is_refusal])

        now = datetime.now(timezone.utc)
        records: list[tuple[Pending, ClassifiedRefusal]] = []
        for p, state in current.values():
            if p in failed:
                continue
            try:
                avg = await self.checks.get(state.pipeline)
                record = (refusal_record(state, verdicts[p.deal_id], avg_check_rub=avg, now=now,
                                         public_evidence=self.s.public_evidence,
                                         review_below=self.s.review_below_confidence)
                          if state.is_refusal else retraction_record(state, avg_check_rub=avg, now=now))
            except Exception as exc:
                self._failed(p, f"record: {type(exc).__name__}: {exc}", failed)
                continue
            records.append((p, record))
        await self._publish(records)
        for p, _ in records:
            if p.deal_id in verdicts:
                self._remember_ai_labels(p, verdicts[p.deal_id])
        return list(failed)

    def _remember_ai_labels(self, p: Pending, ai: ClassificationResult) -> None:
        """Keep the AI's labels of the record just published in the deal's state, without a
        new revision (no new record follows): the verdict a QA lead confirms by closing the
        deal in the CRM (the enrich agent's fold, leakwatch.domain.reviews). Read and written
        with no await between, so no fold of the enrich agent slips in."""
        raw = self.ctx.deal_state.get(p.deal_id)
        labels = Labels(**ai.model_dump(include={"target", "reason", "kind", "leak", "hot"})).model_dump(mode="json")
        if not raw or raw.get("ai_labels") == labels:
            return
        with current_event(p.events[-1] if p.events else None):
            self.ctx.deal_state[p.deal_id] = {**raw, "ai_labels": labels}

    async def _classify(self, todo: list[tuple[Pending, DealState]]):
        """The whole batch first (under the batch deadline); on a retry each item alone, so
        one item that keeps failing cannot hold up the others."""
        verdicts: dict[str, ClassificationResult] = {}
        failed: dict[Pending, None] = {}
        if not todo:
            return verdicts, failed
        engine = self.ctx.classifier
        groups = [todo] if all(p.attempts == 0 for p, _ in todo) else [[t] for t in todo]
        for group in groups:
            started = time.perf_counter()
            try:
                results = await asyncio.wait_for(engine.classify([classifier_input(s) for _, s in group]),
                                                 timeout=self.s.classifier_batch_deadline_s)
            except Exception as exc:  # incl. the batch deadline: retried, never acked undone
                metrics.CLASSIFIER_ERRORS.labels(engine.name).inc()
                reason = f"classifier {engine.name}: {type(exc).__name__}"
                log.warning("%s on %d deal(s)", reason, len(group))
                for p, _ in group:
                    self._failed(p, reason, failed)
                continue
            metrics.CLASSIFY_SECONDS.labels(engine.name).observe(time.perf_counter() - started)
            for (p, _), r in zip(group, results):
                verdicts[p.deal_id] = r
                if r.fallback_from:
                    metrics.CLASSIFIER_FALLBACKS.labels(r.fallback_from).inc()
        return verdicts, failed

    def _failed(self, p: Pending, reason: str, failed: dict) -> None:
        p.attempts += 1
        p.error = reason
        failed[p] = None

    async def _publish(self, records: list[tuple[Pending, ClassifiedRefusal]]) -> None:
        """Delivered (acks=all) before anyone acks the requests; a broker failure is not the
        item's fault, so it is retried without counting attempts."""
        attempt = 0
        while records:
            try:
                pending = [await self.ctx.classified.send(key=r.deal_id.encode(), value=r.model_dump_json().encode())
                           for _, r in records]
                await asyncio.gather(*pending)
            except Exception as exc:
                attempt += 1
                delay = backoff_delay(attempt, self.s.refusal_retry_backoff_s, self.s.refusal_retry_backoff_max_s)
                self.health.problem("publish", f"refusals.classified: {type(exc).__name__}")
                log.warning("publishing %d refusal records failed (%s); retry in %.1fs",
                            len(records), type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            self.health.resolved("publish")
            for _, r in records:
                outcome = "active" if r.active else "retracted"
                metrics.REFUSALS_CLASSIFIED.labels(r.engine.name, r.source, outcome).inc()
            log.info("published %d refusal records", len(records))
            return

    async def _dead_letter(self, p: Pending) -> None:
        first = p.events[0].message if p.events else None
        letter = DeadLetter(topic=self.ctx.requests.get_topic_name(),
                            partition=first.partition if first else None, offset=first.offset if first else None,
                            key=p.deal_id, error=f"refusal not classified after {p.attempts} attempts: {p.error}",
                            payload=p.raw.decode("utf-8", "replace"), received_at=datetime.now(timezone.utc))
        attempt = 0
        while True:
            try:
                await (await self.ctx.deadletter.send(key=p.deal_id.encode(), value=letter.model_dump_json().encode()))
                break
            except Exception as exc:
                attempt += 1
                await asyncio.sleep(backoff_delay(attempt, self.s.refusal_retry_backoff_s,
                                                  self.s.refusal_retry_backoff_max_s))
                log.warning("dead-lettering %s failed (%s); retrying", p.deal_id, type(exc).__name__)
        metrics.REFUSALS_DEAD_LETTERED.inc()
        self.health.dead_lettered()
        log.error("refusal request of deal %s dead-lettered after %d attempts: %s", p.deal_id, p.attempts, p.error)


async def publish_in_due_order(events, ack, settle, *, batch_rows: int, clock=time.time) -> None:
    """Read refusal requests from `events` into a due-time queue; `settle` each due batch,
    then `ack` its events. `ack` is called for nothing that `settle` has not finished (or
    that a newer revision of the same deal superseded)."""
    due: DueQueue[Pending] = DueQueue()
    changed = asyncio.Event()
    settled: OrderedDict[tuple[int, int], None] = OrderedDict()

    def position(event) -> tuple[int, int]:
        return event.message.partition, event.message.offset

    async def publish_due() -> None:
        while True:
            next_due = due.next_due()
            if next_due is None or next_due > clock():
                changed.clear()
                timeout = None if next_due is None else next_due - clock()
                try:
                    await asyncio.wait_for(changed.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
                continue
            batch = due.pop_due(clock(), batch_rows)
            metrics.REFUSALS_PENDING.set(len(due))
            await settle(batch)
            for p in batch:
                for event in p.events:
                    settled[position(event)] = None
                    await ack(event)
            while len(settled) > SETTLED_KEPT:
                settled.popitem(last=False)
            changed.set()  # room for the reader again

    worker = asyncio.create_task(publish_due(), name="refusals-publish-due")
    try:
        async for event in events:
            while len(due) >= MAX_PENDING:  # back-pressure: Faust pauses the partition
                changed.clear()
                await changed.wait()
            if position(event) in settled:  # re-delivered after a rebalance: its record is out
                metrics.REFUSALS_REDELIVERED.inc()
                await ack(event)
                continue
            try:
                request = RefusalRequest.model_validate_json(event.value)
            except ValueError:  # written by our own enrich agent; should not happen
                log.exception("unreadable refusal request at offset %s", event.message.offset)
                await ack(event)
                continue
            kept = Pending(request.deal_id, request.revision, event.value, [event])
            replaced = due.push(kept.deal_id, request.due_at, kept)
            if replaced is not None and replaced.revision > kept.revision:
                # A replay of an older request after a seek: the newer one stays queued.
                due.push(replaced.deal_id, request.due_at, replaced)
                kept, replaced = replaced, kept
            if replaced is not None and replaced.revision == kept.revision:
                # The same request again: a rebalance's seek re-delivered it (the same offset)
                # or a replayed input asked twice. Acked only with the one publication, else
                # the commit would pass a request still waiting out its grace period.
                kept.events.extend(replaced.events)
            elif replaced is not None:  # superseded: only the newest revision gets a record
                for old in replaced.events:
                    await ack(old)
            metrics.REFUSALS_PENDING.set(len(due))
            changed.set()
            if worker.done():  # settle never raises; if it did, stop reading (nothing acked)
                worker.result()
    finally:
        worker.cancel()


def register(ctx) -> None:
    settings = ctx.settings
    publisher = RefusalPublisher(ctx, AverageChecks(settings, ctx.won_store))

    @ctx.app.agent(ctx.requests, name="refusals")
    async def refusals(stream):
        stream = stream.noack()
        await publish_in_due_order(stream.events(), stream.ack, publisher.settle, batch_rows=settings.refusal_batch_rows)
