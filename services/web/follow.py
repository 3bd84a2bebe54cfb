"""`leakwatch web --follow`: keep the board's own store fed from `refusals.classified`, for a
board that runs beside a worker which owns its embedded ClickHouse (only one process may
open a chdb path). Where a sink owns the store, mount the board there instead.

At least once: offsets are committed after the rows are stored; the table keeps one row
per deal and version, so a replay after a crash does not double count.
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import Consumer, KafkaError
from pydantic import ValidationError

from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from schemas.events import ClassifiedRefusal
from schemas.topics import CLASSIFIED

log = logging.getLogger("leakwatch.web.follow")


class ClassifiedFollower:
    def __init__(self, settings: Settings, store: ClickHouseStore, group: str):
        self._settings = settings
        self._store = store
        self._group = group
        self._stop = threading.Event()
        self.stored = 0

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        s = self._settings
        consumer = Consumer({
            "bootstrap.servers": s.kafka_bootstrap, "group.id": self._group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "session.timeout.ms": int(s.broker_session_timeout_s * 1000),
            "heartbeat.interval.ms": int(s.broker_heartbeat_interval_s * 1000),
        })
        consumer.subscribe([s.topic(CLASSIFIED.name)])
        try:
            while not self._stop.is_set():
                messages = consumer.consume(num_messages=s.sink_batch_rows, timeout=s.sink_batch_seconds)
                records = []
                for msg in messages:
                    if msg.error():
                        if msg.error().code() != KafkaError._PARTITION_EOF:
                            log.warning("consumer: %s", msg.error())
                        continue
                    try:
                        records.append(ClassifiedRefusal.model_validate_json(msg.value()))
                    except ValidationError:  # the worker's own output: skip, say where
                        log.error("unreadable record at %s:%s@%s", msg.topic(), msg.partition(), msg.offset())
                if not messages:
                    continue
                while not self._stop.is_set():
                    try:
                        self._store.insert_refusals(records)
                        break
                    except Exception:
                        log.exception("store failed; retrying the batch")
                        time.sleep(1)
                else:
                    return  # stopping: nothing committed past what is stored
                consumer.commit(asynchronous=False)
                self.stored += len(records)
        finally:
            consumer.close()
