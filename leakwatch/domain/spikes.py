"""Spike detection: is the leak far above its baseline, or do salvageable refusals come
in a burst? Pure: the sink passes in the numbers and the clock.

`SpikeRules` is the one definition of both rules (factor, burst threshold, windows and the
baseline's length). The sink checks it (services/sink/periodic.py), and
`leakwatch grafana build` writes the same numbers into Grafana's alert rules and
Prometheus's deploy/prometheus/alerts.yml. Its defaults are the settings' defaults, so an
operator changes them in one place: LEAKWATCH_SPIKE_LEAK_FACTOR, LEAKWATCH_SPIKE_BURST_PER_HOUR,
LEAKWATCH_BASELINE_DAYS (and `leakwatch grafana build|push --leak-factor …` for Grafana).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from leakwatch.domain.money import format_rub
from leakwatch.domain.plurals import count_ru
from leakwatch.settings import Settings
from schemas.alerts import LeakSpikeAlert

LEAK_WINDOW = timedelta(hours=24)
BURST_WINDOW = timedelta(hours=1)
_DEFAULTS = Settings.model_fields


@dataclass(frozen=True)
class SpikeRules:
    # fire when the last 24 h lost more than factor × the average day
    leak_factor: float = _DEFAULTS["spike_leak_factor"].default
    # fire when more salvageable refusals than this came in the last hour
    burst_per_hour: int = _DEFAULTS["spike_burst_per_hour"].default
    # the average day is taken over this many days before the window
    baseline_days: int = _DEFAULTS["baseline_days"].default
    leak_window: timedelta = LEAK_WINDOW
    burst_window: timedelta = BURST_WINDOW

    @classmethod
    def from_settings(cls, settings: Settings) -> SpikeRules:
        return cls(settings.spike_leak_factor, settings.spike_burst_per_hour, settings.baseline_days)

    def leak_alert(self, now: datetime, leak_rub: float, baseline_daily_rub: float,
                   tz: tzinfo) -> LeakSpikeAlert | None:
        if baseline_daily_rub <= 0 or leak_rub <= self.leak_factor * baseline_daily_rub:
            return None  # no history yet, or within the usual range
        ratio = leak_rub / baseline_daily_rub
        local = now.astimezone(tz)
        return LeakSpikeAlert(
            # One alert per local day: the notifier posts each alert_id once.
            alert_id=f"leak_above_baseline:{local:%Y-%m-%d}",
            kind="leak_above_baseline", period_start=now - self.leak_window, period_end=now,
            value=round(leak_rub, 2), baseline=round(baseline_daily_rub, 2), factor=round(ratio, 3),
            message_ru=f"Утечка за сутки {format_rub(leak_rub)} — на {round(100 * (ratio - 1))}% выше среднего дня "
                       f"({format_rub(baseline_daily_rub)})",
            created_at=now,
        )

    def burst_alert(self, now: datetime, salvageable_last_hour: int, tz: tzinfo) -> LeakSpikeAlert | None:
        if salvageable_last_hour <= self.burst_per_hour:
            return None
        local = now.astimezone(tz)
        return LeakSpikeAlert(
            alert_id=f"salvageable_burst:{local:%Y-%m-%dT%H}",  # one per local hour
            kind="salvageable_burst", period_start=now - self.burst_window, period_end=now,
            value=salvageable_last_hour, baseline=self.burst_per_hour,
            factor=round(salvageable_last_hour / self.burst_per_hour, 3),
            message_ru=f"За последний час {_salvageable_ru(salvageable_last_hour)} (порог {self.burst_per_hour})",
            created_at=now,
        )


def new_alerts(candidates: Iterable[LeakSpikeAlert | None], published: Collection[str]) -> list[LeakSpikeAlert]:
    """The alerts of one check that are still to be published: an alert_id (window + level)
    goes out once, so ids already on the topic (or in flight) and repeats within the check
    are dropped; the first of a repeat wins. `None` is a rule that did not fire."""
    out, seen = [], set(published)
    for alert in candidates:
        if alert is not None and alert.alert_id not in seen:
            seen.add(alert.alert_id)
            out.append(alert)
    return out


def _salvageable_ru(n: int) -> str:
    return count_ru(n, "спасаемый отказ", "спасаемых отказа", "спасаемых отказов")
