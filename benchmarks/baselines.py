"""What the broker and the framework alone do on this machine, for `make bench`'s ratios.

* `bare_consumer_rate`: a bare confluent-kafka consumer reading N messages (the broker's
  and the client's ceiling);
* `faust_forward_rate`: a trivial Faust agent that forwards each message to another topic,
  built with the project's own Faust settings (`streams.app.faust_app`), optionally with
  setting overrides (`--set name=value`), or with Faust's defaults for the settings the
  project tunes (`faust_defaults=True`, the "before" figure).

The Faust agent runs in its own process (`python benchmarks/baselines.py faust-child`):
it times from its first message to the N-th forwarded one, after the producer flushed,
and writes the figure to a file, so start-up and the group join are not counted.

Run alone: python benchmarks/baselines.py --bootstrap 127.0.0.1:39092 [--messages 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from confluent_kafka import Consumer, Producer  # noqa: E402

from benchmarks.kafka_setup import create_leader_topic, create_topics, free_port, run_child  # noqa: E402

# The Faust settings the project tunes in streams/app.py, at Faust's own defaults: the
# "before" figure of the trivial agent.
FAUST_DEFAULTS = {
    "stream_buffer_maxsize": 4096,
    "stream_wait_empty": True,
    "broker_commit_every": 10_000,
    "broker_commit_interval": 2.8,
    "producer_linger": 0.0,
    "producer_max_batch_size": 16384,
    "broker_max_poll_records": None,
}


def fill(bootstrap: str, topic: str, n: int, size: int = 355) -> None:
    """N keyed JSON messages of about `size` bytes (the simulator's events average 355 B)."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "lz4",
                         "partitioner": "murmur2_random", "acks": "all"})
    pad = "x" * max(0, size - 60)
    for i in range(n):
        value = json.dumps({"event_id": f"e{i}", "deal_id": f"D-{i % 5000}", "pad": pad}).encode()
        while True:
            try:
                producer.produce(topic, key=f"D-{i % 5000}".encode(), value=value)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)


def bare_consumer_rate(bootstrap: str, topic: str, n: int) -> float:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bare-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen, started = 0, None
    deadline = time.monotonic() + 300
    while seen < n and time.monotonic() < deadline:
        for msg in consumer.consume(1000, timeout=1.0):
            if msg.error():
                continue
            if started is None:
                started = time.perf_counter()
            seen += 1
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    return seen / elapsed if elapsed > 0 else 0.0


def faust_forward_rate(bootstrap: str, topic: str, n: int, *, partitions: int, faust_defaults: bool = False,
                       overrides: dict | None = None, timeout_s: float = 600) -> float:
    """Messages/s of a trivial forwarding agent in its own process (see the module doc)."""
    tmp = Path(tempfile.mkdtemp(prefix="lw-faust-baseline-"))
    out = tmp / "result.json"
    settings = dict(FAUST_DEFAULTS) if faust_defaults else {}
    settings.update(overrides or {})
    cmd = [sys.executable, str(Path(__file__).resolve()), "faust-child", "--bootstrap", bootstrap, "--topic", topic,
           "--messages", str(n), "--partitions", str(partitions), "--out", str(out),
           "--settings", json.dumps(settings), "--datadir", str(tmp / "faust")]
    return run_child(cmd, out, tmp / "faust.log", timeout_s, what="the Faust baseline")


def _faust_child(args) -> None:
    from faust.worker import Worker

    from leakwatch.logs import configure_logging
    from leakwatch.settings import Settings
    from streams.app import faust_app

    app_id = f"faust-baseline-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap=args.bootstrap, app_id=app_id, topic_partitions=args.partitions,
                        worker_data_dir=Path(args.datadir), worker_web_port=free_port())
    app = faust_app(settings)
    for name, value in json.loads(args.settings).items():
        setattr(app.conf, name, value)
    source = app.topic(args.topic, key_type=bytes, value_type=bytes)
    sink_name = f"{app_id}-out"
    sink = app.topic(sink_name, key_type=bytes, value_type=bytes)
    state = {"seen": 0, "started": None, "cpu": None}

    @app.agent(source)
    async def forward(stream):
        async for event in stream.events():
            if state["started"] is None:
                state["started"], state["cpu"] = time.perf_counter(), time.process_time()
            await sink.send(key=event.key, value=event.value)
            state["seen"] += 1
            if state["seen"] == args.messages:
                await app.producer.flush()
                elapsed = time.perf_counter() - state["started"]
                cpu = time.process_time() - state["cpu"]
                Path(args.out).write_text(json.dumps({"msgs_per_s": args.messages / elapsed,
                                                      "msgs_per_cpu_s": args.messages / cpu}))

    create_topics(args.bootstrap, [sink_name], args.partitions)
    create_leader_topic(args.bootstrap, app_id)
    print("faust settings:", {k: getattr(app.conf, k) for k in FAUST_DEFAULTS}, flush=True)
    # As `leakwatch worker` runs it (streams/cli.py): at "warning" Faust's start-up spinner
    # would set the root logger to DEBUG, and every debug call would build a record.
    configure_logging(args.loglevel)
    Worker(app, loglevel=args.loglevel, quiet=True, redirect_stdouts=False).execute_from_commandline()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="run", choices=("run", "faust-child"))
    parser.add_argument("--bootstrap", default="127.0.0.1:39092")
    parser.add_argument("--topic")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--out")
    parser.add_argument("--datadir")
    parser.add_argument("--settings", default="{}")
    parser.add_argument("--loglevel", default="info")
    parser.add_argument("--variant", action="append", default=[],
                        help='Faust setting overrides as JSON, e.g. {"producer_linger": 0.01}; one run each')
    parser.add_argument("--faust-defaults", action="store_true")
    args = parser.parse_args()
    if args.mode == "faust-child":
        _faust_child(args)
        return 0
    topic = f"baseline-{uuid.uuid4().hex[:8]}"
    create_topics(args.bootstrap, [topic], args.partitions)
    fill(args.bootstrap, topic, args.messages)
    print(json.dumps({"bare_msgs_per_s": round(bare_consumer_rate(args.bootstrap, topic, args.messages))}), flush=True)
    variants = [json.loads(v) for v in args.variant] or [{}]
    for overrides in variants:
        figures = faust_forward_rate(args.bootstrap, topic, args.messages, partitions=args.partitions,
                                     faust_defaults=args.faust_defaults, overrides=overrides)
        print(json.dumps({"messages": args.messages, "base": "faust defaults" if args.faust_defaults else "project",
                          "overrides": overrides, **{k: round(v) for k, v in figures.items()}}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
