"""pin_start_offsets asks again while a fresh broker's group coordinator is loading, and
still fails on an error that will not pass."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from streams import topology


class Consumer:
    def __init__(self, *errors):
        self.errors, self.calls = list(errors), 0

    def committed(self, tps, timeout):
        self.calls += 1
        if self.errors:
            raise KafkaException(KafkaError(self.errors.pop(0)))
        return tps


def test_not_coordinator_is_asked_again(monkeypatch):
    monkeypatch.setattr(topology.time, "sleep", lambda s: None)
    consumer = Consumer(KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_LOAD_IN_PROGRESS)
    assert topology._committed(consumer, ["tp"], 30) == ["tp"] and consumer.calls == 3


def test_other_errors_are_raised():
    with pytest.raises(KafkaException):
        topology._committed(Consumer(KafkaError.GROUP_AUTHORIZATION_FAILED), ["tp"], 30)
