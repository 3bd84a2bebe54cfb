"""Session-wide real servers. Kafka is started by the project's own script on 127.0.0.1
(a port of its own, so a running `make demo` is not disturbed) and stopped at the end."""

from __future__ import annotations

import os

import pytest

from tests.support.servers import ROOT, KafkaBroker


@pytest.fixture(scope="session")
def kafka() -> KafkaBroker:
    broker = KafkaBroker(port=int(os.environ.get("LEAKWATCH_TEST_KAFKA_PORT", "29092")),
                         state_dir=ROOT / ".local" / "test-kafka")
    broker.start()
    yield broker
    broker.stop()
