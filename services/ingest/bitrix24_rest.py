"""crm.deal.get on the customer's Bitrix24 (its inbound webhook URL from the settings):
Bitrix24's outbound webhooks carry only a deal id."""

from __future__ import annotations

import httpx


class DealFetchFailed(RuntimeError):
    pass


class Bitrix24Deals:
    def __init__(self, rest_url: str, *, timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None):
        # e.g. https://portal.bitrix24.ru/rest/1/<key>/ ; the key is never logged.
        self._base = rest_url.rstrip("/")
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def deal(self, deal_id: str) -> dict:
        try:
            response = await self._client.get(f"{self._base}/crm.deal.get.json", params={"id": deal_id})
        except httpx.HTTPError as exc:
            raise DealFetchFailed(f"crm.deal.get for deal {deal_id}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise DealFetchFailed(f"crm.deal.get for deal {deal_id}: HTTP {response.status_code}")
        try:
            result = response.json().get("result")
        except ValueError:
            result = None
        if not isinstance(result, dict):
            raise DealFetchFailed(f"crm.deal.get for deal {deal_id}: no `result` object in the answer")
        return result

    async def close(self) -> None:
        await self._client.aclose()
