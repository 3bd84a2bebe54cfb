"""Reading and writing test traffic on the real broker."""

from __future__ import annotations

import time
import uuid

import orjson
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from services.kafka_out import EventProducer
from services.simulator.spec_scenario import Scenario
from schemas import topics


def produce(bootstrap: str, prefix: str, items, malformed=()) -> int:
    producer = EventProducer(bootstrap, topic_prefix=prefix)
    count = producer.send_all(items)
    for topic, key, value in malformed:
        producer.send_raw(topic, key, value)
    producer.flush()
    return count + len(malformed)


def produce_scenario(bootstrap: str, prefix: str, sc: Scenario) -> int:
    return produce(bootstrap, prefix, [*sc.events, *((topics.REVIEWS, r) for r in sc.reviews)], sc.malformed)


def read_topic(bootstrap: str, topic: str, *, idle_s: float = 3.0, max_s: float = 60.0) -> list[tuple[bytes | None, dict]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"test-{uuid.uuid4().hex}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out, last, started = [], time.monotonic(), time.monotonic()
    try:
        while time.monotonic() - last < idle_s and time.monotonic() - started < max_s:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            out.append((msg.key(), orjson.loads(msg.value())))
            last = time.monotonic()
    finally:
        consumer.close()
    return out


def newest_by_deal(records: list[tuple[bytes | None, dict]]) -> dict[str, dict]:
    newest: dict[str, dict] = {}
    for _, r in records:
        if r["deal_id"] not in newest or r["version"] >= newest[r["deal_id"]]["version"]:
            newest[r["deal_id"]] = r
    return newest


def group_lag(bootstrap: str, group: str, topic_names: list[str]) -> int:
    """Messages not yet committed by the consumer group across the topics (a fresh broker's
    coordinator errors are retried)."""
    from streams.topology import with_retries

    return with_retries("reading the group's lag", lambda: _group_lag(bootstrap, group, topic_names), 60)


def wait_group_caught_up(bootstrap: str, group: str, topic_names: list[str], timeout_s: float,
                         poll_s: float = 0.5) -> int:
    """Polls the group's lag until it is 0 or `timeout_s` passed; returns the last lag."""
    deadline = time.monotonic() + timeout_s
    while (lag := group_lag(bootstrap, group, topic_names)) and time.monotonic() < deadline:
        time.sleep(poll_s)
    return lag


def _group_lag(bootstrap: str, group: str, topic_names: list[str]) -> int:
    return sum(end - max(committed, 0) for _, _, committed, end in _partition_offsets(bootstrap, group, topic_names))


def partition_offsets(bootstrap: str, group: str, topic_names: list[str]) -> list[tuple[str, int, int, int]]:
    """(topic, partition, committed offset (-1: none), end offset) of every partition."""
    from streams.topology import with_retries

    return with_retries("reading the group's offsets",
                        lambda: _partition_offsets(bootstrap, group, topic_names), 60)


def _partition_offsets(bootstrap: str, group: str, topic_names: list[str]) -> list[tuple[str, int, int, int]]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        meta = admin.list_topics(timeout=10).topics
        tps = [TopicPartition(t, p) for t in topic_names for p in meta[t].partitions]
        out = []
        for tp in consumer.committed(tps, timeout=10):
            _, high = consumer.get_watermark_offsets(tp, timeout=10)
            out.append((tp.topic, tp.partition, tp.offset if tp.offset >= 0 else -1, high))
        return out
    finally:
        consumer.close()
