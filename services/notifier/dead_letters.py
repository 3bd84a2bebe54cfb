"""Dead letters for notifications a target would not take: the payload whole, the target
and the reason, on `deadletter`, confirmed by Kafka before the alert counts as settled."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from schemas.decoding import payload_text
from schemas.events import DeadLetter
from schemas.topics import DEADLETTER
from services.kafka_out import EventProducer
from services.notifier.notification import Notification


class DeadLetterWriter:
    def __init__(self, producer: EventProducer, timeout_s: float = 30.0):
        self._producer = producer
        self._timeout = timeout_s
        self._lock = threading.Lock()  # the consumer and the Grafana endpoint share it

    def __call__(self, n: Notification, target: str, error: str) -> None:
        self.write(DeadLetter(topic=n.origin, partition=n.partition, offset=n.offset, key=n.key,
                              error=f"notifier {target}: {error}", payload=payload_text(n.raw),
                              received_at=datetime.now(timezone.utc)))

    def write(self, letter: DeadLetter) -> None:
        with self._lock:
            key = letter.key.encode() if letter.key else None
            self._producer.send_raw(DEADLETTER.name, key, letter.model_dump_json().encode())
            self._producer.flush(self._timeout)  # raises DeliveryFailed: the caller must not commit

    def close(self) -> None:
        self._producer.close()
