"""The alert ids already on `alerts.leak_spikes`, read back from the topic itself: the state
that lets the sink publish each alert (window + level) once across restarts, kept in Kafka
and not in the process (the set here is only a cache of what was read).

The read goes to each partition's high watermark taken at the start of the read, so it
sees every record the broker acknowledged before it, from this process or a killed one.
Later calls continue where the last one stopped; a new process starts from the beginning
(the topic holds a few alerts a day, and `retention.ms` bounds it)."""

from __future__ import annotations

import logging
import time

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from schemas.topics import LEAK_SPIKES

log = logging.getLogger("leakwatch.sink")


class ReadBackIncomplete(RuntimeError):
    """The topic could not be read to its end in time: publishing now could repeat an alert."""


class PublishedAlerts:
    def __init__(self, settings: Settings):
        self.topic = settings.topic(LEAK_SPIKES.name)
        self.ids: set[str] = set()
        # Assigned, never subscribed: no group is joined and nothing is committed.
        self._consumer = Consumer(kafka_config(settings.kafka_bootstrap,
                                               **{"group.id": f"{settings.app_id}-spike-readback",
                                                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                                                  "isolation.level": "read_committed"}))
        self._partitions: set[int] = set()

    def catch_up(self, timeout_s: float = 30.0) -> set[str]:
        """Every alert id on the topic up to now; raises ReadBackIncomplete past `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        c = self._consumer
        meta = c.list_topics(self.topic, timeout=timeout_s).topics[self.topic]
        if meta.error is not None:
            raise KafkaException(meta.error)
        new = sorted(set(meta.partitions) - self._partitions)
        if new:
            c.incremental_assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in new])
            self._partitions.update(new)
        ends = {}
        for p in self._partitions:
            low, high = c.get_watermark_offsets(TopicPartition(self.topic, p), timeout=timeout_s, cached=False)
            if high > low:
                ends[p] = high
        while behind := [p for p, end in ends.items() if self._position(p) < end]:
            if time.monotonic() > deadline:
                raise ReadBackIncomplete(f"{self.topic} partitions {behind} not read to their end in {timeout_s}s")
            for m in c.consume(500, timeout=0.5):
                err = m.error()
                if err is None:
                    self._remember(m.key(), m.value())
                elif err.code() != KafkaError._PARTITION_EOF:
                    log.debug("reading back %s: %s", self.topic, err)  # librdkafka retries by itself
        return self.ids

    def _position(self, partition: int) -> int:
        return self._consumer.position([TopicPartition(self.topic, partition)])[0].offset  # < 0: not fetched yet

    def _remember(self, key: bytes | None, value: bytes | None) -> None:
        if key:  # the topic is keyed by alert_id
            self.ids.add(key.decode(errors="replace"))
            return
        try:
            self.ids.add(str(orjson.loads(value or b"{}")["alert_id"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("a record without alert_id on %s ignored", self.topic)

    def close(self) -> None:
        self._consumer.close()
