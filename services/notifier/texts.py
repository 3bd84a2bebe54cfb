"""The Russian texts people read in the chat. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leakwatch.domain.money import format_rub as rub
from schemas.alerts import LeakSpikeAlert

TITLES = {
    "leak_above_baseline": "🔴 Утечка выше нормы",
    "salvageable_burst": "🟠 Всплеск спасаемых отказов",
}
TELEGRAM_LIMIT = 4096  # characters per message


def leak_message_ru(value_rub: float, baseline_rub: float, period: str = "дня") -> str:
    """«Утечка дня ₽1 248 700 — на 64% выше среднего дня»: what an alert's message_ru says."""
    if baseline_rub <= 0:
        return f"Утечка {period} {rub(value_rub)} — среднего {period} ещё нет"
    pct = round((value_rub / baseline_rub - 1) * 100)
    relation = f"на {pct}% выше" if pct >= 0 else f"на {-pct}% ниже"
    return f"Утечка {period} {rub(value_rub)} — {relation} среднего {period}"


def period_ru(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    start, end = start.astimezone(tz), end.astimezone(tz)
    midnight = start.time() == end.time() == datetime.min.time()
    if midnight and end - start == timedelta(days=1):
        return f"за {start:%d.%m.%Y}"
    if midnight:
        return f"с {start:%d.%m.%Y} по {(end - timedelta(days=1)):%d.%m.%Y}"
    if start.date() == end.date():
        return f"{start:%d.%m.%Y} {start:%H:%M}–{end:%H:%M}"
    return f"{start:%d.%m.%Y %H:%M} — {end:%d.%m.%Y %H:%M}"


def alert_text(alert: LeakSpikeAlert, tz: ZoneInfo) -> str:
    lines = [
        TITLES[alert.kind],
        alert.message_ru,
        f"Период: {period_ru(alert.period_start, alert.period_end, tz)}",
        f"Воронка: {alert.pipeline}" if alert.pipeline else "Воронка: все",
    ]
    return "\n".join(lines)


def clip(text: str, limit: int = TELEGRAM_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
