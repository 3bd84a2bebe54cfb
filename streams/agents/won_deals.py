"""Write won deals to ClickHouse in batches, for the average check."""

from __future__ import annotations

import asyncio
from datetime import datetime

import orjson

from streams import metrics


def register(ctx) -> None:
    settings, store = ctx.settings, ctx.store

    @ctx.app.agent(ctx.won, name="won-deals")
    async def won_deals(stream):
        async for batch in stream.take(settings.sink_batch_rows, within=settings.sink_batch_seconds):
            rows = []
            for raw in batch:
                w = orjson.loads(raw)
                won_at = datetime.fromisoformat(w["won_at"])
                rows.append((w["deal_id"], w["version"], won_at, w["pipeline"], w["manager"], w["amount_rub"]))
            await asyncio.to_thread(store.insert_won, rows)
            metrics.CH_INSERT_BATCHES.labels("won_deals").inc()
            metrics.CH_INSERT_ROWS.labels("won_deals").inc(len(rows))
