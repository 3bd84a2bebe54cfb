"""GET requests to a vendor's REST API with a rate limit and bounded retries.

amoCRM allows 7 requests/s per account and Bitrix24 2/s per portal (429 / QUERY_LIMIT_EXCEEDED
past that): requests are spaced by 1/per_second. A network error, 429 or 5xx is retried with
doubling back-off up to `max_attempts`; then LookupFailed, and the caller keeps the webhook for
a later retry (services/ingest/retrier.py) instead of losing it.
"""

from __future__ import annotations

import asyncio
import time

import httpx


class LookupFailed(RuntimeError):
    """The vendor did not answer usefully; the message names the call, never its secrets."""


class RestClient:
    def __init__(self, base_url: str, *, per_second: float, max_attempts: int, headers: dict | None = None,
                 timeout_s: float = 10.0, backoff_s: float = 0.5, transport: httpx.AsyncBaseTransport | None = None):
        self._base = base_url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=timeout_s, headers=headers or {}, transport=transport)
        self._interval = 1.0 / per_second
        self._attempts = max_attempts
        self._backoff = backoff_s
        self._lock = asyncio.Lock()
        self._next_at = 0.0

    async def _turn(self) -> None:
        async with self._lock:
            wait = self._next_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_at = time.monotonic() + self._interval

    async def get_json(self, path: str, params: dict | list | None, what: str) -> dict | None:
        """The JSON object answered; None for 204 (amoCRM: nothing found)."""
        problem = "no attempt"
        for attempt in range(self._attempts):
            if attempt:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
            await self._turn()
            try:
                response = await self._client.get(f"{self._base}/{path.lstrip('/')}", params=params)
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
                continue
            if response.status_code == 204:
                return None
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:  # a wrong key or URL: retrying now will not help
                raise LookupFailed(f"{what}: HTTP {response.status_code}")
            try:
                body = response.json()
            except ValueError:
                raise LookupFailed(f"{what}: the answer is not JSON") from None
            if not isinstance(body, dict):
                raise LookupFailed(f"{what}: the answer is not a JSON object")
            return body
        raise LookupFailed(f"{what}: {problem} after {self._attempts} attempts")

    async def close(self) -> None:
        await self._client.aclose()
