"""Start-up recovery with many deals in the deal-state table, per table store.

Writes N realistic deal states (folded from simulated deals: calls with transcripts,
chats, tasks) straight into the worker's changelog topic, on the partition Faust would
use, then starts `leakwatch worker` and measures the time from the process start to a
freshly produced refusal being visible to the cards' reads (`bench.stored_refusals`):
restart → caught up. For rocksdb:// the first start fills the local store from the
changelog, so the worker is restarted once more and that second start is the figure that
compares with memory:// (which replays the whole changelog at every start).

Run: .venv/bin/python benchmarks/recovery.py --deals 100000 [--store memory:// rocksdb://]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
from aiokafka.partitioner import murmur2  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

from benchmarks.bench import (VisibleRefusals, Produce, caught_up_at, faust_child_pid, probe_refusal,  # noqa: E402
                              proc_figures, wait_stored)
from leakwatch.domain.deal_state import apply_event  # noqa: E402
from schemas.decoding import decode  # noqa: E402
from schemas.topics import BY_NAME  # noqa: E402
from benchmarks.bench import simulated_stream  # noqa: E402
from streams.topology import DEAL_STATE_TABLE  # noqa: E402
from benchmarks.kafka_setup import broker_on  # noqa: E402
from tests.support.servers import KafkaBroker, WorkerProcess  # noqa: E402


def state_templates(n: int = 300) -> list[dict]:
    """Folded states of simulated deals, as the table stores them."""
    stream = simulated_stream(n * 10, lost_share=0.15, seed=11)
    states: dict[bytes, object] = {}
    for topic, key, value, _ in stream.items:
        event = decode(BY_NAME[topic], value, key=key, partition=0, offset=0)
        states[key], _ = apply_event(states.get(key), event)
    return [s.model_dump(mode="json") for s in states.values()]


def fill_changelog(bootstrap: str, topic: str, partitions: int, deals: int) -> int:
    templates = state_templates()
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "compression.type": "lz4",
                         "acks": "all", "batch.size": 1_000_000})
    size = 0
    for i in range(deals):
        deal_id = f"REC-{i:07d}"
        state = dict(templates[i % len(templates)], deal_id=deal_id)
        value = orjson.dumps(state)
        size += len(value)
        # Faust writes a table key to the partition of the event that changed it, which is
        # the deal id's partition on the input topics (Java's murmur2 partitioner).
        partition = (murmur2(deal_id.encode()) & 0x7FFFFFFF) % partitions
        while True:
            try:
                producer.produce(topic, key=orjson.dumps(deal_id), value=value, partition=partition)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(300)
    return size


def start_and_probe(worker: WorkerProcess, broker: KafkaBroker, seed: int, timeout_s: float) -> dict:
    started = time.time()
    worker.start(timeout_s=timeout_s)
    answered = time.time() - started
    watch = VisibleRefusals(worker.url, time.time() - 3600)
    watch.start()
    try:
        time.sleep(1.0)
        before = watch.count
        Produce(broker, worker.topic_prefix).burst(probe_refusal(seed))
        wait_stored(watch, broker, worker, before + 1, timeout_s)
        done = caught_up_at(watch, before)
    finally:
        watch.stop()
    pids = [p for p in (worker.proc.pid, faust_child_pid(worker)) if p]
    figures = [proc_figures(p) for p in pids]
    phases = start_phases(worker.log_path.read_text(errors="replace"), worker.starts)
    return {"recovery_s": round(done - started, 1), "http_up_s": round(answered, 1),
            "cpu_s": round(sum(cpu for _, cpu in figures), 1), "rss_mb": round(max(rss for rss, _ in figures)),
            **phases, "load_avg_1m": round(os.getloadavg()[0], 1)}


def _log_time(line: str) -> float | None:
    for stamp in (line[:23], line[1:24]):  # the project's log format, then Faust's "[...]"
        try:
            return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
        except ValueError:
            continue
    return None


def start_phases(log: str, start: int) -> dict:
    """From this start's log: seconds until Faust starts (the classifier's warm-up comes
    first) and from there until the table's recovery is complete ("Worker ready")."""
    section = log.split(f"===== start {start} =====", 1)[-1].splitlines()
    first = next((t for t in map(_log_time, section) if t), None)
    faust = next((_log_time(x) for x in section if "[^Worker]: Starting" in x), None)
    ready = next((_log_time(x) for x in section if "Worker ready" in x), None)
    if not (first and faust and ready):
        return {}
    return {"until_faust_s": round(faust - first, 1), "table_recovery_s": round(ready - faust, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, nargs="+", default=[100_000])
    parser.add_argument("--store", nargs="+", default=["memory://", "rocksdb://"])
    parser.add_argument("--kafka-port", type=int, help="default: a free port")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--timeout-s", type=float, default=1800.0)
    args = parser.parse_args()
    results = []
    # A fresh broker's NOT_COORDINATOR: each worker's start retries it (pin_start_offsets).
    with broker_on(args.kafka_port, "recovery-kafka") as broker:
        for deals in args.deals:
            for store in args.store:
                tmp = Path(tempfile.mkdtemp(prefix="leakwatch-recovery-"))
                worker = WorkerProcess.configure(broker, tmp, grace_period_s="0", table_store=store,
                                                 topic_partitions=str(args.partitions))
                subprocess.run([sys.executable, "-m", "leakwatch.cli", "topics"], env=worker.env, check=True,
                               cwd=ROOT, capture_output=True)
                changelog = f"{worker.env['LEAKWATCH_APP_ID']}-{DEAL_STATE_TABLE}-changelog"
                t0 = time.time()
                size = fill_changelog(broker.bootstrap, changelog, args.partitions, deals)
                row = {"deals": deals, "store": store, "changelog_mb": round(size / 2**20),
                       "fill_s": round(time.time() - t0, 1)}
                try:
                    row["first_start"] = start_and_probe(worker, broker, 1, args.timeout_s)
                    worker.stop()
                    row["restart"] = start_and_probe(worker, broker, 2, args.timeout_s)
                finally:
                    worker.stop()
                print(json.dumps(row), flush=True)
                results.append(row)
    print(json.dumps({"recovery": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
