"""The ClickHouse sink: `refusals.classified` and won deals -> ClickHouse, offsets committed
only after the rows are stored; it owns embedded chdb, so it also serves the boards' reads."""
