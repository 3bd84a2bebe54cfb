"""A commit-stall alarm (no restart: the recovery race it used to paper over is fixed in
streams/recovery.py; a restart would only rebuild the table and hide a new cause).

A partition is stalled when its committed offset has not moved for `stall_after_s` while
there is work past it: messages read beyond the committed offset, or the log's end beyond
it. That holds under steady traffic too (reading goes on, commits do not), unlike a rule
that waits for nothing to be in flight. Work that legitimately holds a commit (a request
waiting out the grace period, a store retry) lasts less than `stall_after_s` when it is
set above the grace period.
"""

from __future__ import annotations

from collections.abc import Mapping


class CommitWatchdog:
    def __init__(self, stall_after_s: float):
        self.stall_after_s = stall_after_s
        self._since: dict[str, tuple[int | None, float]] = {}

    def check(self, now: float, read: Mapping[str, int | None], committed: Mapping[str, int | None],
              end: Mapping[str, int | None]) -> list[str]:
        """`read`: the last offset delivered; `committed`: the next offset to read after the
        last commit; `end`: the log's end. Returns the stalled partitions."""
        stalled = []
        for tp in set(read) | set(end):
            done, last_read, log_end = committed.get(tp), read.get(tp), end.get(tp)
            behind = (last_read is not None and last_read >= (done or 0)) or \
                     (log_end is not None and log_end > (done or 0))
            seen = self._since.get(tp)
            if not behind or seen is None or seen[0] != done:
                self._since[tp] = (done, now)
                continue
            if now - seen[1] >= self.stall_after_s:
                stalled.append(tp)
        return sorted(stalled)
