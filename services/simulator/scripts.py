"""Scripted conversations (`scripts.jsonl`) and their replay as canonical events. Pure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from schemas.conversation import Labels
from schemas import topics
from schemas.events import ActivityEvent, CallEvent, DealEvent, TranscriptTurn

SCRIPTS = Path(__file__).with_name("scripts.jsonl")
CLOSED_STAGE = "Закрыто и не реализовано"


@dataclass(frozen=True)
class Script:
    name: str
    labels: Labels
    manager_reason: str | None
    stage_before_loss: str
    steps: tuple[dict[str, Any], ...]

    @property
    def length_min(self) -> float:
        return max((s.get("at_min", 0) for s in self.steps), default=0)


@lru_cache(maxsize=1)
def load_scripts(path: Path = SCRIPTS) -> tuple[Script, ...]:
    scripts = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        scripts.append(Script(d["name"], Labels(**d["labels"]), d.get("manager_reason"),
                              d.get("stage_before_loss") or "Переговоры", tuple(d["steps"])))
    return tuple(scripts)


def closest_script(scripts: tuple[Script, ...], labels: Labels, index: int) -> Script:
    """A script with the same labels when there is one (rotating by index), else the
    nearest by leak, then kind, then reason."""
    def score(s: Script) -> tuple:
        sl = s.labels
        return (sl.target == labels.target, sl.leak == labels.leak, sl.kind == labels.kind,
                sl.reason == labels.reason, sl.hot == labels.hot)
    best = max(score(s) for s in scripts)
    matching = [s for s in scripts if score(s) == best]
    return matching[index % len(matching)]


@dataclass
class DealPlan:
    """One deal to replay: who, how much, when it was lost, and how it went."""

    deal_id: str
    pipeline: str
    manager: str
    amount_rub: int | None
    lost_at: datetime
    script: Script
    stage_before_loss: str | None = None
    is_spam: bool = False
    duplicate_of: str | None = None
    won: bool = False


def deal_events(plan: DealPlan) -> list[tuple[topics.TopicSpec, Any]]:
    """The deal's events in order: created, stage, conversation and facts, then lost (or won)."""
    s = plan.script
    created = plan.lost_at - timedelta(minutes=s.length_min + 30)
    at = lambda minutes: created + timedelta(minutes=minutes)  # noqa: E731
    eid = iter(range(1, 10_000))
    ident = lambda: f"{plan.deal_id}:{next(eid)}"  # noqa: E731
    d, c = plan.deal_id, plan.manager
    out: list[tuple[topics.TopicSpec, Any]] = [(topics.DEALS, DealEvent(
        event_id=ident(), deal_id=d, ts=created, type="created", pipeline=plan.pipeline, manager=c,
        amount_rub=plan.amount_rub, stage="Новая заявка", source="site",
        is_spam=plan.is_spam or None, duplicate_of=plan.duplicate_of))]
    stage = plan.stage_before_loss or s.stage_before_loss
    if stage != "Новая заявка":
        out.append((topics.DEALS, DealEvent(event_id=ident(), deal_id=d, ts=at(1), type="stage_changed", stage=stage)))
    task = None
    for i, step in enumerate(s.steps):
        ts = at(step.get("at_min", 0))
        kind = step["kind"]
        if kind == "chat":
            out.append((topics.ACTIVITIES, ActivityEvent(event_id=ident(), deal_id=d, ts=ts, type="message",
                                                         author=step["speaker"], channel="whatsapp", text=step["text"])))
        elif kind == "call":
            turns, offset = [], 0.0
            for t in step["turns"]:
                turns.append(TranscriptTurn(offset_s=offset, speaker=t["speaker"], text=t["text"]))
                offset += 8.0
            out.append((topics.CALLS, CallEvent(event_id=ident(), deal_id=d, ts=ts, call_id=f"{d}-c{i}",
                                                direction=step.get("direction", "out"), status="answered",
                                                duration_s=step.get("duration_s", offset), manager=c,
                                                transcript=turns)))
        elif kind == "missed_call":
            direction = step.get("direction", "in")
            out.append((topics.CALLS, CallEvent(event_id=ident(), deal_id=d, ts=ts, call_id=f"{d}-c{i}",
                                                direction=direction, manager=c,
                                                status="missed" if direction == "in" else "no_answer")))
        elif kind == "task_created":
            task = f"{d}-t{i}"
            out.append((topics.ACTIVITIES, ActivityEvent(
                event_id=ident(), deal_id=d, ts=ts, type="task_created", task_id=task,
                task_kind=step.get("task_kind", "callback"), due_at=ts + timedelta(minutes=step.get("due_in_min", 1440)))))
        elif kind in ("task_overdue", "task_done"):
            out.append((topics.ACTIVITIES, ActivityEvent(event_id=ident(), deal_id=d, ts=ts, type=kind,
                                                         task_id=task or f"{d}-t{i}", task_kind="callback")))
        elif kind == "materials_sent":
            out.append((topics.ACTIVITIES, ActivityEvent(event_id=ident(), deal_id=d, ts=ts, type="materials_sent",
                                                         materials=step.get("materials", "КП"))))
        else:
            raise ValueError(f"script {s.name}: unknown step kind {kind!r}")
    if plan.won:
        out.append((topics.DEALS, DealEvent(event_id=ident(), deal_id=d, ts=plan.lost_at, type="won", stage="Успешно реализовано")))
    else:
        out.append((topics.DEALS, DealEvent(event_id=ident(), deal_id=d, ts=plan.lost_at, type="lost", stage=CLOSED_STAGE,
                                            lost_reason=s.manager_reason)))
    return out
