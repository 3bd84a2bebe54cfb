from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from leakwatch.domain.spikes import SpikeRules, new_alerts

NOW = datetime(2026, 11, 19, 21, 30, tzinfo=timezone.utc)  # 00:30 on the 20th in Moscow
MSK = ZoneInfo("Europe/Moscow")
RULES = SpikeRules(leak_factor=1.5, burst_per_hour=10)


def test_leak_above_factor_fires_once_per_local_day():
    alert = RULES.leak_alert(NOW, 1_248_700, 760_000, MSK)
    assert alert.kind == "leak_above_baseline" and alert.alert_id == "leak_above_baseline:2026-11-20"
    assert alert.factor == round(1_248_700 / 760_000, 3)
    assert alert.message_ru == "Утечка за сутки ₽1 248 700 — на 64% выше среднего дня (₽760 000)"


def test_leak_within_range_or_without_history_is_quiet():
    assert RULES.leak_alert(NOW, 1_100_000, 760_000, MSK) is None
    assert RULES.leak_alert(NOW, 5_000_000, 0, MSK) is None


def test_burst_fires_above_the_threshold_only():
    assert RULES.burst_alert(NOW, 10, MSK) is None
    alert = RULES.burst_alert(NOW, 14, MSK)
    assert alert.alert_id == "salvageable_burst:2026-11-20T00" and alert.value == 14
    assert "14 спасаемых" in alert.message_ru


def test_new_alerts_drops_the_published_ones_and_the_rules_that_did_not_fire():
    burst = RULES.burst_alert(NOW, 14, MSK)
    leak = RULES.leak_alert(NOW, 1_248_700, 760_000, MSK)
    assert new_alerts([leak, None, burst], published=set()) == [leak, burst]
    assert new_alerts([leak, None, burst], published={"salvageable_burst:2026-11-20T00"}) == [leak]
    assert new_alerts([None, None], published=set()) == []


def test_new_alerts_keeps_one_per_window_and_level():
    first = RULES.burst_alert(NOW, 14, MSK)
    later_same_hour = RULES.burst_alert(NOW + timedelta(minutes=20), 19, MSK)
    next_hour = RULES.burst_alert(NOW + timedelta(hours=1), 12, MSK)
    assert new_alerts([first, later_same_hour], published=()) == [first]
    assert new_alerts([later_same_hour], published=[first.alert_id]) == []
    assert new_alerts([next_hour], published=[first.alert_id]) == [next_hour]
