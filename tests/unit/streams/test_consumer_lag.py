"""The worker's consumer-lag gauge, from stand-ins for Faust's consumer and monitor."""

from collections import namedtuple
from types import SimpleNamespace

from prometheus_client import REGISTRY

from streams.web import partition_lags, publish_lags

TP = namedtuple("TP", "topic partition")


class Consumer:
    def __init__(self, ends: dict):
        self.ends = ends

    def assignment(self):
        return set(self.ends)

    def highwater(self, tp):
        if isinstance(self.ends[tp], Exception):
            raise self.ends[tp]
        return self.ends[tp]


def monitor(read: dict, committed: dict | None = None):
    return SimpleNamespace(tp_read_offsets=read, tp_committed_offsets=committed or {})


def lag(topic: str, partition: int):
    return REGISTRY.get_sample_value("leakwatch_consumer_lag", {"topic": topic, "partition": str(partition)})


def test_lag_of_the_agents_sources_only():
    a0, a1, calls, changelog = TP("crm.deals", 0), TP("crm.deals", 1), TP("telephony.calls", 0), TP("deal_state-changelog", 0)
    consumer = Consumer({a0: 120, a1: 8, calls: None, changelog: 900})
    lags = partition_lags(consumer, monitor({a0: 99, a1: 7, calls: 3, changelog: 0}), {"crm.deals", "telephony.calls"})
    assert lags == {("crm.deals", 0): 20, ("crm.deals", 1): 0}  # no end known yet: skipped


def test_committed_offsets_count_before_anything_is_read():
    tp, idle = TP("crm.deals", 0), TP("crm.deals", 1)
    lags = partition_lags(Consumer({tp: 50, idle: 50}), monitor({}, {tp: 30}), {"crm.deals"})
    assert lags == {("crm.deals", 0): 20}


def test_a_revoked_partition_is_skipped():
    ok, revoked = TP("crm.deals", 0), TP("crm.deals", 1)
    lags = partition_lags(Consumer({ok: 10, revoked: RuntimeError("not assigned")}), monitor({ok: 3, revoked: 1}), {"crm.deals"})
    assert lags == {("crm.deals", 0): 6}


def test_publishing_replaces_revoked_partitions():
    publish_lags({("crm.deals", 0): 20, ("crm.deals", 1): 3})
    publish_lags({("crm.deals", 0): 2})  # partition 1 moved to another worker
    assert lag("crm.deals", 0) == 2 and lag("crm.deals", 1) is None
