from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from leakwatch.cards.period import requested_period

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc)


def test_today_by_default_and_naive_times_in_the_department_zone():
    start, end = requested_period(None, None, MSK, NOW)
    assert (start.isoformat(), end.isoformat()) == ("2026-11-18T00:00:00+03:00", "2026-11-18T23:59:59+03:00")
    assert requested_period("2026-11-17", None, MSK, NOW)[0].isoformat() == "2026-11-17T00:00:00+03:00"


@pytest.mark.parametrize(("start", "end", "says"), [
    ("yesterday", None, "'yesterday' is not a date or time"),
    (None, "2026-13-01", "'2026-13-01' is not a date or time"),
    ("2026-11-19", "2026-11-18", "'to' must be after 'from'"),
])
def test_a_bad_period_is_a_plain_error(start, end, says):
    with pytest.raises(ValueError) as exc:
        requested_period(start, end, MSK, NOW)
    assert str(exc.value).startswith(says)
