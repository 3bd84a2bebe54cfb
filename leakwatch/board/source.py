"""Where the board reads the cards: the sink's /cards endpoint (it owns the embedded
ClickHouse), or a ClickHouse server directly when CLICKHOUSE_URL is set."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import httpx

from leakwatch.cards.snapshot import Cards, read_cards


class CardsSource(Protocol):
    def cards(self, start: datetime, end: datetime, pipeline: str | None, manager: str | None) -> Cards: ...


class SinkSource:
    """GET {url}/cards. `token` (LEAKWATCH_WEB_TOKEN) goes as a Bearer token: a sink listening
    beyond loopback answers reads only with it."""

    def __init__(self, url: str, token: str | None = None):
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(base_url=self.url, timeout=10, headers=headers)

    @property
    def where(self) -> str:
        return f"the sink at {self.url}"

    def cards(self, start, end, pipeline, manager) -> Cards:
        params = {"from": start.isoformat(), "to": end.isoformat()}
        params.update({k: v for k, v in (("pipeline", pipeline), ("manager", manager)) if v})
        response = self._client.get("/cards", params=params)
        response.raise_for_status()
        return Cards.model_validate(response.json())


class ClickHouseSource:
    def __init__(self, settings):
        from leakwatch.store.clickhouse import ClickHouseStore

        self._store, self._days = ClickHouseStore.open(settings), settings.baseline_days
        self.where = "ClickHouse at CLICKHOUSE_URL"

    def cards(self, start, end, pipeline, manager) -> Cards:
        return read_cards(self._store, start, end, pipeline=pipeline, manager=manager, baseline_days=self._days)
