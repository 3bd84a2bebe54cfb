"""Refusals per second through the «Воронка отказов» rules, and import mapping speed (a
benchmark, not a test). Pure Python, one core: what the reactivation service and
`leakwatch import` spend per record besides Kafka and the CRM.

    python benchmarks/reactivation.py [--records 20000]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone
from itertools import cycle
from zoneinfo import ZoneInfo

from leakwatch.domain.reactivation import decide
from schemas.events import ClassifiedRefusal
from services.history import amocrm
from services.history.names import load_maps
from services.history.runner import Mapped, in_time_order

EVIDENCE = cycle([
    ("Дорого", "Для нас это дорого, бюджет будет через полгода"),
    ("Клиент пропал", ""),
    ("Выбрал конкурента", "Подписали договор с другой школой до 15 марта"),
    ("Не подошли условия", "Давайте вернёмся после нового года"),
    ("Не понял ценность", "Не понимаю, зачем нам это"),
    ("Выбрал конкурента", "Выбрали других, у них дешевле"),
])


def refusals(n: int) -> list[ClassifiedRefusal]:
    start = datetime(2026, 11, 1, 9, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        reason, evidence = next(EVIDENCE)
        at = start + timedelta(minutes=7 * i)
        out.append(ClassifiedRefusal(
            deal_id=str(100000 + i), version=2, active=True, status="provisional", lost_at=at, classified_at=at,
            pipeline="Основная", manager="Анна Смирнова", stage_before_loss="Переговоры", amount_rub=50000,
            avg_check_rub=40000, money_rub=50000, target=True, reason=reason, kind="real", leak=None, hot=False,
            confidence=0.8, evidence=evidence, engine={"name": "embedded", "version": "1"}, source="ai",
            manager_reason=None, reason_mismatch=None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    tz = ZoneInfo("Europe/Moscow")
    records = refusals(args.records)
    t0 = time.perf_counter()
    listed = sum(1 for r in records if (e := decide(r, listed=False, tz=tz)) is not None and e.active)
    rules_s = time.perf_counter() - t0
    print(f"reactivation rules: {args.records / rules_s:,.0f} refusals/s ({listed} of {args.records} listed)")

    maps = load_maps({})
    base = 1795000000
    leads = [{"id": i, "price": 40000, "status_id": 143, "pipeline_id": 1, "responsible_user_id": 5,
              "created_at": base + i, "updated_at": base + i + 60, "closed_at": base + i + 30} for i in range(args.records)]
    notes = [{"id": i, "entity_id": i, "note_type": "call_out", "created_at": base + i + 10,
              "params": {"duration": 60, "call_status": 4}} for i in range(args.records)]
    t0 = time.perf_counter()
    mapped = Mapped()
    for lead, note in zip(leads, notes):
        mapped.add(lambda: amocrm.lead_events(lead, maps, "bench"), "lead")
        mapped.add(lambda: amocrm.note_events(note, maps, "bench"), "note")
    ordered = in_time_order(mapped.events)
    map_s = time.perf_counter() - t0
    print(f"import mapping (amoCRM leads + call notes -> ordered events): {len(ordered) / map_s:,.0f} events/s "
          f"({len(ordered)} events)")


if __name__ == "__main__":
    main()
