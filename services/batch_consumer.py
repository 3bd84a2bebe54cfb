"""The services' consume → store → commit loop (confluent-kafka, no Faust), written once.

At least once: a batch's offsets are committed only after `store_batch(batch)` returned True,
i.e. once its work is durable (ClickHouse has the rows, Kafka acked what it produced). A
`store_batch` that returns False has not stored the batch and has rewound it (`rewind`), so it is
read again; one that raises stops the loop with nothing committed past the batch. A commit
that fails (partitions revoked meanwhile) leaves the batch to its new owner, which redoes
it: every store behind this loop is idempotent (ReplacingMergeTree by version, the
reactivation list's version check).
"""

from __future__ import annotations

import logging
import threading

from confluent_kafka import Consumer, KafkaError, TopicPartition

from leakwatch.logs import kafka_config
from leakwatch.settings import Settings

log = logging.getLogger("leakwatch.consumer")


def group_config(settings: Settings, group: str, *, max_poll_interval_s: float) -> dict:
    """A service's consumer group (`<app id>-<group>`): manual commits, earliest on first start."""
    return {
        **kafka_config(settings.kafka_bootstrap),
        "group.id": f"{settings.app_id}-{group}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": int(settings.broker_session_timeout_s * 1000),
        "heartbeat.interval.ms": int(settings.broker_heartbeat_interval_s * 1000),
        "max.poll.interval.ms": int(max_poll_interval_s * 1000),
    }


def next_offsets(messages) -> list[TopicPartition]:
    """Per partition, the offset after the batch's last message: what a commit stores."""
    last: dict[tuple[str, int], int] = {}
    for m in messages:
        last[(m.topic(), m.partition())] = max(last.get((m.topic(), m.partition()), -1), m.offset())
    return [TopicPartition(t, p, o + 1) for (t, p), o in last.items()]


class BatchConsumer:
    """Subclasses set `topics`, `batch_size`, `poll_timeout_s` and implement `store_batch`."""

    topics: list[str]
    batch_size: int = 500
    poll_timeout_s: float = 0.5

    def __init__(self, config: dict, stop: threading.Event | None = None):
        self._config = config
        self._stop = stop or threading.Event()
        self.consumer: Consumer | None = None

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Returns when `stop()` is called (or the stop event set), after the batch in hand."""
        self.consumer = c = Consumer(self._config)
        c.subscribe(self.topics, on_assign=self.on_assign)
        try:
            while not self._stop.is_set():
                batch = [m for m in c.consume(self.batch_size, timeout=self.poll_timeout_s) if self._usable(m)]
                if batch and self.store_batch(batch):
                    self._commit(batch)
                self.between_batches()
        finally:
            c.close()

    def store_batch(self, batch: list) -> bool:
        """Make the batch's work durable; True to commit it, False after `rewind(batch)`."""
        raise NotImplementedError

    def on_assign(self, consumer, partitions) -> None:
        """Called on a new assignment, before its first batch."""

    def on_committed(self, batch: list) -> None:
        """Called after the batch's offsets were committed."""

    def between_batches(self) -> None:
        """Called after each poll, from the consumer's thread (librdkafka handles are not shared)."""

    def rewind(self, batch: list) -> None:
        """Seek each partition back to the batch's first message: the next poll reads it again."""
        first: dict[tuple[str, int], int] = {}
        for m in batch:
            first.setdefault((m.topic(), m.partition()), m.offset())
        for (t, p), o in first.items():
            self.consumer.seek(TopicPartition(t, p, o))

    def _commit(self, batch: list) -> None:
        try:
            self.consumer.commit(offsets=next_offsets(batch), asynchronous=False)
        except Exception as exc:  # revoked meanwhile: the new owner redoes the batch (idempotent)
            log.warning("offset commit failed (%s); the batch will be re-read", exc)
            return
        self.on_committed(batch)

    @staticmethod
    def _usable(m) -> bool:
        err = m.error()
        if err is None:
            return True
        if err.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", err)
        return False
