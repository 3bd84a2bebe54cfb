"""`leakwatch worker` runs the Faust worker; `leakwatch topics` creates the topics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def register(sub) -> None:
    worker = sub.add_parser("worker", help="run the stream worker (Faust)")
    worker.add_argument("--loglevel", default="info")
    worker.set_defaults(func=run_worker)
    topics = sub.add_parser("topics", help="create every Kafka topic with matching partitions")
    topics.set_defaults(func=create_topics)


def create_topics(args) -> int:
    from leakwatch.settings import load_settings
    from streams.topology import ensure_topics

    created = ensure_topics(load_settings())
    print(f"topics ready ({len(created)} created)")
    return 0


CHILD_ENV = "LEAKWATCH_WORKER_CHILD"


def run_worker(args) -> int:
    """Supervise: the Faust worker runs in a child process that is restarted when its
    commit watchdog asks for it (exit 75, see streams/watchdog.py); any other exit ends it."""
    if os.environ.get(CHILD_ENV):
        return serve_worker(args)
    from streams.watchdog import EXIT_RESTART

    backoff = 1.0
    while True:
        child = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "worker", "--loglevel", args.loglevel],
                                 env={**os.environ, CHILD_ENV: "1"}, preexec_fn=_die_with_parent)
        forward = lambda signum, _frame: child.send_signal(signum)  # noqa: E731
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, forward)
        code = child.wait()
        if code != EXIT_RESTART:
            return code
        print(f"leakwatch: worker asked for a restart; restarting in {backoff:.0f}s", file=sys.stderr)
        time.sleep(backoff)
        backoff = min(backoff * 2, 30.0)


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL when the supervisor dies, so a killed supervisor never
    leaves a worker holding the ClickHouse data path. prctl(2) is Linux-only: elsewhere
    (macOS, BSD) this does nothing, and a worker whose supervisor was SIGKILLed keeps running
    until it is stopped by hand (the SIGTERM/SIGINT forwarding above still stops it)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def serve_worker(args) -> int:
    from faust.worker import Worker

    from leakwatch.classifier.engines import engine_from_settings

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from leakwatch.store.clickhouse import ClickHouseStore
    from streams.app import create_app
    from streams.topology import ensure_topics, pin_start_offsets

    settings = load_settings()
    configure_logging(args.loglevel)
    ensure_topics(settings)
    pin_start_offsets(settings)
    store = ClickHouseStore.open(settings)
    classifier = engine_from_settings(settings)
    # Train the embedded engine (or the openai engine's fallback) before consuming, so the
    # first refusals do not wait for it and a broken bank stops the worker at start.
    classifier.warm_up()
    app = create_app(settings, store, classifier)
    worker = Worker(app, loglevel=args.loglevel, quiet=True, redirect_stdouts=False)
    # At --loglevel warning and above Faust's start-up spinner sets the root logger to DEBUG,
    # and every debug call of aiokafka and Faust then builds a record (7% of a trivial
    # agent's CPU, measured with py-spy).
    worker.spinner = None
    worker.execute_from_commandline()  # returns on SIGTERM/SIGINT after a clean stop
    return 0
