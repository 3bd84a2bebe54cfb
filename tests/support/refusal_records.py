"""ClassifiedRefusal records as the pipeline writes them, for tests that read the store:
the spec scenario's two days, and single records for crafted cases."""

from __future__ import annotations

from datetime import date, datetime
from itertools import cycle

from leakwatch.domain.money import case_money
from schemas.events import ClassifiedRefusal
from services.simulator import spec_scenario as spec


def refusal(deal_id: str, lost_at: datetime, *, kind: str = "salvageable", leak: str | None = "Не дожали заинтересованных",
            reason: str = "Дорого", amount: int | None = None, hot: bool = False, active: bool = True,
            target: bool = True, manager: str = "Анна Смирнова", pipeline: str = spec.PIPELINE,
            stage: str = "Переговоры", avg_check: int = spec.AVERAGE_CHECK_RUB) -> ClassifiedRefusal:
    """A confirmed (QA-reviewed) refusal; money as the pipeline computes it."""
    return ClassifiedRefusal(
        deal_id=deal_id, version=1, active=active, status="confirmed", lost_at=lost_at, classified_at=lost_at,
        pipeline=pipeline, manager=manager, stage_before_loss=stage, amount_rub=amount, avg_check_rub=avg_check,
        money_rub=case_money(amount, avg_check), target=target, reason=reason, kind=kind,
        leak=leak if kind == "salvageable" else None, hot=hot, confidence=1.0, evidence="", engine={"name": "review", "version": "1"},
        source="review", reviewer="qa.lead", manager_reason=None, reason_mismatch=None)


def spec_records() -> list[ClassifiedRefusal]:
    """The design's two example days: deal ids, days and times as services/simulator/spec_scenario.py
    replays them, managers in the same rotation over the day's refusals."""
    records, managers = [], cycle(spec.MANAGERS)
    for tag, day, refusals in (("A", spec.DAY1, spec.day1_refusals()), ("B", spec.DAY2, spec.day2_refusals())):
        for i, r in enumerate(refusals):
            records.append(refusal(
                f"{tag}-{i + 1:03d}", spec._lost_at(day, i), kind=r.kind.value, leak=r.leak.value if r.leak else None,
                reason=r.reason.value, amount=r.amount_rub, hot=r.hot, manager=next(managers), stage=r.stage))
    return records


def on_day(records: list[ClassifiedRefusal], day: date) -> list[ClassifiedRefusal]:
    return [r for r in records if r.lost_at.astimezone(spec.TZ).date() == day]
