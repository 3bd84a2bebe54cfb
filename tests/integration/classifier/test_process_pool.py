"""The embedded engine in processes of its own (LEAKWATCH_CLASSIFIER_PROCESSES): real spawned
processes, each loading the trained model; the same verdicts as in-process, and a killed
process costs one failed batch, not the engine."""

from __future__ import annotations

import asyncio
import os
import signal
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from leakwatch.classifier.embedded import EmbeddedClassifier
from leakwatch.classifier.labelled import load_labelled
from leakwatch.classifier.process_pool import PooledEmbeddedClassifier, split

DEV = Path(__file__).resolve().parents[2] / "data" / "classifier_dev.jsonl"


def test_split_keeps_order_and_balances():
    assert split(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert split([1], 4) == [[1]] and split([], 2) == []


def test_pooled_verdicts_equal_the_in_process_ones_and_survive_a_killed_process():
    items = [e.item for e in load_labelled(DEV)[:24]]
    local = EmbeddedClassifier()
    want = asyncio.run(local.classify(items))
    pool = PooledEmbeddedClassifier(2)
    try:
        pool.warm_up()
        assert pool.version == local.version
        got = asyncio.run(pool.classify(items))
        assert [r.model_dump() for r in got] == [r.model_dump() for r in want]

        for pid in list(pool._pool._processes):  # the OOM killer's doing
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            asyncio.run(pool.classify(items))
        again = asyncio.run(pool.classify(items))  # a new pool
        assert [r.model_dump() for r in again] == [r.model_dump() for r in want]
    finally:
        asyncio.run(pool.aclose())
