"""The web board's edge to Kafka: its reviews -> `refusals.reviewed`. The board itself
(leakwatch/web) is served by the sink, the process that owns ClickHouse (services/sink/board.py)."""
