"""The worker's Prometheus metrics (served on the worker's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter("leakwatch_events_consumed_total", "Input events consumed", ["topic"])
DEAD_LETTERS = Counter("leakwatch_dead_letters_total", "Events sent to the dead-letter topic", ["topic"])
REFUSALS_CLASSIFIED = Counter("leakwatch_refusals_classified_total", "Refusal records published",
                              ["engine", "source", "outcome"])
CLASSIFY_SECONDS = Histogram("leakwatch_classification_seconds", "Classifier call latency per batch",
                             ["engine"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
CLASSIFIER_FALLBACKS = Counter("leakwatch_classifier_fallbacks_total",
                               "Results answered by a fallback engine", ["from_engine"])
CLASSIFIER_ERRORS = Counter("leakwatch_classifier_errors_total", "Classifier batch failures", ["engine"])
CH_INSERT_BATCHES = Counter("leakwatch_clickhouse_insert_batches_total", "ClickHouse insert batches", ["table"])
CH_INSERT_ROWS = Counter("leakwatch_clickhouse_insert_rows_total", "ClickHouse rows inserted", ["table"])
CH_INSERT_SECONDS = Histogram("leakwatch_clickhouse_insert_seconds", "ClickHouse insert latency", ["table"])
CONSUMER_LAG = Gauge("leakwatch_consumer_lag", "Messages behind the partition end", ["topic", "partition"])
LEAK_TODAY_RUB = Gauge("leakwatch_leak_today_rub", "Leak of the current day (salvageable money)")
SALVAGEABLE_TODAY = Gauge("leakwatch_salvageable_today", "Salvageable refusals of the current day")
TARGET_REFUSALS_TODAY = Gauge("leakwatch_target_refusals_today", "Target refusals of the current day")
