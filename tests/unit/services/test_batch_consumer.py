"""The services' consume → store → commit loop: offsets are committed only after the batch
was stored, a batch not stored is re-read, and a failed commit is not reported as done."""

from __future__ import annotations

import threading

import pytest

from services import batch_consumer
from services.batch_consumer import BatchConsumer


class Message:
    def __init__(self, topic: str, partition: int, offset: int):
        self._t, self._p, self._o = topic, partition, offset

    def topic(self): return self._t
    def partition(self): return self._p
    def offset(self): return self._o
    def error(self): return None


class FakeConsumer:
    """Hands out the scripted batches, then empty polls; records commits and seeks."""

    def __init__(self, batches, stop: threading.Event, fail_commit: bool = False):
        self.batches, self.stop, self.fail_commit = list(batches), stop, fail_commit
        self.commits, self.seeks, self.closed = [], [], False

    def subscribe(self, topics, on_assign=None): self.topics = topics
    def consume(self, n, timeout):
        if not self.batches:
            self.stop.set()
            return []
        return self.batches.pop(0)
    def commit(self, offsets, asynchronous):
        if self.fail_commit:
            raise RuntimeError("revoked")
        self.commits.append(sorted((tp.topic, tp.partition, tp.offset) for tp in offsets))
    def seek(self, tp): self.seeks.append((tp.topic, tp.partition, tp.offset))
    def close(self): self.closed = True


class Recorder(BatchConsumer):
    topics = ["t"]

    def __init__(self, answers):
        super().__init__({})
        self.answers, self.stored, self.committed = list(answers), [], []

    def store_batch(self, batch):
        self.stored.append([m.offset() for m in batch])
        ok = self.answers.pop(0)
        if not ok:
            self.rewind(batch)
        return ok

    def on_committed(self, batch):
        self.committed.append([m.offset() for m in batch])


@pytest.fixture
def consumer_of(monkeypatch):
    def make(service, batches, **kw):
        fake = FakeConsumer(batches, service._stop, **kw)
        monkeypatch.setattr(batch_consumer, "Consumer", lambda config: fake)
        return fake
    return make


def test_commits_follow_the_store_and_point_past_the_batch(consumer_of):
    service = Recorder([True, False, True])
    first = [Message("t", 0, 5), Message("t", 1, 9), Message("t", 0, 6)]
    second = [Message("t", 0, 7), Message("t", 0, 8)]
    fake = consumer_of(service, [first, second, second])
    service.run()
    assert service.stored == [[5, 9, 6], [7, 8], [7, 8]]
    # The unstored batch was rewound to its first message and committed only once stored.
    assert fake.seeks == [("t", 0, 7)]
    assert fake.commits == [[("t", 0, 7), ("t", 1, 10)], [("t", 0, 9)]]
    assert service.committed == [[5, 9, 6], [7, 8]] and fake.closed


def test_a_store_that_raises_commits_nothing(consumer_of):
    class Broken(Recorder):
        def store_batch(self, batch):
            raise SystemExit(1)
    service = Broken([])
    fake = consumer_of(service, [[Message("t", 0, 1)]])
    with pytest.raises(SystemExit):
        service.run()
    assert fake.commits == [] and fake.closed


def test_a_failed_commit_is_not_reported_done(consumer_of):
    service = Recorder([True])
    consumer_of(service, [[Message("t", 0, 1)]], fail_commit=True)
    service.run()
    assert service.stored == [[1]] and service.committed == []
