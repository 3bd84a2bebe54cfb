"""Without QA reviews, the classifier's own labels flow through the pipeline unchanged:
what the worker publishes and stores equals what the same engine says on the same
conversation, built here independently by folding the scenario's events."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import pytest

from leakwatch.classifier.engines import build_engine
from leakwatch.domain.deal_state import apply_event
from leakwatch.domain.refusals import classifier_input
from schemas.topics import CLASSIFIED
from services.simulator import spec_scenario as spec
from tests.e2e.spec_numbers import cards_for
from tests.support.kafka_io import newest_by_deal, produce_scenario, read_topic
from tests.support.servers import WorkerProcess

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
LABELS = ("target", "reason", "kind", "leak", "hot")


def final_states(sc):
    states = {}
    for _, event in sc.events:
        states[event.deal_id], _ = apply_event(states.get(event.deal_id), event)
    return states


def test_ai_labels_reach_topic_and_cards_unchanged(kafka, tmp_path):
    sc = spec.build(with_reviews=False)
    states = {d: s for d, s in final_states(sc).items() if s.is_refusal}
    engine = build_engine("embedded")
    inputs = [classifier_input(s) for s in states.values()]
    expected = {r.deal_id: r for r in asyncio.run(engine.classify(inputs))}

    worker = WorkerProcess.configure(kafka, tmp_path, average_check_rub=f"{spec.PIPELINE}=40000")
    worker.start()
    try:
        produce_scenario(kafka.bootstrap, worker.topic_prefix, sc)
        deadline, newest = time.monotonic() + 240, {}
        while time.monotonic() < deadline:
            newest = newest_by_deal(read_topic(kafka.bootstrap, worker.topic_prefix + CLASSIFIED.name, idle_s=2))
            if all(newest.get(d, {}).get("version") == s.revision for d, s in states.items()):
                break
            time.sleep(2)
        for deal_id, state in states.items():
            record, ai = newest[deal_id], expected[deal_id]
            assert record["version"] == state.revision
            assert (record["source"], record["status"], record["engine"]["name"]) == ("ai", "provisional", "embedded")
            assert {k: record[k] for k in LABELS} == {k: ai.model_dump(mode="json")[k] for k in LABELS}, deal_id
            assert record["evidence"] == ai.evidence

        # The cards count exactly the AI's target refusals of day 1.
        day1 = [expected[d] for d in states if sc.days.get(d) == spec.DAY1]
        want = defaultdict(int)
        for r in day1:
            if r.target:
                want["total"] += 1
                want["salvageable"] += r.kind == "salvageable"
        # The records are on the topic; the sink stores them a batch later (it commits only
        # after the rows and the cards' aggregates are written), so the cards catch up.
        deadline = time.monotonic() + 120
        while True:
            card1 = cards_for(worker, spec.DAY1)["card1"]
            if (card1["total"], card1["salvageable"]) == (want["total"], want["salvageable"]) \
                    or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert (card1["total"], card1["salvageable"]) == (want["total"], want["salvageable"])
    finally:
        worker.stop()
