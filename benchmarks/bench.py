"""`make bench`: the whole pipeline against the framework's and the broker's own limits.

Starts the project's Kafka (own port and state folder), measures on it a bare
confluent-kafka consumer and a trivial Faust forwarding agent with the project's Faust
settings (and, with --faust-before, with Faust's defaults), then `leakwatch worker`
(--workers processes of one consumer group, one `leakwatch sink`) with the embedded
classifier (grace period 0: the pipeline is measured, not the wait for
late transcripts). Two phases of realistic simulated traffic (deals with calls,
transcripts and activities; --lost-share of them lost, the others open or won):

1. steady: --rate events/s for --rate-seconds: produce → stored latency without a backlog;
2. saturation: --events produced as one burst: events/s through the worker (until its
   committed offsets reach the end of the inputs), refusals/s, produce → stored latency.

Then the worker is restarted (SIGTERM, start again) and `recovery_s` is the time from the
new process to a freshly produced refusal being visible.

"Stored" means visible to the boards' reads, through whatever process owns ClickHouse
(`stored_refusals`): the k-th target refusal produced is matched with the moment the k-th
became visible (the cards count refusals, not ids; partitions may reorder a little, so
single latencies are approximate and the percentiles are what counts).

The last line printed is ONE JSON object with every figure. The machine is shared: CPU
seconds are reported too (`worker_cpu_s`), and ratios are taken in the same run.
Run: .venv/bin/python benchmarks/bench.py [--events 200000] [--rate 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import baselines  # noqa: E402
from benchmarks.kafka_setup import proc_figures  # noqa: E402,F401 (burst, recovery import it from here)
from schemas import topics  # noqa: E402
from services.kafka_out import EventProducer  # noqa: E402
from services.simulator.scripts import load_scripts  # noqa: E402
from services.simulator.traffic import live_deals  # noqa: E402
from tests.support.kafka_io import group_lag  # noqa: E402
from streams.topology import REFUSAL_REQUESTS  # noqa: E402
from tests.support.servers import ROOT as REPO, KafkaBroker, WorkerProcess  # noqa: E402


# ---------------------------------------------------------------------------------------
# "Stored": the one place that knows who serves ClickHouse's reads. Today the worker owns
# chdb and answers /cards; once a separate sink owns it, point `reader_url` at the sink
# (same /cards contract).
def stored_refusals(reader_url: str, since: float) -> int:
    """Target refusals visible in ClickHouse lost since `since` (epoch seconds)."""
    r = httpx.get(f"{reader_url}/cards", params={"from": f"{since:.0f}", "to": f"{since + 86400 * 2:.0f}"},
                  timeout=60)
    r.raise_for_status()
    return int(r.json()["card1"]["total"])
# ---------------------------------------------------------------------------------------


@dataclass
class Stream:
    """Serialized simulated events in produce order; which of them end a target refusal."""

    items: list[tuple[str, bytes, bytes, bool]] = field(default_factory=list)
    deals: int = 0
    lost: int = 0
    lost_ids: list[str] = field(default_factory=list)  # every deal that ends lost (target or not)

    @property
    def target_refusals(self) -> int:
        return sum(1 for *_, t in self.items if t)


def simulated_stream(events: int | None, *, lost_share: float, seed: int, lost_deals: int | None = None) -> Stream:
    """Realistic traffic: every deal is created and talked to (calls with transcripts, chats,
    tasks, materials); `lost_share` of the deals end lost, a quarter of target ones won, the
    rest stay open (their closing event is left out), as in a CRM where most deals are live.
    Stops at `events` events, or once `lost_deals` deals ended lost."""
    out = Stream()
    for deal in live_deals(load_scripts(), seed=seed, review_share=0.0):
        if (events is not None and len(out.items) >= events) or (lost_deals is not None and out.lost >= lost_deals):
            break
        spec, last = deal[-1]
        ends_lost = spec is topics.DEALS and last.type == "lost"
        keep_lost = ends_lost and out.lost < lost_share * (out.deals + 1)
        if ends_lost and not keep_lost:
            deal = deal[:-1]  # still open
        out.deals += 1
        out.lost += keep_lost
        if keep_lost:
            out.lost_ids.append(str(last.deal_id))
        target = not deal[0][1].is_spam  # the simulator marks spam on the created event
        for i, (spec, event) in enumerate(deal):
            key = str(getattr(event, spec.key_field)).encode()
            is_refusal = keep_lost and target and i == len(deal) - 1
            out.items.append((spec.name, key, event.model_dump_json(exclude_none=True).encode(), is_refusal))
    return out


def probe_refusal(seed: int) -> Stream:
    """One target deal that ends lost."""
    for n in range(1000):
        probe = simulated_stream(1, lost_share=1.0, seed=seed + n)
        if probe.target_refusals:
            return probe
    raise RuntimeError("the simulator made no target refusal")


def percentiles_ms(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    ordered = sorted(values)
    pick = lambda p: ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]  # noqa: E731
    return {"p50": round(pick(50) * 1000), "p95": round(pick(95) * 1000), "p99": round(pick(99) * 1000),
            "n": len(values)}


class VisibleRefusals(threading.Thread):
    """Polls `stored_refusals` and keeps (time, count) whenever the count grows."""

    def __init__(self, reader_url: str, since: float, interval_s: float = 1.0):
        super().__init__(daemon=True)
        self.url, self.since, self.interval = reader_url, since, interval_s
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        last = -1
        while not self._halt.is_set():
            try:
                n = stored_refusals(self.url, self.since)
            except httpx.HTTPError:
                n = last
            now = time.time()
            if n > last:
                self.samples.append((now, n))
                last = n
            self._halt.wait(self.interval)

    @property
    def count(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def wait_for(self, n: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.count < n and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.count >= n

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def latencies(self, produced_at: list[float], base: int) -> list[float]:
        """k-th produced refusal ↔ the moment the (base + k)-th became visible."""
        out, i = [], 0
        for k, sent in enumerate(produced_at, start=base + 1):
            while i < len(self.samples) and self.samples[i][1] < k:
                i += 1
            if i == len(self.samples):
                break
            out.append(max(0.0, self.samples[i][0] - sent))
        return out


class Produce:
    def __init__(self, broker: KafkaBroker, prefix: str):
        self.producer = EventProducer(broker.bootstrap, topic_prefix=prefix)

    def burst(self, stream: Stream) -> list[float]:
        produced = []
        for topic, key, value, refusal in stream.items:
            self.producer.send_raw(topic, key, value)
            if refusal:
                produced.append(time.time())
        self.producer.flush(120)
        return produced

    def at_rate(self, stream: Stream, rate: float) -> list[float]:
        """Paced in 10 ms steps; a refusal's time is taken when its step is flushed."""
        produced, started, sent = [], time.time(), 0
        items = stream.items
        while sent < len(items):
            due = min(len(items), int((time.time() - started) * rate) + 1)
            refusals = 0
            for topic, key, value, refusal in items[sent:due]:
                self.producer.send_raw(topic, key, value)
                refusals += refusal
            sent = due
            self.producer.flush(60)
            produced += [time.time()] * refusals
            time.sleep(max(0.0, started + sent / rate - time.time()))
        return produced


def faust_child_pid(worker: WorkerProcess) -> int | None:
    """The Faust process to watch: `leakwatch worker` itself (it runs Faust in-process), or
    its child if it ever supervises one (before, this returned None: CPU figures of 0)."""
    if not worker.proc:
        return None
    try:
        children = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else worker.proc.pid


def wait_shared(workers: list[WorkerProcess], topic: str, partitions: int, timeout_s: float) -> None:
    """Until every worker holds some partitions of `topic` and together all of them, so the
    group's rebalance is over before anything is measured."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            held = [w.assigned(topic) for w in workers]
        except httpx.HTTPError:  # a worker between its start and its first assignment
            held = [set()]
        if all(held) and len(set().union(*held)) == partitions:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the workers did not share the {partitions} partitions of {topic} in {timeout_s:.0f}s")


def workers_cpu_s(workers: list[WorkerProcess]) -> float:
    return sum(proc_figures(faust_child_pid(w))[1] for w in workers)


def workers_peak_rss_mb(workers: list[WorkerProcess]) -> float:
    """The largest worker's peak RSS (each process holds its own share of the table)."""
    return max(proc_figures(faust_child_pid(w))[0] for w in workers)


def wait_committed(broker: KafkaBroker, worker: WorkerProcess, timeout_s: float, *, requests: bool = False) -> bool:
    """Until the worker's group has committed everything on the inputs (and, with
    `requests`, on its refusal requests: a request is committed once its record is out)."""
    names = [worker.topic_prefix + s.name for s in topics.INPUTS]
    if requests:
        names.append(worker.topic_prefix + REFUSAL_REQUESTS)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if group_lag(broker.bootstrap, worker.env["LEAKWATCH_APP_ID"], names) == 0:
            return True
        time.sleep(0.5)
    return False


def caught_up_at(watch: "VisibleRefusals", before: int) -> float:
    """When the probe became visible (or, judged not target, when the pipeline was done)."""
    grown = [t for t, n in watch.samples if n > before]
    return grown[0] if grown else time.time()


def wait_stored(watch: "VisibleRefusals", broker: KafkaBroker, worker: WorkerProcess, expected: int,
                timeout_s: float) -> None:
    """Until `expected` refusals are visible, or the pipeline is done and the count has
    settled (the classifier may judge a simulated target deal not target: it never shows)."""
    deadline = time.monotonic() + timeout_s
    while watch.count < expected and time.monotonic() < deadline:
        if wait_committed(broker, worker, 5, requests=True):
            seen = watch.count
            time.sleep(3 * watch.interval + 2)
            if watch.count == seen:
                return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="events in the saturation burst")
    parser.add_argument("--rate", type=float, default=2000.0, help="events/s offered in the steady phase")
    parser.add_argument("--rate-seconds", type=float, default=30.0, help="length of the steady phase")
    parser.add_argument("--lost-share", type=float, default=0.15, help="share of deals that end lost")
    parser.add_argument("--baseline-messages", type=int, default=30_000)
    parser.add_argument("--faust-before", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure the trivial agent with Faust's default settings")
    parser.add_argument("--kafka-port", type=int, default=39092)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes in one consumer group (partitions >= workers; one sink)")
    parser.add_argument("--timeout-s", type=float, default=3600.0, help="bound of each wait")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not 1 <= args.workers <= args.partitions:
        parser.error("--workers must be between 1 and --partitions (a worker without a partition stands idle)")
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731

    broker = KafkaBroker(port=args.kafka_port, state_dir=REPO / ".local" / "bench-kafka")
    broker.start()
    tmp = Path(tempfile.mkdtemp(prefix="leakwatch-bench-"))
    worker = WorkerProcess.configure(broker, tmp, grace_period_s="0", topic_partitions=str(args.partitions))
    workers = [worker] + [worker.peer(f"worker-{i}") for i in range(2, args.workers + 1)]
    result: dict = {"events": args.events, "rate_offered": args.rate, "partitions": args.partitions,
                    "workers": args.workers,
                    "cores": os.cpu_count(), "load_avg_start": round(os.getloadavg()[0], 1)}
    watch = None
    try:
        say("baselines …")
        topic = f"bench-baseline-{os.getpid()}"
        baselines.create_topics(broker.bootstrap, [topic], args.partitions)
        baselines.fill(broker.bootstrap, topic, args.baseline_messages)
        result["baseline_bare_msgs_per_s"] = round(baselines.bare_consumer_rate(broker.bootstrap, topic,
                                                                                args.baseline_messages))
        faust = baselines.faust_forward_rate(broker.bootstrap, topic, args.baseline_messages,
                                             partitions=args.partitions)
        result["baseline_faust_msgs_per_s"] = round(faust["msgs_per_s"])
        result["baseline_faust_msgs_per_cpu_s"] = round(faust["msgs_per_cpu_s"])
        if args.faust_before:
            before = baselines.faust_forward_rate(broker.bootstrap, topic, args.baseline_messages,
                                                  partitions=args.partitions, faust_defaults=True)
            result["baseline_faust_defaults_msgs_per_s"] = round(before["msgs_per_s"])
            result["baseline_faust_defaults_msgs_per_cpu_s"] = round(before["msgs_per_cpu_s"])
        say(json.dumps(result))

        steady = simulated_stream(int(args.rate * args.rate_seconds), lost_share=args.lost_share, seed=args.seed)
        burst = simulated_stream(args.events, lost_share=args.lost_share, seed=args.seed + 1)
        say(f"streams ready: steady {len(steady.items)} events, burst {len(burst.items)} events "
            f"({burst.deals} deals, {burst.lost} lost, {burst.target_refusals} target refusals)")

        for w in workers:
            w.start(timeout_s=args.timeout_s)
        wait_shared(workers, worker.topic_prefix + topics.DEALS.name, args.partitions, args.timeout_s)
        since = time.time() - 3600
        watch = VisibleRefusals(worker.url, since)
        watch.start()
        produce = Produce(broker, worker.topic_prefix)
        peak_rss = 0.0
        sampler_stop = threading.Event()

        def sample_rss():
            nonlocal peak_rss
            while not sampler_stop.wait(1.0):
                peak_rss = max(peak_rss, workers_peak_rss_mb(workers))
        threading.Thread(target=sample_rss, daemon=True).start()

        say(f"steady phase: {args.rate:g} events/s for {args.rate_seconds:g}s …")
        base = watch.count
        sent = produce.at_rate(steady, args.rate)
        wait_stored(watch, broker, worker, base + len(sent), args.timeout_s)
        result["latency_ms_at_rate"] = percentiles_ms(watch.latencies(sent, base))

        say(f"saturation phase: {len(burst.items)} events …")
        base = watch.count
        cpu_before = workers_cpu_s(workers)
        started = time.time()
        sent = produce.burst(burst)
        result["produce_s"] = round(time.time() - started, 1)
        committed = wait_committed(broker, worker, args.timeout_s)
        consumed_s = time.time() - started
        wait_stored(watch, broker, worker, base + len(sent), args.timeout_s)
        stored_s = (watch.samples[-1][0] if watch.samples else time.time()) - started
        cpu_after = workers_cpu_s(workers)
        peak_rss = max(peak_rss, workers_peak_rss_mb(workers))
        result["events_per_s"] = round(len(burst.items) / consumed_s) if committed else None
        result["worker_cpu_s"] = round(cpu_after - cpu_before, 1)
        result["events_per_worker_cpu_s"] = round(len(burst.items) / max(cpu_after - cpu_before, 1e-9))
        lat = watch.latencies(sent, base)
        result["latency_ms_at_saturation"] = percentiles_ms(lat)
        visible = [t for t, n in watch.samples if n > base]
        flowing_s = (visible[-1] - visible[0]) if len(visible) > 1 else 0.0
        result["refusals"] = watch.count - base
        result["refusals_per_s"] = round((watch.count - base) / flowing_s, 1) if flowing_s else None
        result["refusals_per_s_end_to_end"] = round((watch.count - base) / stored_s, 1)
        result["rss_mb_peak"] = round(peak_rss)  # of one worker process (the largest)
        say(json.dumps(result))

        say("restart …")
        sampler_stop.set()
        watch.stop()
        for w in reversed(workers):
            w.stop()
        restart_at = time.time()
        for w in workers:
            w.start(timeout_s=args.timeout_s)
        wait_shared(workers, worker.topic_prefix + topics.DEALS.name, args.partitions, args.timeout_s)
        probe = probe_refusal(args.seed + 2)
        watch = VisibleRefusals(worker.url, since)
        watch.start()
        time.sleep(1.0)
        before = watch.count
        produce.burst(probe)
        wait_stored(watch, broker, worker, before + probe.target_refusals, args.timeout_s)
        result["recovery_s"] = round(caught_up_at(watch, before) - restart_at, 1)
        result["deals_in_table"] = steady.deals + burst.deals + probe.deals

        faust_rate = result.get("baseline_faust_msgs_per_s")
        if result.get("events_per_s") and faust_rate:
            result["ratio_vs_faust"] = round(result["events_per_s"] / faust_rate, 2)
        if result.get("events_per_s") and result.get("baseline_bare_msgs_per_s"):
            result["ratio_vs_bare"] = round(result["events_per_s"] / result["baseline_bare_msgs_per_s"], 4)
        result["load_avg_end"] = round(os.getloadavg()[0], 1)
    finally:
        if watch:
            watch.stop()
        for w in reversed(workers):  # the first one owns the sink: stopped last
            w.stop()
        broker.stop()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
