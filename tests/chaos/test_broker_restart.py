"""Restart the Kafka broker mid-stream (stopped, then started again on the same port and
data dir) while the spec scenario streams through the simulator's producer → worker →
sink: every component resumes by itself and nothing is lost. The numbers end exact, every
deal has one newest record on `refusals.classified` and one row in ClickHouse, every
consumer group reaches lag 0, and the time to catch up after the broker is back is printed."""

from __future__ import annotations

import threading
import time

import pytest

from schemas import topics
from services.kafka_out import EventProducer
from services.simulator import spec_scenario as spec
from streams.topology import REFUSAL_REQUESTS
from tests.e2e.spec_numbers import EXPECTED_DAY1, EXPECTED_DAY2, MAIN_LEAK, wait_for_spec_numbers
from tests.support.delivery import assert_delivered_once
from tests.support.kafka_io import group_lag, partition_offsets, read_topic
from tests.support.servers import KafkaBroker, WorkerProcess, free_port_pair

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.chaos, pytest.mark.timeout(900)]
CHUNKS = 20
DOWN_S = 3.0


def stream(producer: EventProducer, chunks, pause_s: float, progress: list) -> None:
    """The simulator's producer, paced: it keeps producing while the broker is away (librdkafka
    buffers and retries), and its flush waits the outage out."""
    for chunk in chunks:
        producer.send_all(chunk)
        progress.append(time.monotonic())
        time.sleep(pause_s)
    producer.flush(180)


def lags(broker: KafkaBroker, worker: WorkerProcess) -> dict[str, int]:
    t = worker.topic_prefix
    app = worker.env["LEAKWATCH_APP_ID"]
    return {"worker": group_lag(broker.bootstrap, app, [t + s.name for s in topics.INPUTS] + [t + REFUSAL_REQUESTS]),
            "sink": group_lag(broker.bootstrap, f"{app}-sink", [t + topics.CLASSIFIED.name, t + topics.WON_DEALS.name])}


def behind(broker: KafkaBroker, worker: WorkerProcess) -> list[tuple[str, int, int, int]]:
    """The worker's partitions not committed to their end: (topic, partition, committed, end)."""
    t = worker.topic_prefix
    names = [t + s.name for s in topics.INPUTS] + [t + REFUSAL_REQUESTS]
    return [row for row in partition_offsets(broker.bootstrap, worker.env["LEAKWATCH_APP_ID"], names)
            if max(row[2], 0) < row[3]]


def test_a_broker_restart_mid_stream_loses_nothing(tmp_path):
    broker = KafkaBroker(port=free_port_pair(), state_dir=tmp_path / "kafka")
    broker.start()
    worker = WorkerProcess.configure(broker, tmp_path, average_check_rub=f"{spec.PIPELINE}=40000")
    sc = spec.build()
    items = [*sc.events, *((topics.REVIEWS, r) for r in sc.reviews)]
    chunks = [items[i * len(items) // CHUNKS:(i + 1) * len(items) // CHUNKS] for i in range(CHUNKS)]
    try:
        worker.start()
        producer = EventProducer(broker.bootstrap, topic_prefix=worker.topic_prefix)
        for topic, key, value in sc.malformed:
            producer.send_raw(topic, key, value)
        progress: list[float] = []
        streamer = threading.Thread(target=stream, args=(producer, chunks, 0.5, progress), daemon=True)
        streamer.start()
        while len(progress) < CHUNKS // 3:
            time.sleep(0.1)
        broker.stop()  # SIGTERM: the broker's own clean shutdown, as an operator's restart
        time.sleep(DOWN_S)
        broker.resume()
        back_at = time.monotonic()
        sent_during_outage = sum(1 for t in progress if t < back_at) - CHUNKS // 3
        streamer.join(200)
        assert not streamer.is_alive(), "the producer did not get its events out after the restart"

        day1, day2 = wait_for_spec_numbers(worker, timeout_s=300)
        numbers_s = time.monotonic() - back_at
        assert day1 == EXPECTED_DAY1, worker.tail()
        assert {k: day2[k] for k in EXPECTED_DAY2} == EXPECTED_DAY2, worker.tail()
        assert day2["main"] == {**MAIN_LEAK, "hot_cases": 18}

        deadline = time.monotonic() + 60
        while any((lag := lags(broker, worker)).values()) and time.monotonic() < deadline:
            time.sleep(1)
        caught_up_s = time.monotonic() - back_at
        assert lag == {"worker": 0, "sink": 0}, f"{lag}: {behind(broker, worker)}\n{worker.tail()}"

        records = read_topic(broker.bootstrap, worker.topic_prefix + topics.CLASSIFIED.name)
        worker.stop()  # the sink lets go of chdb
        deals = assert_delivered_once(records, set(sc.refusals), tmp_path / "chdb")
        log = worker.log_path.read_text(errors="replace")
        assert "offset commits stalled" not in log
        print(f"\nbroker restart: down {DOWN_S:.0f}s + its start, {sent_during_outage} chunks produced meanwhile; "
              f"numbers exact {numbers_s:.0f}s and every group at lag 0 {caught_up_s:.0f}s after the broker was back; "
              f"worker starts {worker.starts}, sink starts {worker.sink_starts}; {len(records)} records for "
              f"{deals} deals, records lost 0")
        assert worker.starts == 1 and worker.sink_starts == 1  # nobody restarted by hand
    finally:
        worker.stop()
        broker.stop()
