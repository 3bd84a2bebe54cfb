"""What the sink checks on a timer, on the store it owns: today's totals as gauges (for
Prometheus alerting), and the leak-spike rules, published to `alerts.leak_spikes`.
Moved here from the worker: with several workers one checker is right, and only the sink
can read the embedded ClickHouse."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from confluent_kafka import Producer

from leakwatch.cards.macros import expand
from leakwatch.cards.period import day_bounds
from leakwatch.cards.queries import ALERT_SALVAGEABLE_BURST
from leakwatch.cards.snapshot import period_sql, read_cards
from leakwatch.domain.spikes import SpikeRules
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas.topics import LEAK_SPIKES
from services.sink import metrics

log = logging.getLogger("leakwatch.sink")
GAUGES_INTERVAL_S = 10.0


def refresh_gauges(settings: Settings, store: ClickHouseStore) -> None:
    start, end = day_bounds(datetime.now(timezone.utc), settings.tz)
    snap = read_cards(store, start, end, baseline_days=settings.baseline_days)
    metrics.LEAK_TODAY_RUB.set(snap.card2.leak_rub)
    metrics.SALVAGEABLE_TODAY.set(snap.card1.salvageable)
    metrics.TARGET_REFUSALS_TODAY.set(snap.card1.total)


class SpikeChecker:
    def __init__(self, settings: Settings, store: ClickHouseStore):
        self.s, self.store = settings, store
        self.rules = SpikeRules.from_settings(settings)
        self._producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all",
                                   "enable.idempotence": True})

    def measure(self, now: datetime) -> tuple[float, float, int]:
        totals = self.store.query(period_sql("card2_totals", now - self.rules.leak_window, now,
                                             baseline_days=self.rules.baseline_days))[0]
        burst = self.store.query(expand(ALERT_SALVAGEABLE_BURST, time_from=now - self.rules.burst_window, time_to=now,
                                        variables={}))[0]
        return float(totals["leak_rub"] or 0), float(totals["baseline_daily_rub"] or 0), int(burst["salvageable_refusals"])

    def check(self) -> None:
        now = datetime.now(timezone.utc)
        leak, baseline, burst = self.measure(now)
        for alert in (self.rules.leak_alert(now, leak, baseline, self.s.tz),
                      self.rules.burst_alert(now, burst, self.s.tz)):
            if alert is not None:
                self._producer.produce(self.s.topic(LEAK_SPIKES.name), key=alert.alert_id.encode(),
                                       value=alert.model_dump_json().encode())
                log.info("spike alert %s", alert.alert_id)
        self._producer.flush(30)


def run_periodic(settings: Settings, store: ClickHouseStore, stop: threading.Event) -> None:
    spikes = SpikeChecker(settings, store)
    waited = 0.0
    while not stop.wait(GAUGES_INTERVAL_S):
        waited += GAUGES_INTERVAL_S
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
