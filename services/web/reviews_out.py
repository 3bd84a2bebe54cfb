"""The board's reviews → `refusals.reviewed` (idempotent producer, acks=all, keyed by deal)."""

from __future__ import annotations

import threading

from schemas.events import RefusalReview
from schemas.topics import REVIEWS
from services.kafka_out import EventProducer


class KafkaReviewPublisher:
    """`publish` returns once the broker has the review, so the board says «sent» only then."""

    def __init__(self, producer: EventProducer, ack_timeout_s: float = 10.0):
        self._producer = producer
        self._timeout_s = ack_timeout_s
        self._lock = threading.Lock()  # one flush at a time: a failure belongs to its own review

    def publish(self, review: RefusalReview) -> None:
        with self._lock:
            self._producer.send(REVIEWS, review)
            self._producer.flush(self._timeout_s)

    def close(self) -> None:
        self._producer.close()
