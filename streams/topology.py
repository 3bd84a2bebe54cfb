"""Every Kafka topic the worker touches, with its partition count and config, and their
creation through the admin API before the worker starts.

Faust must not declare topics itself (`topic_allow_declare=False`): a table's changelog
needs exactly as many partitions as its source topics or Faust stops with
PartitionsMismatch, and auto-created topics would get the broker's default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from confluent_kafka.admin import AdminClient, NewTopic

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
        KafkaTopic(t(REFUSAL_REQUESTS), n, {"retention.ms": week}),
        KafkaTopic(t(WON_DEALS), n, {"retention.ms": week}),
        # Faust names these itself from the app id; the prefix cannot apply.
        KafkaTopic(changelog_topic(settings, DEAL_STATE_TABLE), n, {"cleanup.policy": "compact"}),
        KafkaTopic(leader_topic(settings), 1),
    ]
    return topics


class TopicMismatch(RuntimeError):
    pass


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create missing topics; fail loudly when an existing one has the wrong partition count."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    wanted = all_topics(settings)
    existing = admin.list_topics(timeout=timeout_s).topics
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
