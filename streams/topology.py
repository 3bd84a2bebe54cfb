"""Every Kafka topic the worker touches, with its partition count and config, and their
creation through the admin API before the worker starts.

Faust must not declare topics itself (`topic_allow_declare=False`): a table's changelog
needs exactly as many partitions as its source topics or Faust stops with
PartitionsMismatch, and auto-created topics would get the broker's default.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from leakwatch.errors import StartupError
from leakwatch.settings import Settings
from schemas import topics as public

log = logging.getLogger(__name__)

DEAL_STATE_TABLE = "deal_state"
REFUSAL_REQUESTS = "leakwatch.refusal-requests"  # internal: lost deals waiting for the grace period
WON_DEALS = "leakwatch.won-deals"  # internal: won deals for the average check


@dataclass(frozen=True)
class KafkaTopic:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def changelog_topic(settings: Settings, table: str) -> str:
    return f"{settings.app_id}-{table}-changelog"


def leader_topic(settings: Settings) -> str:
    return f"{settings.app_id}-__assignor-__leader"


def all_topics(settings: Settings) -> list[KafkaTopic]:
    n = settings.topic_partitions
    week = str(7 * 24 * 3600 * 1000)
    t = settings.topic
    topics = [KafkaTopic(t(spec.name), n) for spec in public.INPUTS]
    topics += [
        KafkaTopic(t(public.CLASSIFIED.name), n),
        KafkaTopic(t(public.DEADLETTER.name), n, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
        KafkaTopic(t(public.LEAK_SPIKES.name), n),
        *(KafkaTopic(t(spec.name), n,
                     {"retention.ms": str(int((settings.ingest_deadletter_retention_h or spec.retention_h) * 3600_000))})
          for spec in public.INGEST_PRIVATE),
        KafkaTopic(t(REFUSAL_REQUESTS), n, {"retention.ms": week}),
        KafkaTopic(t(WON_DEALS), n, {"retention.ms": week}),
        # Faust names these itself from the app id; the prefix cannot apply.
        KafkaTopic(changelog_topic(settings, DEAL_STATE_TABLE), n, {"cleanup.policy": "compact"}),
        KafkaTopic(leader_topic(settings), 1),
    ]
    return topics


class TopicMismatch(StartupError):
    pass


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create missing topics; fail loudly when an existing one has the wrong partition count."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = all_topics(settings)
    try:
        existing = admin.list_topics(timeout=timeout_s).topics
    except KafkaException as exc:
        raise StartupError(f"Kafka at {settings.kafka_bootstrap} is not reachable: {exc}") from None
    missing = [t for t in wanted if t.name not in existing]
    for topic in wanted:
        if topic.name in existing:
            have = len(existing[topic.name].partitions)
            if have != topic.partitions:
                raise TopicMismatch(
                    f"topic {topic.name} has {have} partitions, LEAKWATCH_TOPIC_PARTITIONS wants "
                    f"{topic.partitions}; Faust tables need them equal (recreate or change the setting)")
    if missing:
        futures = admin.create_topics([
            NewTopic(t.name, num_partitions=t.partitions,
                     replication_factor=settings.topic_replication, config=t.config)
            for t in missing], operation_timeout=timeout_s)
        for name, future in futures.items():
            try:
                future.result()
            except Exception as exc:  # a concurrent creator is fine
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
            log.info("created topic %s", name)
    return [t.name for t in missing]


def consumed_topics(settings: Settings) -> list[str]:
    """The topics the worker's consumer group reads as streams (not table changelogs)."""
    t = settings.topic
    return [t(spec.name) for spec in public.INPUTS] + [t(REFUSAL_REQUESTS), t(WON_DEALS)]


def pin_start_offsets(settings: Settings, timeout_s: float = 30.0) -> int:
    """Commit the log start offset for every consumed partition that has no committed offset.

    Measured here: when a worker restarts and a partition has no committed offset yet
    (e.g. the first review arrived after the last commit), Faust 0.15 sometimes never
    delivers that partition after recovery (its seek-to-committed finds nothing to seek
    to while the fetcher has already moved). With an explicit offset the seek is exact.
    Committing the log start is what auto.offset.reset=earliest would do anyway.
    """
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": settings.app_id,
                         "enable.auto.commit": False})
    try:
        meta = consumer.list_topics(timeout=timeout_s).topics
        tps = [TopicPartition(name, p) for name in consumed_topics(settings) for p in meta[name].partitions]
        missing = [tp for tp in _committed(consumer, tps, timeout_s) if tp.offset < 0]
        for tp in missing:
            tp.offset = _log_start(consumer, tp, timeout_s)
        if missing:
            try:
                consumer.commit(offsets=missing, asynchronous=False)
            except Exception as exc:  # another live worker owns the group: its own commits count
                log.warning("could not pin start offsets (%s); continuing", exc)
                return 0
        return len(missing)
    finally:
        consumer.close()


_COORDINATOR_STARTING = {KafkaError.NOT_COORDINATOR, KafkaError.COORDINATOR_NOT_AVAILABLE,
                         KafkaError.COORDINATOR_LOAD_IN_PROGRESS}


def _committed(consumer, tps: list, timeout_s: float) -> list:
    """The group's committed offsets. A broker started a moment ago answers NOT_COORDINATOR
    while it creates __consumer_offsets (measured with `leakwatch demo` and the e2e tests on a
    busy machine: the worker died on it at start); librdkafka does not flag it retriable, but
    it passes once the coordinator is loaded, so ask again until the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return consumer.committed(tps, timeout=timeout_s)
        except KafkaException as exc:
            error = exc.args[0]
            if not (error.retriable() or error.code() in _COORDINATOR_STARTING) or time.monotonic() > deadline:
                raise
            log.info("group coordinator not ready (%s); asking again", error.name())
            time.sleep(0.5)


def _log_start(consumer, tp, timeout_s: float) -> int:
    """The partition's first offset; a topic created a moment ago may not have its leader yet."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return consumer.get_watermark_offsets(tp, timeout=timeout_s)[0]
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
