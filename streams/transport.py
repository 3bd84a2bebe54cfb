"""Faust's aiokafka transport, with a seek to committed offset 0 that actually seeks.

Faust drops records it has already drained from aiokafka whenever the consumer's flow
stops or the generation changes mid-batch (`Consumer.getmany`), and relies on
`perform_seek()` -> aiokafka's `seek_to_committed()` to fetch them again. aiokafka 0.14
seeks only `if offset and offset > 0` (aiokafka issue #1003, open): at committed offset 0
the fetch position stays past the dropped records, while Faust sets its read offset back
to 0. Nothing is fetched from that partition again until new records arrive behind the
position; in a takeover whose records were all produced already, never.

Offset 0 is common here: `streams.topology.pin_start_offsets` commits the log start for
every consumed partition without a commit, and a worker killed before its first commit
leaves it at 0 (the two-worker chaos test's stalled partitions, #8).

A partition with no committed offset at all is left where it is, as aiokafka does: table
changelogs are never committed (recovery positions them), and every consumed partition
has a commit once `pin_start_offsets` ran.
"""

from __future__ import annotations

import logging

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)


async def seek_to_committed(consumer) -> dict[TP, int | None]:
    """Seek every assigned partition with a committed offset to it, 0 included; return the
    committed offsets (None: no commit), as aiokafka's `seek_to_committed` does."""
    committed: dict[TP, int | None] = {}
    for tp in consumer.assignment():
        offset = await consumer.committed(tp)
        committed[tp] = offset
        if offset is not None and offset >= 0:
            if offset == 0 and (ahead := _position(consumer, tp)):
                # The case aiokafka would have skipped: without this seek, records up
                # to `ahead` are never fetched again.
                log.info("rewinding %s:%s from %s to committed offset 0", tp.topic, tp.partition, ahead)
            consumer.seek(tp, offset)
    return committed


def _position(consumer, tp) -> int | None:
    """The fetch position, if aiokafka has one (read for the log line only)."""
    try:
        state = consumer._subscription.subscription.assignment.state_value(tp)
        return state.position if state.has_valid_position else None
    except Exception:  # a private structure of aiokafka's: no position, no log line
        return None


class ExactSeekConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    async def seek_to_committed(self) -> dict[TP, int | None]:
        return await self.call_thread(seek_to_committed, self._ensure_consumer())


class ExactSeekConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ExactSeekConsumerThread:
        return ExactSeekConsumerThread(self, loop=self.loop, beacon=self.beacon)


class ExactSeekTransport(faust_aiokafka.Transport):
    Consumer = ExactSeekConsumer
