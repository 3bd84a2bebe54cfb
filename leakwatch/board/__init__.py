"""The terminal board: both cards drawn with rich, the same numbers as Grafana."""
