"""The two lists beside the cards: each manager's leak and stated-reason mismatches, and the
«Условный отказ» verdicts awaiting a QA lead. Same SQL for every reader (queries.py)."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, field_validator

from leakwatch.cards.snapshot import Queryable, period_sql


class ManagerRow(BaseModel):
    manager: str
    refusals: int
    stated: int  # refusals where the manager stated a reason
    mismatches: int  # … and it differed from the true one
    mismatch_pct: int | None
    cases: int  # salvageable refusals
    leak_rub: int
    top_leak: str | None


class PendingReview(BaseModel):
    """A provisional verdict as the review queue shows it."""

    deal_id: str
    version: int
    lost_at: datetime
    manager: str
    pipeline: str
    stage: str
    money_rub: int
    target: bool
    reason: str | None
    kind: str | None
    leak: str | None
    hot: bool
    confidence: float
    low_confidence: bool
    evidence: str
    engine_name: str
    manager_reason: str | None
    reason_mismatch: bool | None

    @field_validator("lost_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # the store keeps UTC

    @field_validator("confidence")
    @classmethod
    def _rounded(cls, value: float) -> float:
        return round(value, 3)  # Float32 in the store


def read_managers(store: Queryable, time_from: datetime, time_to: datetime, *,
                  pipeline: str | None = None, manager: str | None = None) -> list[ManagerRow]:
    rows = store.query(period_sql("managers", time_from, time_to, pipeline=pipeline, manager=manager))
    return [ManagerRow(**{**r, "mismatch_pct": None if r["mismatch_pct"] is None else int(r["mismatch_pct"]),
                          "top_leak": r["top_leak"] or None}) for r in rows]


def read_review_queue(store: Queryable, time_from: datetime, time_to: datetime, *,
                      pipeline: str | None = None, manager: str | None = None,
                      low_confidence: float = 0.6, tz_name: str = "UTC") -> list[PendingReview]:
    sql = period_sql("review_queue", time_from, time_to, pipeline=pipeline, manager=manager,
                     extra={"low_confidence": repr(float(low_confidence)), "timezone": tz_name})
    return [PendingReview(**r) for r in store.query(sql)]


def read_pending(store: Queryable, deal_id: str) -> PendingReview | None:
    """The newest verdict of one deal when it is still provisional (what «Подтвердить» confirms)."""
    rows = store.query(
        "SELECT deal_id, version, lost_at, manager, pipeline, stage_before_loss AS stage, money_rub, target, "
        "reason, kind, leak, hot, confidence, 0 AS low_confidence, evidence, engine_name, manager_reason, "
        "reason_mismatch FROM refusals FINAL "
        "WHERE deal_id = {d:String} AND active = 1 AND status = 'provisional'", {"d": deal_id})
    return PendingReview(**rows[0]) if rows else None
