"""`leakwatch worker` runs the Faust worker; `leakwatch topics` creates the topics."""

from __future__ import annotations

import sys


def register(sub) -> None:
    worker = sub.add_parser("worker", help="run the stream worker (Faust)")
    worker.add_argument("--loglevel", default="info")
    worker.set_defaults(func=run_worker)
    topics = sub.add_parser("topics", help="create every Kafka topic with matching partitions")
    topics.set_defaults(func=create_topics)


def create_topics(args) -> int:
    from leakwatch.settings import load_settings
    from streams.topology import TopicMismatch, ensure_topics

    settings = load_settings()
    try:
        created = ensure_topics(settings)
    except TopicMismatch as exc:
        print(f"leakwatch: {exc}", file=sys.stderr)
        return 2
    print(f"topics ready ({len(created)} created)")
    return 0


def run_worker(args) -> int:
    from faust.worker import Worker

    from leakwatch.classifier.engines import engine_from_settings

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from leakwatch.store.clickhouse import ClickHouseStore
    from streams.app import create_app
    from streams.topology import TopicMismatch, ensure_topics, pin_start_offsets

    settings = load_settings()
    configure_logging(args.loglevel)
    try:
        ensure_topics(settings)
    except TopicMismatch as exc:
        print(f"leakwatch: {exc}", file=sys.stderr)
        return 2
    pin_start_offsets(settings)
    store = ClickHouseStore.open(settings)
    classifier = engine_from_settings(settings)
    # Train the embedded engine (or the openai engine's fallback) before consuming, so the
    # first refusals do not wait for it and a broken bank stops the worker at start.
    for engine in (classifier, getattr(classifier, "fallback", None)):
        if hasattr(engine, "warm_up"):
            engine.warm_up()
    app = create_app(settings, store, classifier)
    worker = Worker(app, loglevel=args.loglevel, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()  # returns on SIGTERM/SIGINT after a clean stop
    return 0
