"""Posting a notification to every target: retries with exponential backoff (tenacity) for
failures that may pass, a dead letter for the rest, and never the same post twice, not even
across a restart.

A (key, target) pair is claimed before posting, so the consumer and the Grafana endpoint,
on their own threads, cannot post one alert at the same time; once settled (posted or
dead-lettered) it is written to the ledger on disk, before the Kafka offset is committed.
If even the dead letter cannot be written the claim is released and the error propagates:
the Kafka message stays uncommitted and comes back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception_type, stop_after_attempt

from services.notifier.ledger import DeliveryLedger
from services.notifier.notification import Notification
from services.notifier.targets import PermanentFailure, Target, TemporaryFailure

log = logging.getLogger("leakwatch.notifier")

BACKOFF_CAP_S = 30.0
DeadLetterSink = Callable[[Notification, str, str], None]  # (notification, target name, error)


class Dispatcher:
    def __init__(self, targets: list[Target], dead_letter: DeadLetterSink, ledger: DeliveryLedger, *,
                 max_attempts: int, backoff_s: float, sleep: Callable[[float], None] = time.sleep):
        self.targets = targets
        self._dead_letter = dead_letter
        self._ledger = ledger
        self._attempts = max_attempts
        self._backoff = backoff_s
        self._sleep = sleep
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
            try:
                error = self._post(target, n)
                if error is None:
                    outcome[target.name] = "sent"
                else:
                    self._dead_letter(n, target.name, error)
                    log.error("%s: alert %s dead-lettered: %s", target.name, n.key, error)
                    outcome[target.name] = "dead_letter"
                self._ledger.settle(n.key, target.name, outcome[target.name])
            finally:
                with self._lock:
                    self._claimed.discard(slot)
        return outcome

    def backoff(self, attempt: int, retry_after_s: float | None) -> float:
        delay = self._backoff * 2 ** (attempt - 1)
        if retry_after_s is not None:
            delay = max(delay, retry_after_s)  # the server knows when it will take more
        return min(delay, BACKOFF_CAP_S)

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception()
        return self.backoff(state.attempt_number, getattr(failure, "retry_after_s", None))

    def _post(self, target: Target, n: Notification) -> str | None:
        """None when posted, else why it was given up."""

        def before_sleep(state: RetryCallState) -> None:
            log.warning("%s: alert %s attempt %d failed (%s); retry in %.1fs", target.name, n.key,
                        state.attempt_number, state.outcome.exception(), state.upcoming_sleep)

        retrying = Retrying(stop=stop_after_attempt(self._attempts), wait=self._wait, sleep=self._sleep,
                            retry=retry_if_exception_type(TemporaryFailure), before_sleep=before_sleep)
        try:
            for attempt in retrying:
                with attempt:
                    target.post(n)
        except PermanentFailure as exc:
            return f"permanent failure: {exc}"
        except RetryError as exc:
            return f"gave up after {exc.last_attempt.attempt_number} attempts, last: {exc.last_attempt.exception()}"
        log.info("%s: alert %s posted (attempt %d)", target.name, n.key, retrying.statistics["attempt_number"])
        return None

    def _claim(self, slot: tuple[str, str]) -> bool:
        with self._lock:
            if slot in self._claimed or self._ledger.is_settled(*slot):
                return False
            self._claimed.add(slot)
            return True
