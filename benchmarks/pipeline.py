"""Pipeline benchmark: events/s through one worker, and produce → stored latency.

Starts the project's Kafka (its own port and state folder), one `leakwatch worker`
process with the embedded engine and chdb, produces N simulated deals as fast as the
producer goes, then reports:
  * events/s: input events divided by the time until the worker's committed offsets
    reach the end of the input topics;
  * latency: for each lost deal, from producing its `lost` event to its record being in
    ClickHouse and on refusals.classified (`classified_at` is stamped just before the
    insert; the grace period is 0 here so only the pipeline is measured).
Run: .venv/bin/python benchmarks/pipeline.py [--deals 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas import topics  # noqa: E402
from services.kafka_out import EventProducer  # noqa: E402
from services.simulator.scripts import load_scripts  # noqa: E402
from services.simulator.traffic import live_deals  # noqa: E402
from tests.support.kafka_io import group_lag, newest_by_deal, read_topic  # noqa: E402
from tests.support.servers import ROOT, KafkaBroker, WorkerProcess  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=2000)
    parser.add_argument("--kafka-port", type=int, default=39092)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="lost deals per second (0: a burst as fast as the producer goes)")
    args = parser.parse_args()

    broker = KafkaBroker(port=args.kafka_port, state_dir=ROOT / ".local" / "bench-kafka")
    broker.start()
    tmp = Path(tempfile.mkdtemp(prefix="leakwatch-bench-"))
    worker = WorkerProcess.configure(broker, tmp, grace_period_s="0", sink_batch_seconds="0.5")
    try:
        worker.start()
        producer = EventProducer(broker.bootstrap, topic_prefix=worker.topic_prefix)
        sent_lost: dict[str, float] = {}
        events = 0
        started = time.time()
        for deal in live_deals(load_scripts(), seed=7, review_share=0.0):
            for spec, event in deal:
                producer.send(spec, event)
                events += 1
                if spec is topics.DEALS and event.type == "lost":
                    sent_lost[event.deal_id] = time.time()
            if len(sent_lost) + 1 > args.deals:
                break
            if args.rate > 0:  # steady load: latency without a backlog in front of it
                producer.flush()
                time.sleep(max(0.0, started + len(sent_lost) / args.rate - time.time()))
        producer.flush()
        produced_s = time.time() - started

        inputs = [worker.topic_prefix + s.name for s in topics.INPUTS]
        while group_lag(broker.bootstrap, worker.env["LEAKWATCH_APP_ID"], inputs) > 0:
            time.sleep(0.5)
        consumed_s = time.time() - started

        records = newest_by_deal(read_topic(broker.bootstrap, worker.topic_prefix + topics.CLASSIFIED.name, idle_s=5))
        latencies = [datetime.fromisoformat(r["classified_at"]).timestamp() - sent_lost[d]
                     for d, r in records.items() if d in sent_lost]
        mode = f"at {args.rate:g} lost deals/s" if args.rate > 0 else "as one burst"
        print(f"deals produced:            {len(sent_lost)} lost deals, {events} events in {produced_s:.1f}s ({mode})")
        print(f"worker throughput:         {events / consumed_s:,.0f} events/s (all consumed and committed in {consumed_s:.1f}s)")
        if latencies:
            print(f"produce → stored latency:  p50 {percentile(latencies, 50):.2f}s  p95 {percentile(latencies, 95):.2f}s  "
                  f"p99 {percentile(latencies, 99):.2f}s  max {max(latencies):.2f}s  (n={len(latencies)}, "
                  f"mean {statistics.mean(latencies):.2f}s)")
        return 0
    finally:
        worker.stop()
        broker.stop()


if __name__ == "__main__":
    raise SystemExit(main())
