"""Read both cards from the store for one period and filter: the numbers every board shows."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel

from leakwatch.cards.macros import ALL, expand
from leakwatch.cards.queries import BOARD, CARDS


class Queryable(Protocol):
    def query(self, sql: str, parameters: dict | None = None) -> list[dict]: ...


class ReasonRow(BaseModel):
    reason: str
    salvageable: int
    real: int


class LeakRow(BaseModel):
    leak: str
    leak_rub: int
    cases: int
    hot_cases: int
    leak_pct: int


class Card1(BaseModel):
    """«Отказы целевых лидов»."""

    total: int
    salvageable: int
    real: int
    salvageable_pct: int
    potential_lost_rub: int
    average_check_rub: int
    reason_mismatches: int
    confirmed: int
    by_reason: list[ReasonRow]


class Card2(BaseModel):
    """«Потенциально потерянная выручка»."""

    leak_rub: int
    cases: int
    hot_cases: int
    baseline_daily_rub: float
    above_average_pct: int | None
    by_leak: list[LeakRow]
    main_leak: str | None
    main_stage: str | None


class Cards(BaseModel):
    time_from: datetime
    time_to: datetime
    pipeline: str | None
    manager: str | None
    card1: Card1
    card2: Card2


def period_sql(name: str, time_from: datetime, time_to: datetime, *, pipeline: str | None = None,
               manager: str | None = None, metric: str = "sum", baseline_days: int = 28,
               extra: dict[str, str] | None = None) -> str:
    """One of `CARDS` (or of `BOARD`, whose queries take `extra` variables) for a period."""
    return expand({**CARDS, **BOARD}[name], time_from=time_from, time_to=time_to, variables={
        "pipeline": pipeline or ALL, "manager": manager or ALL,
        "metric": metric, "baseline_days": str(int(baseline_days)), **(extra or {}),
    })


def read_cards(store: Queryable, time_from: datetime, time_to: datetime, *,
               pipeline: str | None = None, manager: str | None = None,
               baseline_days: int = 28) -> Cards:
    def rows(name: str) -> list[dict]:
        return store.query(period_sql(name, time_from, time_to, pipeline=pipeline,
                                      manager=manager, baseline_days=baseline_days))

    t1 = rows("card1_totals")[0]
    t2 = rows("card2_totals")[0]
    by_leak = [LeakRow(**{k: int(r[k]) if k != "leak" else r[k] for k in LeakRow.model_fields})
               for r in rows("card2_by_leak")]
    stage = rows("card2_main_stage")
    pct = t2["above_average_pct"]
    return Cards(
        time_from=time_from, time_to=time_to, pipeline=pipeline, manager=manager,
        card1=Card1(
            **{k: int(t1[k]) for k in Card1.model_fields if k != "by_reason"},
            by_reason=[ReasonRow(reason=r["reason"], salvageable=r["salvageable"], real=r["real"])
                       for r in rows("card1_by_reason")],
        ),
        card2=Card2(
            leak_rub=int(t2["leak_rub"]), cases=int(t2["cases"]), hot_cases=int(t2["hot_cases"]),
            baseline_daily_rub=float(t2["baseline_daily_rub"] or 0),
            above_average_pct=None if pct is None else int(pct),
            by_leak=by_leak,
            main_leak=by_leak[0].leak if by_leak else None,
            main_stage=stage[0]["stage"] if stage else None,
        ),
    )
