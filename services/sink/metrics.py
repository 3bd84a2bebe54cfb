"""The sink's Prometheus metrics (served on the sink's /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONSUMED = Counter("leakwatch_sink_messages_total", "Messages read by the sink", ["topic"])
DEAD_LETTERS = Counter("leakwatch_sink_dead_letters_total", "Unreadable messages sent to the dead-letter topic",
                       ["topic"])
CH_INSERT_BATCHES = Counter("leakwatch_clickhouse_insert_batches_total", "ClickHouse insert batches", ["table"])
CH_INSERT_ROWS = Counter("leakwatch_clickhouse_insert_rows_total", "ClickHouse rows inserted", ["table"])
CH_INSERT_SECONDS = Histogram("leakwatch_clickhouse_insert_seconds", "ClickHouse insert latency", ["table"])
CH_INSERT_FAILURES = Counter("leakwatch_clickhouse_insert_failures_total", "Failed insert attempts (retried)")
COMMITTED_BATCHES = Counter("leakwatch_sink_committed_batches_total", "Batches whose offsets were committed")
SINK_LAG = Gauge("leakwatch_sink_lag", "Messages behind the partition end", ["topic", "partition"])
LEAK_TODAY_RUB = Gauge("leakwatch_leak_today_rub", "Leak of the current day (salvageable money)")
SALVAGEABLE_TODAY = Gauge("leakwatch_salvageable_today", "Salvageable refusals of the current day")
TARGET_REFUSALS_TODAY = Gauge("leakwatch_target_refusals_today", "Target refusals of the current day")
SPIKE_ALERTS = Counter("leakwatch_spike_alerts_total", "Spike alerts published to alerts.leak_spikes (once each)", ["kind"])
SPIKE_CHECKS = Counter("leakwatch_spike_checks_total", "Completed spike checks (rules measured, topic read back)")
