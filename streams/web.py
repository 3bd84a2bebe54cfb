"""The worker's HTTP endpoints (127.0.0.1 by default): the cards' numbers for the boards,
Prometheus metrics, and health. The worker owns the embedded ClickHouse, so reads of the
boards go through it."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from leakwatch.cards.period import day_bounds, parse_instant
from leakwatch.cards.snapshot import period_sql, read_cards
from streams import metrics

log = logging.getLogger(__name__)


def register(ctx) -> None:
    app, settings, store = ctx.app, ctx.settings, ctx.store

    def period(query) -> tuple[datetime, datetime]:
        start, end = day_bounds(datetime.now(timezone.utc), settings.tz)
        if "from" in query:
            start = parse_instant(query["from"], settings.tz)
        if "to" in query:
            end = parse_instant(query["to"], settings.tz)
        if end <= start:
            raise ValueError("'to' must be after 'from'")
        return start, end

    @app.page("/cards")
    async def cards(web, request):
        q = request.query
        try:
            start, end = period(q)
        except ValueError as exc:
            return web.json({"error": str(exc)}, status=400)
        snapshot = await asyncio.to_thread(
            read_cards, store, start, end, pipeline=q.get("pipeline") or None,
            manager=q.get("manager") or None, baseline_days=settings.baseline_days)
        return web.json(snapshot.model_dump(mode="json"))

    @app.page("/cases")
    async def cases(web, request):
        q = request.query
        try:
            start, end = period(q)
        except ValueError as exc:
            return web.json({"error": str(exc)}, status=400)
        sql = period_sql("salvageable_cases", start, end, pipeline=q.get("pipeline") or None,
                         manager=q.get("manager") or None)
        rows = await asyncio.to_thread(store.query, sql)
        return web.json([{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}
                         for r in rows])

    @app.page("/metrics")
    async def prometheus(web, request):
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/health")
    async def health(web, request):
        return web.json({"status": "ok", "store": store.kind, "classifier": ctx.classifier.name})

    @app.timer(interval=10.0)
    async def live_gauges():
        """Today's totals as gauges, so Prometheus alerting sees the leak too."""
        start, end = day_bounds(datetime.now(timezone.utc), settings.tz)
        try:
            snap = await asyncio.to_thread(read_cards, store, start, end, baseline_days=settings.baseline_days)
        except Exception:
            log.exception("could not refresh live gauges")
            return
        metrics.LEAK_TODAY_RUB.set(snap.card2.leak_rub)
        metrics.SALVAGEABLE_TODAY.set(snap.card1.salvageable)
        metrics.TARGET_REFUSALS_TODAY.set(snap.card1.total)
