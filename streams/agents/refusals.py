"""Turn due refusal requests into records: classify, publish `refusals.classified`, and
write ClickHouse, in batches (≥ sink_batch_rows or ≤ sink_batch_seconds).

Faust acks a `take()` batch only after this loop body finishes, and commits offsets only
after the producer has flushed, so a crash re-delivers the batch: records are then
re-published with the same version and ClickHouse keeps one row per deal (FINAL).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone

import orjson

from schemas.conversation import ClassificationResult
from leakwatch.domain.deal_state import DealState
from leakwatch.domain.money import average_check
from leakwatch.domain.refusals import classifier_input, refusal_record, retraction_record
from streams import metrics

log = logging.getLogger(__name__)
WON_MEAN_TTL_S = 60.0
WON_MEAN_WINDOW = timedelta(days=90)


class AverageChecks:
    """The average check per pipeline: setting, else won deals' mean (cached), else default."""

    def __init__(self, settings, store):
        self._settings, self._store = settings, store
        self._cache: dict[str, tuple[float, float | None]] = {}

    async def get(self, pipeline: str) -> int:
        s = self._settings
        if pipeline in s.average_check_rub:
            return s.average_check_rub[pipeline]
        cached = self._cache.get(pipeline)
        if cached is None or time.monotonic() - cached[0] > WON_MEAN_TTL_S:
            since = datetime.now(timezone.utc) - WON_MEAN_WINDOW
            mean = await asyncio.to_thread(self._store.won_mean, pipeline, since)
            cached = (time.monotonic(), mean)
            self._cache[pipeline] = cached
        return average_check(pipeline, s.average_check_rub, cached[1], s.default_average_check_rub)


def register(ctx) -> None:
    settings, store, classifier = ctx.settings, ctx.store, ctx.classifier
    checks = AverageChecks(settings, store)

    async def classify(states: list[DealState]) -> dict[str, ClassificationResult]:
        if not states:
            return {}
        started = time.perf_counter()
        try:
            results = await asyncio.wait_for(
                classifier.classify([classifier_input(s) for s in states]),
                timeout=settings.classifier_timeout_s)
        except Exception:
            # The batch is retried after a restart; keep the stream moving meanwhile by
            # failing loudly rather than publishing labels nobody produced.
            metrics.CLASSIFIER_ERRORS.labels(classifier.name).inc()
            log.exception("classifier %s failed on %d deals", classifier.name, len(states))
            raise
        metrics.CLASSIFY_SECONDS.labels(classifier.name).observe(time.perf_counter() - started)
        for r in results:
            if r.fallback_from:
                metrics.CLASSIFIER_FALLBACKS.labels(r.fallback_from).inc()
        return {s.deal_id: r for s, r in zip(states, results)}

    @ctx.app.agent(ctx.requests, name="refusals")
    async def refusals(stream):
        async for batch in stream.take(settings.sink_batch_rows, within=settings.sink_batch_seconds):
            requests = [orjson.loads(raw) for raw in batch]
            wait = max(r["due_at"] for r in requests) - time.time()
            if wait > 0:  # the grace period for late transcripts
                await asyncio.sleep(wait)

            # Newest state per deal; a request whose revision is stale has a newer one queued.
            current: dict[str, DealState] = {}
            for r in requests:
                raw_state = ctx.deal_state.get(r["deal_id"])
                if raw_state and raw_state["revision"] == r["revision"]:
                    current[r["deal_id"]] = DealState.model_validate(raw_state)
            to_classify = [s for s in current.values() if s.is_refusal]
            verdicts = await classify(to_classify)

            now = datetime.now(timezone.utc)
            records = []
            for state in current.values():
                avg = await checks.get(state.pipeline)
                if state.is_refusal:
                    records.append(refusal_record(state, verdicts[state.deal_id], avg_check_rub=avg, now=now,
                                                  public_evidence=settings.public_evidence))
                else:
                    records.append(retraction_record(state, avg_check_rub=avg, now=now))

            pending = [await ctx.classified.send(key=r.deal_id.encode(), value=r.model_dump_json().encode())
                       for r in records]
            started = time.perf_counter()
            await asyncio.to_thread(store.insert_refusals, records)
            metrics.CH_INSERT_SECONDS.labels("refusals").observe(time.perf_counter() - started)
            metrics.CH_INSERT_BATCHES.labels("refusals").inc()
            metrics.CH_INSERT_ROWS.labels("refusals").inc(len(records))
            await asyncio.gather(*pending)  # delivered before the batch is acked
            for r in records:
                outcome = "active" if r.active else "retracted"
                metrics.REFUSALS_CLASSIFIED.labels(r.engine.name, r.source, outcome).inc()
            if records:
                log.info("published %d refusal records (%d classified)", len(records), len(to_classify))
