"""Posting a notification to every target: retries with exponential backoff for failures
that may pass, a dead letter for the rest, and never the same post twice in one process.

A (key, target) pair is claimed before posting and remembered once it is settled (posted
or dead-lettered), so the consumer and the Grafana endpoint, on their own threads, cannot
post one alert twice. If even the dead letter cannot be written the claim is released and
the error propagates: the Kafka message stays uncommitted and comes back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from services.notifier.notification import Notification
from services.notifier.targets import PermanentFailure, Target, TemporaryFailure

log = logging.getLogger("leakwatch.notifier")

BACKOFF_CAP_S = 30.0
DeadLetterSink = Callable[[Notification, str, str], None]  # (notification, target name, error)


class Dispatcher:
    def __init__(self, targets: list[Target], dead_letter: DeadLetterSink, *, max_attempts: int,
                 backoff_s: float, sleep: Callable[[float], None] = time.sleep, remember: int = 100_000):
        self.targets = targets
        self._dead_letter = dead_letter
        self._attempts = max_attempts
        self._backoff = backoff_s
        self._sleep = sleep
        self._remember = remember
        self._settled: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._claimed: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def deliver(self, n: Notification) -> dict[str, str]:
        """Returns each target's outcome: sent, dead_letter or duplicate."""
        outcome = {}
        for target in self.targets:
            slot = (n.key, target.name)
            if not self._claim(slot):
                outcome[target.name] = "duplicate"
                continue
            settled = False
            try:
                error = self._post(target, n)
                if error is None:
                    outcome[target.name] = "sent"
                else:
                    self._dead_letter(n, target.name, error)
                    log.error("%s: alert %s dead-lettered: %s", target.name, n.key, error)
                    outcome[target.name] = "dead_letter"
                settled = True
            finally:
                self._release(slot, settled)
        return outcome

    def backoff(self, attempt: int, retry_after_s: float | None) -> float:
        delay = self._backoff * 2 ** (attempt - 1)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)  # the server knows when it will take more
        return min(delay, BACKOFF_CAP_S)

    def _post(self, target: Target, n: Notification) -> str | None:
        """None when posted, else why it was given up."""
        for attempt in range(1, self._attempts + 1):
            try:
                target.post(n)
                log.info("%s: alert %s posted (attempt %d)", target.name, n.key, attempt)
                return None
            except PermanentFailure as exc:
                return f"permanent failure: {exc}"
            except TemporaryFailure as exc:
                if attempt == self._attempts:
                    return f"gave up after {attempt} attempts, last: {exc}"
                delay = self.backoff(attempt, exc.retry_after_s)
                log.warning("%s: alert %s attempt %d failed (%s); retry in %.1fs",
                            target.name, n.key, attempt, exc, delay)
                self._sleep(delay)
        return "no attempts made"

    def _claim(self, slot: tuple[str, str]) -> bool:
        with self._lock:
            if slot in self._settled or slot in self._claimed:
                return False
            self._claimed.add(slot)
            return True

    def _release(self, slot: tuple[str, str], settled: bool) -> None:
        with self._lock:
            self._claimed.discard(slot)
            if settled:
                self._settled[slot] = None
                while len(self._settled) > self._remember:
                    self._settled.popitem(last=False)
