"""The worker's HTTP endpoints (127.0.0.1 by default): the cards' numbers for the boards,
Prometheus metrics, and health. The worker owns the embedded ClickHouse, so reads of the
boards go through it."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone, tzinfo

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from leakwatch.cards.period import day_bounds, requested_period
from leakwatch.cards.snapshot import period_sql, read_cards
from streams import metrics

log = logging.getLogger(__name__)


def partition_lags(consumer, monitor, topics: set[str]) -> dict[tuple[str, int], int]:
    """Messages between what the worker has read (or committed) and the end of each assigned
    partition of `topics`: the agents' sources (a table's changelog is read only while
    recovering, so its "lag" would only grow). Plain reads of what the consumer and Faust's
    monitor already know; no call into the consumer thread, which could wait on a partition
    without a position and hold up the worker's own requests."""
    lags = {}
    for tp in consumer.assignment():
        if tp.topic not in topics:
            continue
        try:
            end = consumer.highwater(tp)
        except Exception:  # revoked meanwhile: the next round has the new assignment
            continue
        read, committed = monitor.tp_read_offsets.get(tp), monitor.tp_committed_offsets.get(tp)
        done = max((o for o in (None if read is None else read + 1, committed) if o is not None), default=None)
        if end is not None and done is not None:
            lags[(tp.topic, tp.partition)] = max(end - done, 0)
    return lags


def publish_lags(lags: dict[tuple[str, int], int]) -> None:
    """Replace the gauge's series at once: a partition revoked in a rebalance must not keep
    its last lag (another worker reports it now)."""
    metrics.CONSUMER_LAG.clear()
    for (topic, partition), lag in lags.items():
        metrics.CONSUMER_LAG.labels(topic, str(partition)).set(lag)


def case_json(row: dict, tz: tzinfo) -> dict:
    """A /cases row with its times in the department's zone, as /cards gives its period
    (ClickHouse hands back UTC columns as naive datetimes)."""
    return {k: (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).astimezone(tz).isoformat()
            if isinstance(v, datetime) else v for k, v in row.items()}


def register(ctx) -> None:
    app, settings, store = ctx.app, ctx.settings, ctx.store

    def filtered(answer):
        """A board endpoint: period (`from`, `to`; today by default), `pipeline` and `manager`
        from the query string, 400 on a bad one, then `answer(start, end, pipeline, manager)`
        in a thread (ClickHouse calls block)."""
        async def view(web, request):
            q = request.query
            try:
                start, end = requested_period(q.get("from"), q.get("to"), settings.tz, datetime.now(timezone.utc))
            except ValueError as exc:
                return web.json({"error": str(exc)}, status=400)
            return web.json(await asyncio.to_thread(
                answer, start, end, q.get("pipeline") or None, q.get("manager") or None))
        return view

    def cards(start, end, pipeline, manager):
        return read_cards(store, start, end, pipeline=pipeline, manager=manager,
                          baseline_days=settings.baseline_days).model_dump(mode="json")

    def cases(start, end, pipeline, manager):
        rows = store.query(period_sql("salvageable_cases", start, end, pipeline=pipeline, manager=manager))
        return [case_json(r, settings.tz) for r in rows]

    app.page("/cards")(filtered(cards))
    app.page("/cases")(filtered(cases))

    @app.page("/metrics")
    async def prometheus(web, request):
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/debug/consumer")
    async def consumer_state(web, request):
        """Which partitions the worker fetches, and how far it has read and acked: the
        first thing to look at when a partition stops moving."""
        c = app.consumer
        name = lambda tps: sorted(f"{tp.topic}:{tp.partition}" for tp in tps)  # noqa: E731
        return web.json({
            "assigned": name(c.assignment()),
            "active": name(c._active_partitions or ()),
            "paused": name(c._paused_partitions),
            "buffered": name(c._buffered_partitions),
            "flow_active": c.flow_active,
            "read_offset": {f"{tp.topic}:{tp.partition}": o for tp, o in c._read_offset.items()},
            "committed": {f"{tp.topic}:{tp.partition}": o for tp, o in c._committed_offset.items()},
            "unacked": len(c._unacked_messages),
            "in_recovery": app.in_recovery,
        })

    @app.page("/debug/tasks")
    async def tasks(web, request):
        """Where every agent task is waiting, following the chain of awaits (for a stalled agent)."""
        out = []
        for task in asyncio.all_tasks():
            chain, coro = [], task.get_coro()
            while coro is not None and len(chain) < 40:
                frame = getattr(coro, "cr_frame", None) or getattr(coro, "ag_frame", None) or getattr(coro, "gi_frame", None)
                if frame is not None:
                    chain.append(f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno} {frame.f_code.co_name}")
                coro = getattr(coro, "cr_await", None) or getattr(coro, "ag_await", None) or getattr(coro, "gi_yieldfrom", None)
            out.append({"task": task.get_name(), "awaits": chain})
        return web.json(out)

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

    consumed = {*ctx.inputs.topics, *ctx.requests.topics, *ctx.won.topics}

    @app.timer(interval=15.0)
    async def consumer_lag():
        """For the consumer-lag alert (deploy/prometheus/alerts.yml)."""
        publish_lags(partition_lags(app.consumer, app.monitor, consumed))
