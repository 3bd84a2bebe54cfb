"""The enrich agent's per-event work without Kafka: decode, read the state from the table's
stored form, fold, write it back. Shows what each step costs and how it grows with a
deal's history (the simulator's deals, events interleaved across deals as on a topic).

Run: .venv/bin/python benchmarks/enrich_fold.py [--events 50000] [--profile]
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

    def __setitem__(self, key, value):
        DictTable.changelog_bytes += len(orjson.dumps(value))
        super().__setitem__(key, value)


def run(events, *, cache_size: int) -> dict:
    table = DictTable()
    DictTable.changelog_bytes = 0
    states = DealStates(table, cache_size=cache_size)
    started = time.process_time()  # CPU time: the machine is shared, wall time is noise
    for topic, key, value, _ in events:
        decoded = decode(BY_NAME[topic], value, key=key, partition=0, offset=0)
        states.fold(decoded)
    elapsed = time.process_time() - started
    return {"events_per_cpu_s": round(len(events) / elapsed), "changelog_kb_per_event":
            round(DictTable.changelog_bytes / len(events) / 1024, 2), "deals": len(table)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
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
