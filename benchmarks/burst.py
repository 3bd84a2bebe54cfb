"""A burst of lost deals through the whole pipeline, until nothing is left behind.

Starts a fresh local Kafka (the project's script, a free port, its own state folder), then
`leakwatch sink` and `leakwatch worker` (embedded classifier, grace period 0: the pipeline
is measured, not the wait for late transcripts), and produces the realistic events of
--deals lost deals (services/simulator: calls with transcripts, chats, tasks, materials;
the won and open deals the simulator makes among them come along) as ONE burst. Then it
waits until all of:

* every lost deal has its record on `refusals.classified` (read from the topic);
* the worker's group has committed every partition of the topics it reads (crm.deals,
  telephony.calls, crm.activities, refusals.reviewed, and its internal refusal-requests)
  to the partition's end;
* the sink's group has committed every partition of `refusals.classified` and the internal
  won-deals to the end — the sink commits only after ClickHouse has the rows.

`seconds` runs from the first event produced to that moment. The servers are then stopped
and ClickHouse is opened to check that each lost deal has exactly one row (`missing_rows`,
`duplicate_rows`). The machine is shared: CPU seconds of the worker (its Faust process)
and of the sink during the burst are reported too.

Prints ONE JSON line (progress goes to stderr).
Run: .venv/bin/python benchmarks/burst.py [--deals 10000] [--partitions 4]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench import Produce, faust_child_pid, proc_figures, simulated_stream  # noqa: E402
from leakwatch.settings import Settings  # noqa: E402
from leakwatch.store.clickhouse import ClickHouseStore  # noqa: E402
from schemas import topics  # noqa: E402
from streams.topology import REFUSAL_REQUESTS  # noqa: E402
from tests.support.kafka_io import partition_offsets  # noqa: E402
from tests.support.servers import KafkaBroker, WorkerProcess, free_port_pair  # noqa: E402


class ClassifiedDeals(threading.Thread):
    """Reads `refusals.classified` from the beginning and keeps every deal id seen."""

    def __init__(self, bootstrap: str, topic: str, partitions: int):
        super().__init__(daemon=True)
        self.seen: set[str] = set()
        self.records = 0
        self._consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"burst-read-{os.getpid()}",
                                   "enable.auto.commit": False})
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                for m in self._consumer.consume(1000, timeout=0.5):
                    if m.error() is None:
                        self.seen.add(orjson.loads(m.value())["deal_id"])
                        self.records += 1
        finally:
            self._consumer.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


def offsets_by_topic(rows: list[tuple[str, int, int, int]], prefix: str) -> dict[str, list[list[int]]]:
    """{topic: [[committed, end] per partition]} (committed -1: never committed)."""
    out: dict[str, list[list[int]]] = {}
    for topic, partition, committed, end in sorted(rows):
        out.setdefault(topic.removeprefix(prefix), []).append([committed, end])
    return out


def behind(rows: list[tuple[str, int, int, int]]) -> int:
    return sum(max(end - max(committed, 0), 0) for *_, committed, end in rows)


def stored_rows(chdb_path: Path, deal_ids: list[str]) -> dict[str, int]:
    """Rows per deal in ClickHouse `refusals` (FINAL: what the cards read)."""
    store = ClickHouseStore.open(Settings(chdb_path=chdb_path))
    try:
        rows = store.query("SELECT deal_id, count() AS n FROM refusals FINAL WHERE deal_id IN {ids:Array(String)} "
                           "GROUP BY deal_id", {"ids": deal_ids})
    finally:
        store.close()
    return {r["deal_id"]: int(r["n"]) for r in rows}


def rss_mb(pid: int | None) -> int:
    """Resident memory now (VmRSS), MB; 0 once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return 0
    return round(next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")), 0) / 1024)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=10_000, help="lost deals in the burst")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--kafka-port", type=int, default=0, help="default: a free port")
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="bound of each wait")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731

    stream = simulated_stream(None, lost_share=1.0, seed=args.seed, lost_deals=args.deals)
    say(f"burst ready: {len(stream.items)} events of {stream.deals} deals, {stream.lost} lost "
        f"({stream.target_refusals} target)")
    tmp = Path(tempfile.mkdtemp(prefix="leakwatch-burst-"))
    broker = KafkaBroker(port=args.kafka_port or free_port_pair(), state_dir=tmp / "kafka")
    worker = WorkerProcess.configure(broker, tmp, grace_period_s="0", topic_partitions=str(args.partitions))
    prefix, app = worker.topic_prefix, worker.env["LEAKWATCH_APP_ID"]
    worker_topics = [prefix + s.name for s in topics.INPUTS] + [prefix + REFUSAL_REQUESTS]
    sink_topics = [prefix + topics.CLASSIFIED.name, prefix + topics.WON_DEALS.name]
    result: dict = {"n_deals": stream.lost, "events": len(stream.items), "deals_in_burst": stream.deals,
                    "target_refusals": stream.target_refusals, "partitions": args.partitions,
                    "cores": os.cpu_count(), "load_avg_start": round(os.getloadavg()[0], 1)}
    reader = None
    lost = set(stream.lost_ids)
    try:
        broker.start()
        worker.start(timeout_s=args.timeout_s)
        reader = ClassifiedDeals(broker.bootstrap, prefix + topics.CLASSIFIED.name, args.partitions)
        reader.start()
        faust_pid = faust_child_pid(worker)
        _, worker_cpu0 = proc_figures(faust_pid)
        # The worker's resident memory as the burst goes through: flat once the deal states
        # are bounded, or growing with every deal (quarters of the lost deals on the topic).
        rss = {"start": rss_mb(faust_pid)}
        _, sink_cpu0 = proc_figures(worker.sink_proc.pid)

        say(f"producing {len(stream.items)} events …")
        started = time.monotonic()
        Produce(broker, prefix).burst(stream)
        result["produce_s"] = round(time.monotonic() - started, 1)
        deadline = started + args.timeout_s
        complete, said = False, time.monotonic()
        try:
            while time.monotonic() < deadline:
                missing = len(lost - reader.seen)
                quarter = f"{25 * (4 * (stream.lost - missing) // stream.lost)}%"
                if quarter != "0%" and quarter not in rss:
                    rss[quarter] = rss_mb(faust_pid)
                if not missing:
                    w_rows = partition_offsets(broker.bootstrap, app, worker_topics)
                    s_rows = partition_offsets(broker.bootstrap, f"{app}-sink", sink_topics)
                    if not behind(w_rows) and not behind(s_rows):
                        complete = True
                        break
                if time.monotonic() - said > 30:
                    said = time.monotonic()
                    say(f"+{said - started:.0f}s: {stream.lost - missing}/{stream.lost} lost deals on the topic, "
                        f"worker behind {behind(partition_offsets(broker.bootstrap, app, worker_topics))}")
                time.sleep(1.0)
        except KeyboardInterrupt:  # Ctrl-C: the figures so far, marked incomplete
            say("interrupted")
        result["seconds"] = round(time.monotonic() - started, 1) if complete else None
        _, worker_cpu1 = proc_figures(faust_pid)
        _, sink_cpu1 = proc_figures(worker.sink_proc.pid)
        w_rows = partition_offsets(broker.bootstrap, app, worker_topics)
        s_rows = partition_offsets(broker.bootstrap, f"{app}-sink", sink_topics)
        result.update(
            complete=complete, missing_records=len(lost - reader.seen), records=reader.records,
            worker_cpu_s=round(worker_cpu1 - worker_cpu0, 1), sink_cpu_s=round(sink_cpu1 - sink_cpu0, 1),
            faust_process_replaced=faust_child_pid(worker) != faust_pid,
            worker_rss_mb={**rss, "end": rss_mb(faust_pid), "peak": round(proc_figures(faust_pid)[0])},
            committed_vs_end={"worker": offsets_by_topic(w_rows, prefix), "sink": offsets_by_topic(s_rows, prefix)},
            left_behind=behind(w_rows) + behind(s_rows))
        say(f"{'complete' if complete else 'NOT complete'} after {time.monotonic() - started:.0f}s")
    finally:
        if reader:
            reader.stop()
        worker.stop()
        log = worker.log_path.read_text(errors="replace") if worker.log_path.exists() else ""
        result["stall_alarms"] = log.count("offset commits stalled")
        broker.stop()
    rows = stored_rows(tmp / "chdb", sorted(lost))  # after the sink let go of chdb
    result["missing_rows"] = len(lost - rows.keys())
    result["duplicate_rows"] = sum(1 for n in rows.values() if n > 1)
    result["load_avg_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if complete and not result["missing_records"] and not result["missing_rows"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
