"""Restart the worker when Faust's commits stall for good (see streams/watchdog.py)."""

from __future__ import annotations

import logging
import os

from streams.watchdog import EXIT_RESTART, CommitWatchdog
from streams.topology import consumed_topics

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 10.0


def register(ctx) -> None:
    app = ctx.app
    watched = set(consumed_topics(ctx.settings))
    dog = CommitWatchdog()

    @app.timer(interval=CHECK_INTERVAL_S)
    async def commit_watchdog():
        consumer = app.consumer
        if app.in_recovery or not consumer.flow_active:
            return
        name = lambda tp: f"{tp.topic}:{tp.partition}"  # noqa: E731
        tps = [tp for tp in consumer._read_offset if tp.topic in watched]
        stalled = dog.check({name(tp): consumer._read_offset[tp] for tp in tps},
                            {name(tp): consumer._committed_offset.get(tp) for tp in tps},
                            {name(tp): consumer.highwater(tp) for tp in tps},
                            len(consumer._unacked_messages))
        if stalled:
            log.error("offset commits stalled on %s; restarting to replay from the committed offsets",
                      ", ".join(sorted(stalled)))
            os._exit(EXIT_RESTART)  # no clean stop: a clean stop would commit nothing new anyway
