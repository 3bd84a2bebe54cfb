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
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date or time: use ISO 8601 (2026-11-18, "
                         f"2026-11-18T09:00+03:00) or epoch seconds") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def requested_period(start: str | None, end: str | None, tz: tzinfo,
                     now: datetime) -> tuple[datetime, datetime]:
    """The period a board or a request asks for: today by default, either end overridable.
    ValueError (saying what is wrong) for an unreadable end or one before the start."""
    day_start, day_end = day_bounds(now, tz)
    period = (parse_instant(start, tz) if start else day_start,
              parse_instant(end, tz) if end else day_end)
    if period[1] <= period[0]:
        raise ValueError("'to' must be after 'from'")
    return period
