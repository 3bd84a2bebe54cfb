"""Vendor scalars to canonical ones: ids, times, rouble amounts. Pure: no I/O."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from services.ingest.errors import MappingError


def text(value: object) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def required(record: dict, field: str, where: str) -> str:
    value = text(record.get(field))
    if value is None:
        raise MappingError(f"{where}: `{field}` is missing")
    return value


def rub(value: object, where: str) -> int | None:
    """`"45000.00"`, `45000`, `""` -> whole roubles (or None when not given)."""
    raw = text(value)
    if raw is None:
        return None
    try:
        amount = Decimal(raw.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise MappingError(f"{where}: amount {raw!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise MappingError(f"{where}: amount {raw!r} must be a non-negative number")
    return int(amount.to_integral_value())


def when(value: object, where: str) -> datetime | None:
    """Unix seconds (amoCRM, Bitrix24 `ts`) or ISO 8601 with an offset (Bitrix24 fields)."""
    raw = text(value)
    if raw is None:
        return None
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw), timezone.utc)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{where}: time {raw!r} is neither unix seconds nor ISO 8601") from None
    if parsed.tzinfo is None:
        raise MappingError(f"{where}: time {raw!r} has no UTC offset")
    return parsed


def number(value: object, where: str, default: float = 0.0) -> float:
    raw = text(value)
    if raw is None:
        return default
    try:
        result = float(raw.replace(",", "."))
    except ValueError:
        raise MappingError(f"{where}: {raw!r} is not a number") from None
    if result != result or result < 0:  # NaN or negative
        raise MappingError(f"{where}: {raw!r} must be a non-negative number")
    return result


def local_time(value: object, tz: ZoneInfo, where: str) -> datetime:
    """`2026-11-18 10:02:00` in the PBX's own time zone (Zadarma sends no offset)."""
    raw = text(value)
    if raw is None:
        raise MappingError(f"{where}: the call's start time is missing")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise MappingError(f"{where}: time {raw!r} is not `YYYY-MM-DD HH:MM:SS`") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def unix_time(value: object, where: str) -> datetime | None:
    """Unix seconds as an int or a digit string; 0 or missing is None."""
    raw = text(value)
    if raw is None or raw == "0":
        return None
    if not raw.isdigit():
        raise MappingError(f"{where}: {raw!r} is not unix seconds")
    return datetime.fromtimestamp(int(raw), timezone.utc)
