"""alerts.leak_spikes -> the dispatcher, with confluent-kafka. At least once: an offset is
committed only after every target has the alert or its dead letter."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from confluent_kafka import Consumer, KafkaError, TopicPartition

from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from schemas.decoding import decode
from schemas.events import DeadLetter
from schemas.topics import LEAK_SPIKES
from services.notifier.dead_letters import DeadLetterWriter
from services.notifier.delivery import BACKOFF_CAP_S, Dispatcher
from services.notifier.notification import from_alert

log = logging.getLogger("leakwatch.notifier")

# To move to schemas/topics.py (and streams.topology) when the topic is registered there.


def consumer_config(settings: Settings, targets: int) -> dict:
    # A message is held while its targets retry; the poll interval must outlast that.
    worst_s = max(1, targets) * settings.notifier_max_attempts * (settings.notifier_timeout_s + BACKOFF_CAP_S)
    return {
        **kafka_config(settings.kafka_bootstrap),
        "group.id": f"{settings.app_id}-notifier",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",  # a new group still posts what came before it; stale ones are skipped
        "session.timeout.ms": int(settings.broker_session_timeout_s * 1000),
        "heartbeat.interval.ms": int(settings.broker_heartbeat_interval_s * 1000),
        "max.poll.interval.ms": int((worst_s + 60) * 1000),
    }


class AlertConsumer:
    def __init__(self, settings: Settings, dispatcher: Dispatcher, dead_letters: DeadLetterWriter,
                 stop: threading.Event):
        self._settings = settings
        self._dispatcher = dispatcher
        self._dead_letters = dead_letters
        self._stop = stop
        self.handled = 0

    def run(self) -> None:
        consumer = Consumer(consumer_config(self._settings, len(self._dispatcher.targets)))
        consumer.subscribe([self._settings.topic(LEAK_SPIKES.name)])
        try:
            while not self._stop.is_set():
                msg = consumer.poll(0.5)
                if msg is None:
                    continue
                if msg.error():
                    if msg.error().code() != KafkaError._PARTITION_EOF:
                        log.warning("consumer: %s", msg.error())
                    continue
                try:
                    self.handle(msg.value(), msg.key(), msg.partition(), msg.offset())
                except Exception:
                    # Not even the dead letter was stored: read the message again later.
                    log.exception("alert at %s[%d]@%d not settled; retrying", msg.topic(), msg.partition(), msg.offset())
                    consumer.seek(TopicPartition(msg.topic(), msg.partition(), msg.offset()))
                    self._stop.wait(self._settings.notifier_backoff_s or 1.0)
                    continue
                consumer.commit(message=msg, asynchronous=False)
                self.handled += 1
        finally:
            consumer.close()

    def handle(self, raw: bytes | None, key: bytes | None, partition: int, offset: int) -> None:
        decoded = decode(LEAK_SPIKES, raw, key=key, partition=partition, offset=offset)
        if isinstance(decoded, DeadLetter):
            log.warning("alert at [%d]@%d is malformed: %s", partition, offset, decoded.error)
            self._dead_letters.write(decoded)
            return
        age = (datetime.now(timezone.utc) - decoded.created_at).total_seconds()
        if age > self._settings.notifier_max_alert_age_s:
            log.info("alert %s is %.0f s old: skipped (LEAKWATCH_NOTIFIER_MAX_ALERT_AGE_S)", decoded.alert_id, age)
            return
        n = from_alert(decoded, raw, self._settings.tz, origin=LEAK_SPIKES.name, partition=partition, offset=offset)
        outcome = self._dispatcher.deliver(n)
        log.info("alert %s: %s", decoded.alert_id, ", ".join(f"{t} {o}" for t, o in outcome.items()) or "no targets")
