"""The average check per pipeline for refusal records: the setting, else won deals' mean,
else the default. Won deals live in ClickHouse, which the worker does not own: it asks
the sink (`GET /won-means`) or, when CLICKHOUSE_URL names a server, that server."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone

import httpx

from leakwatch.domain.money import average_check

log = logging.getLogger(__name__)
TTL_S = 60.0
WINDOW = timedelta(days=90)


class AverageChecks:
    def __init__(self, settings, store=None):
        self._settings, self._store = settings, store
        self._means: dict[str, float] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, pipeline: str) -> int:
        s = self._settings
        if pipeline in s.average_check_rub:
            return s.average_check_rub[pipeline]
        await self._refresh()
        return average_check(pipeline, s.average_check_rub, self._means.get(pipeline), s.default_average_check_rub)

    async def _refresh(self) -> None:
        async with self._lock:
            if self._fetched_at is not None and time.monotonic() - self._fetched_at < TTL_S:
                return
            since = datetime.now(timezone.utc) - WINDOW
            try:
                if self._store is not None:
                    self._means = await asyncio.to_thread(self._store.won_means, since)
                else:
                    token = self._settings.web_token
                    # A sink bound beyond loopback answers reads only with LEAKWATCH_WEB_TOKEN.
                    headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
                    async with httpx.AsyncClient(timeout=5, headers=headers) as client:
                        reply = await client.get(f"{self._settings.sink_url}/won-means",
                                                 params={"since": since.isoformat()})
                        reply.raise_for_status()
                        self._means = {k: float(v) for k, v in reply.json().items()}
            except Exception as exc:  # the last known means (or the default) meanwhile
                log.warning("won deals' means unavailable (%s); using the last known ones", type(exc).__name__)
            self._fetched_at = time.monotonic()
