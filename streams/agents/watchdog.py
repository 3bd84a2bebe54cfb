"""Raise the commit-stall alarm (see streams/watchdog.py): a log line, a gauge for the
Prometheus alert, and `/health` degraded. It never restarts the worker."""

from __future__ import annotations

import logging
import time

from streams import metrics
from streams.consumer_state import ack_bookkeeping
from streams.topology import consumed_topics
from streams.watchdog import CommitWatchdog

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 10.0
MIN_STALL_S = 120.0


def register(ctx) -> None:
    app = ctx.app
    watched = set(consumed_topics(ctx.settings))
    # Longer than a request may legitimately hold its partition's commit.
    dog = CommitWatchdog(max(MIN_STALL_S, 2 * ctx.settings.grace_period_s + 60))

    @app.timer(interval=CHECK_INTERVAL_S)
    async def commit_watchdog():
        if app.in_recovery or app.rebalancing:
            return
        consumer, monitor = app.consumer, app.monitor
        name = lambda tp: f"{tp.topic}:{tp.partition}"  # noqa: E731
        read, committed, end = {}, {}, {}
        for tp in consumer.assignment():
            if tp.topic not in watched:
                continue
            try:
                end[name(tp)] = consumer.highwater(tp)
            except Exception:  # revoked meanwhile
                continue
            read[name(tp)] = monitor.tp_read_offsets.get(tp)
            committed[name(tp)] = monitor.tp_committed_offsets.get(tp)
        stalled = dog.check(time.monotonic(), read, committed, end)
        metrics.COMMIT_STALLS.set(len(stalled))
        if stalled:
            log.error("offset commits stalled on %s (committed %s)", ", ".join(stalled),
                      {tp: committed.get(tp) for tp in stalled})
            state = ack_bookkeeping(consumer)
            log.error("commit bookkeeping of the stalled partitions: %s", {tp: state.get(tp) for tp in stalled})
            ctx.health.problem("commits", f"offset commits stalled on {', '.join(stalled)}")
        else:
            ctx.health.resolved("commits")
