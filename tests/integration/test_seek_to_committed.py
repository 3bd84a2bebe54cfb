"""A seek to committed offset 0 on the real broker (streams.transport, aiokafka#1003).

Faust drops records it drained from aiokafka when its flow stops mid-batch and asks
`seek_to_committed()` to fetch them again. The two-worker takeover stalled on partitions
whose committed offset was 0 (pinned at start, nothing committed by the killed worker):
aiokafka's seek skipped them, so the dropped records were never fetched again.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from leakwatch.settings import Settings
from streams.app import faust_app
from streams.transport import ExactSeekConsumerThread, seek_to_committed

pytestmark = pytest.mark.kafka

RECORDS = 20


def _topic_with_records(bootstrap: str) -> tuple[TopicPartition, str]:
    name, group = f"seek-{uuid.uuid4().hex[:8]}", f"seek-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # held: its futures die with it
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(timeout=30)

    async def fill() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            for i in range(RECORDS):
                await producer.send_and_wait(name, f"r{i}".encode(), partition=0)
        finally:
            await producer.stop()

    asyncio.run(fill())
    return TopicPartition(name, 0), group


async def _drained_then_seek(bootstrap: str, tp: TopicPartition, group: str, seek) -> tuple[int, list[int]]:
    """Commit 0 (what pin_start_offsets does), drain every record as Faust's fetcher does,
    seek to committed with `seek`; the position after it and the offsets fetched next."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.commit({tp: 0})
        drained: list[int] = []
        while len(drained) < RECORDS:
            batch = await consumer.getmany(tp, timeout_ms=5000)
            assert batch, f"only {len(drained)} of {RECORDS} records fetched"
            drained += [r.offset for r in batch[tp]]
        committed = await seek(consumer)
        assert committed == {tp: 0}
        position = await consumer.position(tp)
        again = await consumer.getmany(tp, timeout_ms=1500)
        return position, [r.offset for r in again.get(tp, [])]
    finally:
        await consumer.stop()


def test_seek_to_committed_offset_0_fetches_the_drained_records_again(kafka):
    tp, group = _topic_with_records(kafka.bootstrap)
    position, again = asyncio.run(_drained_then_seek(kafka.bootstrap, tp, group, seek_to_committed))
    assert position == 0
    assert again and again[0] == 0, again


def test_aiokafkas_own_seek_to_committed_still_skips_offset_0(kafka):
    """Why streams.transport exists. If this fails, the pinned aiokafka fixed #1003 and the
    override can go."""
    tp, group = _topic_with_records(kafka.bootstrap)
    position, again = asyncio.run(_drained_then_seek(kafka.bootstrap, tp, group,
                                                     lambda c: c.seek_to_committed()))
    assert position == RECORDS and again == []


def test_the_worker_s_faust_app_uses_the_exact_seek():
    app = faust_app(Settings(kafka_bootstrap="127.0.0.1:1", average_check_rub="b2c=40000"))
    assert isinstance(app.consumer._thread, ExactSeekConsumerThread)
