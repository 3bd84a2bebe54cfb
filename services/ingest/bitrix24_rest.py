"""The customer's Bitrix24 through its inbound webhook URL (`LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL`,
https://<portal>/rest/<user>/<key>/): outbound events carry only ids, so the deal comes from
crm.deal.get and a call's CRM entity and recording from voximplant.statistic.get."""

from __future__ import annotations

from services.ingest.vendor_rest import LookupFailed, RestClient


class Bitrix24Rest:
    def __init__(self, rest: RestClient):
        self._rest = rest  # its URL embeds the key: never logged

    async def deal(self, deal_id: str) -> dict:
        what = f"crm.deal.get for deal {deal_id}"
        result = _result(await self._rest.get_json("crm.deal.get.json", {"id": deal_id}, what), what)
        if not isinstance(result, dict):
            raise LookupFailed(f"{what}: no `result` object in the answer")
        return result

    async def call(self, call_id: str) -> dict:
        """The call's statistic record; LookupFailed while Bitrix24 has not written it yet
        (the webhook is then kept and read again)."""
        what = f"voximplant.statistic.get for call {call_id}"
        answer = await self._rest.get_json("voximplant.statistic.get.json", {"FILTER[CALL_ID]": call_id}, what)
        result = _result(answer, what)
        if not isinstance(result, list):
            raise LookupFailed(f"{what}: no `result` list in the answer")
        if not result or not isinstance(result[0], dict):
            raise LookupFailed(f"{what}: no record yet")
        return result[0]

    async def close(self) -> None:
        await self._rest.close()


def _result(answer: dict | None, what: str) -> object:
    if answer is None:
        raise LookupFailed(f"{what}: empty answer")
    if "error" in answer:  # e.g. QUERY_LIMIT_EXCEEDED, NOT_FOUND; the description may name the portal
        raise LookupFailed(f"{what}: {answer.get('error')}")
    return answer.get("result")
