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
CONSUMER_LAG = Gauge("leakwatch_consumer_lag", "Messages behind the partition end", ["topic", "partition"])
REFUSAL_RETRIES = Counter("leakwatch_refusal_retries_total", "Refusal requests retried after a failed attempt")
REFUSALS_DEAD_LETTERED = Counter("leakwatch_refusals_dead_lettered_total",
                                 "Refusal requests dead-lettered after the last failed attempt")
REFUSALS_REDELIVERED = Counter("leakwatch_refusals_redelivered_total",
                               "Refusal requests re-delivered after a rebalance, already settled here (acked, not redone)")
REFUSALS_PENDING = Gauge("leakwatch_refusals_pending", "Refusal requests waiting for their due time or a retry")
COMMIT_STALLS = Gauge("leakwatch_commit_stalled_partitions",
                      "Partitions whose committed offset has not moved while work was pending (alarm)")
