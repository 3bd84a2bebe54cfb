"""The web board (leakwatch/web) on the sink's own store and port: the sink owns ClickHouse
(only one process may open a chdb path), so the board is served from here, never from a
second store. Reviews go to `refusals.reviewed`; the worker folds them into the verdicts."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from leakwatch.web.app import create_app
from leakwatch.web.auth import is_loopback
from services.kafka_out import EventProducer
from services.web.reviews_out import KafkaReviewPublisher

log = logging.getLogger("leakwatch.sink.board")


def web_board(settings: Settings, store: ClickHouseStore, host: str) -> tuple[FastAPI, KafkaReviewPublisher | None]:
    """The board app for a sink listening on `host`, and its review publisher (None without
    LEAKWATCH_WEB_TOKEN: the queue is read-only then). Read-only views ask for the token too
    unless `host` is loopback; the caller has run `check_bind` at its start."""
    token = settings.web_token.get_secret_value() if settings.web_token else None
    publisher = None
    if token:
        publisher = KafkaReviewPublisher(EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix))
    else:
        log.warning("LEAKWATCH_WEB_TOKEN is not set: the board's review queue is read-only")
    return create_app(store, publisher, settings, reads_open=is_loopback(host)), publisher
