"""What the sink checks on a timer, on the store it owns: today's totals as gauges (for
Prometheus alerting), and the leak-spike rules, published to `alerts.leak_spikes`.
Moved here from the worker: with several workers one checker is right, and only the sink
can read the embedded ClickHouse.

Each alert_id (window + level) is published once, across restarts: before publishing, the
checker reads the topic back to its end (services/sink/published_alerts.py) and sends only
the alerts not on it (`new_alerts`). A crash between produce and delivery leaves the alert
either on the topic (acknowledged: the next process reads it back and skips it) or not
(the next check publishes it while the rule still holds); the idempotent producer keeps
its own retries from writing it twice. So the topic holds one record per alert_id; the
notifier's ledger still de-duplicates what a reader sees twice."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from confluent_kafka import Producer

from leakwatch.cards.macros import expand
from leakwatch.cards.period import day_bounds
from leakwatch.cards.queries import ALERT_SALVAGEABLE_BURST
from leakwatch.cards.snapshot import period_sql, read_cards
from leakwatch.domain.spikes import SpikeRules, new_alerts
from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas.alerts import LeakSpikeAlert
from schemas.topics import LEAK_SPIKES
from services.sink import metrics
from services.sink.published_alerts import PublishedAlerts

log = logging.getLogger("leakwatch.sink")
GAUGES_INTERVAL_S = 10.0
READ_BACK_TIMEOUT_S = 30.0
DELIVERY_TIMEOUT_S = 30.0


def refresh_gauges(settings: Settings, store: ClickHouseStore) -> None:
    start, end = day_bounds(datetime.now(timezone.utc), settings.tz)
    snap = read_cards(store, start, end, baseline_days=settings.baseline_days)
    metrics.LEAK_TODAY_RUB.set(snap.card2.leak_rub)
    metrics.SALVAGEABLE_TODAY.set(snap.card1.salvageable)
    metrics.TARGET_REFUSALS_TODAY.set(snap.card1.total)


class SpikeChecker:
    def __init__(self, settings: Settings, store: ClickHouseStore, published: PublishedAlerts | None = None):
        self.s, self.store = settings, store
        self.rules = SpikeRules.from_settings(settings)
        self.topic = settings.topic(LEAK_SPIKES.name)
        self.published = published or PublishedAlerts(settings)
        self._in_flight: set[str] = set()  # produced, delivery not reported yet: never produced twice
        self._producer = Producer(kafka_config(settings.kafka_bootstrap, acks="all",
                                               **{"enable.idempotence": True}))

    def measure(self, now: datetime) -> tuple[float, float, int]:
        totals = self.store.query(period_sql("card2_totals", now - self.rules.leak_window, now,
                                             baseline_days=self.rules.baseline_days))[0]
        burst = self.store.query(expand(ALERT_SALVAGEABLE_BURST, time_from=now - self.rules.burst_window, time_to=now,
                                        variables={}))[0]
        return float(totals["leak_rub"] or 0), float(totals["baseline_daily_rub"] or 0), int(burst["salvageable_refusals"])

    def check(self, now: datetime | None = None) -> list[LeakSpikeAlert]:
        """Publish the alerts that fire now and are not on the topic yet; returns them."""
        now = now or datetime.now(timezone.utc)
        leak, baseline, burst = self.measure(now)
        candidates = [self.rules.leak_alert(now, leak, baseline, self.s.tz), self.rules.burst_alert(now, burst, self.s.tz)]
        if not any(candidates):
            metrics.SPIKE_CHECKS.inc()
            return []
        self._producer.poll(0)  # delivery reports of an earlier check that timed out
        # Raises when the topic cannot be read to its end: better no alert now than a repeat.
        published = self.published.catch_up(READ_BACK_TIMEOUT_S)
        fresh = new_alerts(candidates, published | self._in_flight)
        for alert in fresh:
            self._in_flight.add(alert.alert_id)
            self._producer.produce(self.topic, key=alert.alert_id.encode(), value=alert.model_dump_json().encode(),
                                   on_delivery=self._delivered)
        if fresh and self._producer.flush(DELIVERY_TIMEOUT_S):
            log.warning("spike alerts still in flight after %.0fs: %s", DELIVERY_TIMEOUT_S, sorted(self._in_flight))
        metrics.SPIKE_CHECKS.inc()
        return fresh

    def _delivered(self, err, msg) -> None:
        alert_id = msg.key().decode()
        self._in_flight.discard(alert_id)
        if err is None:
            self.published.ids.add(alert_id)
            metrics.SPIKE_ALERTS.labels(alert_id.split(":", 1)[0]).inc()
            log.info("spike alert %s published", alert_id)
        else:  # may still have been written: the next check reads the topic before retrying
            log.warning("spike alert %s not delivered (%s); the next check retries it", alert_id, err)

    def close(self) -> None:
        self._producer.flush(DELIVERY_TIMEOUT_S)
        self.published.close()


def run_periodic(settings: Settings, store: ClickHouseStore, stop: threading.Event) -> None:
    spikes = SpikeChecker(settings, store)
    tick = min(GAUGES_INTERVAL_S, settings.spike_check_interval_s)
    waited = 0.0
    try:
        while not stop.wait(tick):
            waited += tick
            try:
                refresh_gauges(settings, store)
            except Exception:
                log.exception("could not refresh live gauges")
            if waited >= settings.spike_check_interval_s:
                waited = 0.0
                try:
                    spikes.check()
                except Exception:
                    log.exception("spike check failed")
    finally:
        spikes.close()
