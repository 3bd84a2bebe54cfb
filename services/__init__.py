"""Processes outside Faust: ingest (webhooks → Kafka), notifier (alerts → webhooks),
simulator (synthetic Russian sales traffic for demos, tests and benchmarks)."""
