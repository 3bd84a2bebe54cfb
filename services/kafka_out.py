"""Producing canonical events to Kafka: idempotent, acks=all, keyed by deal id."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import KafkaException, Producer
from pydantic import BaseModel

from leakwatch.logs import kafka_config
from schemas.topics import TopicSpec

log = logging.getLogger(__name__)


class DeliveryFailed(RuntimeError):
    pass


class EventProducer:
    def __init__(self, bootstrap: str, *, topic_prefix: str = "", config: dict | None = None):
        self._prefix = topic_prefix
        overrides, config = config or {}, {
            **kafka_config(bootstrap),
            "enable.idempotence": True,  # retries never duplicate or reorder
            "acks": "all",
            # The Java/Faust partitioner, so a key lands where Faust would put it.
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "compression.type": "lz4",
        }
        config.update(overrides)
        self._producer = Producer(config)
        self._errors: list[str] = []
        self.sent = 0

    def _on_delivery(self, err, msg) -> None:
        if err is not None:
            self._errors.append(f"{msg.topic()}: {err}")

    def send_raw(self, topic: str, key: bytes | None, value: bytes, headers: dict[str, bytes] | None = None) -> None:
        while True:
            try:
                self._producer.produce(self._prefix + topic, key=key, value=value, headers=headers,
                                       on_delivery=self._on_delivery)
                break
            except BufferError:  # local queue full: let deliveries drain
                self._producer.poll(0.1)
        self._producer.poll(0)
        self.sent += 1

    def send(self, spec: TopicSpec, event: BaseModel) -> None:
        key = str(getattr(event, spec.key_field)).encode()
        self.send_raw(spec.name, key, event.model_dump_json(exclude_none=True).encode())

    def send_all(self, items: Iterable[tuple[TopicSpec, BaseModel]]) -> int:
        count = 0
        for spec, event in items:
            self.send(spec, event)
            count += 1
        return count

    def flush(self, timeout_s: float = 30.0) -> None:
        remaining = self._producer.flush(timeout_s)
        if remaining:
            raise DeliveryFailed(f"{remaining} events not delivered within {timeout_s}s")
        if self._errors:
            errors, self._errors = self._errors, []
            raise DeliveryFailed(f"{len(errors)} deliveries failed, first: {errors[0]}")

    def close(self) -> None:
        try:
            self.flush()
        except (DeliveryFailed, KafkaException):
            log.exception("events lost on close")
            raise
