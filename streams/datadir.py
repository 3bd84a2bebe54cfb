"""One worker per data dir: the deal-state table's RocksDB files under
`LEAKWATCH_WORKER_DATA_DIR` belong to one process. A second worker on the same machine with
the same dir would fight for RocksDB's LOCK files partition by partition (Faust retries for
30 s, then crashes mid-rebalance), so it is stopped at start with the setting's name.

An flock, not a pid file: the kernel drops it when the process dies, SIGKILL included, so a
killed worker's restart never finds a stale lock (RocksDB's own LOCK files behave the same).

The store also remembers which changelog it was filled from (`drop_foreign_store`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

LOCK_NAME = "worker.lock"


class DataDirInUse(RuntimeError):
    pass


def lock_data_dir(path: Path) -> int:
    """Hold `path` for this process (the returned descriptor stays open until it exits)."""
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise DataDirInUse(f"LEAKWATCH_WORKER_DATA_DIR={path} is in use by another worker (pid {holder}); "
                           f"give each worker on a machine its own data dir (and LEAKWATCH_WORKER_WEB_PORT)") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


ORIGIN_NAME = "changelog.id"


def drop_foreign_store(path: Path, changelog_id: str) -> bool:
    """Remove the local table store when it was filled from another incarnation of the
    changelog (a reset broker, a recreated topic): its stored offsets would point into a log
    that no longer exists, and Faust would trust them, keeping deals that are not there and
    skipping records that are. Returns whether anything was removed; the store is then
    rebuilt from the changelog."""
    origin = path / ORIGIN_NAME
    known = origin.read_text().strip() if origin.exists() else None
    stores = [p for p in path.glob("v*") if p.is_dir()]  # Faust's tabledir: <data dir>/v<version>/tables
    removed = False
    if known != changelog_id and stores and known is not None:
        for store in stores:
            shutil.rmtree(store)
        removed = True
    origin.write_text(changelog_id + "\n")
    return removed
