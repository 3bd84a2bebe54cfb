"""The Faust worker: topics, the deal-state table, and the agents that move data in and
out of the pure domain (`leakwatch.domain`)."""
