"""The sink's consume → insert → commit loop (confluent-kafka, no Faust).

At least once, idempotent: a batch's offsets are committed only after ClickHouse has its
rows; a failing store is retried with backoff while the partitions are paused (the
consumer keeps polling, so it stays in its group), and nothing is committed past the
failure. A crash re-reads from the last commit; ReplacingMergeTree keeps one row per
(deal, version), so the re-insert does not double count.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from leakwatch.domain.retry import backoff_delay
from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas.decoding import payload_text
from schemas.events import DeadLetter
from schemas.topics import CLASSIFIED, DEADLETTER, WON_DEALS
from services.sink import metrics
from services.sink.rows import refusal_from, won_from

log = logging.getLogger("leakwatch.sink")
LAG_INTERVAL_S = 15.0


def consumer_config(settings: Settings) -> dict:
    return {
        **kafka_config(settings.kafka_bootstrap),
        "group.id": f"{settings.app_id}-sink",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": int(settings.broker_session_timeout_s * 1000),
        "heartbeat.interval.ms": int(settings.broker_heartbeat_interval_s * 1000),
        "max.poll.interval.ms": int(settings.broker_max_poll_interval_s * 1000),
    }


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


class ClassifiedSink:
    def __init__(self, settings: Settings, store: ClickHouseStore):
        self.s, self.store = settings, store
        self.refusals_topic = settings.topic(CLASSIFIED.name)
        self.won_topic = settings.topic(WON_DEALS.name)
        self.health = SinkHealth()
        self._stop = threading.Event()
        self._consumer: Consumer | None = None
        self._dead = Producer({**kafka_config(settings.kafka_bootstrap), "acks": "all",
                               "enable.idempotence": True})

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        self._consumer = c = Consumer(consumer_config(self.s))
        c.subscribe([self.refusals_topic, self.won_topic])
        lags_at = time.monotonic()
        try:
            while not self._stop.is_set():
                messages = c.consume(num_messages=self.s.sink_batch_rows, timeout=self.s.sink_batch_seconds)
                batch = [m for m in messages if not self._is_error(m)]
                if batch:
                    self._store_with_retry(batch)
                    self._commit(batch)
                if time.monotonic() - lags_at > LAG_INTERVAL_S:
                    self._publish_lags()
                    lags_at = time.monotonic()
        finally:
            c.close()

    def _is_error(self, m) -> bool:
        err = m.error()
        if err is None:
            return False
        if err.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", err)
        return True

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
        c = self._consumer
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

    def _commit(self, batch) -> None:
        last: dict[tuple[str, int], int] = {}
        for m in batch:
            last[(m.topic(), m.partition())] = max(last.get((m.topic(), m.partition()), -1), m.offset())
        offsets = [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
            metrics.COMMITTED_BATCHES.inc()
            self.health.last_commit_at = time.monotonic()
        except Exception as exc:  # revoked meanwhile: the new owner re-inserts (idempotent)
            log.warning("offset commit failed (%s); the batch will be re-read", exc)

    def _dead_letter(self, m, reason: str) -> None:
        log.warning("dead letter %s[%s]@%s: %s", m.topic(), m.partition(), m.offset(), reason)
        metrics.DEAD_LETTERS.labels(m.topic()).inc()
        letter = DeadLetter(topic=m.topic(), partition=m.partition(), offset=m.offset(),
                            key=payload_text(m.key()) if m.key() is not None else None, error=reason,
                            payload=payload_text(m.value() or b""), received_at=datetime.now(timezone.utc))
        self._dead.produce(self.s.topic(DEADLETTER.name), key=m.key(), value=letter.model_dump_json().encode())

    def _publish_lags(self) -> None:
        """For the lag alert; from the consumer's own thread (librdkafka handles are not shared)."""
        c = self._consumer
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
