"""The store failing for a while under the sink (an injected failure on the real embedded
ClickHouse, on the real broker): the sink backs off, commits nothing past the failure,
and catches up with every record once the store is back; the cards are then exact."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from leakwatch.cards.snapshot import read_cards
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas.topics import CLASSIFIED
from services.kafka_out import EventProducer
from services.simulator import spec_scenario as spec
from services.sink.consumer import ClassifiedSink
from streams.topology import ensure_topics
from tests.e2e.spec_numbers import EXPECTED_DAY1
from tests.support.kafka_io import group_lag, wait_group_caught_up
from tests.support.refusal_records import spec_records

pytestmark = [pytest.mark.kafka, pytest.mark.chaos]
OUTAGE_S = 8.0


class FailingStore(ClickHouseStore):
    """The real store, whose inserts fail until `back_at` (as a server that went away would)."""

    back_at = 0.0
    attempts: list[float]

    def insert_refusals(self, records):
        self.attempts.append(time.monotonic())
        if time.monotonic() < self.back_at:
            raise ConnectionError("ClickHouse went away")
        super().insert_refusals(records)


def test_a_failing_store_is_retried_with_backoff_and_nothing_is_committed_past_it(kafka, tmp_path):
    run = uuid.uuid4().hex[:8]
    s = Settings(kafka_bootstrap=kafka.bootstrap, topic_prefix=f"so{run}.", app_id=f"so-{run}",
                 chdb_path=tmp_path / "chdb", sink_batch_seconds=0.3, sink_batch_rows=20,
                 sink_retry_backoff_s=0.25, sink_retry_backoff_max_s=2.0,
                 broker_session_timeout_s=6, broker_heartbeat_interval_s=1)
    ensure_topics(s)
    records = spec_records()
    producer = EventProducer(kafka.bootstrap, topic_prefix=s.topic_prefix)
    for r in records:
        producer.send_raw(CLASSIFIED.name, r.deal_id.encode(), r.model_dump_json().encode())
    producer.flush()

    store = FailingStore.open(s)
    store.attempts = []
    store.back_at = time.monotonic() + OUTAGE_S
    sink = ClassifiedSink(s, store)
    thread = threading.Thread(target=sink.run, daemon=True)
    thread.start()
    topic, group = [s.topic(CLASSIFIED.name)], f"{s.app_id}-sink"
    try:
        committed_during = []
        while time.monotonic() < store.back_at - 0.5:
            committed_during.append(len(records) - group_lag(kafka.bootstrap, group, topic))
            assert sink.health.report()["status"] in ("ok", "degraded")
            time.sleep(1)
        assert set(committed_during) == {0}, "an offset was committed while the store was failing"
        assert sink.health.report()["status"] == "degraded"
        failed = [t for t in store.attempts if t < store.back_at]
        gaps = [b - a for a, b in zip(failed, failed[1:])]
        assert len(failed) >= 3 and gaps[-1] > gaps[0]  # backing off, not hammering

        lag = wait_group_caught_up(kafka.bootstrap, group, topic, timeout_s=60, poll_s=0.2)
        caught_up_s = time.monotonic() - store.back_at
        assert lag == 0
        assert sink.health.report()["status"] == "ok"
        rows = store.query("SELECT count() AS n FROM refusals FINAL")[0]["n"]
        assert rows == len(records)  # records lost: 0
        start, end = spec.day_period(spec.DAY1)
        card1 = read_cards(store, start, end).card1
        assert {k: getattr(card1, k) for k in EXPECTED_DAY1} == EXPECTED_DAY1
        print(f"\nstore outage {OUTAGE_S:.0f}s: {len(failed)} failed attempts, gaps "
              f"{gaps[0]:.2f}s → {gaps[-1]:.2f}s, caught up {caught_up_s:.1f}s after the store came back, "
              f"{rows}/{len(records)} rows, records lost {len(records) - rows}")
    finally:
        sink.stop()
        thread.join(30)
        store.close()
