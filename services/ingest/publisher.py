"""Events to Kafka, answered only after the broker's ack (acks=all): a 202 means stored.

One post at a time holds the producer and waits for its flush, so a failed delivery is
reported to the post that made it. CRM webhooks arrive at tens per second; a flush takes
milliseconds, so the lock is not the bottleneck, and it keeps EventProducer's own API.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from pydantic import BaseModel

from schemas.decoding import payload_text
from schemas.events import DeadLetter
from schemas.topics import DEADLETTER, TopicSpec
from services.kafka_out import EventProducer


class Publisher:
    def __init__(self, producer: EventProducer, ack_timeout_s: float):
        self._producer = producer
        self._timeout = ack_timeout_s
        self._lock = asyncio.Lock()

    async def publish(self, spec: TopicSpec, events: list[BaseModel]) -> None:
        """Raises services.kafka_out.DeliveryFailed when Kafka did not confirm every event."""
        async with self._lock:
            await asyncio.to_thread(self._send, [(spec, e) for e in events])

    async def dead_letter(self, topic: str, error: str, raw: bytes, key: str | None = None) -> DeadLetter:
        letter = DeadLetter(topic=topic, partition=None, offset=None, key=key, error=error,
                            payload=payload_text(raw), received_at=datetime.now(timezone.utc))
        async with self._lock:
            await asyncio.to_thread(self._send_raw, letter)
        return letter

    def _send(self, items: list[tuple[TopicSpec, BaseModel]]) -> None:
        self._producer.send_all(items)
        self._producer.flush(self._timeout)

    def _send_raw(self, letter: DeadLetter) -> None:
        key = letter.key.encode() if letter.key else None
        self._producer.send_raw(DEADLETTER.name, key, letter.model_dump_json().encode())
        self._producer.flush(self._timeout)

    def close(self) -> None:
        self._producer.close()
