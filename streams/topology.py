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

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from leakwatch.errors import StartupError
from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from schemas import topics as public

log = logging.getLogger(__name__)

DEAL_STATE_TABLE = "deal_state"
# Topic names and their configs are declared once, in schemas/topics.py.
REFUSAL_REQUESTS = public.REFUSAL_REQUESTS.name
WON_DEALS = public.WON_DEALS.name


@dataclass(frozen=True)
class KafkaTopic:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def changelog_topic(settings: Settings, table: str) -> str:
    return f"{settings.app_id}-{table}-changelog"


def leader_topic(settings: Settings) -> str:
    return f"{settings.app_id}-__assignor-__leader"


def _config(settings: Settings, spec: public.TopicSpec) -> dict[str, str]:
    hours = spec.retention_h
    if spec in public.INGEST_PRIVATE and settings.ingest_deadletter_retention_h:
        hours = settings.ingest_deadletter_retention_h
    config = {"retention.ms": str(int(hours * 3600_000))} if hours is not None else {}
    if spec.compacted:
        config["cleanup.policy"] = "compact"
    return config


def all_topics(settings: Settings) -> list[KafkaTopic]:
    n = settings.topic_partitions
    t = settings.topic
    topics = [KafkaTopic(t(spec.name), n, _config(settings, spec)) for spec in (*public.ALL, *public.INTERNAL)]
    topics += [
        # Faust names these itself from the app id; the prefix cannot apply.
        KafkaTopic(changelog_topic(settings, DEAL_STATE_TABLE), n, {"cleanup.policy": "compact"}),
        KafkaTopic(leader_topic(settings), 1),
    ]
    return topics


class TopicMismatch(StartupError):
    pass


# Errors a fresh or restarting broker answers for a while: retried until the deadline.
RETRIABLE = {"NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "COORDINATOR_LOAD_IN_PROGRESS",
             "LEADER_NOT_AVAILABLE", "NOT_LEADER_FOR_PARTITION", "NOT_LEADER_OR_FOLLOWER",
             "UNKNOWN_TOPIC_OR_PART", "_TRANSPORT", "_TIMED_OUT", "_ALL_BROKERS_DOWN", "_WAIT_COORD",
             "REQUEST_TIMED_OUT", "BROKER_NOT_AVAILABLE", "_UNKNOWN_PARTITION", "_UNKNOWN_TOPIC"}


def is_retriable(exc: BaseException) -> bool:
    err = exc.args[0] if isinstance(exc, KafkaException) and exc.args else None
    if err is not None and hasattr(err, "name"):
        return err.name() in RETRIABLE or bool(getattr(err, "retriable", lambda: False)())
    return any(name in str(exc) for name in RETRIABLE)


def with_retries(what: str, attempt, deadline_s: float, *, pause_s: float = 0.5):
    """`attempt()` until it succeeds, retrying broker errors that pass by themselves
    (coordinator moving, metadata not propagated yet) until `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return attempt()
        except (KafkaException, TopicNotReady) as exc:
            if not (isinstance(exc, TopicNotReady) or is_retriable(exc)) or time.monotonic() > deadline:
                raise
            log.info("%s: %s; retrying", what, exc)
            time.sleep(pause_s)


class TopicNotReady(Exception):
    """Created a moment ago; its metadata has not reached the broker we asked yet."""


def _check_partitions(existing: dict, wanted: list[KafkaTopic]) -> None:
    for topic in wanted:
        if topic.name in existing:
            have = len(existing[topic.name].partitions)
            if have != topic.partitions:
                raise TopicMismatch(
                    f"topic {topic.name} has {have} partitions, LEAKWATCH_TOPIC_PARTITIONS wants "
                    f"{topic.partitions}; Faust tables need them equal (recreate or change the setting)")


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create missing topics; fail loudly when an existing one has the wrong partition count.

    A topic another process created meanwhile (TOPIC_ALREADY_EXISTS; three services of the
    compose stack create topics) is read again and checked like the others."""
    admin = AdminClient(kafka_config(settings.kafka_bootstrap))
    wanted = all_topics(settings)
    try:
        existing = admin.list_topics(timeout=timeout_s).topics
    except KafkaException as exc:
        why = exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else str(exc)
        raise StartupError(f"LEAKWATCH_KAFKA_BOOTSTRAP={settings.kafka_bootstrap}: no Kafka broker answered "
                           f"within {timeout_s:.0f} s ({why}); is Kafka running there?") from None
    _check_partitions(existing, wanted)
    missing = [t for t in wanted if t.name not in existing]
    raced: list[str] = []
    if missing:
        futures = admin.create_topics([
            NewTopic(t.name, num_partitions=t.partitions,
                     replication_factor=settings.topic_replication, config=t.config)
            for t in missing], operation_timeout=timeout_s)
        for name, future in futures.items():
            try:
                future.result()
                log.info("created topic %s", name)
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise
                raced.append(name)
    if missing:
        # Returned only once every new topic is in the metadata: a topic just created is not
        # always listed yet (KRaft propagates it), and one another process created
        # (TOPIC_ALREADY_EXISTS) must be checked for its partition count.
        names = {t.name for t in missing}

        def reread() -> None:
            topics = admin.list_topics(timeout=timeout_s).topics
            absent = sorted(names - topics.keys())
            if absent:
                raise TopicNotReady(", ".join(absent))
            _check_partitions(topics, [t for t in wanted if t.name in names])

        with_retries("re-reading the topics just created", reread, timeout_s)
    return [t.name for t in missing if t.name not in raced]


def consumed_topics(settings: Settings) -> list[str]:
    """The topics the worker's consumer group reads as streams (not table changelogs). Not
    won-deals: the worker only writes it (the sink reads it); a start offset pinned there
    would show the group forever behind on a topic it never reads."""
    t = settings.topic
    return [t(spec.name) for spec in public.INPUTS] + [t(REFUSAL_REQUESTS)]


def pin_start_offsets(settings: Settings, timeout_s: float = 30.0) -> int:
    """Commit the log start offset for every consumed partition that has no committed offset.

    With an explicit offset, Faust's seek-to-committed after recovery is exact (with none,
    its seek has nothing to seek to). Committing the log start is what
    auto.offset.reset=earliest would do anyway. A fresh broker answers NOT_COORDINATOR or
    COORDINATOR_LOAD_IN_PROGRESS for a while: retried until `timeout_s`.
    """
    consumer = Consumer({**kafka_config(settings.kafka_bootstrap), "group.id": settings.app_id,
                         "enable.auto.commit": False})
    try:
        def pin() -> int:
            meta = consumer.list_topics(timeout=timeout_s).topics
            tps = [TopicPartition(name, p) for name in consumed_topics(settings) for p in meta[name].partitions]
            missing = [tp for tp in _committed(consumer, tps, timeout_s) if tp.offset < 0]
            for tp in missing:
                tp.offset = consumer.get_watermark_offsets(tp, timeout=timeout_s)[0]
            if missing:
                consumer.commit(offsets=missing, asynchronous=False)
            return len(missing)

        try:
            return with_retries("pinning start offsets", pin, timeout_s)
        except KafkaException as exc:
            if is_retriable(exc):
                raise StartupError(f"Kafka's group coordinator did not answer within {timeout_s:.0f}s "
                                   f"(LEAKWATCH_STARTUP_DEADLINE_S): {exc}") from None
            # e.g. REBALANCE_IN_PROGRESS / UNKNOWN_MEMBER_ID: another live worker owns the
            # group, and its own commits count.
            log.warning("could not pin start offsets (%s); continuing", exc)
            return 0
    finally:
        consumer.close()


def _committed(consumer, tps: list, timeout_s: float) -> list:
    """The group's committed offsets; a fresh broker's coordinator errors are asked again."""
    return with_retries("reading committed offsets", lambda: consumer.committed(tps, timeout=timeout_s), timeout_s)


def topic_id(settings: Settings, name: str, timeout_s: float = 30.0) -> str:
    """Kafka's id of a topic: a new one for every incarnation of the same name (a reset
    broker, a deleted and recreated topic), so it tells a log apart from an older one."""
    from confluent_kafka import TopicCollection

    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})

    def describe() -> str:
        future = admin.describe_topics(TopicCollection([name]), request_timeout=timeout_s)[name]
        return str(future.result().topic_id)

    return with_retries(f"describing {name}", describe, timeout_s)
