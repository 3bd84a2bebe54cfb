"""Live synthetic traffic: deals that are won or lost right now, with conversations
replayed from the scripts, some spam, and QA reviews for a share of refusals."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from schemas import topics
from schemas.events import RefusalReview
from services.simulator.scripts import DealPlan, Script, deal_events

PIPELINES = {"Основная": 0.7, "Корпоративные": 0.3}
MANAGERS = ("Анна Смирнова", "Игорь Петров", "Ольга Иванова", "Дмитрий Козлов", "Марина Соколова")
AMOUNTS = (None, 18_000, 25_000, 32_000, 40_000, 45_000, 60_000, 85_000, 120_000)


def live_deals(scripts: tuple[Script, ...], *, seed: int | None = None, review_share: float = 0.2,
               won_share: float = 0.25, run: str | None = None,
               now=lambda: datetime.now(timezone.utc)) -> Iterator[list[tuple[topics.TopicSpec, Any]]]:
    """An endless stream of deals; each item is one deal's events in order."""
    rng = random.Random(seed)
    run = run or f"{rng.randrange(16**6):06x}"
    for n in range(1, 10**9):
        script = rng.choice(scripts)
        deal_id = f"SIM-{run}-{n:06d}"
        won = script.labels.target and rng.random() < won_share
        plan = DealPlan(deal_id, rng.choices(list(PIPELINES), weights=list(PIPELINES.values()))[0],
                        rng.choice(MANAGERS), rng.choice(AMOUNTS), now(), script,
                        is_spam=not script.labels.target, won=won)
        events = deal_events(plan)
        if not won and script.labels.target and rng.random() < review_share:
            labels = script.labels
            events.append((topics.REVIEWS, RefusalReview(
                event_id=f"{deal_id}:review", deal_id=deal_id, ts=now() + timedelta(seconds=1),
                reviewer="qa.lead", target=labels.target, reason=labels.reason, kind=labels.kind,
                leak=labels.leak, hot=labels.hot)))
        yield events
