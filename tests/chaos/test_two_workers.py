"""Two workers in one consumer group and the sink; one worker is SIGKILLed (its whole process
group) mid-stream and not restarted. The survivor takes over the dead one's partitions —
the deal-state table's too, rebuilt from the changelog into its own RocksDB — and its
refusal requests, and the numbers end exact: every deal has one newest record on
`refusals.classified` and one row in ClickHouse, the group's commits reach the end of
every input and of the refusal requests, and no commit-stall alarm.

Not restarted, because the claim is that one survivor alone finishes the dead worker's
work (a restart would let the dead worker finish its own partitions and hide a survivor
that never took them). Partitions coming back to a worker with an older local store are
covered by the restart of tests/chaos/test_worker_crash.py (the same data dir, a RocksDB
store behind the changelog's end after each kill)."""

from __future__ import annotations

import json
import random
import threading
import time

import httpx
import pytest

from schemas import topics
from services.simulator import spec_scenario as spec
from streams.topology import REFUSAL_REQUESTS
from tests.e2e.spec_numbers import EXPECTED_DAY1, EXPECTED_DAY2, MAIN_LEAK, wait_for_spec_numbers
from tests.support.delivery import assert_delivered_once
from tests.support.kafka_io import produce, read_topic, wait_group_caught_up
from tests.support.servers import WorkerProcess

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.chaos, pytest.mark.timeout(900)]
PARTITIONS = 4  # two workers, two partitions each; the survivor then holds all four


def _wait_assigned(workers: list[WorkerProcess], topic: str, want: list[set[int]], timeout_s: float) -> list[set[int]]:
    """Until each worker holds the partitions of `topic` that `want` says (None: any, non-empty)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = [w.assigned(topic) for w in workers]
        if all((g == w if w is not None else bool(g)) for g, w in zip(got, want)) and \
                set().union(*got) == set(range(PARTITIONS)):
            return got
        if time.monotonic() > deadline:
            return got
        time.sleep(0.5)


class _BookkeepingLog:
    """Every 5 s, the survivor's commit bookkeeping (/debug/acks: committed, read, lowest
    acked and unacked offsets per partition; /debug/consumer) into a JSON-lines file, so a
    stall (#12) shows what Faust held when committing stopped; `last()` for the failure message."""

    def __init__(self, worker: WorkerProcess, path, since: float):
        self.worker, self.path, self.since = worker, path, since
        self._stop, self._last = threading.Event(), "(no bookkeeping read)"
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with open(self.path, "a") as f:
            while not self._stop.wait(5):
                try:
                    row = {"t": round(time.monotonic() - self.since, 1),
                           "acks": httpx.get(f"{self.worker.worker_url}/debug/acks", timeout=10).json(),
                           "consumer": httpx.get(f"{self.worker.worker_url}/debug/consumer", timeout=10).json()}
                except Exception as exc:  # a busy worker: the next round
                    row = {"t": round(time.monotonic() - self.since, 1), "error": repr(exc)}
                self._last = json.dumps(row)
                f.write(self._last + "\n")
                f.flush()

    def last(self) -> str:
        return f"survivor's last commit bookkeeping ({self.path}): {self._last}"


# Issue #12 (one fresh-clone run of three, under load: the survivor published 20 records, then
# committed nothing for 4 minutes): after the takeover the refusal agent got the dead worker's
# backlog plus its own settled requests again (the rebalance's seek to the committed offsets)
# and classified them in one batch of up to 1,000, holding every refusal-requests commit
# meanwhile. Re-delivered settled requests are acked at once and batches are 50 (README,
# "A takeover's backlog in one batch"); a failure here prints the survivor's commit bookkeeping.
# Fresh clone c2 of bf1084c then failed here: the survivor never fetched the taken-over
# partitions whose committed offset was 0 (pinned at start; the killed worker had committed
# nothing). Faust had dropped records it drained mid-rebalance and asked aiokafka to seek
# back to the committed offset, which aiokafka skips at 0 (aiokafka#1003): the position
# stayed past them. streams/transport.py seeks; its log line "rewinding … to committed
# offset 0" shows the case (2 of 3 runs after the fix).
def test_a_killed_worker_s_partitions_are_finished_by_the_survivor(kafka, tmp_path):
    rng = random.Random(12)
    first = WorkerProcess.configure(kafka, tmp_path, average_check_rub=f"{spec.PIPELINE}=40000",
                                    topic_partitions=str(PARTITIONS))
    second = first.peer("second")
    assert first.env["LEAKWATCH_WORKER_DATA_DIR"] != second.env["LEAKWATCH_WORKER_DATA_DIR"]
    sc = spec.build()
    items = [*sc.events, *((topics.REVIEWS, r) for r in sc.reviews)]
    deals_topic = first.topic_prefix + topics.DEALS.name
    started = time.monotonic()
    first.start_sink()
    try:
        # Both workers train their classifier at once (the slow part of a start).
        errors: list[BaseException] = []

        def start(w: WorkerProcess) -> None:
            try:
                w.start()
            except BaseException as exc:  # re-raised below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(w,)) for w in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        shared = _wait_assigned([first, second], deals_topic, [None, None], timeout_s=60)
        assert all(shared) and not (shared[0] & shared[1]), f"{shared}\n{first.tail()}\n{second.tail()}"

        half = len(items) // 2
        produce(kafka.bootstrap, first.topic_prefix, items[:half], sc.malformed)
        time.sleep(rng.uniform(1.0, 3.0))  # both are mid-way through their partitions
        first.kill()
        killed_at = time.monotonic()
        produce(kafka.bootstrap, first.topic_prefix, items[half:])

        taken = _wait_assigned([second], deals_topic, [set(range(PARTITIONS))], timeout_s=60)
        assert taken == [set(range(PARTITIONS))], f"{taken}\n{second.tail()}"
        took_over_s = time.monotonic() - killed_at

        with _BookkeepingLog(second, tmp_path / "survivor-acks.jsonl", since=killed_at) as book:
            day1, day2 = wait_for_spec_numbers(second, timeout_s=240)
        caught_up_s = time.monotonic() - killed_at
        state = f"{first.tail()}\n{second.tail()}\n{book.last()}"
        assert day1 == EXPECTED_DAY1, state
        assert {k: day2[k] for k in EXPECTED_DAY2} == EXPECTED_DAY2, state
        assert day2["main"] == {**MAIN_LEAK, "hot_cases": 18}, state

        consumed = [first.topic_prefix + s.name for s in topics.INPUTS] + [first.topic_prefix + REFUSAL_REQUESTS]
        group = first.env["LEAKWATCH_APP_ID"]
        lag = wait_group_caught_up(kafka.bootstrap, group, consumed, timeout_s=60, poll_s=1)
        assert lag == 0, f"offset commits stalled with lag {lag}\n{second.tail()}\n{book.last()}"
        for w in (first, second):
            assert "offset commits stalled" not in w.log_path.read_text(errors="replace")

        records = read_topic(kafka.bootstrap, first.topic_prefix + topics.CLASSIFIED.name)
        second.stop()
        first.stop()  # the sink lets go of chdb
        deals = assert_delivered_once(records, set(sc.refusals), tmp_path / "chdb")
        print(f"\ntwo workers: partitions {shared[0]} / {shared[1]}; first killed, survivor held all "
              f"{PARTITIONS} {took_over_s:.0f}s later, spec numbers exact {caught_up_s:.0f}s after the kill; "
              f"{len(records)} records for {deals} deals; whole run {time.monotonic() - started:.0f}s")
    finally:
        second.stop()
        first.stop()
