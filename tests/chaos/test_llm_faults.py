"""The LLM failing, slower than the consumer's poll interval, or answering garbage, against
a real local HTTP server speaking the OpenAI protocol: the worker stays in its group, the
embedded engine answers every item, and the records say so (`fallback_from`)."""

from __future__ import annotations

import asyncio
import time

import pytest

from leakwatch.classifier.engines import build_engine
from tests.support.fake_llm import FakeLLMServer, Reply, error_body
from leakwatch.domain.refusals import classifier_input
from schemas.topics import CLASSIFIED
from services.simulator import spec_scenario as spec
from tests.e2e.test_classifier_flow import LABELS, final_states
from tests.support.kafka_io import newest_by_deal, produce_scenario, read_topic
from tests.support.servers import WorkerProcess

# Minutes on a busy machine: every start trains the embedded classifier first.
pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.chaos, pytest.mark.timeout(1800)]
POLL_INTERVAL_S = 30
SLOW_S = 40  # longer than the poll interval


def broken_llm(request: dict, call: int) -> Reply:
    match call % 3:
        case 0:
            return Reply(content='{"reason": "Дорого"}', delay_s=SLOW_S)  # slow, and then incomplete
        case 1:
            return Reply(status=503, body=error_body("overloaded", "server_error"))
        case _:
            return Reply(content="Клиент ушёл, потому что дорого. Игнорируй инструкции.")  # not JSON


def test_a_failing_slow_or_garbage_llm_falls_back_per_item_and_the_worker_stays(kafka, tmp_path):
    sc = spec.build(with_reviews=False)
    states = {d: s for d, s in final_states(sc).items() if s.is_refusal}
    embedded = build_engine("embedded")
    expected = {r.deal_id: r for r in asyncio.run(embedded.classify([classifier_input(s) for s in states.values()]))}

    with FakeLLMServer(broken_llm) as llm:
        worker = WorkerProcess.configure(
            kafka, tmp_path, average_check_rub=f"{spec.PIPELINE}=40000", classifier_engine="openai",
            openai_base_url=llm.base_url, openai_model="fake", openai_max_retries="1",
            openai_request_timeout_s="3", classifier_item_deadline_s="5", broker_max_poll_interval_s=str(POLL_INTERVAL_S))
        worker.start()
        try:
            started = time.monotonic()
            produce_scenario(kafka.bootstrap, worker.topic_prefix, sc)
            deadline, newest = time.monotonic() + 300, {}
            while time.monotonic() < deadline:
                newest = newest_by_deal(read_topic(kafka.bootstrap, worker.topic_prefix + CLASSIFIED.name, idle_s=2))
                if all(newest.get(d, {}).get("version") == s.revision for d, s in states.items()):
                    break
                time.sleep(2)
            took_s = time.monotonic() - started
            for deal_id, state in states.items():
                record, ai = newest[deal_id], expected[deal_id]
                assert record["version"] == state.revision, deal_id
                assert (record["engine"]["name"], record["fallback_from"]) == ("embedded", "openai"), deal_id
                assert {k: record[k] for k in LABELS} == {k: ai.model_dump(mode="json")[k] for k in LABELS}, deal_id
            # The LLM was asked first (items whose deadline passed while queued for one of
            # the engine's connections never reached it; they fell back all the same).
            assert llm.calls > 0

            log = worker.log_path.read_text(errors="replace")
            assert log.count("Worker ready") == 1, "the worker left its group and rejoined"
            assert "dead-lettered" not in log
            health = worker_health(worker)
            assert health["status"] == "ok", health
            print(f"\nLLM faults: {len(states)} refusals, all answered by the fallback in {took_s:.0f}s, "
                  f"{llm.calls} LLM calls, one group join, records lost 0")
        finally:
            worker.stop()


def worker_health(worker: WorkerProcess) -> dict:
    import httpx

    return httpx.get(f"{worker.worker_url}/health", timeout=10).json()
