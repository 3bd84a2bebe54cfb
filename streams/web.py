"""The worker's HTTP endpoints (127.0.0.1 by default): Prometheus metrics, health and
debugging views of the consumer. The boards' reads are the sink's (services/sink)."""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams import metrics
from streams.consumer_state import ack_bookkeeping

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


def register(ctx) -> None:
    app = ctx.app

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

    @app.page("/debug/acks")
    async def ack_state(web, request):
        """Faust's commit bookkeeping per partition: why a committed offset does not move."""
        return web.json(ack_bookkeeping(app.consumer))

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
        """ok, or degraded with the problems (retries under way, recent dead letters, a
        commit stall the watchdog saw). Always 200: the process is alive and working on it."""
        return web.json({**ctx.health.report(), "classifier": ctx.classifier.name})

    consumed = {*ctx.inputs.topics, *ctx.requests.topics}

    @app.timer(interval=15.0)
    async def consumer_lag():
        """For the consumer-lag alert (deploy/prometheus/alerts.yml)."""
        publish_lags(partition_lags(app.consumer, app.monitor, consumed))
