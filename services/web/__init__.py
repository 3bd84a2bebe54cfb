"""`leakwatch web`: the web board (leakwatch/web) as a process of its own, until the process
that owns ClickHouse mounts it."""
