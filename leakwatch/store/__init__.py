"""ClickHouse: the one place refusals are stored and the cards are read from."""
