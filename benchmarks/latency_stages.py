"""Where a refusal's latency goes at a steady offered rate, stage by stage, and who holds the cores.

    .venv/bin/python benchmarks/latency_stages.py [--rate 300] [--seconds 25] [--setting NAME=VALUE ...]

Starts its own Kafka, one `leakwatch worker` and the sink (grace period 0), waits until the
worker holds every partition, offers simulated traffic at --rate events/s for --warmup-seconds
(not measured: a fresh broker's JVM compiles its hot paths for the first ~40 s of traffic, and
took 0.91 → 0.55 → 0.32 → 0.17 of a core in 10 s windows at 500 events/s), waits until that is
stored, then offers --seconds more and prints:
- the CPU share (cores) of the worker, the sink, the broker and this producer during the
  offered phase, and the whole machine's (/proc/stat);
- the classifier's seconds per batch and per refusal (the worker's own histogram);
- per stage, from the record timestamps on the topics (per deal: its last event on `deals`,
  its newest refusal request, its newest record on `refusals.classified`) and the cards' reads:
  lost event → request, request → record, produce → visible.
The last line is one JSON object. A diagnostic next to `make bench`, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from confluent_kafka import Consumer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench import (  # noqa: E402
    Produce, VisibleRefusals, percentiles_ms, simulated_stream, wait_shared, wait_stored,
)
from benchmarks.kafka_setup import proc_figures  # noqa: E402
from schemas import topics  # noqa: E402
from streams.topology import REFUSAL_REQUESTS  # noqa: E402
from tests.support.servers import ROOT as REPO, KafkaBroker, WorkerProcess  # noqa: E402

STATE_DIR = REPO / ".local" / "latency-kafka"


def machine_cpu_s() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = [int(v) for v in fields[:3] + fields[5:8]]  # user nice system, irq softirq steal
    return sum(busy) / os.sysconf("SC_CLK_TCK")


def broker_pid() -> int | None:
    found = subprocess.run(["pgrep", "-f", str(STATE_DIR)], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


def newest_timestamps(bootstrap: str, topic: str, idle_s: float = 5.0) -> dict[str, float]:
    """Key → timestamp (s) of its newest record on `topic`."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"latency-stages-{os.getpid()}-{topic}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    out, last = {}, time.monotonic()
    try:
        while time.monotonic() - last < idle_s:
            msg = consumer.poll(0.5)
            if msg is None or msg.error() or msg.key() is None:
                continue
            last = time.monotonic()
            out[msg.key().decode()] = msg.timestamp()[1] / 1000
    finally:
        consumer.close()
    return out


def classifier_seconds(worker_url: str) -> tuple[float, float]:
    """(sum of seconds, number of batches) of the worker's classification histogram."""
    total = batches = 0.0
    for line in httpx.get(f"{worker_url}/metrics", timeout=10).text.splitlines():
        if line.startswith("leakwatch_classification_seconds_sum"):
            total += float(line.rsplit(" ", 1)[1])
        elif line.startswith("leakwatch_classification_seconds_count"):
            batches += float(line.rsplit(" ", 1)[1])
    return total, batches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=300.0, help="events/s offered")
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--warmup-seconds", type=float, default=45.0)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--kafka-port", type=int, default=39093)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a worker setting without the LEAKWATCH_ prefix, e.g. classifier_blas_threads=2")
    args = parser.parse_args()
    settings = dict(s.split("=", 1) for s in args.setting)

    broker = KafkaBroker(port=args.kafka_port, state_dir=STATE_DIR)
    broker.start()
    tmp = Path(tempfile.mkdtemp(prefix="leakwatch-latency-"))
    worker = WorkerProcess.configure(broker, tmp, grace_period_s="0", topic_partitions=str(args.partitions),
                                     **settings)
    result: dict = {"rate_offered": args.rate, "seconds": args.seconds, "settings": settings,
                    "load_avg_start": round(os.getloadavg()[0], 1)}
    watch = None
    try:
        worker.start(timeout_s=600)
        wait_shared([worker], worker.topic_prefix + topics.DEALS.name, args.partitions, 120)
        warmup = simulated_stream(int(args.rate * args.warmup_seconds), lost_share=0.15, seed=8)
        stream = simulated_stream(int(args.rate * args.seconds), lost_share=0.15, seed=7)
        watch = VisibleRefusals(worker.url, time.time() - 3600, interval_s=1.0)
        watch.start()
        produce = Produce(broker, worker.topic_prefix)
        if warmup.items:
            print(f"warm-up: {args.rate:g} events/s for {args.warmup_seconds:g}s …", file=sys.stderr, flush=True)
            sent = produce.at_rate(warmup, args.rate)
            wait_stored(watch, broker, worker, watch.count + len(sent), 600)
        time.sleep(1.0)
        base = watch.count
        total0, batches0 = classifier_seconds(worker.worker_url)
        pids = {"worker": worker.proc.pid, "sink": worker.sink_proc.pid, "broker": broker_pid(),
                "producer": os.getpid()}
        cpu0, machine0, started = {k: proc_figures(p)[1] for k, p in pids.items()}, machine_cpu_s(), time.time()
        sent = produce.at_rate(stream, args.rate)
        elapsed = time.time() - started
        result["cores"] = {k: round((proc_figures(p)[1] - cpu0[k]) / elapsed, 2) for k, p in pids.items()}
        result["cores"]["machine"] = round((machine_cpu_s() - machine0) / elapsed, 2)
        print(json.dumps(result["cores"]), file=sys.stderr, flush=True)
        wait_stored(watch, broker, worker, base + len(sent), 600)
        total, batches = classifier_seconds(worker.worker_url)
        total, batches = total - total0, batches - batches0

        prefix = worker.topic_prefix
        lost = newest_timestamps(broker.bootstrap, prefix + topics.DEALS.name)
        requested = newest_timestamps(broker.bootstrap, prefix + REFUSAL_REQUESTS)
        measured = set(stream.lost_ids)  # the warm-up's deals left out
        classified = {k: t for k, t in newest_timestamps(broker.bootstrap, prefix + topics.CLASSIFIED.name).items()
                      if k in measured}
        result["records"] = len(classified)
        result["classifier_s_per_batch"] = round(total / batches, 3) if batches else None
        result["classifier_ms_per_refusal"] = round(1000 * total / len(classified)) if classified else None
        result["lost_to_request_ms"] = percentiles_ms([requested[k] - lost[k] for k in classified
                                                       if k in requested and k in lost])
        result["request_to_record_ms"] = percentiles_ms([classified[k] - requested[k] for k in classified
                                                         if k in requested])
        result["produce_to_visible_ms"] = percentiles_ms(watch.latencies(sent, base))
        result["load_avg_end"] = round(os.getloadavg()[0], 1)
    finally:
        if watch:
            watch.stop()
        worker.stop()
        broker.stop()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
