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
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from benchmarks.baselines import _free_port  # noqa: E402
from benchmarks.bench import proc_figures  # noqa: E402
from benchmarks.recovery import fill_changelog, wait_for_coordinator  # noqa: E402
from tests.support.servers import ROOT as REPO, KafkaBroker  # noqa: E402


def _child(args) -> None:
    import faust
    from faust.worker import Worker

    from leakwatch.logs import configure_logging
    from leakwatch.settings import Settings
    from streams.app import faust_app
    from streams.topology import DEAL_STATE_TABLE

    started = time.time()
    settings = Settings(kafka_bootstrap=args.bootstrap, app_id=args.app_id, topic_partitions=args.partitions,
                        worker_data_dir=Path(args.datadir), worker_web_port=_free_port(), table_store=args.store)
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
    with (datadir.parent / "child.log").open("a") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                    [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])})
        cpu_s = 0.0
        try:
            deadline = time.monotonic() + timeout_s
            while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(0.2)
            cpu_s = proc_figures(proc.pid)[1]  # CPU seconds until recovered
        finally:
            proc.terminate()
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    if not out.exists():
        raise RuntimeError(f"no ready figure; see {datadir.parent / 'child.log'}")
    figures = json.loads(out.read_text())
    return {"ready_s": round(figures["ready_s"], 1), "cpu_s": round(cpu_s, 1), "deals_loaded": figures["deals"],
            "load_avg_1m": round(os.getloadavg()[0], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="run", choices=("run", "child"))
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--store", nargs="+", default=["memory://", "rocksdb://"])
    parser.add_argument("--kafka-port", type=int, default=39192)
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
    broker = KafkaBroker(port=args.kafka_port, state_dir=REPO / ".local" / "recovery-kafka")
    broker.start()
    try:
        wait_for_coordinator(broker.bootstrap, args.timeout_s)
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for store in args.store:
            app_id = f"table-recovery-{uuid.uuid4().hex[:6]}"
            topic, changelog = f"{app_id}-input", f"{app_id}-deal_state-changelog"
            futures = admin.create_topics([
                NewTopic(topic, num_partitions=args.partitions, replication_factor=1),
                NewTopic(changelog, num_partitions=args.partitions, replication_factor=1,
                         config={"cleanup.policy": "compact"}),
                NewTopic(f"{app_id}-__assignor-__leader", num_partitions=1, replication_factor=1)])
            for f in futures.values():
                f.result()
            size = fill_changelog(broker.bootstrap, changelog, args.partitions, args.deals)
            datadir = Path(tempfile.mkdtemp(prefix="lw-table-recovery-")) / "faust"
            row = {"deals": args.deals, "store": store, "changelog_mb": round(size / 2**20)}
            row["first_start"] = start_once(broker.bootstrap, app_id, topic, args.partitions, store, datadir,
                                            args.timeout_s)
            row["restart"] = start_once(broker.bootstrap, app_id, topic, args.partitions, store, datadir,
                                        args.timeout_s)
            print(json.dumps(row), flush=True)
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
