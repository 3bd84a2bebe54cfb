"""Faust 0.15.3's recovery, with the one ordering bug that stalls our commits fixed.

The race (faust-streaming issue #596; the same family as PR #217, which fixed it only for
apps without tables): when the changelogs are read, `Recovery.on_recovery_completed`

  1. resumes the stream partitions while the consumer's flow is still active (it was
     resumed to read the changelogs), so the fetcher at once delivers stream messages
     into the agents' queues and advances `Consumer._read_offset`;
  2. awaits `perform_seek()` (a round trip to the consumer thread) - meanwhile the
     fetcher keeps iterating the batch it holds, so the read offset moves past the
     committed offset again after the seek has reset it;
  3. calls `flow_control.resume()`, which CLEARS every agent queue (`clear_on_resume`).

The messages cleared in 3 were never processed and are never acked; when the fetcher
re-reads them from the committed offset, `_drain_messages` drops them as already read
(offset < read offset). The acked offsets then have a hole at the committed offset:
`Consumer._new_offset` returns None for good when the hole is wider than one message
(the stall: committed offset stuck, the watchdog's "restart" case) and commits past it
when it is exactly one (a lost message, issue #606's symptom).

The fix keeps Faust's own steps and their order, but stops the consumer's flow before
the stream partitions are resumed: no stream message can be delivered before the seek,
the queues are cleared while they hold none, and the seek's read offsets stand.
`tests/unit/streams/test_recovery_race.py` replays the interleaving on Faust's own code.
"""

from __future__ import annotations

import asyncio

from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery


class SeekBeforeResumeRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        consumer = self.app.consumer
        # Stops getmany at its next record; the record in hand (if any) settles on the
        # next loop turn, long before perform_seek's thread round trip returns.
        consumer.stop_flow()
        await asyncio.sleep(0)
        await super().on_recovery_completed(generation_id)  # seek, then resume flow and queues


class SeekBeforeResumeTableManager(TableManager):
    """`faust.App(TableManager=...)`: the same manager, with the fixed recovery."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = SeekBeforeResumeRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
