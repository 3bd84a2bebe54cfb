"""A 503 must mean "not stored": when the broker does not confirm in time, librdkafka itself
gives the message up (message.timeout.ms = the ack timeout), so nothing is left in the queue to
be delivered later behind the vendor's back. Against a port where no broker listens."""

import asyncio
import socket
import time
from datetime import datetime, timezone

import pytest

from schemas.events import CallEvent
from schemas.topics import CALLS
from services.ingest.publisher import Publisher, producer_config
from services.kafka_out import DeliveryFailed, EventProducer


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unconfirmed_events_are_given_up_not_left_queued():
    producer = EventProducer(f"127.0.0.1:{closed_port()}", config={**producer_config(1.0), "log_level": 0})
    publisher = Publisher(producer, 1.0)
    call = CallEvent(event_id="e1", deal_id="D1", ts=datetime(2026, 11, 18, tzinfo=timezone.utc), call_id="c1",
                     direction="in", status="missed")
    started = time.monotonic()
    # The message's own final report, not a flush that merely stopped waiting.
    with pytest.raises(DeliveryFailed, match="Message timed out"):
        asyncio.run(publisher.publish(CALLS, [call]))
    assert time.monotonic() - started < 10
    assert producer._producer.flush(0) == 0  # no message waits in librdkafka's queue
