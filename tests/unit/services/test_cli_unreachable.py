"""CLI commands against a Kafka that is not there: one line naming LEAKWATCH_KAFKA_BOOTSTRAP,
a non-zero exit, no traceback and none of librdkafka's per-reconnect «%3|…|FAIL|» lines."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
from confluent_kafka import Producer

from leakwatch.logs import kafka_config
from tests.support.servers import ROOT, free_port


def leakwatch(*args: str, bootstrap: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEAKWATCH_KAFKA_BOOTSTRAP": bootstrap}
    return subprocess.run([sys.executable, "-m", "leakwatch.cli", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("command", [("simulate", "spec"),
                                     ("reactivation", "export", "--from", "2026-12-01", "--to", "2026-12-31")])
def test_no_broker_is_one_line_naming_the_setting(command):
    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    done = leakwatch(*command, bootstrap=bootstrap)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"leakwatch: LEAKWATCH_KAFKA_BOOTSTRAP={bootstrap}: no Kafka broker answered")
    assert lines[0].endswith("is Kafka running there?")


def test_a_client_says_an_unreachable_broker_once(caplog):
    bootstrap = f"127.0.0.1:{free_port()}"
    producer = Producer(kafka_config(bootstrap))
    producer.produce("anything", b"x")
    with caplog.at_level(logging.DEBUG, logger="leakwatch.kafka"):
        deadline = time.monotonic() + 3  # librdkafka reconnects several times meanwhile
        while time.monotonic() < deadline:
            producer.poll(0.2)
    said = [r.getMessage() for r in caplog.records if r.name == "leakwatch.kafka"]
    assert len(said) == 1 and said[0].startswith(f"Kafka at {bootstrap} (LEAKWATCH_KAFKA_BOOTSTRAP) does not answer")
    assert "Connection refused" in said[0]
