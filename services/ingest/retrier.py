"""Webhooks whose vendor lookup failed (ingest.retries), read again until the lookup works.

One consumer in the gateway process. A kept webhook waits `LEAKWATCH_INGEST_RETRY_INTERVAL_S`
times 2^(round-1) (capped at 16x) after it was kept, then goes through the same handler as
a fresh post: stored, ignored, dead-lettered, or kept again for the next round (the gateway
gives up after RETRY_ROUNDS into ingest.deadletter, so it is never dropped). Its offset is
committed only after that outcome is on Kafka; a crash in between reads it again, and the
deterministic event ids make the repeat harmless.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import datetime, timezone

from confluent_kafka import Consumer, TopicPartition

from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from schemas.events import DeadLetter
from schemas.topics import INGEST_RETRIES
from services.ingest.publisher import ATTEMPT_HEADER
from services.kafka_out import DeliveryFailed

log = logging.getLogger("leakwatch.ingest.retrier")


def raw_bytes(payload: str) -> bytes:
    return base64.b64decode(payload[7:]) if payload.startswith("base64:") else payload.encode("utf-8")


class Retrier:
    def __init__(self, settings: Settings):
        self._config = {**kafka_config(settings.kafka_bootstrap), "group.id": f"{settings.app_id}-ingest-retries",
                        "enable.auto.commit": False, "auto.offset.reset": "earliest",
                        "session.timeout.ms": int(settings.broker_session_timeout_s * 1000),
                        "heartbeat.interval.ms": int(settings.broker_heartbeat_interval_s * 1000)}
        self._topic = settings.topic(INGEST_RETRIES.name)
        self._interval = settings.ingest_retry_interval_s
        self._stopping = asyncio.Event()
        self.done = 0  # kept webhooks settled (for tests and logs)

    def stop(self) -> None:
        self._stopping.set()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))
        except TimeoutError:
            pass

    async def run(self, gateway) -> None:
        consumer = Consumer(self._config)
        consumer.subscribe([self._topic])
        try:
            while not self._stopping.is_set():
                msg = await asyncio.to_thread(consumer.poll, 0.5)
                if msg is None or msg.error():
                    continue
                await self._one(consumer, msg, gateway)
        finally:
            await asyncio.to_thread(consumer.close)

    async def _one(self, consumer: Consumer, msg, gateway) -> None:
        letter = DeadLetter.model_validate_json(msg.value())
        attempt = int(dict(msg.headers() or []).get(ATTEMPT_HEADER, b"1"))
        due = letter.received_at.timestamp() + self._interval * min(2 ** (attempt - 1), 16)
        await self._sleep(due - datetime.now(timezone.utc).timestamp())
        if self._stopping.is_set():
            return  # not committed: read again at the next start
        try:
            status, answer = await gateway.settle(letter.key or "", raw_bytes(letter.payload), None, attempt)
        except DeliveryFailed:
            log.exception("retry of a kept webhook not stored; it stays on %s", self._topic)
            consumer.seek(TopicPartition(msg.topic(), msg.partition(), msg.offset()))
            await self._sleep(self._interval)
            return
        log.info("kept webhook (%s, round %d): %s", letter.key, attempt, answer.get("status"))
        await asyncio.to_thread(consumer.commit, message=msg, asynchronous=False)
        self.done += 1
