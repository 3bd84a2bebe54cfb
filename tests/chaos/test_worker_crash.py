"""SIGKILL the worker mid-stream, restart it: no loss, no double count, and its offset
commits catch up with the topics' ends (faust issue #596 would stall them)."""

from __future__ import annotations

import time

import pytest

from schemas import topics
from services.simulator import spec_scenario as spec
from tests.e2e.spec_numbers import EXPECTED_DAY1, EXPECTED_DAY2, MAIN_LEAK, observed, wait_for_spec_numbers
from tests.support.kafka_io import group_lag, produce
from tests.support.servers import WorkerProcess

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_sigkill_mid_stream_keeps_the_numbers_exact(kafka, tmp_path):
    worker = WorkerProcess.configure(kafka, tmp_path, average_check_rub=f"{spec.PIPELINE}=40000")
    sc = spec.build()
    items = [*sc.events, *((topics.REVIEWS, r) for r in sc.reviews)]
    half = len(items) // 2
    worker.start()
    try:
        produce(kafka.bootstrap, worker.topic_prefix, items[:half], sc.malformed)
        # Wait until the worker is visibly mid-stream: some refusals stored, not all.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and observed(worker)[0]["total"] == 0:
            time.sleep(0.5)  # (the first start has nothing to replay, so no watchdog restart)
        assert observed(worker)[0]["total"] > 0, worker.tail()
        worker.kill()

        produce(kafka.bootstrap, worker.topic_prefix, items[half:])
        worker.start()
        day1, day2 = wait_for_spec_numbers(worker)
        assert day1 == EXPECTED_DAY1, worker.tail()
        assert {k: day2[k] for k in EXPECTED_DAY2} == EXPECTED_DAY2
        assert day2["main"] == {**MAIN_LEAK, "hot_cases": 18}

        # Offsets are committed to the end of every input topic: within a few commit
        # intervals, or after one restart by the commit watchdog (30 s idle + replay).
        inputs = [worker.topic_prefix + spec_.name for spec_ in topics.INPUTS]
        group = worker.env["LEAKWATCH_APP_ID"]
        deadline = time.monotonic() + 150
        lag = None
        while time.monotonic() < deadline:
            lag = group_lag(kafka.bootstrap, group, inputs)
            if lag == 0:
                break
            time.sleep(1)
        assert lag == 0, f"offset commits stalled with lag {lag}\n{worker.tail()}"
    finally:
        worker.stop()
