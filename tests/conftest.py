"""Session-wide real servers. Kafka is started by the project's own script on 127.0.0.1,
on free ports and a state folder of this session's own (so concurrent test runs and a
running `make demo` never share a broker), and stopped at the end."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support.servers import ROOT, KafkaBroker, free_port_pair


@pytest.fixture(scope="session")
def kafka() -> KafkaBroker:
    port = int(os.environ.get("LEAKWATCH_TEST_KAFKA_PORT") or free_port_pair())
    broker = KafkaBroker(port=port, state_dir=ROOT / ".local" / f"test-kafka-{os.getpid()}")
    broker.start()
    yield broker
    broker.stop()
    shutil.rmtree(broker.state_dir, ignore_errors=True)
