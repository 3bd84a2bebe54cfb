"""The deal-state table's recovery alone, per table store, without the classifier's warm-up.

Fills a changelog with N realistic deal states (as benchmarks/recovery.py does), then
starts a Faust app with the project's settings (`streams.app.faust_app`), the same table
definition and one idle agent, twice on the same data folder: the first start and a
restart. Faust starts timers only once table recovery is complete, so a timer's first
tick is the moment the worker could process events again. memory:// replays the whole
changelog at every start; rocksdb:// fills its local store on the first start and reads
only what is newer on the restart.

Run: .venv/bin/python benchmarks/table_recovery.py --deals 20000 [--store memory:// rocksdb://]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.kafka_setup import broker_on, create_leader_topic, create_topics, free_port, run_child  # noqa: E402
from benchmarks.recovery import fill_changelog  # noqa: E402


def _child(args) -> None:
    import faust
    from faust.worker import Worker

    from leakwatch.logs import configure_logging
    from leakwatch.settings import Settings
    from streams.app import faust_app
    from streams.topology import DEAL_STATE_TABLE

    started = time.time()
    settings = Settings(kafka_bootstrap=args.bootstrap, app_id=args.app_id, topic_partitions=args.partitions,
                        worker_data_dir=Path(args.datadir), worker_web_port=free_port(), table_store=args.store)
    app = faust_app(settings)
    source = app.topic(args.topic, key_type=bytes, value_type=bytes)
    table = app.Table(DEAL_STATE_TABLE, default=None, partitions=args.partitions,
                      schema=faust.Schema(key_serializer="json", value_serializer="json"))

    @app.agent(source)
    async def idle(stream):
        async for _ in stream:
            pass

    @app.timer(interval=0.5)
    async def recovered():
        Path(args.out).write_text(json.dumps({"ready_s": time.time() - started, "deals": len(table)}))

    configure_logging("info")
    Worker(app, loglevel="info", quiet=True, redirect_stdouts=False).execute_from_commandline()


def start_once(bootstrap: str, app_id: str, topic: str, partitions: int, store: str, datadir: Path,
               timeout_s: float) -> dict:
    out = datadir.parent / f"ready-{uuid.uuid4().hex[:6]}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "child", "--bootstrap", bootstrap, "--app-id", app_id,
           "--topic", topic, "--partitions", str(partitions), "--store", store, "--datadir", str(datadir),
           "--out", str(out)]
    figures = run_child(cmd, out, datadir.parent / "child.log", timeout_s, what="the table-recovery child",
                        settle_s=0.2, stop_wait_s=60)
    return {"ready_s": round(figures["ready_s"], 1), "cpu_s": figures["cpu_s"], "deals_loaded": figures["deals"],
            "load_avg_1m": round(os.getloadavg()[0], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="run", choices=("run", "child"))
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--store", nargs="+", default=["memory://", "rocksdb://"])
    parser.add_argument("--kafka-port", type=int, help="default: a free port")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--timeout-s", type=float, default=1800.0)
    parser.add_argument("--bootstrap")
    parser.add_argument("--app-id")
    parser.add_argument("--topic")
    parser.add_argument("--datadir")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.mode == "child":
        args.store = args.store[0] if isinstance(args.store, list) else args.store
        _child(args)
        return 0
    # A fresh broker answers NOT_COORDINATOR for a while; Faust's group join retries it.
    with broker_on(args.kafka_port, "recovery-kafka") as broker:
        for store in args.store:
            app_id = f"table-recovery-{uuid.uuid4().hex[:6]}"
            topic, changelog = f"{app_id}-input", f"{app_id}-deal_state-changelog"
            create_topics(broker.bootstrap, [topic], args.partitions)
            create_topics(broker.bootstrap, [changelog], args.partitions, config={"cleanup.policy": "compact"})
            create_leader_topic(broker.bootstrap, app_id)
            size = fill_changelog(broker.bootstrap, changelog, args.partitions, args.deals)
            datadir = Path(tempfile.mkdtemp(prefix="lw-table-recovery-")) / "faust"
            row = {"deals": args.deals, "store": store, "changelog_mb": round(size / 2**20)}
            row["first_start"] = start_once(broker.bootstrap, app_id, topic, args.partitions, store, datadir,
                                            args.timeout_s)
            row["restart"] = start_once(broker.bootstrap, app_id, topic, args.partitions, store, datadir,
                                        args.timeout_s)
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
