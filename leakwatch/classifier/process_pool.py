"""The embedded engine in worker processes (`LEAKWATCH_CLASSIFIER_PROCESSES` > 0).

In the Faust worker's own process the classifier's thread shares one GIL with the event
loop: in a burst of 2,000 lost deals py-spy put 69% of the worker's samples in that thread
and the worker used about one core of two. Each process here holds its own encoder and
trained model (loaded from the model cache, model_cache.py), so classification runs on
other cores while the loop keeps reading and acking. A batch is split evenly across the
processes.

A process that dies (OOM killer, a segfault) breaks the pool: the batch fails with
BrokenProcessPool, the caller retries it (the refusal agent's backoff), and the next call
starts a new pool.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from leakwatch.classifier.contract import RefusalClassifier
from leakwatch.classifier.embedded import EmbeddedClassifier
from leakwatch.classifier.embedding_model import Tuning
from leakwatch.classifier.labelled import BANK_PATH
from schemas.conversation import ClassificationResult, ConversationInput

_engine: EmbeddedClassifier | None = None  # one per pool process


def _start(bank_path: Path, tuning: Tuning) -> None:
    global _engine
    _engine = EmbeddedClassifier(bank_path, tuning)
    _engine.warm_up()


def _version() -> str:
    return _engine.version


def _classify(items: list[ConversationInput]) -> list[ClassificationResult]:
    return _engine.classify_sync(items)


def split(items: list, parts: int) -> list[list]:
    """`items` in at most `parts` contiguous chunks of near-equal size, order kept."""
    n = min(parts, len(items))
    size, extra = divmod(len(items), n) if n else (0, 0)
    out, start = [], 0
    for i in range(n):
        end = start + size + (i < extra)
        out.append(items[start:end])
        start = end
    return out


class PooledEmbeddedClassifier(RefusalClassifier):
    name = "embedded"

    def __init__(self, processes: int, bank_path: Path = BANK_PATH, tuning: Tuning = Tuning()) -> None:
        if processes < 1:
            raise ValueError("a pool needs at least one process")
        self.processes, self.bank_path, self.tuning = processes, Path(bank_path), tuning
        self.version = "unknown"  # the processes' own, once warm
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the worker has threads (Faust's consumer) by the time a
                # pool restarts, and a forked child would inherit their locks.
                self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start, initargs=(self.bank_path, self.tuning))
            return self._pool

    def warm_up(self) -> None:
        """Start every process and load its model now (a broken bank stops the worker at start)."""
        pool = self._executor()
        self.version = [f.result() for f in [pool.submit(_version) for _ in range(self.processes)]][0]

    async def classify(self, items: list[ConversationInput]) -> list[ClassificationResult]:
        if not items:
            return []
        pool, loop = self._executor(), asyncio.get_running_loop()
        try:
            parts = await asyncio.gather(*(loop.run_in_executor(pool, _classify, chunk)
                                           for chunk in split(items, self.processes)))
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None  # the caller retries; the next call starts a new pool
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        results = [r for part in parts for r in part]
        if results:
            self.version = results[0].engine.version
        return results

    async def aclose(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
