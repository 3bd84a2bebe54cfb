"""The sink's consume → insert → commit loop (confluent-kafka, no Faust).

At least once, idempotent: a batch's offsets are committed only after ClickHouse has its
rows; a failing store is retried with backoff while the partitions are paused (the
consumer keeps polling, so it stays in its group), and nothing is committed past the
failure. A crash re-reads from the last commit; ReplacingMergeTree keeps one row per
(deal, version), so the re-insert does not double count.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from confluent_kafka import Producer

from leakwatch.domain.retry import backoff_delay
from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas.decoding import payload_text
from schemas.events import DeadLetter
from schemas.topics import CLASSIFIED, DEADLETTER, WON_DEALS
from services.batch_consumer import BatchConsumer, group_config
from services.sink import metrics
from services.sink.rows import refusal_from, won_from

log = logging.getLogger("leakwatch.sink")
LAG_INTERVAL_S = 15.0


def consumer_config(settings: Settings) -> dict:
    return group_config(settings, "sink", max_poll_interval_s=settings.broker_max_poll_interval_s)


class SinkHealth:
    def __init__(self) -> None:
        self.problem: str | None = None
        self.since: float | None = None
        self.stored_rows = 0
        self.last_commit_at: float | None = None

    def report(self) -> dict:
        out = {"status": "degraded" if self.problem else "ok", "stored_rows": self.stored_rows}
        if self.problem:
            out["problem"] = self.problem
            out["failing_for_s"] = round(time.monotonic() - (self.since or time.monotonic()), 1)
        return out


class ClassifiedSink(BatchConsumer):
    def __init__(self, settings: Settings, store: ClickHouseStore):
        super().__init__(consumer_config(settings))
        self.s, self.store = settings, store
        self.refusals_topic = settings.topic(CLASSIFIED.name)
        self.won_topic = settings.topic(WON_DEALS.name)
        self.topics = [self.refusals_topic, self.won_topic]
        self.batch_size, self.poll_timeout_s = settings.sink_batch_rows, settings.sink_batch_seconds
        self.health = SinkHealth()
        self._lags_at = time.monotonic()
        self._dead = Producer({**kafka_config(settings.kafka_bootstrap), "acks": "all",
                               "enable.idempotence": True})

    def store_batch(self, batch) -> bool:
        self._store_with_retry(batch)  # returns once stored; raises (nothing committed) on stop
        return True

    def on_committed(self, batch) -> None:
        metrics.COMMITTED_BATCHES.inc()
        self.health.last_commit_at = time.monotonic()

    def between_batches(self) -> None:
        if time.monotonic() - self._lags_at > LAG_INTERVAL_S:
            self._publish_lags()
            self._lags_at = time.monotonic()

    def _rows(self, batch):
        refusals, won = [], []
        for m in batch:
            metrics.CONSUMED.labels(m.topic()).inc()
            decode = won_from if m.topic() == self.won_topic else refusal_from
            record = decode(m.value(), m.key(), m.partition(), m.offset())
            if isinstance(record, DeadLetter):
                self._dead_letter(m, record.error)
            elif m.topic() == self.won_topic:
                won.append(record)
            else:
                refusals.append(record)
        return refusals, won

    def _store_with_retry(self, batch) -> None:
        refusals, won = self._rows(batch)
        self._dead.flush(30)  # dead letters delivered before their offsets are committed
        attempt = 0
        while True:
            try:
                started = time.perf_counter()
                self.store.insert_refusals(refusals)
                self.store.insert_won(won)
                metrics.CH_INSERT_SECONDS.labels("refusals").observe(time.perf_counter() - started)
                break
            except Exception as exc:
                attempt += 1
                metrics.CH_INSERT_FAILURES.inc()
                delay = backoff_delay(attempt, self.s.sink_retry_backoff_s, self.s.sink_retry_backoff_max_s)
                if self.health.problem is None:
                    self.health.since = time.monotonic()
                self.health.problem = f"clickhouse insert failing: {type(exc).__name__}"
                log.warning("insert of %d refusal / %d won rows failed (%s: %s); retry %d in %.1fs",
                            len(refusals), len(won), type(exc).__name__, str(exc)[:200], attempt + 1, delay)
                self._wait_polling(delay)
                if self._stop.is_set():
                    raise SystemExit(1) from None  # stop without committing the unstored batch
        if attempt:
            log.info("clickhouse insert succeeded after %d failed attempt(s)", attempt)
        self.health.problem = self.health.since = None
        self.health.stored_rows += len(refusals) + len(won)
        for table, rows in (("refusals", refusals), ("won_deals", won)):
            if rows:
                metrics.CH_INSERT_BATCHES.labels(table).inc()
                metrics.CH_INSERT_ROWS.labels(table).inc(len(rows))

    def _wait_polling(self, delay: float) -> None:
        """Sleep out a backoff while staying in the group: paused partitions, polls that
        return nothing (a rebalance meanwhile re-delivers the batch to the new owner)."""
        c = self.consumer
        assigned = c.assignment()
        c.pause(assigned)
        try:
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self._stop.is_set():
                m = c.poll(min(0.5, max(deadline - time.monotonic(), 0)))
                if m is not None and not m.error():  # paused, so only from a fresh assignment
                    log.debug("message during backoff at %s[%s]@%s; it will be re-read", m.topic(),
                              m.partition(), m.offset())
        finally:
            c.resume(c.assignment())

    def _dead_letter(self, m, reason: str) -> None:
        log.warning("dead letter %s[%s]@%s: %s", m.topic(), m.partition(), m.offset(), reason)
        metrics.DEAD_LETTERS.labels(m.topic()).inc()
        letter = DeadLetter(topic=m.topic(), partition=m.partition(), offset=m.offset(),
                            key=payload_text(m.key()) if m.key() is not None else None, error=reason,
                            payload=payload_text(m.value() or b""), received_at=datetime.now(timezone.utc))
        self._dead.produce(self.s.topic(DEADLETTER.name), key=m.key(), value=letter.model_dump_json().encode())

    def _publish_lags(self) -> None:
        """For the lag alert; from the consumer's own thread (librdkafka handles are not shared)."""
        c = self.consumer
        try:
            lags = {}
            for tp in c.committed(c.assignment(), timeout=5):
                _, high = c.get_watermark_offsets(tp, timeout=5, cached=False)
                lags[(tp.topic, str(tp.partition))] = max(high - max(tp.offset, 0), 0)
        except Exception as exc:
            log.debug("lag unavailable: %s", exc)
            return
        metrics.SINK_LAG.clear()
        for (topic, partition), lag in lags.items():
            metrics.SINK_LAG.labels(topic, partition).set(lag)
