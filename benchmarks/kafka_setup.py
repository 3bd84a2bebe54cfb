"""The Kafka set-up the benchmarks share: a broker of their own on free ports, topics through
the admin API (the project declares none through Faust, so a bare Faust app needs its
leader topic made too), and a measuring child process run until it writes its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from leakwatch.logs import kafka_config  # noqa: E402
from tests.support.servers import KafkaBroker, free_port, free_port_pair  # noqa: E402

__all__ = ["broker_on", "create_leader_topic", "create_topics", "free_port", "run_child"]


@contextmanager
def broker_on(port: int | None, name: str) -> Iterator[KafkaBroker]:
    """deploy/local/kafka.sh's broker on `port` (None: a free pair) with its state in
    .local/<name>, stopped on the way out."""
    broker = KafkaBroker(port=port or free_port_pair(), state_dir=ROOT / ".local" / name)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def create_topics(bootstrap: str, names: list[str], partitions: int, *, config: dict[str, str] | None = None) -> None:
    admin = AdminClient(kafka_config(bootstrap))
    futures = admin.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=1, config=config or {})
                                   for n in names])
    for f in futures.values():
        f.result()


def create_leader_topic(bootstrap: str, app_id: str) -> None:
    """Faust's `<app id>-__assignor-__leader`: the project's Faust settings never declare topics."""
    create_topics(bootstrap, [f"{app_id}-__assignor-__leader"], 1)


def proc_figures(pid: int | None) -> tuple[float, float]:
    """(peak RSS in MB, CPU seconds) of a process, from /proc."""
    if pid is None:
        return 0.0, 0.0
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)
    ticks = os.sysconf("SC_CLK_TCK")
    return hwm / 1024, (int(stat[11]) + int(stat[12])) / ticks


def run_child(cmd: list[str], out: Path, log_path: Path, timeout_s: float, *, what: str,
              settle_s: float = 0.0, stop_wait_s: float = 30.0) -> dict:
    """Run `cmd` (a benchmark's own child mode) until it writes `out`, exits or times out; then
    stop it and return the figures it wrote, with `cpu_s`: the child's CPU seconds until then.
    Its output goes to `log_path` (appended). The caller's PYTHONPATH is kept after the repo's."""
    pythonpath = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    cpu_s = 0.0
    with log_path.open("a") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": pythonpath})
        try:
            deadline = time.monotonic() + timeout_s
            while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(settle_s)  # a figure file being written is complete after this
            if proc.poll() is None:
                cpu_s = proc_figures(proc.pid)[1]
        finally:
            proc.terminate()
            try:
                proc.wait(stop_wait_s)
            except subprocess.TimeoutExpired:
                proc.kill()
    if not out.exists():
        raise RuntimeError(f"{what} produced no figure; see {log_path}")
    return {**json.loads(out.read_text()), "cpu_s": round(cpu_s, 1)}
