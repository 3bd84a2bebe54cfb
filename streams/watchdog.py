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
    """Flags partitions that still have uncommitted messages (committed < end of log) while
    the read offset does not move and nothing is in flight, for `patience` checks in a row.

    Offsets as Faust keeps them: `committed` is the next offset to read after the last
    commit; `read` is the last offset delivered (right after a seek it equals `committed`),
    so only the end of the log tells an idle partition from a stuck one."""

    def __init__(self, patience: int = 3):
        self.patience = patience
        self._strikes: dict[str, int] = {}
        self._last_read: dict[str, int | None] = {}

    def check(self, read: Mapping[str, int | None], committed: Mapping[str, int | None],
              end: Mapping[str, int | None], unacked: int) -> list[str]:
        stalled = []
        for tp, offset in read.items():
            done, log_end = committed.get(tp), end.get(tp)
            pending = log_end is not None and (done or 0) < log_end
            still = self._last_read.get(tp, -1) == offset
            self._last_read[tp] = offset
            self._strikes[tp] = self._strikes.get(tp, 0) + 1 if pending and still and unacked == 0 else 0
            if self._strikes[tp] >= self.patience:
                stalled.append(tp)
        return stalled
