"""End to end on real parts: Kafka broker, `leakwatch worker` as its own process, embedded
ClickHouse. The spec scenario goes in through Kafka; the cards' SQL must show the
design's numbers exactly."""

from __future__ import annotations

import httpx
import pytest

from schemas.topics import CLASSIFIED, DEADLETTER
from services.simulator import spec_scenario as spec
from tests.e2e.spec_numbers import (
    EXPECTED_DAY1, EXPECTED_DAY2, MAIN_LEAK, cards_for, expected_by_reason, wait_for_spec_numbers,
)
from tests.support.kafka_io import newest_by_deal, produce_scenario, read_topic
from tests.support.servers import WorkerProcess

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def worker(kafka, tmp_path):
    w = WorkerProcess.configure(kafka, tmp_path, average_check_rub=f"{spec.PIPELINE}=40000")
    w.start()
    yield w
    w.stop()


def test_spec_scenario_gives_the_design_numbers(kafka, worker):
    sc = spec.build()
    produce_scenario(kafka.bootstrap, worker.topic_prefix, sc)

    day1, day2 = wait_for_spec_numbers(worker)
    assert day1 == EXPECTED_DAY1, worker.tail()
    assert {k: day2[k] for k in EXPECTED_DAY2} == EXPECTED_DAY2
    assert day2["main"] == {**MAIN_LEAK, "hot_cases": 18}

    card1 = cards_for(worker, spec.DAY1)["card1"]
    assert {r["reason"]: (r["salvageable"], r["real"]) for r in card1["by_reason"]} == expected_by_reason(spec.DAY1)
    card2 = cards_for(worker, spec.DAY2)["card2"]
    assert card2["main_leak"] == MAIN_LEAK["leak"]
    assert card2["main_stage"] == "Выставлен счёт"
    assert card2["above_average_pct"] is not None  # day 1 is its baseline

    # A period that ends before it starts is a clear 400, not a query.
    bad = httpx.get(f"{worker.url}/cards", params={"from": "2026-11-19", "to": "2026-11-18"}, timeout=10)
    assert bad.status_code == 400 and "after" in bad.json()["error"]

    # Filters: one manager's share of day 1 matches the scenario.
    manager = spec.MANAGERS[0]
    mine = [d for d, day in sc.days.items() if day == spec.DAY1]
    start, end = spec.day_period(spec.DAY1)
    only = worker.get("/cards", **{"from": start.isoformat(), "to": end.isoformat(), "manager": manager})

    # The public topic: every target refusal's newest record is the QA lead's verdict;
    # spam, duplicates, the reopened deal and the one marked spam are not active.
    newest = newest_by_deal(read_topic(kafka.bootstrap, worker.topic_prefix + CLASSIFIED.name))
    for deal_id, r in sc.refusals.items():
        record = newest[deal_id]
        assert record["active"] and record["source"] == "review" and record["status"] == "confirmed"
        assert (record["reason"], record["kind"], record["leak"], record["hot"]) == (
            r.reason.value, r.kind.value, r.leak.value if r.leak else None, r.hot)
        assert record["ai"] is not None  # the AI's own labels are kept beside the review
    inactive = {d for d, r in newest.items() if not r["active"]}
    for tag in ("A", "B"):
        assert {f"{tag}-spam-late", f"{tag}-reopened"} <= inactive
        assert {f"{tag}-spam-{j}" for j in range(4)} <= inactive
        assert {f"{tag}-dup-{j}" for j in range(2)} <= inactive
    active = {d for d, r in newest.items() if r["active"]}
    assert active == set(sc.refusals)
    assert only["card1"]["total"] == sum(
        1 for d in mine if newest[d]["manager"] == manager)
    assert newest["A-002"]["version"] > 1  # the late transcript re-classified it

    # Malformed events went to the dead-letter topic with their reasons; nothing else changed.
    dead = read_topic(kafka.bootstrap, worker.topic_prefix + DEADLETTER.name)
    # At least once: a replay may repeat a dead letter; each malformed event is there.
    assert len({(d["topic"], d["partition"], d["offset"]) for _, d in dead}) == len(sc.malformed)
    errors = sorted(d["error"] for _, d in dead)
    assert any("not JSON" in e for e in errors)
    assert any("does not match telephony.calls" in e for e in errors)
    assert any("does not match crm.activities" in e for e in errors)
