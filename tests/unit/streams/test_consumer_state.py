"""The commit bookkeeping dump (/debug/acks and the stall alarm's log line) on Faust's own
consumer: a hole at the committed offset shows as the lowest acked offset two past it."""

from __future__ import annotations

import asyncio

import faust
from faust.types import TP
from faust.types.tuples import Message

from streams.consumer_state import ack_bookkeeping
from tests.unit.streams.test_recovery_race import STREAM, LogConsumer, _deliver_nowhere


def test_a_hole_at_the_committed_offset_is_visible():
    async def run():
        app = faust.App("state", broker="kafka://127.0.0.1:1", store="memory://")
        consumer = LogConsumer(app, _deliver_nowhere)
        app._consumer = consumer
        app.topics._acking_topics.add(STREAM.topic)
        consumer._committed_offset[STREAM] = 10
        consumer._read_offset[STREAM] = 14
        held = [Message(STREAM.topic, 0, o, 0.0, 0, None, None, b"", None, tp=STREAM) for o in (10, 11)]
        for m in held:
            consumer.track_message(m)
        for offset in (12, 13, 14):
            consumer.ack(Message(STREAM.topic, 0, offset, 0.0, 0, None, None, b"", None, tp=STREAM))
        return ack_bookkeeping(consumer), consumer._new_offset(STREAM), held

    state, new_offset, _ = asyncio.run(run())
    row = state[f"{STREAM.topic}:0"]
    assert row["committed"] == 10 and row["read"] == 14
    assert row["acked_head"] == [12, 13, 14] and row["unacked_head"] == [10, 11]
    assert new_offset is None  # Faust's own verdict on that state: nothing to commit
    assert TP("other", 0) not in state
