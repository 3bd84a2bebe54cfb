"""The leak agent: every `spike_check_interval_s` it reads the last 24 hours and the last
hour through the cards' and alerts' SQL, and publishes `alerts.leak_spikes` when the
rules fire. The notifier de-duplicates by alert_id, so re-checks and restarts are safe."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from leakwatch.cards.macros import expand
from leakwatch.cards.queries import ALERT_SALVAGEABLE_BURST
from leakwatch.cards.snapshot import period_sql
from leakwatch.domain.spikes import SpikeRules

log = logging.getLogger(__name__)


def register(ctx) -> None:
    settings, store = ctx.settings, ctx.store
    rules = SpikeRules.from_settings(settings)

    def measure(now: datetime) -> tuple[float, float, int]:
        totals = store.query(period_sql("card2_totals", now - rules.leak_window, now,
                                        baseline_days=rules.baseline_days))[0]
        burst = store.query(expand(ALERT_SALVAGEABLE_BURST, time_from=now - rules.burst_window, time_to=now,
                                   variables={}))[0]
        return float(totals["leak_rub"] or 0), float(totals["baseline_daily_rub"] or 0), int(burst["salvageable_refusals"])

    @ctx.app.timer(interval=settings.spike_check_interval_s)
    async def check_spikes():
        now = datetime.now(timezone.utc)
        try:
            leak, baseline, burst = await asyncio.to_thread(measure, now)
        except Exception:
            log.exception("spike check failed")
            return
        for alert in (rules.leak_alert(now, leak, baseline, settings.tz), rules.burst_alert(now, burst, settings.tz)):
            if alert is not None:
                await ctx.spikes.send(key=alert.alert_id.encode(), value=alert.model_dump_json().encode())
                log.info("spike alert %s", alert.alert_id)
