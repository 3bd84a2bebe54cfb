"""A stalled-commit watchdog for Faust 0.15.

Measured here: after a restart with a backlog, Faust sometimes stops committing a
partition for good (its acked offsets keep a gap that no message will ever fill; see
faust issues #596/#606), and some events behind the gap may never reach the agents. The
committed offset is the last point known to be fully processed, so the cure is a restart:
the worker resumes there and replays the rest, which the idempotent deal-state fold and
the versioned refusal records make safe. The supervisor in `streams/cli.py` restarts it.
"""

from __future__ import annotations

from collections.abc import Mapping

EXIT_RESTART = 75  # "try again": the supervisor restarts the worker


class CommitWatchdog:
    """Flags partitions whose commit lags their read offset with nothing in flight, for
    `patience` checks in a row while the read offset does not move."""

    def __init__(self, patience: int = 3):
        self.patience = patience
        self._strikes: dict[str, int] = {}
        self._last_read: dict[str, int | None] = {}

    def check(self, read: Mapping[str, int | None], committed: Mapping[str, int | None],
              unacked: int) -> list[str]:
        stalled = []
        for tp, offset in read.items():
            done = committed.get(tp)
            behind = offset is not None and (done is None or done <= offset)
            still = self._last_read.get(tp) == offset
            self._last_read[tp] = offset
            if behind and still and unacked == 0:
                self._strikes[tp] = self._strikes.get(tp, 0) + 1
            else:
                self._strikes[tp] = 0
            if self._strikes[tp] >= self.patience:
                stalled.append(tp)
        return stalled
