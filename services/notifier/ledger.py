"""Which (alert key, target) pairs are settled (posted or dead-lettered), on disk, so a
restarted notifier does not post an alert again. SQLite in WAL mode: a row is on disk
before `settle` returns, i.e. before the Kafka offset is committed.

What is left is the instant between a target's answer and the row being written: a crash
there posts once more on restart; the webhook's Idempotency-Key lets a receiver drop it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS settled (
    key TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    settled_at REAL NOT NULL,
    PRIMARY KEY (key, target)
)
"""


class DeliveryLedger:
    def __init__(self, path: Path, *, keep_s: float = 30 * 86400):
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the consumer and the Grafana threads, behind a lock.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # committed means on disk, even on power loss
            self._db.execute(SCHEMA)
            # Older alerts are skipped by the consumer anyway (LEAKWATCH_NOTIFIER_MAX_ALERT_AGE_S).
            self._db.execute("DELETE FROM settled WHERE settled_at < ?", (time.time() - keep_s,))

    def is_settled(self, key: str, target: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM settled WHERE key = ? AND target = ?", (key, target)).fetchone()
        return row is not None

    def settle(self, key: str, target: str, outcome: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO settled VALUES (?, ?, ?, ?)", (key, target, outcome, time.time()))

    def close(self) -> None:
        with self._lock:
            self._db.close()

