"""SIGKILL the worker's whole process group at random moments (some during its recovery)
while the spec scenario streams, and re-send the whole scenario once mid-way (a producer
that retried everything): the numbers end exact, every deal has one newest record on
`refusals.classified` and one row in ClickHouse, and the commits reach the end of every
input with no stall alarm (the watchdog never restarts anything)."""

from __future__ import annotations

import random
import time

import pytest

from schemas import topics
from services.simulator import spec_scenario as spec
from tests.e2e.spec_numbers import EXPECTED_DAY1, EXPECTED_DAY2, MAIN_LEAK, wait_for_spec_numbers
from tests.support.delivery import assert_delivered_once
from tests.support.kafka_io import produce, read_topic, wait_group_caught_up
from tests.support.servers import WorkerProcess

# Minutes on a busy machine: every start trains the embedded classifier first.
pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.chaos, pytest.mark.timeout(3600)]
KILLS = 10


def test_ten_sigkills_and_a_full_resend_keep_the_numbers_exact(kafka, tmp_path):
    rng = random.Random(596)
    worker = WorkerProcess.configure(kafka, tmp_path, average_check_rub=f"{spec.PIPELINE}=40000")
    sc = spec.build()
    items = [*sc.events, *((topics.REVIEWS, r) for r in sc.reviews)]
    chunks = [items[i * len(items) // KILLS:(i + 1) * len(items) // KILLS] for i in range(KILLS)]
    started = time.monotonic()
    worker.start()
    try:
        for i, chunk in enumerate(chunks):
            produce(kafka.bootstrap, worker.topic_prefix, chunk, sc.malformed if i == 0 else ())
            if i == KILLS // 2:  # the producer retried everything it ever sent
                produce(kafka.bootstrap, worker.topic_prefix, items, sc.malformed)
            # Every third kill comes right after the start (joining the group, reading the
            # changelog, seeking); the others mid-stream at a random moment.
            time.sleep(rng.uniform(0.0, 1.5) if i % 3 == 1 else rng.uniform(1.0, 6.0))
            worker.kill()
            worker.start()
        produced_at = time.monotonic()

        day1, day2 = wait_for_spec_numbers(worker, timeout_s=300)
        caught_up_s = time.monotonic() - produced_at
        assert day1 == EXPECTED_DAY1, worker.tail()
        assert {k: day2[k] for k in EXPECTED_DAY2} == EXPECTED_DAY2
        assert day2["main"] == {**MAIN_LEAK, "hot_cases": 18}

        inputs = [worker.topic_prefix + s.name for s in topics.INPUTS]
        group = worker.env["LEAKWATCH_APP_ID"]
        lag = wait_group_caught_up(kafka.bootstrap, group, inputs, timeout_s=60, poll_s=1)
        assert lag == 0, f"offset commits stalled with lag {lag}\n{worker.tail()}"
        log = worker.log_path.read_text(errors="replace")
        assert "offset commits stalled" not in log

        records = read_topic(kafka.bootstrap, worker.topic_prefix + topics.CLASSIFIED.name)
        worker.stop()  # the sink lets go of chdb
        deals = assert_delivered_once(records, set(sc.refusals), tmp_path / "chdb")
        print(f"\nchaos: {KILLS} kills ({sum(1 for i in range(KILLS) if i % 3 == 1)} right after a start), "
              f"{len(records)} records for {deals} deals, caught up {caught_up_s:.0f}s after the last "
              f"start, whole run {time.monotonic() - started:.0f}s, records lost 0")
    finally:
        worker.stop()

