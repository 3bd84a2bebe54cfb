"""Spike alerts go to `alerts.leak_spikes` once per alert_id (window + level) on the real
broker and the embedded ClickHouse, while the rule keeps holding: over repeated checks,
and across a restart of the checker — in-process with fresh memory, and the real
`leakwatch sink` SIGKILLed and started again. Without reading the topic back (the checker
remembering in memory only) the restart repeats the alerts: the control test shows it."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas.topics import CLASSIFIED, LEAK_SPIKES
from services.kafka_out import EventProducer
from services.sink.periodic import SpikeChecker
from services.sink.published_alerts import PublishedAlerts
from streams.topology import ensure_topics
from tests.integration.services.kafka_read import read_all
from tests.support.refusal_records import refusal
from tests.support.servers import WorkerProcess

pytestmark = pytest.mark.kafka
KINDS = {"leak_above_baseline", "salvageable_burst"}


def firing_records(now: datetime):
    """Both rules hold: 12 salvageable refusals in the last hour (burst above 10), and their
    ₽480 000 against one ₽40 000 refusal a few days ago (leak far above the average day)."""
    recent = [refusal(f"S-{i:02d}", now - timedelta(minutes=5 + i)) for i in range(12)]
    return [refusal("S-old", now - timedelta(days=3)), *recent]


def settings_for(kafka, tmp_path) -> Settings:
    run = uuid.uuid4().hex[:8]
    return Settings(kafka_bootstrap=kafka.bootstrap, topic_prefix=f"sp{run}.", app_id=f"sp-{run}",
                    chdb_path=tmp_path / "chdb")


def alert_counts(kafka, s: Settings) -> Counter:
    return Counter(key.decode() for key, _ in read_all(kafka.bootstrap, s.topic(LEAK_SPIKES.name)))


class MemoryOnly(PublishedAlerts):
    """The read-back disabled: only what this process itself published is known."""

    def catch_up(self, timeout_s: float = 30.0) -> set[str]:
        return self.ids


def checks_across_a_restart(kafka, tmp_path, published=PublishedAlerts) -> Counter:
    s = settings_for(kafka, tmp_path)
    ensure_topics(s)
    store = ClickHouseStore.open(s)
    try:
        store.insert_refusals(firing_records(datetime.now(timezone.utc)))
        first = SpikeChecker(s, store, published(s))
        fired = first.check()
        assert {a.kind for a in fired} == KINDS  # the rules do hold
        assert first.check() == [] and first.check() == []
        first.close()
        second = SpikeChecker(s, store, published(s))  # a new process: nothing in memory
        second.check()
        second.check()
        second.close()
        return alert_counts(kafka, s)
    finally:
        store.close()


def test_each_alert_is_published_once_across_checks_and_a_restart(kafka, tmp_path):
    counts = checks_across_a_restart(kafka, tmp_path)
    assert {k.split(":")[0] for k in counts} == KINDS
    assert set(counts.values()) == {1}, counts


def test_without_the_read_back_a_restart_repeats_the_alerts(kafka, tmp_path):
    """The control: the test above can fail, and memory alone is not enough."""
    counts = checks_across_a_restart(kafka, tmp_path, published=MemoryOnly)
    assert set(counts.values()) == {2}, counts


def spike_checks(sink: WorkerProcess) -> float:
    text = httpx.get(f"{sink.url}/metrics", timeout=10).text
    return next((float(line.split()[-1]) for line in text.splitlines()
                 if line.startswith("leakwatch_spike_checks_total ")), 0.0)


def wait_checks(sink: WorkerProcess, n: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while spike_checks(sink) < n:
        assert time.monotonic() < deadline, f"fewer than {n} spike checks in {timeout_s}s\n{sink.tail()}"
        time.sleep(0.5)


@pytest.mark.slow
def test_a_sigkilled_sink_does_not_publish_its_alerts_again(kafka, tmp_path):
    sink = WorkerProcess.configure(kafka, tmp_path, spike_check_interval_s="1")
    s = Settings(kafka_bootstrap=kafka.bootstrap, topic_prefix=sink.topic_prefix, app_id=sink.env["LEAKWATCH_APP_ID"])
    try:
        sink.start_sink(timeout_s=120)
        producer = EventProducer(kafka.bootstrap, topic_prefix=sink.topic_prefix)
        for r in firing_records(datetime.now(timezone.utc)):
            producer.send_raw(CLASSIFIED.name, r.deal_id.encode(), r.model_dump_json().encode())
        producer.flush()
        deadline = time.monotonic() + 90
        while {k.split(":")[0] for k in alert_counts(kafka, s)} != KINDS:
            assert time.monotonic() < deadline, f"no alerts published\n{sink.tail()}"
            time.sleep(1)
        wait_checks(sink, spike_checks(sink) + 3)  # the rule still holds: checked again, nothing repeated
        sink.kill_sink()
        sink.start_sink(timeout_s=120)
        wait_checks(sink, 3)
        counts = alert_counts(kafka, s)
        assert {k.split(":")[0] for k in counts} == KINDS
        assert set(counts.values()) == {1}, f"{counts}\n{sink.tail()}"
    finally:
        sink.stop()
