"""The enrich agent's per-event work without Kafka: decode, read the state from the table's
stored form, fold, write it back. Shows what each step costs and how it grows with a
deal's history (the simulator's deals, events interleaved across deals as on a topic).

Run: .venv/bin/python benchmarks/enrich_fold.py [--events 50000] [--batch 1000] [--profile]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from benchmarks.bench import simulated_stream  # noqa: E402
from schemas.decoding import decode  # noqa: E402
from schemas.topics import BY_NAME  # noqa: E402
from streams.agents.enrich import DealStates  # noqa: E402


class DictTable(dict):
    """What Faust's memory:// table does on a write: keep the value, and serialize it for the
    changelog (Faust's json codec is orjson)."""

    changelog_bytes = 0
    writes = 0

    def __setitem__(self, key, value):
        DictTable.changelog_bytes += len(orjson.dumps(value))
        DictTable.writes += 1
        super().__setitem__(key, value)


class RocksLikeTable(DictTable):
    """What Faust's rocksdb:// table does: the value is stored serialized and every read
    decodes a new dict (so `DealStates`' parsed-state cache never hits)."""

    def __setitem__(self, key, value):
        DictTable.changelog_bytes += len(orjson.dumps(value))
        DictTable.writes += 1
        dict.__setitem__(self, key, orjson.dumps(value))

    def get(self, key, default=None):
        raw = super().get(key)
        return orjson.loads(raw) if raw is not None else default


def run(events, *, cache_size: int, batch: int = 0, table_cls=DictTable) -> dict:
    """batch 0: one event at a time (`fold`, the agent before batching); else `fold_batch`
    over consecutive slices of that many events (the agent's `noack_take` batches)."""
    table = table_cls()
    DictTable.changelog_bytes = DictTable.writes = 0
    states = DealStates(table, cache_size=cache_size)
    started = time.process_time()  # CPU time: the machine is shared, wall time is noise
    if batch:
        for i in range(0, len(events), batch):
            states.fold_batch([(decode(BY_NAME[topic], value, key=key, partition=0, offset=0), None)
                               for topic, key, value, _ in events[i:i + batch]])
    else:
        for topic, key, value, _ in events:
            decoded = decode(BY_NAME[topic], value, key=key, partition=0, offset=0)
            states.fold(decoded)
    elapsed = time.process_time() - started
    return {"events_per_cpu_s": round(len(events) / elapsed), "changelog_kb_per_event":
            round(DictTable.changelog_bytes / len(events) / 1024, 2), "writes_per_event":
            round(DictTable.writes / len(events), 3), "deals": len(table)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1000, help="events per batch of the batched run")
    parser.add_argument("--profile", action="store_true", help="cProfile (CPU time) of the cached run")
    args = parser.parse_args()
    stream = simulated_stream(args.events, lost_share=0.15, seed=3)
    # Interleave deals as they arrive on a topic: round-robin over 200 deals in flight.
    by_deal: dict[bytes, list] = {}
    for item in stream.items:
        by_deal.setdefault(item[1], []).append(item)
    queues, events = list(by_deal.values()), []
    for start in range(0, len(queues), 200):
        window = queues[start:start + 200]
        while any(window):
            for q in window:
                if q:
                    events.append(q.pop(0))
    print(f"{len(events)} events, {len(by_deal)} deals")
    print("no cache (validate the stored dict on every event):", run(events, cache_size=0))
    print("RocksDB-like store, one event at a time:           ", run(events, cache_size=0, table_cls=RocksLikeTable))
    print(f"RocksDB-like store, batches of {args.batch}:            ",
          run(events, cache_size=0, batch=args.batch, table_cls=RocksLikeTable))
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    print("cache of parsed states:                           ", run(events, cache_size=10_000))
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
