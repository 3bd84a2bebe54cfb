"""`leakwatch worker` runs the Faust worker; `leakwatch topics` creates the topics."""

from __future__ import annotations

import importlib.util
import logging
import sys


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


def run_worker(args) -> int:
    return serve_worker(args)


def serve_worker(args) -> int:
    from faust.worker import Worker

    from leakwatch.classifier.encoder import limit_blas_threads
    from leakwatch.classifier.engines import engine_from_settings

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from leakwatch.store.clickhouse import ClickHouseStore
    from streams.app import create_app
    from streams.datadir import DataDirInUse, drop_foreign_store, lock_data_dir
    from streams.topology import DEAL_STATE_TABLE, changelog_topic, ensure_topics, pin_start_offsets, topic_id

    settings = load_settings()
    if settings.table_store == "rocksdb://" and importlib.util.find_spec("rocksdict") is None:
        print("leakwatch: invalid settings\n  LEAKWATCH_TABLE_STORE: rocksdb:// needs the rocksdict package "
              "(a dependency in pyproject.toml: reinstall, or set memory://)", file=sys.stderr)
        return 2
    try:
        lock_data_dir(settings.worker_data_dir)  # held until the process exits
    except DataDirInUse as exc:
        print(f"leakwatch: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.loglevel)
    ensure_topics(settings, timeout_s=settings.startup_deadline_s)
    changelog = changelog_topic(settings, DEAL_STATE_TABLE)
    if drop_foreign_store(settings.worker_data_dir, topic_id(settings, changelog, settings.startup_deadline_s)):
        logging.getLogger(__name__).warning("the local table store under %s was filled from an older %s "
                                            "(another topic id): removed, rebuilt from Kafka",
                                            settings.worker_data_dir, changelog)
    pin_start_offsets(settings, timeout_s=settings.startup_deadline_s)
    # The worker writes Kafka only; it reads won deals from a ClickHouse server when there
    # is one (many clients may), else from the sink, which owns the embedded chdb.
    won_store = ClickHouseStore.open(settings) if settings.clickhouse_url else None
    limit_blas_threads(settings.classifier_blas_threads)  # before the encoder's first call
    classifier = engine_from_settings(settings)
    # Train the embedded engine (or the openai engine's fallback) before consuming, so the
    # first refusals do not wait for it and a broken bank stops the worker at start.
    classifier.warm_up()
    app = create_app(settings, classifier, won_store)
    worker = Worker(app, loglevel=args.loglevel, quiet=True, redirect_stdouts=False)
    # At --loglevel warning and above Faust's start-up spinner sets the root logger to DEBUG,
    # and every debug call of aiokafka and Faust then builds a record (7% of a trivial
    # agent's CPU, measured with py-spy).
    worker.spinner = None
    worker.execute_from_commandline()  # returns on SIGTERM/SIGINT after a clean stop
    return 0
