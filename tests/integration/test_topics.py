"""Topic creation on the real broker."""

import uuid

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from leakwatch.settings import Settings
from streams.topology import TopicMismatch, all_topics, ensure_topics, with_retries

pytestmark = pytest.mark.kafka


def test_creates_every_topic_with_matching_partitions(kafka):
    s = Settings(kafka_bootstrap=kafka.bootstrap, topic_prefix=f"it{uuid.uuid4().hex[:6]}.",
                 app_id=f"it-{uuid.uuid4().hex[:6]}", topic_partitions=3)
    created = ensure_topics(s)
    assert sorted(created) == sorted(t.name for t in all_topics(s))
    meta = AdminClient({"bootstrap.servers": kafka.bootstrap}).list_topics(timeout=10).topics
    for t in all_topics(s):
        assert len(meta[t.name].partitions) == t.partitions
    assert ensure_topics(s) == []  # idempotent


def test_existing_topic_with_other_partition_count_stops_start(kafka):
    prefix = f"mm{uuid.uuid4().hex[:6]}."
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap})
    admin.create_topics([NewTopic(f"{prefix}crm.deals", num_partitions=2, replication_factor=1)])["" + f"{prefix}crm.deals"].result()
    s = Settings(kafka_bootstrap=kafka.bootstrap, topic_prefix=prefix, topic_partitions=4)
    with pytest.raises(TopicMismatch, match="crm.deals has 2 partitions"):
        ensure_topics(s)


def test_the_reactivation_list_is_created_compacted(kafka):
    """The «Воронка отказов» is its newest entry per deal: whoever creates the topic first
    (the worker, `leakwatch topics`, the reactivation service) creates it compacted."""
    from confluent_kafka.admin import ConfigResource

    s = Settings(kafka_bootstrap=kafka.bootstrap, topic_prefix=f"rc{uuid.uuid4().hex[:6]}.",
                 app_id=f"rc-{uuid.uuid4().hex[:6]}")
    ensure_topics(s)
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap})

    def policy(name: str) -> str:  # a topic created a moment ago may not be known everywhere yet
        resource = ConfigResource(ConfigResource.Type.TOPIC, s.topic(name))
        return with_retries(f"describing {name}", lambda: admin.describe_configs([resource])[resource].result(
            timeout=10)["cleanup.policy"].value, 30)

    assert policy("refusals.reactivation") == "compact"
    assert policy("refusals.classified") == "delete"  # the public history is not compacted away


def test_a_recreated_topic_has_another_id(kafka):
    """What tells a worker's local table store that its changelog was reset (streams/datadir.py)."""
    from confluent_kafka import KafkaException

    from streams.topology import TopicNotReady, topic_id

    s = Settings(kafka_bootstrap=kafka.bootstrap)
    name = f"id{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result()
    first = with_retries("describing", lambda: topic_id(s, name), 30)
    assert first == topic_id(s, name) and first not in ("", "None")
    admin.delete_topics([name])[name].result()

    def recreate():
        try:
            admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result()
        except KafkaException as exc:  # the deletion is still under way
            raise TopicNotReady(str(exc)) from None

    with_retries("recreating", recreate, 60)
    assert with_retries("describing again", lambda: topic_id(s, name), 30) != first
