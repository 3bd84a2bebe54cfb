"""Periods the boards ask for. Pure."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo


def day_bounds(day_of: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """The calendar day containing `day_of` in the department's time zone, as Grafana's
    "Today" range: 00:00:00 to 23:59:59."""
    local = day_of.astimezone(tz)
    start = datetime.combine(local.date(), time(0, 0), tzinfo=tz)
    return start, start + timedelta(days=1) - timedelta(seconds=1)


def parse_instant(text: str, tz: tzinfo) -> datetime:
    """ISO 8601 (a date alone means its midnight) or epoch seconds; naive means `tz`."""
    text = text.strip()
    if text.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), tz)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def requested_period(start: str | None, end: str | None, tz: tzinfo,
                     now: datetime) -> tuple[datetime, datetime]:
    """The period a board or a request asks for: today by default, either end overridable."""
    day_start, day_end = day_bounds(now, tz)
    return (parse_instant(start, tz) if start else day_start,
            parse_instant(end, tz) if end else day_end)
