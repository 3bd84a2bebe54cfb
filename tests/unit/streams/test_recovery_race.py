"""Faust's recovery race (faust-streaming #596), replayed on Faust's own code: the real
`Consumer` bookkeeping (`_drain_messages`, `ack`, `_new_offset`, `perform_seek`), the real
flow-control queues and the real `Recovery.on_recovery_completed`. Only the broker is a
stand-in: an in-memory log whose fetch position moves as records are returned.

The interleaving forced here is the one a worker restarted with a backlog meets: the
seek's round trip to the consumer thread returns while the fetcher is in the middle of a
batch of stream records it fetched because the partitions were resumed first.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import faust
import pytest
from faust.tables.recovery import Recovery
from faust.transport.consumer import Consumer
from faust.types import TP
from faust.types.tuples import Message

from streams.recovery import SeekBeforeResumeRecovery

TOPIC = "race.requests"
STREAM = TP(TOPIC, 0)
CHANGELOG = TP("race-table-changelog", 0)
RECORDS = 300


class LogConsumer(Consumer):
    """Faust's consumer over an in-memory log."""

    def __init__(self, app, deliver):
        transport = SimpleNamespace(app=app, create_transaction_manager=lambda **kw: None)
        super().__init__(transport, callback=deliver, on_partitions_revoked=None, on_partitions_assigned=None)
        self.records = {STREAM: list(range(RECORDS)), CHANGELOG: []}
        self.fetch_position = {STREAM: 0, CHANGELOG: 0}
        self.kafka_committed = {STREAM: 0}

    async def _getmany(self, active_partitions, timeout):
        await asyncio.sleep(0.001)
        out = {}
        for tp in active_partitions:
            pos = self.fetch_position[tp]
            batch = self.records[tp][pos:pos + 100]
            if batch:
                out[tp] = batch
                self.fetch_position[tp] = pos + len(batch)
        return out

    async def seek_to_committed(self):
        # The round trip to the consumer thread returns while the fetcher is mid-batch (if
        # it is fetching stream records at all).
        for _ in range(200):
            if (self._read_offset.get(STREAM) or 0) >= 20:
                break
            await asyncio.sleep(0.001)
        self.fetch_position[STREAM] = self.kafka_committed[STREAM]
        return dict(self.kafka_committed)

    def _to_message(self, tp, record):
        return Message(tp.topic, tp.partition, record, 0.0, 0, None, None, b"", None, tp=tp)

    async def _commit(self, offsets):
        self.kafka_committed.update(offsets)
        return True

    def assignment(self):
        return {STREAM, CHANGELOG}

    def highwater(self, tp):
        return len(self.records[tp])

    def _new_topicpartition(self, topic, partition):
        return TP(topic, partition)

    async def _seek(self, partition, offset): ...
    async def create_topic(self, *args, **kwargs): ...
    async def earliest_offsets(self, *partitions): return {tp: 0 for tp in partitions}
    async def highwaters(self, *partitions): return {tp: self.highwater(tp) for tp in partitions}
    def key_partition(self, topic, key, partition=None): return 0
    async def position(self, tp): return self.fetch_position[tp]
    async def seek_wait(self, partitions): ...
    async def subscribe(self, topics): ...
    def topic_partitions(self, topic): return 1


class Tables(dict):
    changelog_topics = {CHANGELOG.topic}

    def on_actives_ready(self): ...
    def on_standbys_ready(self): ...


async def restart_with_backlog(recovery_class) -> tuple[set[int], int]:
    """A worker at the end of reading its changelogs, a backlog of RECORDS stream messages
    from committed offset 0. Returns (offsets the agent processed, offset committed)."""
    app = faust.App("race", broker="kafka://127.0.0.1:1", store="memory://")
    queue = app.FlowControlQueue(maxsize=app.conf.stream_buffer_maxsize, clear_on_resume=True)  # as a stream makes it
    processed: set[int] = set()

    async def deliver(message):
        consumer.track_message(message)
        await queue.put(message)

    consumer = LogConsumer(app, deliver)
    app._consumer = consumer
    app.topics._acking_topics.add(TOPIC)
    app.__dict__["_fetcher"] = SimpleNamespace(maybe_start=_noop)
    await consumer.perform_seek()  # where the first recovery step left it

    # Reading the changelogs: flow active, only the changelog partition fetched.
    consumer.pause_partitions({STREAM})
    consumer.resume_partitions({CHANGELOG})
    app.flow_control.resume()
    consumer.resume_flow()
    fetcher = SimpleNamespace(_stopped=asyncio.Event())
    drain = asyncio.create_task(consumer._drain_messages(fetcher))

    async def agent():
        while True:
            message = await queue.get()
            await asyncio.sleep(0.0005)  # some work per message
            processed.add(message.offset)
            consumer.ack(message)

    worker = asyncio.create_task(agent())
    await asyncio.sleep(0.02)
    consumer.pause_partitions({CHANGELOG})  # "Done reading from changelog topics"
    recovery = recovery_class(app, Tables())
    await recovery.on_recovery_completed(app.consumer_generation_id)
    for _ in range(300):  # let the agent work through whatever reaches it
        await asyncio.sleep(0.01)
        await consumer.commit()
        if consumer.kafka_committed[STREAM] == RECORDS:
            break
    fetcher._stopped.set()
    assert not drain.done(), f"the fetcher loop crashed: {drain.exception()!r}"
    for task in (drain, worker):
        task.cancel()
    await asyncio.gather(drain, worker, return_exceptions=True)
    return processed, consumer.kafka_committed[STREAM]


async def _noop():
    return None


def test_stock_recovery_clears_fetched_messages_and_the_commit_stalls():
    """The gap reproduced: messages fetched between resuming the stream partitions and the
    queue clear are never processed, their re-fetch is dropped as already read, and the
    commit never passes them."""
    processed, committed = asyncio.run(restart_with_backlog(Recovery))
    missing = set(range(RECORDS)) - processed
    assert missing, "the race did not happen"
    assert committed <= min(missing) < RECORDS  # stuck at the hole, for good


def test_seek_before_resume_processes_every_message_and_commits_to_the_end():
    processed, committed = asyncio.run(restart_with_backlog(SeekBeforeResumeRecovery))
    assert processed == set(range(RECORDS))
    assert committed == RECORDS


@pytest.mark.parametrize("recovery_class", [SeekBeforeResumeRecovery])
def test_the_fixed_recovery_leaves_the_flow_running(recovery_class):
    async def run():
        app = faust.App("race2", broker="kafka://127.0.0.1:1", store="memory://")
        consumer = LogConsumer(app, _deliver_nowhere)
        app._consumer = consumer
        app.__dict__["_fetcher"] = SimpleNamespace(maybe_start=_noop)
        consumer.resume_flow()
        await recovery_class(app, Tables()).on_recovery_completed(app.consumer_generation_id)
        return consumer.flow_active, app.flow_control.is_active(), STREAM in consumer._get_active_partitions()

    assert asyncio.run(run()) == (True, True, True)


async def _deliver_nowhere(message):
    return None
