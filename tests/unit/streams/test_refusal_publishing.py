"""The refusal agent's failure semantics, with stand-ins for Faust's topics and table (unit
tests; the real broker runs in tests/chaos): nothing is acked before its record is
delivered, failures are retried with backoff, a request that keeps failing is
dead-lettered with the reason and the request, a review is not stuck behind a grace period."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import orjson
import pytest

from leakwatch.domain.deal_state import apply_event
from leakwatch.settings import Settings
from schemas.conversation import ClassificationResult
from schemas.events import DealEvent
from streams.agents.refusals import Pending, RefusalPublisher, publish_in_due_order
from streams.health import WorkerHealth

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)


def lost_deal(deal_id: str) -> dict:
    state = None
    for i, (type_, stage) in enumerate((("created", "Новая заявка"), ("lost", "Закрыто и не реализовано"))):
        state, _ = apply_event(state, DealEvent(event_id=f"{deal_id}-{i}", deal_id=deal_id, ts=T0 + timedelta(minutes=i),
                                                type=type_, stage=stage, pipeline="b2c", manager="Анна"))
    return state.model_dump(mode="json")


class Topic:
    def __init__(self, name: str, fail_sends: int = 0):
        self.name, self.fail_sends, self.sent = name, fail_sends, []

    def get_topic_name(self) -> str:
        return self.name

    async def send(self, key, value):
        future = asyncio.get_running_loop().create_future()
        if self.fail_sends:
            self.fail_sends -= 1
            future.set_exception(RuntimeError("broker down"))
        else:
            self.sent.append((key, orjson.loads(value)))
            future.set_result(None)
        return future


class Engine:
    """Answers from a script: per call, an exception to raise, a delay, or labels."""

    name, version = "embedded", "test"

    def __init__(self, script=(), poison: set[str] = frozenset(), delay_s: float = 0.0):
        self.script, self.poison, self.delay_s, self.calls = list(script), poison, delay_s, []

    async def classify(self, items):
        self.calls.append([i.deal_id for i in items])
        await asyncio.sleep(self.delay_s)
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
        if any(i.deal_id in self.poison for i in items):
            raise ValueError("poison conversation")
        return [ClassificationResult(id=i.id, deal_id=i.deal_id, target=True, reason="Дорого", kind="salvageable",
                                     leak="Не отработали возражение", hot=False, confidence=0.8, evidence="",
                                     engine={"name": self.name, "version": self.version}) for i in items]


def publisher(engine, *, deals=("D1",), fail_sends=0, **settings):
    s = Settings(average_check_rub="b2c=40000", refusal_retry_backoff_s=0.001, refusal_retry_backoff_max_s=0.004,
                 **settings)
    ctx = SimpleNamespace(settings=s, classifier=engine, deal_state={d: lost_deal(d) for d in deals},
                          classified=Topic("refusals.classified", fail_sends), deadletter=Topic("deadletter"),
                          requests=Topic("leakwatch.refusal-requests"), health=WorkerHealth())
    from streams.average_checks import AverageChecks
    return RefusalPublisher(ctx, AverageChecks(s)), ctx


def pending(ctx, deal_id: str) -> Pending:
    revision = ctx.deal_state[deal_id]["revision"]
    raw = orjson.dumps({"deal_id": deal_id, "revision": revision, "due_at": 0})
    return Pending(deal_id, revision, raw)


def test_a_failing_classifier_is_retried_until_the_record_is_published():
    engine = Engine(script=[TimeoutError(), RuntimeError("model not loaded")])
    pub, ctx = publisher(engine)
    asyncio.run(pub.settle([pending(ctx, "D1")]))
    assert [r["deal_id"] for _, r in ctx.classified.sent] == ["D1"]
    assert len(engine.calls) == 3 and ctx.deadletter.sent == []
    assert ctx.health.report()["status"] == "ok"


def test_a_request_that_keeps_failing_is_dead_lettered_with_reason_and_request():
    engine = Engine(poison={"D2"})
    pub, ctx = publisher(engine, deals=("D1", "D2"), refusal_max_attempts=3)
    asyncio.run(pub.settle([pending(ctx, "D1"), pending(ctx, "D2")]))
    # The batch failed as a whole once; then each item alone: D1 goes through, D2 never.
    assert [r["deal_id"] for _, r in ctx.classified.sent] == ["D1"]
    (key, letter), = ctx.deadletter.sent
    assert key == b"D2" and "after 3 attempts" in letter["error"] and "ValueError" in letter["error"]
    assert orjson.loads(letter["payload"])["deal_id"] == "D2"
    health = ctx.health.report()
    assert health["status"] == "degraded" and "dead_letters" in health["problems"]


def test_a_request_whose_revision_matches_a_state_never_lost_is_skipped_not_retried():
    # The dead worker's request (revision 2, lost) arrived; the new owner's re-fold reached
    # revision 2 through other events, before the loss: nothing to publish, no retries.
    engine = Engine()
    pub, ctx = publisher(engine, deals=("D1", "D2"), refusal_max_attempts=2)
    state = None
    for i in range(2):
        state, _ = apply_event(state, DealEvent(event_id=f"D2-{i}", deal_id="D2", ts=T0 + timedelta(minutes=i),
                                                type="created" if i == 0 else "stage_changed",
                                                stage=("Новая заявка", "Консультация")[i], pipeline="b2c"))
    ctx.deal_state["D2"] = state.model_dump(mode="json")
    assert state.revision == ctx.deal_state["D1"]["revision"] and not state.ever_lost
    asyncio.run(pub.settle([pending(ctx, "D1"), pending(ctx, "D2")]))
    assert [r["deal_id"] for _, r in ctx.classified.sent] == ["D1"]
    assert ctx.deadletter.sent == [] and engine.calls == [["D1"]]
    assert ctx.health.report()["status"] == "ok"


def test_a_batch_slower_than_its_deadline_is_retried_not_acked():
    engine = Engine(delay_s=0.3)
    pub, ctx = publisher(engine, classifier_batch_deadline_s=0.05, classifier_item_deadline_s=0.05,
                         refusal_max_attempts=2)
    asyncio.run(pub.settle([pending(ctx, "D1")]))
    assert ctx.classified.sent == [] and len(engine.calls) == 2
    assert "TimeoutError" in ctx.deadletter.sent[0][1]["error"]


def test_a_broker_failure_is_retried_without_spending_the_items_attempts():
    pub, ctx = publisher(Engine(), fail_sends=5, refusal_max_attempts=1)
    asyncio.run(pub.settle([pending(ctx, "D1")]))
    assert [r["deal_id"] for _, r in ctx.classified.sent] == ["D1"] and ctx.deadletter.sent == []


def test_the_fallback_engine_is_marked_in_the_record():
    class Fallback(Engine):
        async def classify(self, items):
            return [r.model_copy(update={"fallback_from": "openai"}) for r in await super().classify(items)]

    pub, ctx = publisher(Fallback())
    asyncio.run(pub.settle([pending(ctx, "D1")]))
    (_, record), = ctx.classified.sent
    assert record["engine"]["name"] == "embedded" and record["fallback_from"] == "openai"


class Event:
    def __init__(self, deal_id: str, revision: int, due_at: float, offset: int):
        self.value = orjson.dumps({"deal_id": deal_id, "revision": revision, "due_at": due_at})
        self.message = SimpleNamespace(offset=offset, partition=0)


async def replay(events, settle, settle_time_s=0.0, run_s=0.5):
    acked, settled = [], []

    async def source():
        for e in events:
            yield e
        await asyncio.sleep(run_s)

    async def ack(event):
        acked.append(event.message.offset)

    async def record(batch):
        await asyncio.sleep(settle_time_s)
        settled.extend(p.deal_id for p in batch)
        await settle(batch)

    await publish_in_due_order(source(), ack, record, batch_rows=100)
    return acked, settled


def test_nothing_is_acked_before_it_is_settled():
    done = []

    async def settle(batch):
        done.extend(p.events[0].message.offset for p in batch)

    acked, _ = asyncio.run(replay([Event("D1", 1, 0, 0), Event("D2", 1, 0, 1)], settle))
    assert sorted(acked) == [0, 1] == sorted(done)

    async def never(batch):
        await asyncio.sleep(10)  # a store or classifier that does not come back in time

    acked, _ = asyncio.run(replay([Event("D1", 1, 0, 0)], never, run_s=0.3))
    assert acked == []


def test_a_review_is_not_stuck_behind_a_grace_period():
    now = time.time()
    order = []

    async def settle(batch):
        order.extend(p.deal_id for p in batch)

    events = [Event("grace", 1, now + 0.4, 0), Event("review", 2, now, 1)]
    acked, _ = asyncio.run(replay(events, settle, run_s=0.8))
    assert order == ["review", "grace"] and acked == [1, 0]


def test_a_newer_revision_supersedes_a_queued_one_and_the_old_is_acked():
    seen = []

    async def settle(batch):
        seen.extend((p.deal_id, p.revision) for p in batch)

    now = time.time()
    acked, _ = asyncio.run(replay([Event("D1", 1, now + 0.2, 0), Event("D1", 2, now + 0.2, 1)], settle))
    assert seen == [("D1", 2)] and acked == [0, 1]


@pytest.mark.parametrize("older_last", [True])
def test_a_replayed_older_revision_does_not_replace_the_newer(older_last):
    seen = []

    async def settle(batch):
        seen.extend((p.deal_id, p.revision) for p in batch)

    now = time.time()
    acked, _ = asyncio.run(replay([Event("D1", 2, now + 0.2, 5), Event("D1", 1, now + 0.2, 3)], settle))
    assert seen == [("D1", 2)] and sorted(acked) == [3, 5]


def test_a_redelivered_request_is_acked_only_once_it_is_published():
    # A rebalance seeks back to the committed offset: the queued request (offset 4) comes
    # again while it waits out its grace period. Acking the first copy then would let the
    # commit pass a request whose record is not out.
    async def never(batch):
        await asyncio.sleep(10)

    now = time.time()
    acked, _ = asyncio.run(replay([Event("D1", 1, now, 4), Event("D1", 1, now, 4)], never, run_s=0.3))
    assert acked == []

    seen = []

    async def settle(batch):
        seen.extend((p.deal_id, p.revision) for p in batch)

    acked, _ = asyncio.run(replay([Event("D1", 1, now + 0.2, 4), Event("D1", 1, now + 0.2, 4)], settle))
    assert seen == [("D1", 1)] and acked == [4, 4]  # one record; Faust acks an offset once


def test_the_ais_labels_are_kept_in_the_state_without_a_new_revision():
    # The verdict a QA lead confirms by closing the deal in the CRM (leakwatch.domain.reviews).
    pub, ctx = publisher(Engine())
    revision = ctx.deal_state["D1"]["revision"]
    asyncio.run(pub.settle([pending(ctx, "D1")]))
    state = ctx.deal_state["D1"]
    assert state["ai_labels"] == {"target": True, "reason": "Дорого", "kind": "salvageable",
                                  "leak": "Не отработали возражение", "hot": False}
    assert state["revision"] == revision
    from leakwatch.domain.deal_state import DealState
    assert DealState.model_validate(state).ai_labels.reason == "Дорого"


def test_a_failed_publish_keeps_no_labels():
    pub, ctx = publisher(Engine(poison={"D1"}), refusal_max_attempts=1)
    asyncio.run(pub.settle([pending(ctx, "D1")]))
    assert ctx.deadletter.sent and ctx.deal_state["D1"]["ai_labels"] is None


def test_a_request_redelivered_after_it_was_settled_is_acked_without_settling_again():
    # An eager rebalance seeks back to the committed offset, which lags the acks: the copies
    # of requests already published come again and would be classified and published again,
    # in one batch with the real backlog (#12). Offset 4 is settled, then comes again.
    seen = []

    async def settle(batch):
        seen.extend(p.events[0].message.offset for p in batch)

    async def run():
        acked = []
        redelivery = asyncio.Event()

        async def source():
            yield Event("D1", 1, 0, 4)
            await redelivery.wait()
            yield Event("D1", 1, 0, 4)  # the same request at the same position
            yield Event("D2", 1, 0, 5)
            await asyncio.sleep(0.3)

        async def ack(event):
            acked.append(event.message.offset)
            redelivery.set()

        await publish_in_due_order(source(), ack, settle, batch_rows=100)
        return acked

    acked = asyncio.run(run())
    assert seen == [4, 5] and acked == [4, 4, 5]


def test_due_requests_are_settled_in_batches_of_batch_rows():
    sizes = []

    async def settle(batch):
        sizes.append(len(batch))

    async def run():
        async def source():
            for i in range(7):
                yield Event(f"D{i}", 1, 0, i)
            await asyncio.sleep(0.3)

        async def ack(event):
            pass

        await publish_in_due_order(source(), ack, settle, batch_rows=3)

    asyncio.run(run())
    assert sum(sizes) == 7 and max(sizes) <= 3
