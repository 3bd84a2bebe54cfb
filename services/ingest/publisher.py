"""Events to Kafka, answered only after the broker's ack (acks=all): a 200 means stored.

The producer is built with `message.timeout.ms` = the ack timeout, so librdkafka itself gives
a message up when the broker does not confirm it in time; the flush waits a little longer and
so sees every message's final report. A 5xx therefore means "not stored": no message is left
in the queue to be delivered later behind the sender's back. (A broker that stored a message
but whose ack was lost is the one ambiguous case: the vendor's retry then carries the same
deterministic event id, and the stream ignores an id it has seen.)

One post at a time holds the producer and waits for its flush, so a failed delivery is
reported to the post that made it. CRM webhooks arrive at tens per second; a flush takes
milliseconds, so the lock is not the bottleneck.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from pydantic import BaseModel

from schemas.decoding import payload_text
from schemas.events import DeadLetter
from schemas.topics import INGEST_DEADLETTER, INGEST_RETRIES, TopicSpec
from services.kafka_out import EventProducer

ATTEMPT_HEADER = "leakwatch-attempt"


def producer_config(ack_timeout_s: float) -> dict:
    return {"message.timeout.ms": int(ack_timeout_s * 1000)}


class Publisher:
    def __init__(self, producer: EventProducer, ack_timeout_s: float):
        self._producer = producer
        self._timeout = ack_timeout_s + 5.0  # past message.timeout.ms: every report is in
        self._lock = asyncio.Lock()

    async def publish(self, spec: TopicSpec, events: list[BaseModel]) -> None:
        """Raises services.kafka_out.DeliveryFailed when Kafka did not confirm every event."""
        async with self._lock:
            await asyncio.to_thread(self._send, [(spec, e) for e in events])

    async def dead_letter(self, topic: str, error: str, raw: bytes, key: str | None = None) -> DeadLetter:
        """The raw body (phones, transcripts) to the private, short-lived ingest.deadletter."""
        letter = _letter(topic, error, raw, key)
        async with self._lock:
            await asyncio.to_thread(self._send_raw, INGEST_DEADLETTER.name, letter, None)
        return letter

    async def retry_later(self, route: str, topic: str, error: str, raw: bytes, attempt: int) -> None:
        """An authenticated webhook whose vendor lookup failed, kept for the retrier; `route`
        says which handler reads it again."""
        letter = _letter(topic, error, raw, route)
        async with self._lock:
            await asyncio.to_thread(self._send_raw, INGEST_RETRIES.name, letter,
                                    {ATTEMPT_HEADER: str(attempt).encode()})

    def _send(self, items: list[tuple[TopicSpec, BaseModel]]) -> None:
        self._producer.send_all(items)
        self._producer.flush(self._timeout)

    def _send_raw(self, topic: str, letter: DeadLetter, headers: dict | None) -> None:
        key = letter.key.encode() if letter.key else None
        self._producer.send_raw(topic, key, letter.model_dump_json().encode(), headers)
        self._producer.flush(self._timeout)

    def close(self) -> None:
        self._producer.close()


def _letter(topic: str, error: str, raw: bytes, key: str | None) -> DeadLetter:
    return DeadLetter(topic=topic, partition=None, offset=None, key=key, error=error,
                      payload=payload_text(raw), received_at=datetime.now(timezone.utc))
