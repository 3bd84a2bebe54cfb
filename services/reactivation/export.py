"""`leakwatch reactivation export`: the «Воронка отказов» as CSV, read from the topic.

The topic, not ClickHouse: it is the list's own record (compacted, the newest entry per
deal), it needs no sink to have stored it and no access to the process that owns chdb, and
any consumer can rebuild exactly the same list from it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from typing import TextIO
from zoneinfo import ZoneInfo

from schemas.reactivation import ReactivationEntry

COLUMNS = ("deal_id", "recontact_on", "come_back", "reason", "kind", "status", "money_rub", "amount_rub",
           "pipeline", "manager", "lost_at", "date_basis", "date_phrase", "crm_task", "version", "evidence")
HEADERS_RU = ("Сделка", "Связаться", "Почему вернётся", "Причина отказа", "Тип отказа", "Статус", "Сумма, ₽",
              "Сумма сделки, ₽", "Воронка", "Менеджер", "Отказ", "Откуда дата", "Слова клиента", "Задача в CRM",
              "Версия", "Цитата")
KINDS_RU = {"salvageable": "спасаемый", "real": "реальный"}
STATUS_RU = {"provisional": "Условный отказ", "confirmed": "Подтверждён"}
BASIS_RU = {"mentioned": "названа клиентом", "default": "по правилу"}


def due_entries(entries: Iterable[ReactivationEntry], start: date, end: date, *, pipeline: str | None = None,
                manager: str | None = None) -> list[ReactivationEntry]:
    """Active entries to recontact between start and end (inclusive): soonest first, then the most money."""
    chosen = [e for e in entries if e.active and start <= e.recontact_on <= end
              and (pipeline is None or e.pipeline == pipeline) and (manager is None or e.manager == manager)]
    return sorted(chosen, key=lambda e: (e.recontact_on, -e.money_rub, e.deal_id))


def write_csv(entries: list[ReactivationEntry], out: TextIO, tz: ZoneInfo, *, language: str = "ru") -> int:
    writer = csv.writer(out)
    ru = language == "ru"
    writer.writerow(HEADERS_RU if ru else COLUMNS)
    for e in entries:
        writer.writerow([
            e.deal_id, e.recontact_on.isoformat(), e.come_back.value, e.reason.value if e.reason else "",
            (KINDS_RU if ru else {}).get(e.kind.value, e.kind.value) if e.kind else "",
            (STATUS_RU if ru else {}).get(e.status, e.status), e.money_rub,
            "" if e.amount_rub is None else e.amount_rub, e.pipeline, e.manager,
            e.lost_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            (BASIS_RU if ru else {}).get(e.date_basis, e.date_basis), e.date_phrase or "", e.crm_task or "",
            e.version, e.evidence,
        ])
    return len(entries)
