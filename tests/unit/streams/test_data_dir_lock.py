"""One worker per data dir (streams/datadir.py): a second holder is refused with the
setting's name, and a killed holder's lock is gone with it (no stale lock file)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from streams.datadir import LOCK_NAME, DataDirInUse, lock_data_dir


def test_a_second_worker_on_the_same_data_dir_is_refused(tmp_path):
    fd = lock_data_dir(tmp_path / "faust")
    try:
        with pytest.raises(DataDirInUse, match=f"LEAKWATCH_WORKER_DATA_DIR=.*pid {os.getpid()}"):
            lock_data_dir(tmp_path / "faust")
        lock_data_dir(tmp_path / "other")  # another dir is free
    finally:
        os.close(fd)


def test_a_sigkilled_holder_leaves_the_dir_free(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from streams.datadir import lock_data_dir; lock_data_dir(Path(sys.argv[1])); "
                               "print('held', flush=True); time.sleep(60)", str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirInUse):
            lock_data_dir(tmp_path)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    assert (tmp_path / LOCK_NAME).exists()  # the file stays, the lock does not
    os.close(lock_data_dir(tmp_path))


def test_a_store_filled_from_another_changelog_is_removed(tmp_path):
    from streams.datadir import drop_foreign_store

    tables = tmp_path / "v1" / "tables" / "deal_state-0.db"
    tables.mkdir(parents=True)
    assert not drop_foreign_store(tmp_path, "id-A")  # no origin recorded yet: kept, recorded
    assert tables.exists()
    assert not drop_foreign_store(tmp_path, "id-A")  # the same log: kept (a restart)
    assert tables.exists()
    assert drop_foreign_store(tmp_path, "id-B")  # a reset broker: the old store goes
    assert not (tmp_path / "v1").exists() and (tmp_path / "changelog.id").read_text().strip() == "id-B"
