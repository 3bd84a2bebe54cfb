"""Build the Faust app: topics, the deal-state table and the agents, wired to one
classifier. `create_app` is called once per worker process. The worker writes Kafka only;
ClickHouse is fed from `refusals.classified` by the sink (services/sink)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import faust

from leakwatch.classifier.contract import RefusalClassifier
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas import topics as public
from streams.health import WorkerHealth
from streams.recovery import SeekBeforeResumeTableManager
from streams.transport import ExactSeekTransport
from streams.topology import DEAL_STATE_TABLE, REFUSAL_REQUESTS, WON_DEALS

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What every agent module needs; built once in `create_app`."""

    app: faust.App
    settings: Settings
    won_store: ClickHouseStore | None  # a ClickHouse server to read won deals from; else the sink
    classifier: RefusalClassifier
    inputs: faust.TopicT
    deadletter: faust.TopicT
    classified: faust.TopicT
    requests: faust.TopicT
    won: faust.TopicT
    spikes: faust.TopicT
    deal_state: faust.Table
    health: WorkerHealth


class LeakwatchApp(faust.App):
    """Faust's app with the consumer of `streams.transport`: its seek to committed offset 0
    seeks (aiokafka#1003), so records Faust dropped mid-rebalance are fetched again."""

    def _new_transport(self):
        return ExactSeekTransport(self.conf.broker_consumer, self)


def faust_app(settings: Settings) -> faust.App:
    return LeakwatchApp(
        settings.app_id,
        broker=settings.kafka_url,
        store=settings.table_store,  # rocksdb:// by default: a restart replays only the changelog past the local store
        datadir=str(settings.worker_data_dir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication,
        topic_allow_declare=False,  # streams.topology creates every topic, partitions matched
        topic_disable_leader=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # Throughput of a trivial forwarding agent (benchmarks/baselines.py, msgs per CPU
        # second): with linger 0 aiokafka sends a produce request per message or two, and a
        # third of the agent's CPU went to socket writes (py-spy). Linger 10 ms: 941 → 1,292.
        # Consumer-side settings (stream_buffer_maxsize=16384, broker_max_poll_records=2000,
        # broker_commit_every=50000) added ~17% more in one run, but are left at Faust's
        # defaults until measured against the commit watchdog on an idle machine.
        producer_linger=0.01,  # s; at most 10 ms more per hop (and per commit: Faust flushes first)
        producer_max_batch_size=65536,
        broker_session_timeout=settings.broker_session_timeout_s,
        broker_heartbeat_interval=settings.broker_heartbeat_interval_s,
        broker_max_poll_interval=settings.broker_max_poll_interval_s,
        # Faust's recovery, with the stream partitions resumed only after the seek (faust#596).
        TableManager=SeekBeforeResumeTableManager,
        web_enabled=True,
        web_bind=settings.worker_web_host,
        web_host=settings.worker_web_host,
        web_port=settings.worker_web_port,
        table_standby_replicas=0,
        key_serializer="raw",
        value_serializer="raw",
    )


def create_app(settings: Settings, classifier: RefusalClassifier, won_store: ClickHouseStore | None = None) -> faust.App:
    app = faust_app(settings)
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    t = settings.topic
    ctx = Context(
        app=app, settings=settings, won_store=won_store, classifier=classifier, health=WorkerHealth(),
        inputs=app.topic(*(t(spec.name) for spec in public.INPUTS), **raw),
        deadletter=app.topic(t(public.DEADLETTER.name), **raw),
        classified=app.topic(t(public.CLASSIFIED.name), **raw),
        requests=app.topic(t(REFUSAL_REQUESTS), **raw),
        won=app.topic(t(WON_DEALS), **raw),
        spikes=app.topic(t(public.LEAK_SPIKES.name), **raw),
        # JSON keys and values in the changelog, so recovery restores exactly the str keys
        # the agents use (the app's default "raw" would bring keys back as bytes).
        deal_state=app.Table(DEAL_STATE_TABLE, default=None, partitions=settings.topic_partitions,
                             # No key/value types: Faust would call `<type>.from_data` on
                             # recovery, which a plain dict lacks, and recovery then hangs.
                             schema=faust.Schema(key_serializer="json", value_serializer="json")),
    )
    from streams.agents import enrich, refusals, watchdog
    from streams import web

    for module in (enrich, refusals, watchdog, web):
        module.register(ctx)
    return app
